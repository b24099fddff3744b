package cluster

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Scheme returns a scheme with the Kubernetes, CRD and Ferry types, for
// clients of the host cluster.
func Scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = apiextensionsv1.AddToScheme(s)
	_ = ferryv1.AddToScheme(s)
	return s
}
