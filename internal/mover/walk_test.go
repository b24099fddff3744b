package mover_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover"
)

// outsideMarker is the content of files that lie outside the source.
var outsideMarker = []byte("OUTSIDE THE SOURCE VOLUME")

// TestSyncNeverLeavesSourceWhenDirectoryIsSwapped races a writer that
// swaps a source directory for a symlink to a directory outside the
// source (atomically, back and forth) against repeated syncs: no sync may
// put anything from outside on the destination.
func TestSyncNeverLeavesSourceWhenDirectoryIsSwapped(t *testing.T) {
	base := t.TempDir()
	src, dst, outside := filepath.Join(base, "src"), filepath.Join(base, "dst"), filepath.Join(base, "outside")
	tree, out := newTree(t, src), newTree(t, outside)
	for i := range 4 {
		sub := fmt.Sprintf("a/b%d", i)
		for j := range 20 {
			tree.file(fmt.Sprintf("%s/f%02d", sub, j), []byte("inside"))
			out.file(fmt.Sprintf("b%d/f%02d", i, j), outsideMarker)
		}
		tree.file(sub+"/big", bytes.Repeat([]byte("i"), 2<<20))
		out.file(fmt.Sprintf("b%d/big", i), bytes.Repeat(outsideMarker, 100_000))
		// Files listed in a before its subdirectories give the walk time
		// between listing a and descending into it.
		tree.file(fmt.Sprintf("a/x%d", i), []byte("inside"))
	}
	if err := os.Symlink(outside, filepath.Join(src, "swap")); err != nil {
		t.Fatal(err)
	}
	swap := func() error {
		return unix.Renameat2(unix.AT_FDCWD, filepath.Join(src, "a"), unix.AT_FDCWD, filepath.Join(src, "swap"), unix.RENAME_EXCHANGE)
	}
	if err := swap(); err != nil {
		t.Skipf("RENAME_EXCHANGE unsupported here: %v", err)
	}
	if err := swap(); err != nil {
		t.Fatal(err)
	}
	pki := newPKI(t)
	r := startReceiver(t, dst, serverTLS(t, pki), false)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	wg.Go(func() {
		for ctx.Err() == nil {
			if err := swap(); err != nil {
				t.Errorf("swap: %v", err)
				return
			}
		}
	})
	iterations := 40
	if testing.Short() {
		iterations = 10
	}
	for i := range iterations {
		err := syncWhenFree(ctx, t, src, r.addr, clientTLS(t, pki), withDelete)
		if err != nil {
			t.Errorf("sync %d: %v", i, err) // entries that change type are warnings
		}
		if p := findOutside(t, dst); p != "" {
			cancel()
			t.Fatalf("sync %d copied %s from outside the source", i, p)
		}
	}
}

// syncWhenFree runs a sync, again while the receiver is still closing the
// previous session.
func syncWhenFree(ctx context.Context, t *testing.T, src, addr string, cfg *tls.Config, opts ...syncOpt) error {
	t.Helper()
	for {
		_, err := runSync(ctx, t, src, addr, cfg, opts...)
		if !errors.Is(err, mover.ErrBusy) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// findOutside returns a destination file holding outside content, or "".
func findOutside(t *testing.T, dst string) string {
	t.Helper()
	var found string
	err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil || found != "" || !d.Type().IsRegular() || strings.HasPrefix(d.Name(), ".ferry-tmp-") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, outsideMarker) {
			found = p
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
