//go:build envtest

package moverpod

import (
	"context"
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// TestPodSecurityAdmission creates mover pods (server-side, dry run) in
// namespaces whose labels enforce each Pod Security Standard, with the
// environment NamespaceEnv reads from the real API server: its Pod
// Security admission accepts every mover pod, writer and reader, and
// rejects a root mover where restricted is enforced (the check can
// fail).
func TestPodSecurityAdmission(t *testing.T) {
	ctx := context.Background()
	writer := []Mount{{Name: "data", Path: DataDir, Claim: "data"}, {Name: "tls", Path: "/tls", Secret: "tls"}}
	reader := []Mount{{Name: "data", Path: DataDir, Claim: "data", ReadOnly: true}, {Name: "tls", Path: "/tls", Secret: "tls"}}
	for _, level := range []Level{"", LevelPrivileged, LevelBaseline, LevelRestricted} {
		ns := namespace(t, ctx, level)
		e := NamespaceEnv(ctx, env.Kube, ns)
		if e.Security.Level != level || e.NonRoot() != (level == LevelRestricted) {
			t.Fatalf("namespace %s: environment %+v, want level %q", ns, e.Security, level)
		}
		e = e.WithRunAs(Identity{UID: 999, GID: 999})
		for role, mounts := range map[string][]Mount{"writer": writer, "reader": reader} {
			if err := dryRun(ctx, Pod("ferry:test", "mover-"+role, ns, []string{"mover"}, e, mounts...)); err != nil {
				t.Errorf("namespace enforcing %q: the %s mover pod was refused: %v", level, role, err)
			}
		}
	}

	ns := namespace(t, ctx, LevelRestricted)
	root := Pod("ferry:test", "root-mover", ns, []string{"mover"}, Env{Resources: Resources(nil)}, writer...)
	err := dryRun(ctx, root)
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), "PodSecurity") {
		t.Fatalf("a root mover pod in a restricted namespace: %v; want Pod Security admission's refusal", err)
	}
}

// namespace creates a namespace enforcing level (none when empty), with
// the service account that pods take by default (no controller makes
// it here).
func namespace(t *testing.T, ctx context.Context, level Level) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "pss-"}}
	if level != "" {
		ns.Labels = map[string]string{LabelEnforce: string(level), LabelEnforceVersion: "latest"}
	}
	got, err := env.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: got.Name}}
	if _, err := env.Kube.CoreV1().ServiceAccounts(got.Name).Create(ctx, sa, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	return got.Name
}

// dryRun creates pod server-side without persisting it: every admission
// plugin judges it.
func dryRun(ctx context.Context, pod *corev1.Pod) error {
	_, err := env.Kube.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
	return err
}
