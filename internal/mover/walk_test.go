package mover_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/mover/safefs"
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
		if err != nil || found != "" || !d.Type().IsRegular() || strings.HasPrefix(p, filepath.Join(dst, safefs.ReservedName)) {
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

// deepTree makes levels nested directories of 200-byte names under root,
// then one named last, by descriptor since their paths may exceed
// PATH_MAX, and a file named leaf holding data in the deepest; it returns
// the file's relative path.
func deepTree(t *testing.T, root string, levels int, last, leaf string, data []byte) string {
	t.Helper()
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for i := range levels + 1 {
		name := fmt.Sprintf("%03d%s", i, strings.Repeat("d", 197))
		if i == levels {
			name = last
		}
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd, rel = next, append(rel, name)
	}
	defer unix.Close(fd)
	f, err := unix.Openat(fd, leaf, unix.O_WRONLY|unix.O_CREAT|unix.O_CLOEXEC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(f)
	if _, err := unix.Write(f, data); err != nil {
		t.Fatal(err)
	}
	return strings.Join(append(rel, leaf), "/")
}

// readDeep reads the file at the relative path rel under root, one
// component at a time.
func readDeep(t *testing.T, root, rel string) []byte {
	t.Helper()
	fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := strings.Split(rel, "/")
	for _, name := range names[:len(names)-1] {
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatalf("open %s on the destination: %v", name, err)
		}
		fd = next
	}
	defer unix.Close(fd)
	f, err := unix.Openat(fd, names[len(names)-1], unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatalf("open %s on the destination: %v", rel, err)
	}
	file := os.NewFile(uintptr(f), rel)
	defer file.Close()
	b, err := io.ReadAll(file)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSyncLongPaths syncs a tree whose paths, source root included, exceed
// PATH_MAX while the relative paths stay within safefs.MaxPath: they are
// copied and verified. A relative path beyond safefs.MaxPath fails the
// sync with ErrPathTooLong, whose exit code is permanent.
func TestSyncLongPaths(t *testing.T) {
	tests := []struct {
		name     string
		levels   int
		last     string
		wantCode int
	}{
		// 20 levels of 201 bytes, one of 41 and the file: 4062 bytes; the
		// deepest directory's path exceeds 4096 with the temporary
		// directory's path in front.
		{name: "over PATH_MAX with the root", levels: 20, last: strings.Repeat("l", 40), wantCode: 0},
		{name: "over MaxPath", levels: 20, last: strings.Repeat("l", 80), wantCode: mover.ExitPathLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := t.TempDir(), t.TempDir()
			data := []byte("deep content")
			rel := deepTree(t, src, tt.levels, tt.last, "f", data)
			if dir := len(src) + len(rel) - 1; tt.wantCode == 0 && dir <= unix.PathMax {
				t.Fatalf("source directory path of %d bytes does not exceed PATH_MAX", dir)
			}
			pki := newPKI(t)
			r := startReceiver(t, dst, serverTLS(t, pki), false)
			_, err := runSync(context.Background(), t, src, r.addr, clientTLS(t, pki), withVerify)
			if code := mover.ExitCode(err); code != tt.wantCode {
				t.Fatalf("sync returned %v (exit code %d), want exit code %d", err, code, tt.wantCode)
			}
			if tt.wantCode != 0 {
				if !mover.Permanent(tt.wantCode) || !errors.Is(err, mover.ErrPathTooLong) || !strings.Contains(err.Error(), rel[:100]) {
					t.Errorf("sync error %v: want a permanent ErrPathTooLong naming the path", err)
				}
				return
			}
			if got := readDeep(t, dst, rel); !bytes.Equal(got, data) {
				t.Errorf("destination holds %q, want %q", got, data)
			}
		})
	}
}
