//go:build envtest

package repositoryctl_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/controller"
	"ferry.dev/ferry/internal/controller/repositoryctl"
	"ferry.dev/ferry/internal/testenv"
	"ferry.dev/ferry/test/harness/s3server"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

func TestRepositoryReady(t *testing.T) {
	ctx := context.Background()
	ns := "ferry-repositoryctl"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	srv := s3server.Start(t, s3server.Options{})
	srv.MakeBucket(t, "repo")
	secret := func(name string, data map[string]string) {
		t.Helper()
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
		if err := env.Client.Create(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	secret("good", map[string]string{ferryv1.RepositoryAccessKeyID: srv.AccessKey, ferryv1.RepositorySecretAccessKey: srv.SecretKey})
	secret("wrong", map[string]string{ferryv1.RepositoryAccessKeyID: srv.AccessKey, ferryv1.RepositorySecretAccessKey: "not-the-secret"})
	secret("half", map[string]string{ferryv1.RepositoryAccessKeyID: srv.AccessKey})
	secret("key", map[string]string{ferryv1.RepositoryKey: string(bytes.Repeat([]byte{7}, ferryv1.RepositoryKeySize))})
	secret("short-key", map[string]string{ferryv1.RepositoryKey: "short"})

	spec := func(change func(*ferryv1.RepositorySpec)) ferryv1.RepositorySpec {
		s := ferryv1.RepositorySpec{Endpoint: srv.URL, Bucket: "repo", PathStyle: true,
			CredentialsSecretRef: ferryv1.SecretReference{Name: "good"}, KeySecretRef: ferryv1.SecretReference{Name: "key"}}
		change(&s)
		return s
	}
	r := &repositoryctl.Reconciler{Client: env.Client}
	tests := []struct {
		name     string
		spec     ferryv1.RepositorySpec
		status   metav1.ConditionStatus
		reason   string
		mentions string
	}{
		{"good", spec(func(*ferryv1.RepositorySpec) {}), metav1.ConditionTrue, ferryv1.ReasonReady, "s3://repo"},
		{"good with a prefix", spec(func(s *ferryv1.RepositorySpec) { s.Prefix = "team-a" }), metav1.ConditionTrue, ferryv1.ReasonReady, "s3://repo/team-a"},
		{"wrong secret key", spec(func(s *ferryv1.RepositorySpec) { s.CredentialsSecretRef.Name = "wrong" }),
			metav1.ConditionFalse, ferryv1.ReasonRepositoryCredentials, "credentials file"},
		{"missing bucket", spec(func(s *ferryv1.RepositorySpec) { s.Bucket = "nothere" }),
			metav1.ConditionFalse, ferryv1.ReasonRepositoryBucketMissing, "create it"},
		{"closed port", spec(func(s *ferryv1.RepositorySpec) { s.Endpoint = "http://127.0.0.1:1" }),
			metav1.ConditionFalse, ferryv1.ReasonRepositoryUnreachable, "127.0.0.1:1"},
		{"missing credentials secret", spec(func(s *ferryv1.RepositorySpec) { s.CredentialsSecretRef.Name = "gone" }),
			metav1.ConditionFalse, ferryv1.ReasonRepositorySecretMissing, "ferry repository add"},
		{"credentials without the secret key", spec(func(s *ferryv1.RepositorySpec) { s.CredentialsSecretRef.Name = "half" }),
			metav1.ConditionFalse, ferryv1.ReasonRepositorySecretMissing, ferryv1.RepositorySecretAccessKey},
		{"missing key secret", spec(func(s *ferryv1.RepositorySpec) { s.KeySecretRef.Name = "gone" }),
			metav1.ConditionFalse, ferryv1.ReasonRepositorySecretMissing, "key Secret gone"},
		{"key of the wrong size", spec(func(s *ferryv1.RepositorySpec) { s.KeySecretRef.Name = "short-key" }),
			metav1.ConditionFalse, ferryv1.ReasonRepositorySecretMissing, "--key-file"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			repo := &ferryv1.Repository{ObjectMeta: metav1.ObjectMeta{Name: "r" + string(rune('a'+i)), Namespace: ns}, Spec: tt.spec}
			if err := env.Client.Create(ctx, repo); err != nil {
				t.Fatal(err)
			}
			res, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(repo)})
			if err != nil {
				t.Fatal(err)
			}
			want := repositoryctl.NotReadyRecheck
			if tt.status == metav1.ConditionTrue {
				want = repositoryctl.ReadyRecheck
			}
			if res.RequeueAfter != want {
				t.Errorf("requeue after %s, want %s", res.RequeueAfter, want)
			}
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(repo), repo); err != nil {
				t.Fatal(err)
			}
			cond := meta.FindStatusCondition(repo.Status.Conditions, ferryv1.ConditionReady)
			if cond == nil || cond.Status != tt.status || cond.Reason != tt.reason || !strings.Contains(cond.Message, tt.mentions) {
				t.Fatalf("Ready = %+v, want %s/%s mentioning %q", cond, tt.status, tt.reason, tt.mentions)
			}
			if repo.Status.ObservedGeneration != repo.Generation || repo.Status.LastChecked == nil {
				t.Errorf("status %+v does not say which generation it checked, and when", repo.Status)
			}
			if strings.Contains(cond.Message, srv.SecretKey) || strings.Contains(cond.Message, "not-the-secret") || strings.Contains(cond.Message, srv.AccessKey) {
				t.Errorf("the condition shows a key: %s", cond.Message)
			}
		})
	}
}

// TestRepositoryManager runs the reconciler in Ferry's manager: a repository
// whose Secret is missing becomes Ready once the Secret is created,
// without waiting for the periodic recheck.
func TestRepositoryManager(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ns := "ferry-repositoryctl-mgr"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	srv := s3server.Start(t, s3server.Options{})
	srv.MakeBucket(t, "repo")
	mgr, err := controller.NewManager(env.Config, controller.Options{Namespace: ns, ReleaseOnCancel: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = mgr.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	repo := &ferryv1.Repository{ObjectMeta: metav1.ObjectMeta{Name: "later", Namespace: ns}, Spec: ferryv1.RepositorySpec{
		Endpoint: srv.URL, Bucket: "repo", PathStyle: true,
		CredentialsSecretRef: ferryv1.SecretReference{Name: "creds"}, KeySecretRef: ferryv1.SecretReference{Name: "key"}}}
	if err := env.Client.Create(ctx, repo); err != nil {
		t.Fatal(err)
	}
	waitReason(t, repo, ferryv1.ReasonRepositorySecretMissing)
	for name, data := range map[string]map[string]string{
		"creds": {ferryv1.RepositoryAccessKeyID: srv.AccessKey, ferryv1.RepositorySecretAccessKey: srv.SecretKey},
		"key":   {ferryv1.RepositoryKey: string(bytes.Repeat([]byte{1}, ferryv1.RepositoryKeySize))},
	} {
		if err := env.Client.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}); err != nil {
			t.Fatal(err)
		}
	}
	waitReason(t, repo, ferryv1.ReasonReady)
}

func waitReason(t *testing.T, repo *ferryv1.Repository, reason string) {
	t.Helper()
	var last *metav1.Condition
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 60*time.Second, true, func(ctx context.Context) (bool, error) {
		var cur ferryv1.Repository
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(repo), &cur); err != nil {
			return false, err
		}
		last = meta.FindStatusCondition(cur.Status.Conditions, ferryv1.ConditionReady)
		return last != nil && last.Reason == reason, nil
	})
	if err != nil {
		t.Fatalf("repository %s: Ready = %+v, want reason %s: %v", repo.Name, last, reason, err)
	}
}
