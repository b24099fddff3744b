package cli

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestContainerImage(t *testing.T) {
	tests := []struct {
		name string
		cs   []corev1.Container
		want string
	}{
		{name: "only container", cs: []corev1.Container{{Name: "manager", Image: "a"}}, want: "a"},
		{name: "the controller among others", cs: []corev1.Container{{Name: "proxy", Image: "p"}, {Name: controllerContainer, Image: "c"}}, want: "c"},
		{name: "several, none the controller", cs: []corev1.Container{{Name: "x", Image: "x"}, {Name: "y", Image: "y"}}, want: ""},
		{name: "none", want: ""},
	}
	for _, tt := range tests {
		if got := containerImage(tt.cs); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
