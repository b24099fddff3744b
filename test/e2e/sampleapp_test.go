//go:build e2e

package e2e

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"ferry.dev/ferry/test/harness"
)

// serveSampleApp runs the sample app in ns behind a Service of the given
// type and returns the Service once the app's pod is ready.
func serveSampleApp(t *testing.T, c *harness.Cluster, ns string, typ corev1.ServiceType) *corev1.Service {
	t.Helper()
	labels := map[string]string{"app": "web"}
	c.CreatePod(t, harness.NewPod(ns, "web", c.Image(t, "sampleapp")).Labels(labels).Port(8080).Pod())
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: corev1.ServiceSpec{Type: typ, Selector: labels,
			Ports: []corev1.ServicePort{{Port: 8080, TargetPort: intstr.FromInt32(8080)}}},
	}
	svc, err := c.Kube.CoreV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create service: %v", err)
	}
	c.WaitPod(t, ns, "web", corev1.PodRunning)
	return svc
}
