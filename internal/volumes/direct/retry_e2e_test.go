//go:build e2e

package direct

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"

	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/test/harness"
)

// TestRetryAfterReceiverKilledE2E kills the receiver's process (the
// clusters' containers run on this machine) while the sender waits for it:
// the copy must go on by itself with a second pair of pods after a pause,
// and the data must arrive intact.
func TestRetryAfterReceiverKilledE2E(t *testing.T) {
	src, dst := harness.LocalOrSkip(t, "src"), harness.LocalOrSkip(t, "dst")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	suffix := harness.Suffix()
	srcNS, dstNS := "ferry-retry-src-"+suffix, "ferry-retry-dst-"+suffix
	src.CreateNamespace(t, srcNS)
	dst.CreateNamespace(t, dstNS)
	src.CreateClaim(t, srcNS, "data", "standard")
	dst.CreateClaim(t, dstNS, "restored", "standard")
	srcList := runPod(t, src, srcNS, "writer", "data", writeScript+listScript)

	o := Options{Source: src.Clients(t), Destination: dst.Clients(t), Migration: "e2e-retry-" + suffix, Image: src.Image(t, "ferry")}
	run := &syncer{o: o, pol: volumes.Policy{RetryPause: time.Second}}
	tr := volumes.Transfer{SourceNamespace: srcNS, SourceClaim: "data", DestinationNamespace: dstNS, DestinationClaim: "restored"}
	t.Cleanup(func() {
		if err := cleanup(context.Background(), o); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})
	if _, err := run.sync(ctx, t, tr); err != nil {
		t.Fatalf("first Sync: %v", err)
	}
	recv, err := dst.Kube.CoreV1().Pods(dstNS).Get(ctx, receiverName(o.Migration, tr), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Freeze the receiver as soon as it runs, so that the first attempt
	// cannot finish, then kill it.
	var pid int
	err = wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		pid = podProcess(recv.UID, "serve")
		return pid > 0, nil
	})
	if err != nil {
		t.Fatalf("receiver process of pod %s not found on this machine: %v", recv.UID, err)
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed receiver process %d", pid)

	start, retried := time.Now(), false
	var st volumes.State
	err = wait.PollUntilContextTimeout(ctx, time.Second, 4*time.Minute, true, func(ctx context.Context) (bool, error) {
		st, err = run.sync(ctx, t, tr)
		if err != nil {
			return false, err
		}
		v := st.Volumes[0]
		t.Logf("%5.1fs %s %s %s", time.Since(start).Seconds(), v.Phase, v.MoverPhase, v.Message)
		retried = retried || (v.Phase == volumes.PhaseRetrying && strings.Contains(v.Message, "attempt 1 of 3 failed"))
		return st.Done, nil
	})
	if err != nil {
		t.Fatalf("copy did not recover: %v (last state %+v)", err, st)
	}
	if !retried {
		t.Error("no Retrying phase naming the failed attempt was seen")
	}
	if n := st.Volumes[0].Attempt; n != 2 {
		t.Errorf("attempt = %d; want 2", n)
	}
	if got := runPod(t, dst, dstNS, "reader", "restored", listScript); got != srcList {
		t.Errorf("destination differs from source:\n--- source\n%s--- destination\n%s", srcList, got)
	}
}

// podProcess finds the process of a pod's container on this machine by
// the pod UID in its cgroup and word in its command line; 0 if none.
func podProcess(uid types.UID, word string) int {
	ids := []string{string(uid), strings.ReplaceAll(string(uid), "-", "_")}
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cg, err := os.ReadFile(filepath.Join(d, "cgroup"))
		if err != nil || !bytes.Contains(cg, []byte(ids[0])) && !bytes.Contains(cg, []byte(ids[1])) {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Contains(cmd, []byte("\x00"+word+"\x00")) {
			continue
		}
		if pid, err := strconv.Atoi(filepath.Base(d)); err == nil {
			return pid
		}
	}
	return 0
}
