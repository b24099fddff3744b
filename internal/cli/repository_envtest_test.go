//go:build envtest

package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness/s3server"
)

// TestRepositoryVerbs adds repositories through the in-process
// controller against a real S3 server: a good one is Ready, wrong keys
// (read from standard input) give Credentials; the keys are only in the
// Secret; list shows both; an imported key is kept and a different one
// refused; delete removes the Secrets too.
func TestRepositoryVerbs(t *testing.T) {
	flags, ns := hostFlags(t)
	srv := s3server.Start(t, s3server.Options{})
	srv.MakeBucket(t, "repo")
	dir := t.TempDir()
	credsFile := filepath.Join(dir, "creds")
	if err := os.WriteFile(credsFile, []byte("[default]\naws_access_key_id = "+srv.AccessKey+"\naws_secret_access_key = "+srv.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key")
	key := bytes.Repeat([]byte{0xab}, ferryv1.RepositoryKeySize)
	if err := os.WriteFile(keyFile, key, 0o600); err != nil {
		t.Fatal(err)
	}
	add := append([]string{"repository", "add", "--endpoint", srv.URL, "--bucket", "repo", "--path-style"}, flags...)

	out, stderr, err := ferry(t, append(add, "good", "--credentials-file", credsFile, "--prefix", "team-a", "--key-file", keyFile)...)
	if err != nil || !strings.Contains(out, "Ready: True (Ready)") {
		t.Fatalf("add good: %v\n%s%s", err, out, stderr)
	}
	for _, s := range []string{out, stderr} {
		if strings.Contains(s, srv.SecretKey) {
			t.Errorf("the output shows the secret key:\n%s", s)
		}
	}
	ctx := context.Background()
	var repo ferryv1.Repository
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "good"}, &repo); err != nil {
		t.Fatal(err)
	}
	if raw, _ := json.Marshal(repo); bytes.Contains(raw, []byte(srv.SecretKey)) || bytes.Contains(raw, []byte(srv.AccessKey)) {
		t.Errorf("the Repository holds a key: %s", raw)
	}
	var sec corev1.Secret
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: repo.Spec.KeySecretRef.Name}, &sec); err != nil || !bytes.Equal(sec.Data[ferryv1.RepositoryKey], key) {
		t.Fatalf("key Secret: %v, %x; want the imported key", err, sec.Data[ferryv1.RepositoryKey])
	}

	// The same again, without the key file: the key stays; with another
	// key: refused.
	if out, stderr, err := ferry(t, append(add, "good", "--credentials-file", credsFile, "--prefix", "team-a")...); err != nil {
		t.Fatalf("add good again: %v\n%s%s", err, out, stderr)
	}
	other := filepath.Join(dir, "other-key")
	if err := os.WriteFile(other, bytes.Repeat([]byte{1}, ferryv1.RepositoryKeySize), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ferry(t, append(add, "good", "--credentials-file", credsFile, "--key-file", other)...); err == nil || !strings.Contains(err.Error(), "another key") {
		t.Errorf("add with another key: %v, want a refusal", err)
	}

	// Wrong keys from standard input.
	cmd := NewRootCommand()
	cmd.SetArgs(append(add, "wrong", "--credentials-file", "-"))
	cmd.SetIn(strings.NewReader("[default]\naws_access_key_id=" + srv.AccessKey + "\naws_secret_access_key=not-it\n"))
	var wrongOut bytes.Buffer
	cmd.SetOut(&wrongOut)
	cmd.SetErr(&wrongOut)
	err = cmd.ExecuteContext(ctx)
	if err == nil || !strings.Contains(wrongOut.String(), "Ready: False (Credentials)") || strings.Contains(wrongOut.String(), "not-it") {
		t.Fatalf("add wrong: %v\n%s", err, wrongOut.String())
	}

	out, _, err = ferry(t, append([]string{"repository", "list"}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"good", "team-a", "True", "wrong", "Credentials"} {
		if !strings.Contains(out, want) {
			t.Errorf("list does not show %q:\n%s", want, out)
		}
	}

	plan := &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "uses-wrong"}, Spec: ferryv1.PlanSpec{
		SourceCluster: "a", DestinationCluster: "b", Namespaces: []string{"shop"}, Repository: "wrong"}}
	if err := env.Client.Create(ctx, plan); err != nil {
		t.Fatal(err)
	}
	if _, _, err := ferry(t, append([]string{"repository", "delete", "wrong"}, flags...)...); err == nil || !strings.Contains(err.Error(), "uses-wrong") {
		t.Errorf("delete of a repository a plan names: %v, want a refusal naming the plan", err)
	}

	if out, stderr, err := ferry(t, append([]string{"repository", "delete", "good"}, flags...)...); err != nil {
		t.Fatalf("delete: %v\n%s%s", err, out, stderr)
	}
	for _, name := range []string{"good", "good-credentials", "good-key"} {
		var obj client.Object = &corev1.Secret{}
		if name == "good" {
			obj = &ferryv1.Repository{}
		}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, obj); !apierrors.IsNotFound(err) {
			t.Errorf("%s after delete: %v, want not found", name, err)
		}
	}
}
