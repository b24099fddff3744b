package mover_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/mover/safefs"
)

// TestChangedLargeFileKeptAsBasis rewrites part of a large file while a
// sync reads it: the sync does not commit it but reports it, the
// destination holds nothing under its name, and the next sync sends only
// the blocks that differ from what the first one read. A partial file
// whose source is gone is removed by the next completed sync.
func TestChangedLargeFileKeptAsBasis(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	b := newTree(t, src)
	const size, changed = 32 << 20, 1 << 20
	b.file("db/table", b.random(size))
	pki := newPKI(t)
	r := startReceiver(t, dst, serverTLS(t, pki), false)

	// One data connection, so the ranges go out in order: once the
	// first range is sent, its first MiB is rewritten behind it.
	var written atomic.Int64
	var once sync.Once
	dial := mover.TLSDialer(r.addr, clientTLS(t, pki))
	first := mover.Options{Root: src, Log: testLogger(t), Parallel: 1, Dial: func(ctx context.Context) (net.Conn, error) {
		c, err := dial(ctx)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, n: &written, hook: func(n int64) {
			if n > mover.DefaultRangeSize+(1<<20) {
				once.Do(func() { rewrite(t, b.path("db/table"), b.random(changed)) })
			}
		}}, nil
	}}
	p, err := mover.Sync(context.Background(), first)
	if err != nil {
		t.Fatalf("first sync: %v", err)
	}
	if p.Partial != 1 || p.Warnings != 1 {
		t.Errorf("first sync: partial %d, warnings %d (%s); want 1 and 1", p.Partial, p.Warnings, p.FirstWarning)
	}
	if _, err := os.Stat(filepath.Join(dst, "db", "table")); err == nil {
		t.Fatal("the changed file was put in place")
	}
	if n := len(partials(t, dst)); n != 1 {
		t.Fatalf("%d partial files kept, want 1", n)
	}

	p, err = runSync(context.Background(), t, src, r.addr, clientTLS(t, pki), withVerify)
	if err != nil {
		t.Fatalf("second sync: %v", err)
	}
	compareTrees(t, src, dst)
	if p.BytesSent > 2*changed {
		t.Errorf("second sync sent %d bytes; want about the %d changed", p.BytesSent, changed)
	}
	if n := len(partials(t, dst)); n != 0 {
		t.Errorf("%d partial files left after the file was committed", n)
	}

	// A partial file whose source is deleted before the next sync goes.
	b.file("db/other", b.random(size))
	written.Store(0)
	once = sync.Once{}
	first.Root = src
	rewriteOther := func(n int64) {
		if n > mover.DefaultRangeSize+(1<<20) {
			once.Do(func() { rewrite(t, b.path("db/other"), b.random(changed)) })
		}
	}
	first.Dial = func(ctx context.Context) (net.Conn, error) {
		c, err := dial(ctx)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, n: &written, hook: rewriteOther}, nil
	}
	if p, err := mover.Sync(context.Background(), first); err != nil || p.Partial != 1 {
		t.Fatalf("sync of db/other: partial %d, %v", p.Partial, err)
	}
	b.check(os.Remove(b.path("db/other")))
	if _, err := runSync(context.Background(), t, src, r.addr, clientTLS(t, pki), withDelete, withVerify); err != nil {
		t.Fatal(err)
	}
	compareTrees(t, src, dst)
	if n := len(partials(t, dst)); n != 0 {
		t.Errorf("%d partial files left of a deleted source file", n)
	}
}

// rewrite writes data at the start of the file at path, in place.
func rewrite(t *testing.T, path string, data []byte) {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	if _, err := f.WriteAt(data, 0); err != nil {
		t.Error(err)
	}
}

// partials lists the partial files the receiver at root keeps.
func partials(t *testing.T, root string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(root, safefs.ReservedName, "partial"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// TestRenamedLargeFilesTravelAsRenames renames large files within their
// directory (as PostgreSQL recycles WAL segments), rotates a log and
// changes a renamed file a little: the next sync sends about the changed
// bytes only, and the destination matches exactly, old names gone.
func TestRenamedLargeFilesTravelAsRenames(t *testing.T) {
	p := newSyncPair(t)
	b := p.b
	const seg = 4 << 20
	for _, n := range []string{"pg_wal/0001", "pg_wal/0002", "pg_wal/0003", "log/app.log"} {
		b.file(n, b.random(seg))
	}
	p.sync("first sync")
	b.check(os.Rename(b.path("pg_wal/0001"), b.path("pg_wal/0009")))
	b.check(os.Rename(b.path("pg_wal/0002"), b.path("pg_wal/000A")))
	rewrite(t, b.path("pg_wal/000A"), b.random(64<<10))
	b.check(os.Rename(b.path("log/app.log"), b.path("log/app.log.1")))
	prog := p.sync("sync after the renames")
	if prog.BytesSent > 512<<10 || prog.Reused != 3 {
		t.Errorf("sync after renames sent %d bytes and reused %d files; want about 64 KiB and 3", prog.BytesSent, prog.Reused)
	}
}

// TestRecycledSegmentsBesideANewOne: a new WAL segment, whose name sorts
// before the recycled ones and whose mtime is no old file's, does not take
// a recycled segment's old name: every recycled segment travels as a
// rename, and only the new one's bytes are sent.
func TestRecycledSegmentsBesideANewOne(t *testing.T) {
	p := newSyncPair(t)
	b := p.b
	const seg = 2 << 20
	for _, n := range []string{"0001", "0002", "0003", "0004"} {
		b.file("pg_wal/"+n, b.random(seg))
	}
	p.sync("first sync")
	for _, n := range []string{"1", "2", "3", "4"} {
		b.check(os.Rename(b.path("pg_wal/000"+n), b.path("pg_wal/001"+n)))
	}
	b.file("pg_wal/0010", b.random(seg))
	prog := p.sync("sync after the recycling")
	if prog.BytesSent > seg+(256<<10) || prog.Reused != 4 {
		t.Errorf("sync after recycling sent %d bytes and reused %d files; want one segment (%d) and 4", prog.BytesSent, prog.Reused, seg)
	}
}

// TestPartialFilesMakeRoom: on a destination without room for the current
// file, a partial one and a new copy, the partial files go and the sync
// succeeds against the current file, where keeping them would fill the
// volume (needs root to mount a small tmpfs).
func TestPartialFilesMakeRoom(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	src, dst := t.TempDir(), t.TempDir()
	if err := unix.Mount("tmpfs", dst, "tmpfs", 0, "size=70m"); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dst, unix.MNT_DETACH) })
	b := newTree(t, src)
	const size = 32 << 20
	b.file("table", b.random(size))
	pki := newPKI(t)
	r := startReceiver(t, dst, serverTLS(t, pki), false)
	if _, err := runSync(context.Background(), t, src, r.addr, clientTLS(t, pki)); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	var written atomic.Int64
	var once sync.Once
	dial := mover.TLSDialer(r.addr, clientTLS(t, pki))
	changing := mover.Options{Root: src, Log: testLogger(t), Parallel: 1, Dial: func(ctx context.Context) (net.Conn, error) {
		c, err := dial(ctx)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, n: &written, hook: func(n int64) {
			if n > 256<<10 { // while the changed MiB goes out
				once.Do(func() { rewrite(t, b.path("table"), b.random(1<<20)) })
			}
		}}, nil
	}}
	rewrite(t, b.path("table"), b.random(1<<20)) // a change for the next sync to send, against the current file
	if p, err := syncRetryBusy(context.Background(), changing); err != nil || p.Partial != 1 {
		t.Fatalf("sync while the file changes: partial %d, %v", p.Partial, err)
	}
	if _, err := runSync(context.Background(), t, src, r.addr, clientTLS(t, pki), withVerify); err != nil {
		t.Fatalf("sync with a partial file on a nearly full destination: %v", err)
	}
	compareTrees(t, src, dst)
	if n := len(partials(t, dst)); n != 0 {
		t.Errorf("%d partial files left", n)
	}
}
