// Package testbed connects the benchmark programs to the local clusters
// that `make clusters-up images` started: their clients, their registries
// and the images pushed to them (the files the test bed writes under
// .localclusters).
package testbed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/internal/cluster"
)

// Bed is the two clusters, src and dst (the host of Ferry's objects).
type Bed struct {
	// Repo is the repository's root, whose .localclusters holds the files.
	Repo     string
	Src, Dst kubernetes.Interface
	// Host reads and writes Ferry's objects on dst.
	Host client.Client
	// Registry is each cluster's registry address, by cluster name.
	Registry map[string]string
	// images are the references pushed by make images, by image name.
	images map[string]string
}

// Connect reads the test bed's files under repo and builds the clients.
func Connect(repo string) (*Bed, error) {
	b := &Bed{Repo: repo, Registry: map[string]string{}, images: map[string]string{}}
	for _, c := range []struct {
		name string
		into *kubernetes.Interface
	}{{"src", &b.Src}, {"dst", &b.Dst}} {
		cfg, err := clientcmd.BuildConfigFromFlags("", b.File(c.name, "kubeconfig"))
		if err != nil {
			return nil, fmt.Errorf("cluster %s (run make clusters-up images): %w", c.name, err)
		}
		if *c.into, err = kubernetes.NewForConfig(cfg); err != nil {
			return nil, err
		}
		if c.name == "dst" {
			if b.Host, err = client.New(cfg, client.Options{Scheme: cluster.Scheme()}); err != nil {
				return nil, err
			}
		}
		reg, err := os.ReadFile(b.File(c.name, "registry"))
		if err != nil {
			return nil, err
		}
		b.Registry[c.name] = strings.TrimSpace(string(reg))
	}
	images, err := os.ReadFile(b.File("src", "images"))
	if err != nil {
		return nil, fmt.Errorf("images (run make images): %w", err)
	}
	for _, l := range strings.Split(string(images), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			b.images[k] = v
		}
	}
	return b, nil
}

// File is the path of a test-bed file of a cluster, e.g. its kubeconfig.
func (b *Bed) File(cluster, name string) string { return File(b.Repo, cluster, name) }

// File is the path of a test-bed file of a cluster under repo.
func File(repo, cluster, name string) string {
	return filepath.Join(repo, ".localclusters", cluster, name)
}

// Image returns the pinned reference of an image make images pushed
// (ferry, sampleapp, tools) to src's registry.
func (b *Bed) Image(name string) (string, error) {
	if ref := b.images[name]; ref != "" {
		return ref, nil
	}
	return "", fmt.Errorf("no %s image in %s: run make images", name, b.File("src", "images"))
}
