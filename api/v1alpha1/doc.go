// Package v1alpha1 holds Ferry's API: the Cluster, Plan and Migration
// kinds of the ferry.dev group, their condition types and reasons, and the
// labels and annotations Ferry puts on the objects it touches.
//
// +kubebuilder:object:generate=true
// +groupName=ferry.dev
package v1alpha1
