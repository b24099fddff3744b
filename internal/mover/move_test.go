package mover_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"ferry.dev/ferry/internal/mover"
)

// TestMovedLargeFilesTravelAsMoves moves large files to other
// directories, with the old directory walked before the new one and
// after it, into a directory the destination does not have yet, to the
// root from deep down, and once with a small change: the next sync sends
// about the changed bytes only, reuses every old file, and the
// destination matches exactly, old names gone.
func TestMovedLargeFilesTravelAsMoves(t *testing.T) {
	const size = 5 << 20
	p := newSyncPair(t)
	b := p.b
	for _, n := range []string{"a/x", "z/x", "deep/1/2/seg", "m/changed", "keep/other"} {
		b.file(n, b.random(size))
	}
	b.file("c/small", b.random(100))
	b.stampTimes() // distinct mtimes tell the files of one size apart
	p.sync("first sync")
	moves := map[string]string{
		"a/x":          "b/y",       // old directory walked first
		"z/x":          "c/y",       // new directory walked first
		"deep/1/2/seg": "seg",       // from deep down to the root, walked first
		"m/changed":    "new/dir/m", // into directories the destination lacks
	}
	for from, to := range moves {
		b.check(os.MkdirAll(filepath.Dir(b.path(to)), 0o755))
		b.check(os.Rename(b.path(from), b.path(to)))
	}
	rewrite(t, b.path("new/dir/m"), b.random(64<<10))
	prog := p.sync("sync after the moves")
	if prog.BytesSent > 512<<10 || prog.Reused != int64(len(moves)) {
		t.Errorf("sync after moves sent %d bytes and reused %d files; want about 64 KiB and %d", prog.BytesSent, prog.Reused, len(moves))
	}
	// What did not travel was matched block by block: the four files but
	// the 64 KiB rewritten.
	if want := int64(len(moves))*size - 64<<10; prog.BytesMatched < want-512<<10 || prog.BytesMatched > int64(len(moves))*size {
		t.Errorf("sync after moves matched %d bytes by block comparison, want about %d", prog.BytesMatched, want)
	}
}

// TestMovedLargeFileWithoutDelete: without Delete the old name of a moved
// file stays on the destination, and the new one still travels as a
// delta against it.
func TestMovedLargeFileWithoutDelete(t *testing.T) {
	const size = 5 << 20
	p := newSyncPair(t)
	p.b.file("a/x", p.b.random(size))
	p.sync("first sync")
	p.b.check(os.MkdirAll(p.b.path("b"), 0o755))
	p.b.check(os.Rename(p.b.path("a/x"), p.b.path("b/y")))
	prog, err := runSync(context.Background(), t, p.src, p.addr, clientTLS(t, p.pki), withVerify)
	if err != nil {
		t.Fatal(err)
	}
	if prog.BytesSent > 64<<10 || prog.Reused != 1 || prog.Deleted != 0 {
		t.Errorf("sync sent %d bytes, reused %d files and deleted %d; want next to nothing, 1 and 0", prog.BytesSent, prog.Reused, prog.Deleted)
	}
	for _, rel := range []string{"a/x", "b/y"} {
		if got, want := fileHash(t, filepath.Join(p.dst, rel)), fileHash(t, p.b.path("b/y")); got != want {
			t.Errorf("destination %s holds other content than the moved file", rel)
		}
	}
}

// TestMoveKeepsOldNameUntilDataAcknowledged: a sync that fails while a
// moved (and much changed) file's data travels leaves the old name on the
// destination as it was; the next sync completes the move.
func TestMoveKeepsOldNameUntilDataAcknowledged(t *testing.T) {
	const size = 5 << 20
	p := newSyncPair(t)
	b := p.b
	b.file("a/x", b.random(size))
	p.sync("first sync")
	old := fileHash(t, filepath.Join(p.dst, "a/x"))
	b.check(os.MkdirAll(b.path("b"), 0o755))
	b.check(os.Rename(b.path("a/x"), b.path("b/y")))
	rewrite(t, b.path("b/y"), b.random(4<<20))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var written atomic.Int64
	dial := mover.TLSDialer(p.addr, clientTLS(t, p.pki))
	opts := mover.Options{Root: p.src, Log: testLogger(t), Delete: true, Dial: func(ctx context.Context) (net.Conn, error) {
		c, err := dial(ctx)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, n: &written, hook: func(n int64) {
			if n > 1<<20 {
				cancel()
			}
		}}, nil
	}}
	if _, err := mover.Sync(ctx, opts); err == nil {
		t.Fatal("sync cancelled during the transfer succeeded")
	}
	if got := fileHash(t, filepath.Join(p.dst, "a/x")); got != old {
		t.Error("the moved file's old name was removed or changed by a failed sync")
	}
	p.sync("sync after the failed one")
}
