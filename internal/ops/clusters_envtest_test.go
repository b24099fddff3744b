//go:build envtest

package ops

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
)

// TestStoreCluster: the Cluster and its token Secret land on the host, and
// the check with the stored token reports what the controller would (here
// Unauthorized: the API server does not know the token).
func TestStoreCluster(t *testing.T) {
	ctx := context.Background()
	o := newClient(t, true)
	r := ClusterRegistration{Name: "src", Config: env.Config, Role: RoleSource, MoverService: ferryv1.MoverServiceLoadBalancer}
	got, err := o.StoreCluster(ctx, r, cluster.Token{Value: "not-a-token"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Problem == nil || got.Problem.Reason != ferryv1.ReasonUnauthorized || got.Facts != nil {
		t.Errorf("check: problem %+v, facts %+v; want Unauthorized", got.Problem, got.Facts)
	}
	cs, err := o.ListClusters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Spec.URL != env.Config.Host || cs[0].Spec.MoverService != ferryv1.MoverServiceLoadBalancer ||
		cs[0].Spec.TokenSecretRef == nil {
		t.Fatalf("clusters %+v", cs)
	}
	var sec corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: o.Namespace(), Name: cs[0].Spec.TokenSecretRef.Name}, &sec); err != nil {
		t.Fatal(err)
	}
	if string(sec.Data[cluster.TokenKey]) != "not-a-token" {
		t.Errorf("stored token %q", sec.Data[cluster.TokenKey])
	}
	if _, err := o.StoreCluster(ctx, ClusterRegistration{Name: "dst", Config: env.Config, Role: "sink", MoverService: ferryv1.MoverServiceNodePort}, cluster.Token{Value: "t"}); err == nil {
		t.Error("StoreCluster of an invalid registration succeeded")
	}
}

// TestStoreClusterBehindIngress: the ingress class and domain are stored
// with mover service Ingress, and the API server itself refuses a Cluster
// with mover service Ingress that lacks them (one written by hand).
func TestStoreClusterBehindIngress(t *testing.T) {
	ctx := context.Background()
	o := newClient(t, true)
	r := ClusterRegistration{Name: "edge", Config: env.Config, Role: RoleDestination, MoverService: ferryv1.MoverServiceIngress,
		MoverIngressClass: "passthrough", MoverIngressDomain: "movers.example.com"}
	if _, err := o.StoreCluster(ctx, r, cluster.Token{Value: "not-a-token"}); err != nil {
		t.Fatal(err)
	}
	var c ferryv1.Cluster
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: o.Namespace(), Name: "edge"}, &c); err != nil {
		t.Fatal(err)
	}
	if c.Spec.MoverService != ferryv1.MoverServiceIngress || c.Spec.MoverIngressClass != "passthrough" || c.Spec.MoverIngressDomain != "movers.example.com" {
		t.Errorf("stored spec %+v", c.Spec)
	}
	c.Spec.MoverIngressDomain = ""
	err := env.Client.Update(ctx, &c)
	if err == nil || !strings.Contains(err.Error(), "moverService Ingress needs moverIngressClass") {
		t.Errorf("update to mover service Ingress without a domain: %v", err)
	}
	plain := &ferryv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: o.Namespace(), Name: "plain"}}
	if err := env.Client.Create(ctx, plain); err != nil {
		t.Errorf("a Cluster without a mover service: %v", err)
	}
}
