package mover_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover"
)

// A mover that runs as non-root (a namespace enforcing the restricted
// Pod Security Standard) is this test binary run again as nonRootUID in a
// child process (syscall.Credential): the tests run as root, and a Go
// program cannot drop to another user for one goroutine.
const (
	nonRootUID = 1000
	nonRootGID = 1000
	// roleEnv names what the child does: "serve DST" (a receiver on a
	// loopback TCP port it prints, for one session) or "local SRC DST" (a
	// local copy with Delete and Verify, both sides non-root).
	roleEnv = "FERRY_MOVER_TEST_NONROOT"
)

func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(nonRootChild(strings.Fields(role)))
	}
	os.Exit(m.Run())
}

// nonRootChild runs the child's role and returns its exit status.
func nonRootChild(args []string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var err error
	switch args[0] {
	case "serve":
		err = childServe(ctx, args[1])
	case "local":
		var p mover.Progress
		p, err = mover.Local(ctx, args[2], mover.Options{Root: args[1], Delete: true, Verify: true})
		_ = json.NewEncoder(os.Stdout).Encode(p)
	default:
		err = fmt.Errorf("unknown role %q", args[0])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	return 0
}

// childServe serves one session into dst on a loopback port, without
// TLS; it prints the address first.
func childServe(ctx context.Context, dst string) error {
	srv, err := mover.NewServer(dst, nil)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	return srv.ServeOnce(ctx, ln)
}

// nonRootCommand is the test binary run as nonRootUID:nonRootGID with
// role, from a copy the user may execute.
func nonRootCommand(t *testing.T, role string) *exec.Cmd {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as another user")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := worldDir(t)
	bin := filepath.Join(dir, "mover.test")
	in, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, in, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), roleEnv+"="+role)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nonRootUID, Gid: nonRootGID, Groups: []uint32{nonRootGID}}}
	return cmd
}

// worldDir is a temporary directory other users may enter (t.TempDir's
// parents are root's, mode 0700).
func worldDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "ferry-nonroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { makeWritable(dir); os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// volumeRoot is a destination volume's root as a pod with fsGroup finds
// it: owned by root and the group, group-writable, setgid.
func volumeRoot(t *testing.T, parent string) string {
	t.Helper()
	dst := filepath.Join(parent, "dst")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	chown(t, dst, 0, nonRootGID, 0o2775|os.ModeDir|os.ModeSetgid)
	if err := os.Chmod(dst, 0o2775|os.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	return dst
}

// startNonRootReceiver starts a non-root receiver into dst and returns
// its address and a function that waits for it to end.
func startNonRootReceiver(t *testing.T, dst string) (string, func() error) {
	t.Helper()
	cmd := nonRootCommand(t, "serve "+dst)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("non-root receiver did not start: %v: %s", err, stderr.String())
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()
	return strings.TrimSpace(addr), func() error {
		if err := cmd.Wait(); err != nil {
			return fmt.Errorf("%w: %s", err, stderr.String())
		}
		return nil
	}
}

// syncToNonRoot syncs src (as root, the source namespace's default) into
// dst through a non-root receiver, with Delete and Verify.
func syncToNonRoot(t *testing.T, src, dst string, opts ...syncOpt) (mover.Progress, error) {
	t.Helper()
	addr, wait := startNonRootReceiver(t, dst)
	dial := func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	o := mover.Options{Root: src, Dial: dial, Delete: true, Verify: true, Log: testLogger(t)}
	for _, f := range opts {
		f(&o)
	}
	p, err := mover.Sync(context.Background(), o)
	if werr := wait(); err == nil && werr != nil {
		err = fmt.Errorf("receiver: %w", werr)
	}
	return p, err
}

// TestNonRootReceiver copies a tree of several owners into a volume root
// like one with fsGroup through a receiver running as non-root: the copy
// and its verification succeed without chown, every file is the
// receiver's with its mode, times and user xattrs kept, the device node is
// skipped with a warning, and an incremental copy changes files inside a
// read-only directory and removes files.
func TestNonRootReceiver(t *testing.T) {
	src, dst := t.TempDir(), volumeRoot(t, worldDir(t))
	t.Cleanup(func() { makeWritable(src) })
	b := newTree(t, src)
	b.file("data/db.bin", b.random(3<<20))
	b.file("data/small", []byte("small"))
	b.file("www/index.html", []byte("<html>"))
	b.file("ro-file", []byte("read only"))
	b.chmod("ro-file", 0o444)
	b.file("ro-dir/inside", []byte("ro"))
	b.file("ro-still/inside", []byte("unchanged"))
	b.file("no-perms", []byte("mode 0000, with an xattr"))
	b.xattr("no-perms", "user.ferry", "set while writable")
	b.chmod("no-perms", 0)
	b.file("setgid-file", []byte("g"))
	b.chmod("setgid-file", 0o2755)
	b.check(os.Link(b.path("data/small"), b.path("small-link")))
	b.check(os.Symlink("data/small", b.path("link")))
	b.check(unix.Mkfifo(b.path("fifo"), 0o640))
	b.check(unix.Mknod(b.path("null-dev"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))))
	b.xattr("data/small", "user.ferry", "kept")
	chown(t, b.path("data"), nonRootUID, nonRootGID, 0o750|os.ModeDir)
	chown(t, b.path("data/db.bin"), nonRootUID, nonRootGID, 0o600)
	chown(t, b.path("www/index.html"), 33, 33, 0o640)
	b.check(os.Lchown(b.path("link"), 33, 33))
	b.dir("ro-dir", 0o555)
	b.dir("ro-still", 0o555)
	b.stampTimes()

	p, err := syncToNonRoot(t, src, dst)
	if err != nil {
		t.Fatalf("first copy: %v", err)
	}
	if p.Warnings != 1 {
		t.Errorf("%d warnings, want 1 (the device node)", p.Warnings)
	}
	checkNonRootCopy(t, src, dst)

	// ro-still and its file keep their times: the incremental copy
	// leaves them as they are, and they must stay read-only.
	b.chmod("ro-dir", 0o755)
	b.file("ro-dir/inside", []byte("changed in a read-only directory"))
	b.file("ro-dir/new", []byte("new"))
	b.dir("ro-dir", 0o555)
	b.times("ro-dir/inside", 1_700_000_000, 1)
	b.times("ro-dir/new", 1_700_000_000, 2)
	b.times("ro-dir", 1_700_000_000, 3)
	b.check(os.Remove(b.path("www/index.html")))
	b.times("www", 1_700_000_000, 4)
	b.chmod("ro-file", 0o400)
	if _, err := syncToNonRoot(t, src, dst); err != nil {
		t.Fatalf("incremental copy: %v", err)
	}
	checkNonRootCopy(t, src, dst)

	// A cutover's final copy removes the reserved directory from a root
	// that is not the receiver's.
	if _, err := syncToNonRoot(t, src, dst, func(o *mover.Options) { o.Final = true }); err != nil {
		t.Fatalf("final copy: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dst, ".ferry-mover")); !os.IsNotExist(err) {
		t.Errorf("reserved directory after the final copy: %v", err)
	}
	checkNonRootCopy(t, src, dst)
}

// checkNonRootCopy compares the trees in all but owners (and the skipped
// device node) and checks that every destination entry is the
// receiver's.
func checkNonRootCopy(t *testing.T, src, dst string) {
	t.Helper()
	a, b := snapshot(t, src), snapshot(t, dst)
	delete(a, "null-dev")
	delete(a, ".")
	delete(b, ".")
	for p, want := range a {
		got, ok := b[p]
		if !ok {
			t.Errorf("%q missing on the destination", p)
			continue
		}
		if got.UID != nonRootUID || got.GID != nonRootGID {
			t.Errorf("%q owned by %d:%d, want the receiver's %d:%d", p, got.UID, got.GID, nonRootUID, nonRootGID)
		}
		want.UID, want.GID, got.UID, got.GID = 0, 0, 0, 0
		if want.Kind == "dir" {
			want.Mtime, got.Mtime = 0, 0 // checked by compareTrees on root copies
		}
		if want != got {
			t.Errorf("%q differs:\n source      %+v\n destination %+v", p, want, got)
		}
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			t.Errorf("%q on the destination only", p)
		}
	}
}

// TestNonRootLocal runs a local copy with both sides non-root (a
// namespace enforcing the restricted standard holds both claims): a
// source file the mover cannot read fails the copy naming it, not a
// silent success; once it is readable the copy succeeds.
func TestNonRootLocal(t *testing.T) {
	parent := worldDir(t)
	src := filepath.Join(parent, "src")
	dst := volumeRoot(t, parent)
	b := newTree(t, src)
	b.file("app/data", []byte("the app's"))
	b.file("app/root-only.key", []byte("secret"))
	chown(t, src, nonRootUID, nonRootGID, 0o755|os.ModeDir)
	chown(t, b.path("app"), nonRootUID, nonRootGID, 0o755|os.ModeDir)
	chown(t, b.path("app/data"), nonRootUID, nonRootGID, 0o600)
	chown(t, b.path("app/root-only.key"), 0, 0, 0o600)

	run := func() (string, error) {
		cmd := nonRootCommand(t, "local "+src+" "+dst)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return string(out), fmt.Errorf("%w: %s", err, stderr.String())
		}
		return string(out), nil
	}
	if _, err := run(); err == nil || !strings.Contains(err.Error(), "root-only.key") || !strings.Contains(err.Error(), "permission denied") {
		t.Fatalf("copy of an unreadable file: %v; want a failure naming app/root-only.key", err)
	}
	chown(t, b.path("app/root-only.key"), 0, 0, 0o644)
	out, err := run()
	if err != nil {
		t.Fatalf("copy of a readable tree: %v", err)
	}
	var p mover.Progress
	if err := json.Unmarshal([]byte(out), &p); err != nil || p.Phase != mover.PhaseDone {
		t.Fatalf("progress %q (%v), want phase done", out, err)
	}
	checkNonRootCopy(t, src, dst)
}

// TestNonRootReceiverRootNotWritable starts a non-root receiver on a
// volume root as a hostPath provisioner makes it (root's, mode 0750, no
// fsGroup applied): it fails at once saying why and what to do.
func TestNonRootReceiverRootNotWritable(t *testing.T) {
	dst := filepath.Join(worldDir(t), "dst")
	if err := os.Mkdir(dst, 0o750); err != nil {
		t.Fatal(err)
	}
	cmd := nonRootCommand(t, "serve "+dst)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the receiver started on a root it cannot write: %s", out)
	}
	for _, want := range []string{"destination root not writable", "owner 0:0, mode 0750", "uid 1000 gid 1000", "fsGroup"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("receiver's error %q does not say %q", out, want)
		}
	}
}
