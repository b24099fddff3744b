//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/ops"
	"ferry.dev/ferry/test/harness"
)

// ferryBin is the ferry binary built for the tests; the controller runs
// from it as a separate process on the host (dst), as in production.
var ferryBin string

// ferryNS holds Ferry's objects on the host: ferry-system, or
// $FERRY_NAMESPACE, which the ferry processes the tests start read too, so
// that two runs of the suite can share the clusters (each with its own
// controller Lease).
var ferryNS = ops.Namespace()

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctrllog.SetLogger(logr.Discard())
	dir, err := os.MkdirTemp("", "ferry-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// The kubeconfigs `ferry cluster add` records for later grants stay
	// with this run, not in the user's configuration folder.
	if err := os.Setenv("FERRY_CONFIG_DIR", filepath.Join(dir, "config")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ferryBin = filepath.Join(dir, "ferry")
	build := exec.Command("go", "build", "-o", ferryBin, "../../cmd/ferry")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build ferry: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// ferry runs the CLI against the host cluster (dst) and returns its
// combined output.
func ferry(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, ferryBin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+harness.Kubeconfig(t, "dst"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	t.Logf("ferry %s:\n%s", strings.Join(args, " "), out.String())
	return out.String(), err
}

func mustFerry(t *testing.T, args ...string) string {
	t.Helper()
	out, err := ferry(t, args...)
	if err != nil {
		t.Fatalf("ferry %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// controllerProcess is `ferry controller` running against the host.
type controllerProcess struct {
	cmd *exec.Cmd
	log *harness.SyncBuffer
}

// startController starts the controller and waits until it leads.
func startController(t *testing.T) *controllerProcess {
	t.Helper()
	cmd := exec.Command(ferryBin, "controller", "--unhealthy-grace=8s", "--mover-image="+harness.Local(t, "src").Image(t, "ferry"))
	cmd.Env = append(os.Environ(), "KUBECONFIG="+harness.Kubeconfig(t, "dst"))
	log := &harness.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	// The controller dies with the test binary, even when a test times out.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &controllerProcess{cmd: cmd, log: log}
	// A controller killed before this one left its Lease: it expires one
	// lease duration (60 s) after its last renewal.
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		return strings.Contains(strings.ToLower(log.String()), "successfully acquired lease"), nil
	})
	if err != nil {
		p.kill()
		t.Fatalf("controller did not become leader: %v\n%s", err, log.String())
	}
	return p
}

// kill stops the controller abruptly, as a crash would (no lease release).
func (p *controllerProcess) kill() {
	_ = p.cmd.Process.Kill()
	_, _ = p.cmd.Process.Wait()
}

// stop stops it cleanly.
func (p *controllerProcess) stop() {
	_ = p.cmd.Process.Signal(os.Interrupt)
	_, _ = p.cmd.Process.Wait()
}

// withController runs a controller for the test, registers the two
// clusters with Ferry's default roles (no cluster-scoped writes) and
// returns the controller.
func withController(t *testing.T) *controllerProcess {
	t.Helper()
	return withControllerRoles(t)
}

// withClusterWrites is withController for tests whose plans have
// cluster-scoped objects (CRDs, ClusterRoles and their bindings, SCCs,
// moved PVs): both clusters also get Ferry's optional role
// ferry-cluster-writes.
func withClusterWrites(t *testing.T) *controllerProcess {
	t.Helper()
	return withControllerRoles(t, "--cluster-scoped-writes")
}

// withControllerRoles runs a controller and registers the two clusters
// with the extra flags of `ferry cluster add`.
func withControllerRoles(t *testing.T, flags ...string) *controllerProcess {
	t.Helper()
	p := runController(t)
	mustFerry(t, append([]string{"cluster", "add", "src", "--kubeconfig", harness.Kubeconfig(t, "src")}, flags...)...)
	mustFerry(t, append([]string{"cluster", "add", "dst", "--kubeconfig", harness.Kubeconfig(t, "dst")}, flags...)...)
	return p
}

// runController runs a controller for the test: it stops when the test
// ends, and a failed test logs it.
func runController(t *testing.T) *controllerProcess {
	t.Helper()
	p := startController(t)
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("controller log:\n%s", p.log.String())
		}
	})
	return p
}

// hostClient reads Ferry's objects on the host.
func hostClient(t *testing.T) client.Client {
	t.Helper()
	return harness.Local(t, "dst").Client
}

// planReady waits for the plan's validation (its claims measured) and
// returns its Ready condition.
func planReady(t *testing.T, name string) *metav1.Condition {
	t.Helper()
	hc := hostClient(t)
	var cond *metav1.Condition
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var p ferryv1.Plan
		if err := hc.Get(ctx, client.ObjectKey{Namespace: ferryNS, Name: name}, &p); err != nil {
			return false, nil
		}
		cond = meta.FindStatusCondition(p.Status.Conditions, ferryv1.ConditionReady)
		return cond != nil && cond.Reason != ferryv1.ReasonMeasuring && p.Status.ObservedGeneration == p.Generation, nil
	})
	if err != nil {
		t.Fatalf("plan %s not validated: %v", name, err)
	}
	return cond
}

// migration returns a migration by name.
func migration(t *testing.T, name string) *ferryv1.Migration {
	t.Helper()
	var m ferryv1.Migration
	if err := hostClient(t).Get(context.Background(), client.ObjectKey{Namespace: ferryNS, Name: name}, &m); err != nil {
		t.Fatalf("get migration %s: %v", name, err)
	}
	return &m
}

// createdMigration extracts the migration name from `ferry stage|cutover` output.
func createdMigration(t *testing.T, out string) string {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "migration" && f[2] == "created" {
			return f[1]
		}
	}
	t.Fatalf("no migration name in output:\n%s", out)
	return ""
}

// deletePlan removes a plan and its migrations from the host.
func deletePlan(t *testing.T, name string) {
	t.Helper()
	hc := hostClient(t)
	ctx := context.Background()
	_ = hc.DeleteAllOf(ctx, &ferryv1.Migration{}, client.InNamespace(ferryNS), client.MatchingLabels{ferryv1.LabelPlan: name})
	_ = hc.Delete(ctx, &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: name}})
}
