package mover_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"ferry.dev/ferry/internal/mover"
)

// TestSyncInterruptedThenResumed cancels a sync after some data went out,
// checks the receiver left no temporary files and no torn file, then
// reruns it to completion.
func TestSyncInterruptedThenResumed(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	b := newTree(t, src)
	for _, name := range []string{"one.bin", "two.bin", "three/three.bin"} {
		b.file(name, b.random(12<<20))
	}
	for i := range 200 {
		b.file(filepath.Join("small", string(rune('a'+i%26))+string(rune('a'+i/26))), b.random(3000))
	}
	pki := newPKI(t)
	r := startReceiver(t, dst, serverTLS(t, pki), false)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var written atomic.Int64
	dial := mover.TLSDialer(r.addr, clientTLS(t, pki))
	opts := mover.Options{Root: src, Log: testLogger(t), Dial: func(ctx context.Context) (net.Conn, error) {
		c, err := dial(ctx)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: c, n: &written, hook: func(n int64) {
			if n > 10<<20 {
				cancel()
			}
		}}, nil
	}}
	if _, err := mover.Sync(ctx, opts); !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted sync returned %v, want context.Canceled", err)
	}
	waitNoTemps(t, dst)
	assertNoTornFiles(t, src, dst)
	if _, err := os.Stat(filepath.Join(dst, "three", "three.bin")); err == nil {
		t.Fatal("the interrupted sync copied everything; the test interrupts too late")
	}

	// A receiver killed outright leaves temporary files behind; the next
	// sync must clean them up.
	stale := filepath.Join(scratchDir(dst), "deadbeef")
	if err := os.WriteFile(stale, []byte("partial"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runSync(context.Background(), t, src, r.addr, clientTLS(t, pki), withVerify); err != nil {
		t.Fatalf("resumed sync: %v", err)
	}
	compareTrees(t, src, dst)
	if left := tempFiles(t, dst); len(left) != 0 {
		t.Errorf("temporary files left after the resumed sync: %v", left)
	}
}

// waitNoTemps waits for the receiver to notice the dropped session.
func waitNoTemps(t *testing.T, dst string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(tempFiles(t, dst)) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("temporary files left after interrupted sync: %v", tempFiles(t, dst))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertNoTornFiles checks every regular file on the destination equals
// its source: a file is either complete or absent.
func assertNoTornFiles(t *testing.T, src, dst string) {
	t.Helper()
	for p, n := range snapshot(t, dst) {
		if n.Kind != "file" {
			continue
		}
		if got, want := n.Hash, fileHash(t, filepath.Join(src, p)); got != want {
			t.Errorf("%s is torn: hash %s, want %s", p, got, want)
		}
	}
}
