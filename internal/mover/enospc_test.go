package mover_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover"
)

// TestSyncFailsFastWhenDestinationIsFull needs root to mount a 1 MiB tmpfs.
func TestSyncFailsFastWhenDestinationIsFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	dst := t.TempDir()
	if err := unix.Mount("tmpfs", dst, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount tmpfs: %v", err)
	}
	t.Cleanup(func() { _ = unix.Unmount(dst, unix.MNT_DETACH) })
	tests := []struct {
		name string
		size int
	}{
		{name: "large file", size: 4 << 20},
		{name: "small files", size: 300 << 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			b := newTree(t, src)
			for _, n := range []string{"f1", "f2", "f3", "f4", "f5"} {
				b.file(n, b.random(tt.size))
			}
			pki := newPKI(t)
			r := startReceiver(t, dst, serverTLS(t, pki), false)
			_, err := runSync(context.Background(), t, src, r.addr, clientTLS(t, pki))
			t.Logf("sync error: %v", err)
			if !errors.Is(err, mover.ErrNoSpace) {
				t.Fatalf("sync returned %v, want ErrNoSpace", err)
			}
			if !strings.Contains(err.Error(), "destination volume is full") || !strings.Contains(err.Error(), "bytes free") {
				t.Errorf("error %q does not explain the full volume with sizes", err)
			}
			waitNoTemps(t, dst)
			clearDir(t, dst)
		})
	}
}

func clearDir(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		_ = os.RemoveAll(dir + "/" + e.Name())
	}
}
