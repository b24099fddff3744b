package v1alpha1

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/scheme"
)

var (
	// GroupVersion is the group and version of Ferry's API.
	GroupVersion = schema.GroupVersion{Group: "ferry.dev", Version: "v1alpha1"}

	// SchemeBuilder registers Ferry's types with a scheme.
	SchemeBuilder = &scheme.Builder{GroupVersion: GroupVersion}

	// AddToScheme adds Ferry's types to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)
