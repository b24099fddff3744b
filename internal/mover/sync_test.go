package mover_test

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"ferry.dev/ferry/internal/mover"
)

// TestSyncFullTree syncs a tree with every file type and attribute, then
// re-syncs it after changes, with the receiver writing small files into
// unnamed (O_TMPFILE) files and, as on file systems without them, into
// named temporary files.
func TestSyncFullTree(t *testing.T) {
	tests := []struct {
		name  string
		tweak func(*mover.Server)
	}{
		{"unnamed temporary files", func(*mover.Server) {}},
		{"named temporary files", mover.ForceNamedTemps},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testSyncFullTree(t, tt.tweak) })
	}
}

func testSyncFullTree(t *testing.T, tweak func(*mover.Server)) {
	src, dst := t.TempDir(), t.TempDir()
	t.Cleanup(func() { makeWritable(src); makeWritable(dst) })
	b := fullTree(t, src)
	pki := newPKI(t)
	r := startReceiver(t, dst, serverTLS(t, pki), false, tweak)
	ctx := context.Background()

	p, err := runSync(ctx, t, src, r.addr, clientTLS(t, pki), withVerify)
	if err != nil {
		t.Fatalf("first sync: %v", err)
	}
	compareTrees(t, src, dst)
	if p.Warnings != 0 || p.Phase != "done" {
		t.Errorf("first sync progress = %+v, want no warnings and phase done", p)
	}
	if !b.xattrs {
		t.Log("file system has no user xattrs; xattr fidelity not tested")
	}

	b.mutate()
	p, err = runSync(ctx, t, src, r.addr, clientTLS(t, pki), withDelete, withVerify)
	if err != nil {
		t.Fatalf("second sync: %v", err)
	}
	compareTrees(t, src, dst)
	// big.bin changed by 1%: only the changed blocks plus the small new
	// files may travel.
	if p.BytesSent > bigSize/8 {
		t.Errorf("second sync sent %d bytes, want far fewer than the %d-byte file", p.BytesSent, bigSize)
	}
	if p.Deleted == 0 || p.Skipped == 0 {
		t.Errorf("second sync progress = %+v, want deletions and skips", p)
	}
	t.Logf("second sync: %+v", p)
}

// TestVerifyReportsCorruptedDestination corrupts a destination file while
// keeping its size and mtime, which the quick check cannot see; --verify
// must fail and name the file.
func TestVerifyReportsCorruptedDestination(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	b := newTree(t, src)
	b.file("ok.txt", []byte("fine"))
	b.file("sub/bad.bin", b.random(2<<20))
	pki := newPKI(t)
	r := startReceiver(t, dst, serverTLS(t, pki), false)
	if _, err := runSync(context.Background(), t, src, r.addr, clientTLS(t, pki)); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dst, "sub", "bad.bin")
	st, err := os.Stat(bad)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(bad, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("corrupt"), 1000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(bad, st.ModTime(), st.ModTime()); err != nil {
		t.Fatal(err)
	}
	_, err = runSync(context.Background(), t, src, r.addr, clientTLS(t, pki), withVerify)
	var verr *mover.VerifyError
	if !errors.As(err, &verr) || !errors.Is(err, mover.ErrVerify) {
		t.Fatalf("sync returned %v, want a VerifyError", err)
	}
	if len(verr.Paths) != 1 || verr.Paths[0] != "sub/bad.bin" {
		t.Errorf("mismatching paths = %v, want [sub/bad.bin]", verr.Paths)
	}
}

// TestServeOnceReportsFailedSession checks that a session the sender
// abandons makes ServeOnce return an error.
func TestServeOnceReportsFailedSession(t *testing.T) {
	tests := []struct {
		name    string
		cancel  bool
		wantErr bool
	}{
		{name: "completed", cancel: false, wantErr: false},
		{name: "abandoned", cancel: true, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := t.TempDir(), t.TempDir()
			newTree(t, src).file("f", []byte("x"))
			pki := newPKI(t)
			r := startReceiver(t, dst, serverTLS(t, pki), true)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			dial := mover.TLSDialer(r.addr, clientTLS(t, pki))
			var dials atomic.Int32
			opts := mover.Options{Root: src, Log: testLogger(t), Dial: func(ctx context.Context) (net.Conn, error) {
				if tt.cancel && dials.Add(1) == 3 {
					cancel()
				}
				return dial(ctx)
			}}
			_, syncErr := mover.Sync(ctx, opts)
			serveErr := r.wait(t)
			if (syncErr != nil) != tt.wantErr || (serveErr != nil) != tt.wantErr {
				t.Errorf("sync error %v, serve error %v; want errors: %v", syncErr, serveErr, tt.wantErr)
			}
		})
	}
}

// makeWritable lets TempDir's cleanup remove read-only directories when
// the tests do not run as root.
func makeWritable(root string) {
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			_ = os.Chmod(p, 0o755)
		}
		return nil
	})
}

// TestSyncRewrittenLargeFile rewrites large files between two syncs: all
// of one, so block comparison finds nothing and the sender gives it up
// for the rest of the file, and the first half of another, whose second
// half then travels whole although it matched. Both must arrive exactly.
func TestSyncRewrittenLargeFile(t *testing.T) {
	const size = 6 << 20
	src, dst := t.TempDir(), t.TempDir()
	small := func(o *mover.Options) { o.RangeSize, o.BlockSize, o.SmallFile = 1<<20, 64<<10, 256<<10 }
	write := func(name string, from, to int64) {
		t.Helper()
		f, err := os.OpenFile(filepath.Join(src, name), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b := make([]byte, to-from)
		if _, err := rand.Read(b); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt(b, from); err != nil {
			t.Fatal(err)
		}
	}
	write("all.bin", 0, size)
	write("half.bin", 0, size)
	pki := newPKI(t)
	r := startReceiver(t, dst, serverTLS(t, pki), false)
	ctx := context.Background()
	if _, err := runSync(ctx, t, src, r.addr, clientTLS(t, pki), small); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	write("all.bin", 0, size)
	write("half.bin", 0, size/2)
	p, err := runSync(ctx, t, src, r.addr, clientTLS(t, pki), small, withVerify)
	if err != nil {
		t.Fatalf("second sync: %v", err)
	}
	compareTrees(t, src, dst)
	if p.BytesSent < size+size/2 || p.BytesSent > 2*size {
		t.Errorf("second sync sent %d bytes, want between %d and %d", p.BytesSent, size+size/2, 2*size)
	}
}
