//go:build envtest

package ops

import (
	"context"
	"errors"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// validateGrants plays the controller until ctx ends: a plan is Ready
// when its destination namespace exists, else not Ready for want of
// grants (NotGranted), as the plan controller checks last.
func validateGrants(ctx context.Context, o *Client, destination string) {
	_ = wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		plans, err := o.ListPlans(ctx)
		if err != nil {
			return false, nil
		}
		for i := range plans {
			p := &plans[i]
			tok := p.Annotations[ferryv1.AnnotationValidate]
			if p.Status.ObservedValidate == tok && p.Status.ObservedGeneration == p.Generation {
				continue
			}
			c := metav1.Condition{Type: ferryv1.ConditionReady, Status: metav1.ConditionTrue, Reason: ferryv1.ReasonReady, Message: "ok", ObservedGeneration: p.Generation}
			if _, err := env.Kube.CoreV1().Namespaces().Get(ctx, destination, metav1.GetOptions{}); err != nil {
				c.Status, c.Reason, c.Message = metav1.ConditionFalse, ferryv1.ReasonNotGranted, "namespace "+destination+" is not granted"
			}
			p.Status.ObservedGeneration, p.Status.ObservedValidate = p.Generation, tok
			meta.SetStatusCondition(&p.Status.Conditions, c)
			_ = env.Client.Status().Update(ctx, p)
		}
		return false, nil
	})
}

func TestSubmitPlanGrantsInTwoRounds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	o := newClient(t, true)
	src, dst := "app-"+rand.String(5), "app-"+rand.String(5)
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: src}}); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, &ferryv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "host", Namespace: o.Namespace()}, Spec: ferryv1.ClusterSpec{IsHost: true}}); err != nil {
		t.Fatal(err)
	}
	go validateGrants(ctx, o, dst)
	p, err := o.NewPlan("shop", ferryv1.PlanSpec{SourceCluster: "host", DestinationCluster: "host", Namespaces: []string{src + ":" + dst}})
	if err != nil {
		t.Fatal(err)
	}

	refused := func(context.Context, *ferryv1.Plan) (PlanCredentials, error) {
		return PlanCredentials{}, errors.New("no credentials here")
	}
	sub, err := o.SubmitPlan(ctx, p, refused)
	if err != nil {
		t.Fatal(err)
	}
	if !sub.Created || len(sub.GrantErrors) != 2 || len(sub.Granted) != 0 || !notGranted(sub.Plan) {
		t.Fatalf("without credentials: created %v, %d grant errors, %d grants, plan not granted %v; want created, 2 (both rounds), 0, true",
			sub.Created, len(sub.GrantErrors), len(sub.Granted), notGranted(sub.Plan))
	}

	admin := func(context.Context, *ferryv1.Plan) (PlanCredentials, error) {
		return PlanCredentials{Source: rest.CopyConfig(env.Config)}, nil
	}
	sub, err = o.SubmitPlan(ctx, p, admin)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Created || len(sub.GrantErrors) != 0 || len(sub.Granted) != 2 {
		t.Fatalf("with credentials: created %v, grant errors %v, %d grants; want an update, none, 2 rounds", sub.Created, sub.GrantErrors, len(sub.Granted))
	}
	first, second := sub.Granted[0]["host"], sub.Granted[1]["host"]
	if len(first.CreatedNamespaces) != 0 || len(first.Missing) != 1 || len(second.CreatedNamespaces) != 1 || second.CreatedNamespaces[0] != dst {
		t.Errorf("rounds: first created %v missing %v, second created %v; want the destination created in the second only",
			first.CreatedNamespaces, first.Missing, second.CreatedNamespaces)
	}
	if err := PlanReady(sub.Plan); err != nil {
		t.Errorf("the plan after both rounds: %v", err)
	}

	// Regrant of a Ready plan grants again, silently.
	res, err := o.Regrant(ctx, "shop", admin)
	if err != nil || res.WasNotGranted || res.Granted["host"] == nil {
		t.Errorf("regrant: %+v, %v; want grants made of a Ready plan", res, err)
	}
}
