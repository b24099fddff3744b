//go:build e2e

package local

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/direct"
	"ferry.dev/ferry/test/harness"
)

// writeScript fills /data with what the copy must keep: contents, a
// subdirectory, a symlink, a hardlink, a private file owned by 1234:5678
// and a file large enough to take the mover's large-file path.
const writeScript = `set -e
cd /data
echo hello > hello.txt
mkdir -p sub/deeper
echo nested > sub/deeper/n.txt
chmod 750 sub
ln -s hello.txt link
ln hello.txt hard.txt
echo secret > secret.txt
chmod 600 secret.txt
chown 1234:5678 secret.txt
head -c 3000000 /dev/urandom > big.bin
`

// listScript prints what the test compares between source and destination.
const listScript = `set -e
cd /data
find . -mindepth 1 -path ./.ferry-mover -prune -o -print | sort | while read -r f; do stat -c '%a %u %g %h %Y %F %n' "$f"; done
echo "link -> $(readlink link)"
cat hello.txt sub/deeper/n.txt secret.txt
md5sum big.bin
if [ -e .ferry-mover ]; then echo "reserved directory present"; fi
`

// reservedLine is what listScript prints when the mover's reserved
// directory is there.
const reservedLine = "reserved directory present\n"

// TestConvertClaimE2E converts a claim of cluster src to another class
// in its namespace, as a StorageConversion does, through one Sync over a
// Dispatch that also copies a claim into another namespace: the
// placement decision sends the first over the local path (one pod, both
// claims) and the second over the direct path. A second, final round
// after a change sends only the change and leaves no reserved directory.
func TestConvertClaimE2E(t *testing.T) {
	c := harness.LocalOrSkip(t, "src")
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	suffix := harness.Suffix()
	ns, other := "ferry-local-"+suffix, "ferry-local-other-"+suffix
	c.CreateNamespace(t, ns)
	c.CreateNamespace(t, other)
	c.CreateClaim(t, ns, "data", "standard")
	c.CreateClaim(t, ns, "data-fast", "fast")
	c.CreateClaim(t, ns, "logs", "standard")
	c.CreateClaim(t, other, "logs", "fast")
	srcList := runPod(t, c, ns, "writer", "data", writeScript+listScript)
	t.Logf("source:\n%s", srcList)
	logsList := runPod(t, c, ns, "logs-writer", "logs", writeScript+listScript)

	convert := volumes.Transfer{SourceNamespace: ns, SourceClaim: "data", DestinationNamespace: ns, DestinationClaim: "data-fast"}
	move := volumes.Transfer{SourceNamespace: ns, SourceClaim: "logs", DestinationNamespace: other, DestinationClaim: "logs"}
	transfers := []volumes.Transfer{convert, move}
	clients := c.Clients(t)
	migration := "e2e-local-" + suffix
	image := c.Image(t, "ferry")
	routes := map[volumes.Transfer]string{}
	err := wait.PollUntilContextTimeout(ctx, time.Second, time.Minute, true, func(ctx context.Context) (bool, error) {
		for _, tr := range transfers {
			pl, err := Decide(ctx, clients.Kube, tr)
			if err != nil || pl.Verdict == Undecided {
				return false, err
			}
			t.Logf("%s: %s (%s)", volumes.Describe(tr), pl.Verdict, pl.Reason)
			routes[tr] = string(pl.Verdict)
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("decide: %v", err)
	}
	if routes[convert] != Name || routes[move] != direct.Name {
		t.Fatalf("routes %v: want the conversion local and the move direct", routes)
	}
	newPath := func(final bool) volumes.Path {
		l, err := New(Options{Cluster: clients, Migration: migration, Image: image, Final: final})
		if err != nil {
			t.Fatal(err)
		}
		d, err := direct.New(direct.Options{Source: clients, Destination: clients, Migration: migration, Image: image, SameCluster: true, Final: final})
		if err != nil {
			t.Fatal(err)
		}
		p, err := volumes.NewDispatch(routes, l, d)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Cleanup(func() { cleanup(context.Background(), t, newPath(false)) })

	st := syncUntilDone(ctx, t, newPath(false), transfers)
	for i, want := range []string{Name, direct.Name} {
		if got := st.Statuses()[i].Path; got != want {
			t.Errorf("%s copied over %q, want %q", volumes.Describe(transfers[i]), got, want)
		}
	}
	if v := st.Volumes[0]; v.BytesDone < 3000000 || v.FilesDone < 5 {
		t.Errorf("local copy's progress %+v counts too little", v)
	}
	pod, err := c.Kube.CoreV1().Pods(ns).Get(ctx, podName(migration, convert), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the local copy's pod: %v", err)
	}
	t.Logf("local copy pod ran on node %s", pod.Spec.NodeName)
	cleanup(ctx, t, newPath(false))
	for _, where := range []struct{ ns, claim, want string }{{ns, "data-fast", srcList}, {other, "logs", logsList}} {
		got, kept := strings.CutSuffix(runPod(t, c, where.ns, "reader", where.claim, listScript), reservedLine)
		if !kept {
			t.Errorf("%s/%s: no reserved directory after a round that is not final", where.ns, where.claim)
		}
		if got != where.want {
			t.Errorf("%s/%s differs from its source:\n--- source\n%s--- destination\n%s", where.ns, where.claim, where.want, got)
		}
	}

	// A change, then the final round: only the change travels, and the
	// destination keeps nothing of the mover.
	change := "cd /data && echo more > more.txt && rm hard.txt\n"
	srcList = runPod(t, c, ns, "changer", "data", change+listScript)
	st = syncUntilDone(ctx, t, newPath(true), transfers[:1])
	// more.txt (5 bytes) travels, and hello.txt (6) again: its destination
	// copy still shares an inode with hard.txt, which the source removed.
	if v := st.Volumes[0]; v.BytesSent != 11 || v.Deleted != 1 || v.Skipped < 4 {
		t.Errorf("final round %+v: want 11 bytes sent, 1 deleted, the rest unchanged", v)
	}
	cleanup(ctx, t, newPath(false))
	got := runPod(t, c, ns, "final-reader", "data-fast", listScript)
	if got != srcList || strings.Contains(got, reservedLine) {
		t.Errorf("after the final round the destination differs:\n--- source\n%s--- destination\n%s", srcList, got)
	}
	for _, want := range []string{"600 1234 5678 1 ", "644 0 0 1 ", "regular file ./more.txt", "link -> hello.txt", "hello\nnested\nsecret\n"} {
		if !strings.Contains(got, want) {
			t.Errorf("destination listing lacks %q", want)
		}
	}
	pods, err := c.Kube.CoreV1().Pods("").List(ctx, metav1.ListOptions{LabelSelector: ferryv1.LabelMigration + "=" + migration})
	if err != nil || len(pods.Items) != 0 {
		t.Errorf("mover pods left after cleanup: %d, %v", len(pods.Items), err)
	}
}

// syncUntilDone runs Sync as the controller's reconciles would until
// every transfer is done.
func syncUntilDone(ctx context.Context, t *testing.T, p volumes.Path, transfers []volumes.Transfer) volumes.State {
	t.Helper()
	start := time.Now()
	var st volumes.State
	var prev []ferryv1.VolumeStatus
	err := wait.PollUntilContextTimeout(ctx, time.Second, 3*time.Minute, true, func(ctx context.Context) (bool, error) {
		var err error
		st, err = volumes.Sync(ctx, p, volumes.Policy{}, transfers, prev)
		if err != nil {
			return false, err
		}
		prev = st.Statuses()
		for _, v := range st.Volumes {
			t.Logf("%5.1fs %s/%s -> %s/%s over %s: %s %s %d/%d bytes %d/%d files %s", time.Since(start).Seconds(),
				v.SourceNamespace, v.SourceClaim, v.DestinationNamespace, v.DestinationClaim, v.Path, v.Phase, v.MoverPhase,
				v.BytesDone, v.BytesTotal, v.FilesDone, v.FilesTotal, v.Message)
		}
		return st.Done, nil
	})
	if err != nil {
		t.Fatalf("sync: %v (last state %+v)", err, st)
	}
	return st
}

// cleanup runs the path's one-pass Cleanup until it is done.
func cleanup(ctx context.Context, t *testing.T, p volumes.Path) {
	t.Helper()
	err := wait.PollUntilContextTimeout(ctx, time.Second, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		return p.Cleanup(ctx)
	})
	if err != nil {
		t.Errorf("cleanup: %v", err)
	}
}

// runPod runs script as root with the claim at /data, waits for it to
// succeed and returns its output.
func runPod(t *testing.T, c *harness.Cluster, ns, name, claim, script string) string {
	t.Helper()
	return c.RunPod(t, harness.NewPod(ns, name, c.Image(t, "tools"), "sh", "-c", script).RestartNever().AsRoot().Claim(claim, "/data").Pod())
}
