package mover_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/mover/safefs"
)

// local runs one local copy of src into dst.
func local(t *testing.T, src, dst string, opts ...syncOpt) (mover.Progress, error) {
	t.Helper()
	o := mover.Options{Root: src, Log: testLogger(t)}
	for _, f := range opts {
		f(&o)
	}
	return mover.Local(context.Background(), dst, o)
}

// TestLocalFullTree copies a tree with every file type and attribute in
// one process, re-copies it unchanged (nothing travels), after changes
// (only what changed travels), and finally (the reserved directory goes);
// the progress callback sees the copy end in phase done.
func TestLocalFullTree(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	t.Cleanup(func() { makeWritable(src); makeWritable(dst) })
	b := fullTree(t, src)

	var last atomic.Value
	withProgress := func(o *mover.Options) { o.Progress = func(p mover.Progress) { last.Store(p) } }
	p, err := local(t, src, dst, withVerify, withProgress)
	if err != nil {
		t.Fatalf("first copy: %v", err)
	}
	compareTrees(t, src, dst)
	if p.Warnings != 0 || p.Phase != mover.PhaseDone || p.BytesSent == 0 {
		t.Errorf("first copy progress = %+v, want data sent, no warnings, phase done", p)
	}
	if got, _ := last.Load().(mover.Progress); got.Phase != mover.PhaseDone {
		t.Errorf("last progress report has phase %q, want done", got.Phase)
	}

	p, err = local(t, src, dst, withDelete, withVerify)
	if err != nil {
		t.Fatalf("unchanged copy: %v", err)
	}
	if p.BytesSent != 0 || p.Deleted != 0 || p.Skipped == 0 {
		t.Errorf("unchanged copy progress = %+v, want nothing sent or deleted, files skipped", p)
	}

	b.mutate()
	p, err = local(t, src, dst, withDelete, withVerify)
	if err != nil {
		t.Fatalf("copy after changes: %v", err)
	}
	compareTrees(t, src, dst)
	if p.BytesSent > bigSize/8 || p.Deleted == 0 {
		t.Errorf("copy after changes progress = %+v, want far fewer than %d bytes sent and deletions", p, bigSize)
	}

	final := func(o *mover.Options) { o.Final = true }
	if _, err := local(t, src, dst, withDelete, withVerify, final); err != nil {
		t.Fatalf("final copy: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(dst, safefs.ReservedName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("reserved directory after the final copy: %v", err)
	}
	compareTrees(t, src, dst)
}

// countWrites wraps every connection so that hook sees the running total
// of bytes the sender wrote on all of them.
func countWrites(hook func(int64)) func(net.Conn) net.Conn {
	var n atomic.Int64
	return func(c net.Conn) net.Conn { return countingConn{Conn: c, n: &n, hook: hook} }
}

// TestLocalChangedLargeFileKeptAsBasis: a large file rewritten while the
// local copy reads it is not committed but kept as a partial file and
// counted, and the next copy sends only what differs.
func TestLocalChangedLargeFileKeptAsBasis(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	b := newTree(t, src)
	const size, changed = 32 << 20, 1 << 20
	b.file("db/table", b.random(size))
	var once sync.Once
	wrap := countWrites(func(n int64) {
		if n > mover.DefaultRangeSize+(1<<20) {
			once.Do(func() { rewrite(t, b.path("db/table"), b.random(changed)) })
		}
	})
	// One data connection, so the ranges go out in order.
	o := mover.Options{Root: src, Log: testLogger(t), Parallel: 1}
	p, err := mover.LocalWrapped(context.Background(), dst, o, wrap)
	if err != nil {
		t.Fatalf("first copy: %v", err)
	}
	if p.Partial != 1 || p.Warnings != 1 {
		t.Errorf("first copy: partial %d, warnings %d (%s); want 1 and 1", p.Partial, p.Warnings, p.FirstWarning)
	}
	if _, err := os.Stat(filepath.Join(dst, "db", "table")); err == nil {
		t.Fatal("the changed file was put in place")
	}
	if n := len(partials(t, dst)); n != 1 {
		t.Fatalf("%d partial files kept, want 1", n)
	}
	p, err = local(t, src, dst, withDelete, withVerify)
	if err != nil {
		t.Fatalf("second copy: %v", err)
	}
	compareTrees(t, src, dst)
	if p.BytesSent > 2*changed {
		t.Errorf("second copy sent %d bytes; want about the %d changed", p.BytesSent, changed)
	}
	if n := len(partials(t, dst)); n != 0 {
		t.Errorf("%d partial files left after the file was committed", n)
	}
}

// TestLocalCanceled: a local copy stopped midway returns the
// cancellation, leaves no temporary file and nothing torn under a real
// name, and the next copy completes.
func TestLocalCanceled(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	b := newTree(t, src)
	for _, name := range []string{"a", "b", "c", "d"} {
		b.file("big/"+name, b.random(16<<20))
	}
	b.file("small/x", []byte("x"))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wrap := countWrites(func(n int64) {
		if n > 20<<20 {
			cancel()
		}
	})
	_, err := mover.LocalWrapped(ctx, dst, mover.Options{Root: src, Log: testLogger(t)}, wrap)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled copy returned %v, want context.Canceled", err)
	}
	if left := tempFiles(t, dst); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	for _, name := range []string{"a", "b", "c", "d"} {
		fi, err := os.Stat(filepath.Join(dst, "big", name))
		if err == nil && fi.Size() != 16<<20 {
			t.Errorf("big/%s is torn: %d bytes", name, fi.Size())
		}
	}
	if _, err := local(t, src, dst, withDelete, withVerify); err != nil {
		t.Fatalf("copy after the canceled one: %v", err)
	}
	compareTrees(t, src, dst)
}

// TestLocalRejectsDialer: a local copy dials itself; a Dial given to it
// is a mistake, not silently replaced.
func TestLocalRejectsDialer(t *testing.T) {
	o := mover.Options{Root: t.TempDir(), Dial: func(context.Context) (net.Conn, error) { return nil, errors.New("unused") }}
	if _, err := mover.Local(context.Background(), t.TempDir(), o); err == nil {
		t.Fatal("Local with a Dial succeeded")
	}
}
