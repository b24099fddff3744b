package repository

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/objstore"
)

// TestDeltaOfChangedFile edits a 24 MiB file of random bytes in several
// ways and checks that the next backup stores the bytes changed and
// little more (5% and the tree; chunks alone would store a chunk of
// about 1 MiB around each edit), and that every version restores
// exactly, into an empty folder and over the one before.
func TestDeltaOfChangedFile(t *testing.T) {
	const size = 24 << 20
	scattered := func(b []byte) ([]byte, int) {
		for i, off := range []int{3<<20 + 12345, 9<<20 + 777, 17<<20 + 31} {
			copy(b[off:], randomBytes(uint64(40+i), 256<<10))
		}
		return b, 3 * 256 << 10
	}
	tests := []struct {
		name string
		edit func([]byte) ([]byte, int) // the new content and the bytes new in it
	}{
		{"overwrites at unaligned offsets", scattered},
		{"one small overwrite", func(b []byte) ([]byte, int) {
			copy(b[5<<20+99:], randomBytes(50, 10<<10))
			return b, 10 << 10
		}},
		{"insertion", func(b []byte) ([]byte, int) {
			ins := randomBytes(51, 100<<10)
			return slices.Concat(b[:7<<20+5], ins, b[7<<20+5:]), len(ins)
		}},
		{"deletion", func(b []byte) ([]byte, int) {
			return slices.Concat(b[:11<<20], b[11<<20+300<<10:]), 0
		}},
		{"appended", func(b []byte) ([]byte, int) {
			return append(b, randomBytes(52, 2<<20)...), 2 << 20
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			store, key := testRepo(t)
			src, dst := t.TempDir(), t.TempDir()
			path := filepath.Join(src, "f.bin")
			old := randomBytes(7, size)
			write(t, path, old)
			if _, err := open(t, store, key).Backup(ctx, src, BackupOptions{}, nil); err != nil {
				t.Fatal(err)
			}
			restoreLatest(t, store, key, dst)

			now, changed := tt.edit(slices.Clone(old))
			write(t, path, now)
			r := open(t, store, key)
			if _, err := r.Backup(ctx, src, BackupOptions{}, nil); err != nil {
				t.Fatal(err)
			}
			stored := r.Stats.BytesNew.Load()
			t.Logf("%d bytes new, stored %d, downloaded %d", changed, stored, r.Stats.BytesDownloaded.Load())
			if most := int64(changed + changed/20 + 32<<10); stored > most {
				t.Errorf("stored %d bytes for %d new: more than %d", stored, changed, most)
			}
			restoreLatest(t, store, key, dst)
			checkFile(t, filepath.Join(dst, "f.bin"), now)
			fresh := t.TempDir()
			restoreLatest(t, store, key, fresh)
			checkFile(t, filepath.Join(fresh, "f.bin"), now)
		})
	}
}

// TestDeltaOfRewrittenFile checks that a file rewritten with new content
// is stored whole and restores, the delta giving up.
func TestDeltaOfRewrittenFile(t *testing.T) {
	ctx := context.Background()
	store, key := testRepo(t)
	src, dst := t.TempDir(), t.TempDir()
	path := filepath.Join(src, "f.bin")
	write(t, path, randomBytes(1, 40<<20))
	if _, err := open(t, store, key).Backup(ctx, src, BackupOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	now := randomBytes(2, 40<<20)
	write(t, path, now)
	r := open(t, store, key)
	if _, err := r.Backup(ctx, src, BackupOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	// The delta gives up after a few chunks: it downloads far less than
	// the parent's 40 MiB.
	if d := r.Stats.BytesDownloaded.Load(); d > 16<<20 {
		t.Errorf("downloaded %d bytes of the parent for a rewritten file", d)
	}
	restoreLatest(t, store, key, dst)
	checkFile(t, filepath.Join(dst, "f.bin"), now)
}

func restoreLatest(t *testing.T, store objstore.Store, key Key, dst string) {
	t.Helper()
	r := open(t, store, key)
	snap, err := r.Latest(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Restore(context.Background(), snap, dst, RestoreOptions{}, nil); err != nil {
		t.Fatal(err)
	}
}

func checkFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes restored differ from the %d backed up", path, len(got), len(want))
	}
}

// TestXattrChangeIsBackedUp checks that a backup which reuses the
// parent's unchanged files still sees an extended attribute set since
// (the change time tells).
func TestXattrChangeIsBackedUp(t *testing.T) {
	ctx := context.Background()
	store, key := testRepo(t)
	src, dst := t.TempDir(), t.TempDir()
	path := filepath.Join(src, "f")
	write(t, path, []byte("data"))
	if err := unix.Setxattr(path, "user.probe", []byte("1"), 0); err != nil {
		t.Skipf("no user xattrs here: %v", err)
	}
	if _, err := open(t, store, key).Backup(ctx, src, BackupOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setxattr(path, "user.probe", []byte("2"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, store, key).Backup(ctx, src, BackupOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	restoreLatest(t, store, key, dst)
	v := make([]byte, 8)
	n, err := unix.Getxattr(filepath.Join(dst, "f"), "user.probe", v)
	if err != nil || string(v[:n]) != "2" {
		t.Errorf("restored xattr = %q, %v; want \"2\"", v[:max(n, 0)], err)
	}
}
