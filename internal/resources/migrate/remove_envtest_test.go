//go:build envtest

package migrate

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

func TestRemoveCountsWhatWentEnvtest(t *testing.T) {
	c, err := cluster.NewClients("dst", env.Config)
	if err != nil {
		t.Fatal(err)
	}
	dst := Destination{Discovery: c.Kube.Discovery(), Dynamic: c.Dynamic, Metadata: c.Metadata}
	ours := map[string]string{ferryv1.LabelPlan: "p1"}
	tests := []struct {
		name      string
		nsLabels  map[string]string
		wantKinds string
		// wantLeft are the ConfigMaps left in the namespace.
		wantLeft int
	}{
		// The namespace goes whole; without a namespace controller it
		// stays Terminating, so Remove waits until its context ends.
		{name: "namespace Ferry created", nsLabels: ours, wantKinds: "2 ConfigMap, 1 Namespace, 1 Secret", wantLeft: 3},
		{name: "namespace of the user", wantKinds: "2 ConfigMap, 1 Secret", wantLeft: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := "target-" + rand.String(5)
			objs := []client.Object{
				&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: tt.nsLabels}},
				&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "a", Labels: ours}},
				&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "b", Labels: ours}},
				&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "s", Labels: ours}},
				&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "users"}},
			}
			for _, o := range objs {
				if err := env.Client.Create(context.Background(), o); err != nil {
					t.Fatal(err)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			report, err := Remove(ctx, dst, []string{ns}, ferryv1.LabelPlan+"=p1")
			if tt.nsLabels != nil && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err = %v, want the wait for the namespace to end with the context", err)
			} else if tt.nsLabels == nil && err != nil {
				t.Fatal(err)
			}
			n, kinds := report.Deleted()
			if kinds != tt.wantKinds || report.Failed() != 0 {
				t.Errorf("deleted %d: %s (%d failed), want %s", n, kinds, report.Failed(), tt.wantKinds)
			}
			var left corev1.ConfigMapList
			if err := env.Client.List(context.Background(), &left, client.InNamespace(ns)); err != nil {
				t.Fatal(err)
			}
			if len(left.Items) != tt.wantLeft {
				t.Errorf("%d ConfigMaps left, want %d", len(left.Items), tt.wantLeft)
			}
		})
	}
}
