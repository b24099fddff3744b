//go:build envtest

package planctl_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness/s3server"
)

// TestPlanRepositoryEnvtest: a plan whose volumes go through a repository
// waits for it: RepositoryNotFound until it exists, RepositoryNotReady
// with the repository's own reason while its credentials are wrong, and
// Ready once they are fixed, each change noticed through the watch of
// Repositories (the repository's controller runs too, against a real S3
// server).
func TestPlanRepositoryEnvtest(t *testing.T) {
	startController(t)
	ctx := context.Background()
	srv := s3server.Start(t, s3server.Options{})
	srv.MakeBucket(t, "repo")
	ns := "repo-" + rand.String(6)
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	repoName := "r-" + rand.String(6)
	p := &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: "through-" + repoName}, Spec: ferryv1.PlanSpec{
		SourceCluster: localName, DestinationCluster: localName, Namespaces: []string{ns + ":" + ns + "-copy"},
		Repository: repoName, DataPath: ferryv1.DataPathRepository}}
	if err := env.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	got := waitPlan(t, p.Name, ferryv1.ReasonRepositoryNotFound)
	if msg := readyMessage(got); !strings.Contains(msg, "ferry repository add "+repoName) {
		t.Errorf("RepositoryNotFound message %q does not say how to add it", msg)
	}

	creds := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: repoName + "-credentials"}, StringData: map[string]string{
		ferryv1.RepositoryAccessKeyID: srv.AccessKey, ferryv1.RepositorySecretAccessKey: "wrong"}}
	key := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: repoName + "-key"}, StringData: map[string]string{
		ferryv1.RepositoryKey: strings.Repeat("k", ferryv1.RepositoryKeySize)}}
	repo := &ferryv1.Repository{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: repoName}, Spec: ferryv1.RepositorySpec{
		Endpoint: srv.URL, Bucket: "repo", PathStyle: true,
		CredentialsSecretRef: ferryv1.SecretReference{Name: creds.Name}, KeySecretRef: ferryv1.SecretReference{Name: key.Name}}}
	for _, o := range []client.Object{creds, key, repo} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	got = waitPlanMessage(t, p.Name, ferryv1.ReasonRepositoryNotReady, ferryv1.ReasonRepositoryCredentials)
	if msg := readyMessage(got); strings.Contains(msg, "wrong") || strings.Contains(msg, srv.SecretKey) {
		t.Errorf("the plan's condition shows a key: %s", msg)
	}

	creds.Data[ferryv1.RepositorySecretAccessKey] = []byte(srv.SecretKey)
	if err := env.Client.Update(ctx, creds); err != nil {
		t.Fatal(err)
	}
	waitPlan(t, p.Name, ferryv1.ReasonReady)
}

func readyMessage(p *ferryv1.Plan) string {
	for _, c := range p.Status.Conditions {
		if c.Type == ferryv1.ConditionReady {
			return c.Message
		}
	}
	return ""
}

// waitPlanMessage waits for the reason with a message that mentions
// what.
func waitPlanMessage(t *testing.T, name, reason, what string) *ferryv1.Plan {
	t.Helper()
	var p ferryv1.Plan
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, waitTimeout, true, func(ctx context.Context) (bool, error) {
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ferryNS, Name: name}, &p); err != nil {
			return false, nil
		}
		cond := meta.FindStatusCondition(p.Status.Conditions, ferryv1.ConditionReady)
		return cond != nil && cond.Reason == reason && strings.Contains(cond.Message, what), nil
	})
	if err != nil {
		t.Fatalf("plan %s: Ready %q, want reason %s mentioning %s: %v", name, readyMessage(&p), reason, what, err)
	}
	return &p
}
