// Package kustomize writes objects as a kustomize directory, one file per
// object, ready to commit for a CD tool (Argo CD, Flux) or to apply with
// `kubectl apply -k`.
//
// The layout of a directory D:
//
//	D/kustomization.yaml               lists every file below but _cluster/
//	D/NAMESPACE/namespace.yaml         the Namespace object
//	D/NAMESPACE/KIND[.GROUP]_NAME.yaml each object of the namespace
//	D/_cluster/kustomization.yaml      cluster-scoped dependencies (CRDs,
//	D/_cluster/KIND[.GROUP]_NAME.yaml  ClusterRoles, ...), kept apart
//
// "_cluster" is no valid namespace name, so it never collides with one.
// The cluster-scoped dependencies are not part of D's kustomization: they
// are usually a cluster administrator's to apply, once.
package kustomize

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"ferry.dev/ferry/internal/resources/discover"
)

// ClusterDir is the subdirectory of cluster-scoped dependencies.
const ClusterDir = "_cluster"

// Dir is a kustomize directory being written.
type Dir struct {
	root       string
	namespaced []string // files of the main kustomization, relative to root
	cluster    []string // files of ClusterDir, relative to it
}

// Create starts a kustomize directory at root, which must be missing or
// empty: an export never mixes with other files.
func Create(root string) (*Dir, error) {
	ents, err := os.ReadDir(root)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(root, 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", root, err)
		}
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", root, err)
	case len(ents) > 0:
		return nil, fmt.Errorf("%s is not empty: export into a new or empty directory", root)
	}
	return &Dir{root: root}, nil
}

// Add writes one object of the kind res.
func (d *Dir) Add(res discover.Resource, obj *unstructured.Unstructured) error {
	name := fileName(res, obj.GetName())
	dir := obj.GetNamespace()
	switch {
	case res.GroupKind() == discover.NamespaceResource.GroupKind():
		dir, name = obj.GetName(), "namespace.yaml"
	case dir == "":
		dir = ClusterDir
	}
	b, err := yaml.Marshal(obj.Object)
	if err != nil {
		return fmt.Errorf("encode %s %s: %w", res.GroupKind(), obj.GetName(), err)
	}
	if err := os.MkdirAll(filepath.Join(d.root, dir), 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	path := filepath.Join(d.root, dir, name)
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s written twice: two objects have the file name %s", path, name)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if dir == ClusterDir {
		d.cluster = append(d.cluster, name)
	} else {
		d.namespaced = append(d.namespaced, dir+"/"+name)
	}
	return nil
}

// fileName is KIND[.GROUP]_NAME.yaml, lower case where Kubernetes names
// are: kinds of different groups never share a file.
func fileName(res discover.Resource, name string) string {
	gk := res.GroupKind()
	kind := strings.ToLower(gk.Kind)
	if gk.Group != "" {
		kind += "." + gk.Group
	}
	return kind + "_" + name + ".yaml"
}

// Close writes the kustomizations; the directory is complete once it
// returns nil.
func (d *Dir) Close() error {
	header := "# Written by `ferry plan export`: the plan's objects as Ferry would apply them.\n"
	if len(d.cluster) > 0 {
		header += "# Cluster-scoped dependencies are in " + ClusterDir + "/, apart: apply them first, with `kubectl apply -k " + ClusterDir + "`.\n"
		if err := write(filepath.Join(d.root, ClusterDir), "# Cluster-scoped dependencies of the objects in ../\n", d.cluster); err != nil {
			return err
		}
	}
	return write(d.root, header, d.namespaced)
}

// kustomization is the part of a kustomization.yaml that Ferry writes.
type kustomization struct {
	APIVersion string   `json:"apiVersion"`
	Kind       string   `json:"kind"`
	Resources  []string `json:"resources"`
}

func write(dir, header string, resources []string) error {
	b, err := yaml.Marshal(kustomization{APIVersion: "kustomize.config.k8s.io/v1beta1", Kind: "Kustomization", Resources: resources})
	if err != nil {
		return fmt.Errorf("encode kustomization: %w", err)
	}
	path := filepath.Join(dir, "kustomization.yaml")
	if err := os.WriteFile(path, append([]byte(header), b...), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
