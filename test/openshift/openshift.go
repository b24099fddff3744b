// Package openshift gives tests the CustomResourceDefinitions of the
// OpenShift kinds Ferry handles (SecurityContextConstraints, Route,
// DeploymentConfig, ImageStream), written for Ferry's test bed from
// OpenShift's documented schemas, so that a plain Kubernetes API server
// serves them: envtest (pass [CRDs] to envtest.Environment) and the local
// clusters ([Install]).
//
// # Caveats
//
// Only the API is served: no OpenShift controller runs, so no router
// admits Routes, no DeploymentConfig gets ReplicationControllers or pods,
// and no registry records pushed images in ImageStream status. Installed
// CRDs are left on a cluster: removing them while other tests migrate
// would change discovery under those tests, and a served API with no
// objects changes nothing for plain Kubernetes namespaces.
package openshift

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"sigs.k8s.io/yaml"
)

//go:embed crds/*.yaml
var files embed.FS

// Resources of the kinds the CRDs define.
var (
	SCCs              = schema.GroupVersionResource{Group: "security.openshift.io", Version: "v1", Resource: "securitycontextconstraints"}
	Routes            = schema.GroupVersionResource{Group: "route.openshift.io", Version: "v1", Resource: "routes"}
	DeploymentConfigs = schema.GroupVersionResource{Group: "apps.openshift.io", Version: "v1", Resource: "deploymentconfigs"}
	ImageStreams      = schema.GroupVersionResource{Group: "image.openshift.io", Version: "v1", Resource: "imagestreams"}
)

var crdsGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// CRDs decodes the embedded CustomResourceDefinitions.
func CRDs() ([]*apiextensionsv1.CustomResourceDefinition, error) {
	names, err := fs.Glob(files, "crds/*.yaml")
	if err != nil {
		return nil, err
	}
	var out []*apiextensionsv1.CustomResourceDefinition
	for _, n := range names {
		b, err := fs.ReadFile(files, n)
		if err != nil {
			return nil, err
		}
		var crd apiextensionsv1.CustomResourceDefinition
		if err := yaml.UnmarshalStrict(b, &crd); err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		out = append(out, &crd)
	}
	return out, nil
}

// Install creates the CRDs on the cluster behind dyn unless they exist
// (an existing one is updated to this definition) and waits until the
// cluster serves them.
func Install(ctx context.Context, dyn dynamic.Interface) error {
	crds, err := CRDs()
	if err != nil {
		return err
	}
	for _, crd := range crds {
		crd.TypeMeta = metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"}
		m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(crd)
		if err != nil {
			return err
		}
		obj := &unstructured.Unstructured{Object: m}
		_, err = dyn.Resource(crdsGVR).Apply(ctx, crd.Name, obj, metav1.ApplyOptions{FieldManager: "ferry-test-bed", Force: true})
		if err != nil {
			return fmt.Errorf("apply CRD %s: %w", crd.Name, err)
		}
		if err := waitEstablished(ctx, dyn, crd.Name); err != nil {
			return err
		}
	}
	return nil
}

func waitEstablished(ctx context.Context, dyn dynamic.Interface, name string) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		u, err := dyn.Resource(crdsGVR).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			last = err.Error()
			return false, nil
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			if m, _ := c.(map[string]any); m["type"] == "Established" && m["status"] == "True" {
				return true, nil
			}
		}
		last = fmt.Sprint(conds)
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("CRD %s not established: %s: %w", name, last, err)
	}
	return nil
}
