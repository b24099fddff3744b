//go:build envtest

package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/controller"
	"ferry.dev/ferry/internal/ops"
	"ferry.dev/ferry/internal/testenv"
	"ferry.dev/ferry/test/harness"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

var namespaces atomic.Int32

// hostFlags writes a kubeconfig of the test API server and returns the
// flags that make a command use it with a fresh Ferry namespace.
func hostFlags(t *testing.T) (flags []string, namespace string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := env.WriteKubeconfig(path); err != nil {
		t.Fatal(err)
	}
	namespace = fmt.Sprintf("ferry-cli-%d", namespaces.Add(1))
	return []string{"--kubeconfig", path, "--ferry-namespace", namespace}, namespace
}

// ferry runs a command and returns its stdout and stderr.
func ferry(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := NewRootCommand()
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

// pretendController makes the host look as if a controller ran there (a
// fresh lease), so commands do not start one in their process.
func pretendController(t *testing.T, namespace string) {
	t.Helper()
	ctx := context.Background()
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		t.Fatal(err)
	}
	holder, seconds, now := "elsewhere", int32(3600), metav1.NewMicroTime(time.Now())
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: controller.LeaderElectionID},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: &holder, LeaseDurationSeconds: &seconds, RenewTime: &now, AcquireTime: &now}}
	if err := env.Client.Create(ctx, lease); err != nil {
		t.Fatal(err)
	}
}

func storePlan(t *testing.T, namespace, name string) {
	t.Helper()
	o := ops.New(env.Client, namespace)
	p, err := o.NewPlan(name, ferryv1.PlanSpec{SourceCluster: "src", DestinationCluster: "dst", Namespaces: []string{name}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := o.ApplyPlan(context.Background(), p); err != nil {
		t.Fatal(err)
	}
}

func TestRunOutputName(t *testing.T) {
	host, ns := hostFlags(t)
	pretendController(t, ns)
	storePlan(t, ns, "shop")
	out, _, err := ferry(t, append([]string{"stage", "shop", "-o", "name"}, host...)...)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimSuffix(out, "\n")
	if !strings.HasPrefix(name, "shop-stage-") || strings.ContainsAny(name, " \n") {
		t.Fatalf("stdout %q, want the migration's name alone", out)
	}
	if _, err := ops.New(env.Client, ns).GetMigration(context.Background(), name); err != nil {
		t.Fatalf("the printed name is not a migration: %v", err)
	}
	// Without -o, the line the e2e tests parse.
	out, _, err = ferry(t, append([]string{"cutover", "shop"}, host...)...)
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(strings.Split(out, "\n")[0]); len(f) != 3 || f[0] != "migration" || !strings.HasPrefix(f[1], "shop-cutover-") || f[2] != "created" {
		t.Errorf("stdout %q, want \"migration NAME created\" first", out)
	}
	if _, _, err := ferry(t, append([]string{"stage", "shop", "-o", "yaml"}, host...)...); err == nil || !strings.Contains(err.Error(), "use name") {
		t.Errorf("-o yaml: %v", err)
	}
}

func TestStatusOfPlan(t *testing.T) {
	host, ns := hostFlags(t)
	pretendController(t, ns)
	storePlan(t, ns, "shop")
	if _, _, err := ferry(t, append([]string{"status", "--plan", "shop"}, host...)...); err == nil || !strings.Contains(err.Error(), "no migration yet") {
		t.Fatalf("status of a plan without migrations: %v", err)
	}
	first, _, err := ferry(t, append([]string{"stage", "shop", "-o", "name"}, host...)...)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond) // creation times have whole seconds
	second, _, err := ferry(t, append([]string{"cutover", "shop", "-o", "name"}, host...)...)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := ferry(t, append([]string{"status", "--plan", "shop", "-o", "json"}, host...)...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"name": "`+strings.TrimSpace(second)+`"`) || strings.Contains(out, strings.TrimSpace(first)) {
		t.Errorf("status --plan shows\n%s\nwant %s, the latest", out, second)
	}
	if _, _, err := ferry(t, append([]string{"status", "x", "--plan", "shop"}, host...)...); err == nil {
		t.Error("status with a migration and --plan succeeded")
	}
}

func TestConfigVerbs(t *testing.T) {
	host, _ := hostFlags(t)
	if _, _, err := ferry(t, append([]string{"config", "set", "mover-image", "r/ferry@sha256:1"}, host...)...); err != nil {
		t.Fatal(err)
	}
	out, _, err := ferry(t, append([]string{"config", "get", "mover-image"}, host...)...)
	if err != nil || out != "r/ferry@sha256:1\n" {
		t.Fatalf("config get mover-image: %q, %v", out, err)
	}
	out, _, err = ferry(t, append([]string{"config", "get"}, host...)...)
	if err != nil || !strings.Contains(out, "mover-image  r/ferry@sha256:1") {
		t.Fatalf("config get: %q, %v", out, err)
	}
	if _, _, err := ferry(t, append([]string{"config", "unset", "mover-image"}, host...)...); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := ferry(t, append([]string{"config", "get", "mover-image"}, host...)...); out != "\n" {
		t.Errorf("after unset: %q", out)
	}
	if _, _, err := ferry(t, append([]string{"config", "set", "colour", "blue"}, host...)...); err == nil || !strings.Contains(err.Error(), "unknown setting") {
		t.Errorf("config set of an unknown key: %v", err)
	}
}

// TestInProcessControllerStopsQuietly: with no controller on the host, a
// command runs one in its process; it logs at the level asked for, and its
// clean stop (giving up the lease) logs no error.
func TestInProcessControllerStopsQuietly(t *testing.T) {
	host, _ := hostFlags(t)
	_, stderr, err := ferry(t, append([]string{"cancel", "nosuch", "--log-level", "info"}, host...)...)
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("cancel of a missing migration: %v", err)
	}
	if !strings.Contains(strings.ToLower(stderr), "successfully acquired lease") {
		t.Errorf("the in-process controller logged nothing at info level:\n%s", stderr)
	}
	if strings.Contains(stderr, "level=ERROR") {
		t.Errorf("a clean stop logged errors:\n%s", stderr)
	}
	if !strings.Contains(stderr, "no mover image") {
		t.Errorf("no warning about the missing mover image:\n%s", stderr)
	}
}

// TestControllerCommand: `ferry controller` takes the movers' image from
// the host's setting, and stopping it (Ctrl-C) logs no error.
func TestControllerCommand(t *testing.T) {
	host, _ := hostFlags(t)
	if _, _, err := ferry(t, append([]string{"config", "set", "mover-image", "r/ferry@sha256:9"}, host...)...); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FERRY_MOVER_IMAGE", "")
	var stderr harness.SyncBuffer
	cmd := NewRootCommand()
	cmd.SetArgs(append([]string{"controller", "--log-level", "debug"}, host...))
	cmd.SetOut(&stderr)
	cmd.SetErr(&stderr)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		select {
		case err := <-done:
			return false, fmt.Errorf("the controller ended before it led: %w", err)
		default:
		}
		return strings.Contains(strings.ToLower(stderr.String()), "successfully acquired lease"), nil
	})
	if err != nil {
		t.Fatalf("the controller did not lead: %v\n%s", err, stderr.String())
	}
	cancel() // as Ctrl-C does
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("the controller ended with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the controller did not stop")
	}
	log := stderr.String()
	if !strings.Contains(log, "image=r/ferry@sha256:9") {
		t.Errorf("the controller did not take the stored mover image:\n%s", log)
	}
	if strings.Contains(log, "level=ERROR") {
		t.Errorf("a clean stop logged errors:\n%s", log)
	}
}
