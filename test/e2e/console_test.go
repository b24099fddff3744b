//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// Names under which the browser registers the two clusters: not src and
// dst, which the other tests register from the CLI, so that the browser
// adds them itself.
const (
	consoleSrc = "console-src"
	consoleDst = "console-dst"
)

// TestConsoleInBrowser runs the console's browser test (web/tests/console.mjs
// in Debian's headless Chromium, driven by playwright-core) with its whole
// flow against `ferry console` on the host: it adds both clusters in the
// browser, creates a plan in the wizard with a namespace rename and a
// volume override, runs Stage and then Cutover from the Plans page while
// the app writes, follows the timeline and the volume progress to the
// end, opens the debug view and the report, and rolls back. Every screen
// is checked with axe-core. The first load's time is printed (a figure,
// not an assertion); FERRY_CONSOLE_SCREENSHOTS names a folder for the
// screens' PNGs (docs/console).
func TestConsoleInBrowser(t *testing.T) {
	node, web := browserTools(t)
	runController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	ns := src.Namespace(t, "console")
	writingApp(t, src, ns)
	target := ns + "-console"
	t.Cleanup(func() { cleanConsoleFlow(t, dst, target) })

	url, stop := startConsole(t)
	defer stop()
	cmd := exec.Command(node, "tests/console.mjs")
	cmd.Dir = web
	cmd.Env = append(os.Environ(), "FERRY_CONSOLE_URL="+url, "FERRY_CONSOLE_FLOW=1", "FERRY_CONSOLE_NAMESPACE="+ns,
		"FERRY_CONSOLE_SRC_NAME="+consoleSrc, "FERRY_CONSOLE_DST_NAME="+consoleDst,
		"FERRY_CONSOLE_SRC_KUBECONFIG="+harness.Kubeconfig(t, "src"), "FERRY_CONSOLE_DST_KUBECONFIG="+harness.Kubeconfig(t, "dst"))
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Minute)
	defer cancel()
	out, err := runWithin(ctx, cmd)
	t.Logf("browser test:\n%s", out)
	if err != nil {
		t.Fatalf("the browser test failed: %v (its lines above name each failed check)", err)
	}
	if !regexp.MustCompile(`(?m)^\d+ passed, 0 failed$`).Match(out) {
		t.Fatalf("the browser test did not report its checks")
	}
	// What the browser did, read back from the host: the plan has the
	// rename and the override, and its stage, cutover and rollback
	// succeeded.
	var ms ferryv1.MigrationList
	if err := hostClient(t).List(context.Background(), &ms, client.InNamespace(ferryNS)); err != nil {
		t.Fatal(err)
	}
	done := map[ferryv1.MigrationType]bool{}
	for _, m := range ms.Items {
		if m.Spec.Plan == "console-e2e" && m.Status.Phase == ferryv1.MigrationSucceeded {
			done[m.Spec.Type] = true
		}
	}
	for _, typ := range []ferryv1.MigrationType{ferryv1.MigrationStage, ferryv1.MigrationCutover, ferryv1.MigrationRollback} {
		if !done[typ] {
			t.Errorf("no %s of plan console-e2e succeeded on the host", typ)
		}
	}
}

// browserTools returns node and the web folder, failing when the browser
// test cannot run: `make e2e` installs Chromium and Node.js and the
// lockfile's packages first.
func browserTools(t *testing.T) (node, web string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("no node: run the e2e tests through make e2e, or hack/deps.sh browser")
	}
	web, err = filepath.Abs("../../web")
	if err != nil {
		t.Fatal(err)
	}
	for _, need := range []string{filepath.Join(web, "node_modules", "playwright-core"), "/usr/bin/chromium"} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("%s is missing: run the e2e tests through make e2e (npm ci in web/, hack/deps.sh browser)", need)
		}
	}
	return node, web
}

// startConsole starts `ferry console` against the host and returns the
// URL it prints (with its one-time key) and a function that stops it.
func startConsole(t *testing.T) (string, func()) {
	t.Helper()
	cmd := exec.Command(ferryBin, "console", "--kubeconfig", harness.Kubeconfig(t, "dst"), "--run-controller=false")
	cmd.Env = append(os.Environ(), "FERRY_NAMESPACE="+ferryNS)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_, _ = cmd.Process.Wait()
		_ = w.Close()
	}
	found := make(chan string, 1)
	log := &harness.SyncBuffer{}
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			log.Write([]byte(s.Text() + "\n"))
			if u := regexp.MustCompile(`http://127\.0\.0\.1:\d+/\S*`).FindString(s.Text()); u != "" {
				select {
				case found <- u:
				default:
				}
			}
		}
	}()
	select {
	case u := <-found:
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("ferry console log:\n%s", log.String())
			}
		})
		return u, stop
	case <-time.After(time.Minute):
		stop()
		t.Fatalf("ferry console printed no URL within a minute:\n%s", log.String())
		return "", nil
	}
}

// runWithin runs a prepared command, killed when ctx ends, and returns
// its combined output.
func runWithin(ctx context.Context, cmd *exec.Cmd) ([]byte, error) {
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = cmd.Process.Kill()
		case <-stopped:
		}
	}()
	err := cmd.Wait()
	close(stopped)
	return []byte(out.String()), err
}

// cleanConsoleFlow deletes what the browser made: its plan (with its
// migrations), the two Clusters it registered and the renamed namespace
// on dst.
func cleanConsoleFlow(t *testing.T, dst *harness.Cluster, target string) {
	ctx := context.Background()
	if _, err := ferry(t, "plan", "delete", "console-e2e", "--wait"); err != nil {
		t.Logf("delete plan console-e2e: %v", err)
	}
	for _, name := range []string{consoleSrc, consoleDst} {
		c := &ferryv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: name}}
		if err := hostClient(t).Delete(ctx, c); err != nil && !apierrors.IsNotFound(err) {
			t.Logf("delete cluster %s: %v", name, err)
		}
	}
	err := dst.Kube.CoreV1().Namespaces().Delete(ctx, target, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Logf("delete namespace %s on dst: %v", target, err)
	}
}
