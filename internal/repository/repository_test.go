package repository

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/objstore"
)

// testRepo makes a repository in a fresh directory store.
func testRepo(t *testing.T) (objstore.Store, Key) {
	t.Helper()
	store, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if made, err := Init(context.Background(), store, key); err != nil || !made {
		t.Fatalf("Init: made %v, %v", made, err)
	}
	return store, key
}

func open(t *testing.T, store objstore.Store, key Key) *Repository {
	t.Helper()
	r, err := Open(context.Background(), store, key)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

var time1 = mustTime("2024-05-06T07:08:09.123456789Z")

func write(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// makeTree writes a tree with every kind of entry the repository keeps.
func makeTree(t *testing.T, root string) {
	t.Helper()
	write(t, filepath.Join(root, "big.bin"), randomBytes(1, 12<<20))
	write(t, filepath.Join(root, "text.log"), bytes.Repeat([]byte("compressible line of text\n"), 200000))
	for i := range 300 {
		write(t, filepath.Join(root, "small", fmt.Sprintf("d%d", i%7), fmt.Sprintf("f%03d", i)), randomBytes(uint64(100+i), 10+i*37))
	}
	write(t, filepath.Join(root, "empty"), nil)
	if err := os.Symlink("big.bin", filepath.Join(root, "link-to-big")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(filepath.Join(root, "small", "d0", "f000"), filepath.Join(root, "hardlink")); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mkfifo(filepath.Join(root, "fifo"), 0o640); err != nil {
		t.Fatal(err)
	}
	sparse, err := os.Create(filepath.Join(root, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sparse.WriteAt(randomBytes(7, 1<<20), 64<<20); err != nil {
		t.Fatal(err)
	}
	if _, err := sparse.WriteAt([]byte("head"), 0); err != nil {
		t.Fatal(err)
	}
	sparse.Close()
	if err := unix.Setxattr(filepath.Join(root, "text.log"), "user.ferry", []byte("kept"), 0); err != nil {
		t.Logf("no user xattrs here: %v", err)
	}
	if err := os.Chmod(filepath.Join(root, "small", "d3"), 0o710); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(root, "small"), time1, time1); err != nil {
		t.Fatal(err)
	}
}

// describe lists a tree: each entry's kind, mode, size, mtime (not for
// symlinks), content hash, link target, xattrs and link count.
func describe(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		line := fmt.Sprintf("%s %o", rel, st.Mode)
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFREG:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" size=%d mtime=%d nlink=%d sha=%x blocks-sparse=%v", st.Size, unix.TimespecToNsec(st.Mtim), st.Nlink, sha256.Sum256(b), st.Blocks*512 < st.Size)
			if v := make([]byte, 64); true {
				if n, err := unix.Getxattr(p, "user.ferry", v); err == nil {
					line += " xattr=" + string(v[:n])
				}
			}
		case unix.S_IFLNK:
			target, _ := os.Readlink(p)
			line += " -> " + target
		case unix.S_IFDIR:
			if rel != "." {
				line += fmt.Sprintf(" mtime=%d", unix.TimespecToNsec(st.Mtim))
			}
		}
		out = append(out, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func sameTree(t *testing.T, want, got string) {
	t.Helper()
	a, b := describe(t, want), describe(t, got)
	if strings.Join(a, "\n") != strings.Join(b, "\n") {
		for i := range max(len(a), len(b)) {
			var x, y string
			if i < len(a) {
				x = a[i]
			}
			if i < len(b) {
				y = b[i]
			}
			if x != y {
				t.Errorf("first difference:\nsource:   %s\nrestored: %s", x, y)
				break
			}
		}
		t.Fatalf("trees differ (%d entries, %d restored)", len(a), len(b))
	}
}

func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	store, key := testRepo(t)
	src, dst := t.TempDir(), t.TempDir()
	makeTree(t, src)
	r := open(t, store, key)
	snap, err := r.Backup(ctx, src, BackupOptions{Tags: map[string]string{"claim": "data"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Summary.Warnings != 0 {
		t.Fatalf("%d warnings", snap.Summary.Warnings)
	}
	// 300 small files share a few blobs instead of one each.
	if n := r.Stats.BlobsNew.Load(); n > 60 {
		t.Errorf("%d blobs for 300 small files and 3 large ones", n)
	}
	write(t, filepath.Join(dst, "stale", "file"), []byte("not in the snapshot"))
	r2 := open(t, store, key)
	got, err := r2.Latest(ctx, map[string]string{"claim": "data"})
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Restore(ctx, got, dst, RestoreOptions{Chown: os.Geteuid() == 0}, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
}

func TestIncrementalBackupAndRestore(t *testing.T) {
	ctx := context.Background()
	store, key := testRepo(t)
	src, dst := t.TempDir(), t.TempDir()
	makeTree(t, src)
	r := open(t, store, key)
	if _, err := r.Backup(ctx, src, BackupOptions{Tags: map[string]string{"claim": "c"}}, nil); err != nil {
		t.Fatal(err)
	}
	first := open(t, store, key)
	snap, err := first.Latest(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := first.Restore(ctx, snap, dst, RestoreOptions{}, nil); err != nil {
		t.Fatal(err)
	}

	// Nothing changed: nothing is read and nothing uploaded but the
	// snapshot object.
	r = open(t, store, key)
	same, err := r.Backup(ctx, src, BackupOptions{Tags: map[string]string{"claim": "c"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if same.Summary.BytesRead != 0 || r.Stats.BytesUploaded.Load() != 0 {
		t.Errorf("unchanged backup read %d bytes and uploaded %d", same.Summary.BytesRead, r.Stats.BytesUploaded.Load())
	}

	// Change 64 KiB in the middle of the large file: only the chunks
	// around it are new.
	f, err := os.OpenFile(filepath.Join(src, "big.bin"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(randomBytes(9, 64<<10), 6<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r = open(t, store, key)
	changed, err := r.Backup(ctx, src, BackupOptions{Tags: map[string]string{"claim": "c"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if changed.Parent != same.ID.String() {
		t.Errorf("parent %s, want %s", changed.Parent, same.ID)
	}
	if n := r.Stats.BytesNew.Load(); n > 6<<20 {
		t.Errorf("a 64 KiB change stored %d new bytes", n)
	}
	t.Logf("64 KiB change: read %d, new %d, uploaded %d", changed.Summary.BytesRead, r.Stats.BytesNew.Load(), r.Stats.BytesUploaded.Load())

	// The restore over the first one fetches only what changed.
	r = open(t, store, key)
	if err := r.Restore(ctx, changed, dst, RestoreOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
	if n := r.Stats.BytesDownloaded.Load(); n > 8<<20 {
		t.Errorf("incremental restore downloaded %d bytes for a 64 KiB change", n)
	}
	t.Logf("incremental restore downloaded %d bytes", r.Stats.BytesDownloaded.Load())
}

func TestWrongKey(t *testing.T) {
	store, _ := testRepo(t)
	other, _ := NewKey()
	if _, err := Open(context.Background(), store, other); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Open with another key: %v, want ErrWrongKey", err)
	}
	if _, err := Init(context.Background(), store, other); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Init over a repository of another key: %v, want ErrWrongKey", err)
	}
	empty, _ := objstore.NewDir(t.TempDir())
	if _, err := Open(context.Background(), empty, other); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("Open of an empty store: %v, want ErrNotInitialized", err)
	}
}

func TestTamperedPackIsRejected(t *testing.T) {
	ctx := context.Background()
	store, key := testRepo(t)
	src := t.TempDir()
	write(t, filepath.Join(src, "f"), randomBytes(3, 3<<20))
	r := open(t, store, key)
	snap, err := r.Backup(ctx, src, BackupOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	packs, err := store.List(ctx, dataPrefix)
	if err != nil || len(packs) == 0 {
		t.Fatalf("packs: %v %v", packs, err)
	}
	for _, p := range packs {
		b, _ := store.Get(ctx, p.Name)
		b[100] ^= 1
		if err := store.Put(ctx, p.Name, b); err != nil {
			t.Fatal(err)
		}
	}
	err = open(t, store, key).Restore(ctx, snap, t.TempDir(), RestoreOptions{}, nil)
	if !errors.Is(err, ErrTampered) || !strings.Contains(err.Error(), "blob ") {
		t.Fatalf("restore of a tampered pack: %v, want ErrTampered naming the blob", err)
	}
}

// failingStore fails every Put after the first allow ones.
type failingStore struct {
	objstore.Store
	allow atomic.Int64
	puts  atomic.Int64
}

func (f *failingStore) Put(ctx context.Context, name string, data []byte) error {
	if strings.HasPrefix(name, dataPrefix) {
		if f.puts.Add(1) > f.allow.Load() {
			return errors.New("connection refused")
		}
	}
	return f.Store.Put(ctx, name, data)
}

func TestInterruptedBackupResumes(t *testing.T) {
	ctx := context.Background()
	store, key := testRepo(t)
	src := t.TempDir()
	write(t, filepath.Join(src, "a"), randomBytes(4, 40<<20))
	flaky := &failingStore{Store: store}
	flaky.allow.Store(2)
	r := open(t, flaky, key)
	if _, err := r.Backup(ctx, src, BackupOptions{}, nil); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("backup through a failing store: %v", err)
	}
	if snaps, _ := open(t, store, key).Snapshots(ctx, nil); len(snaps) != 0 {
		t.Fatalf("an interrupted backup left %d snapshots", len(snaps))
	}
	stored := open(t, store, key)
	before := stored.idx.len()
	if before == 0 {
		t.Fatal("the packs stored before the failure were not found")
	}
	snap, err := stored.Backup(ctx, src, BackupOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	full := open(t, store, key)
	if known := stored.Stats.BlobsKnown.Load(); known < int64(before) {
		t.Errorf("the retry found %d blobs stored, but %d were there", known, before)
	}
	t.Logf("retry: %d blobs already stored, %d sent", stored.Stats.BlobsKnown.Load(), stored.Stats.BlobsNew.Load())
	dst := t.TempDir()
	if err := full.Restore(ctx, snap, dst, RestoreOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, src, dst)
}

func mustTime(s string) time.Time {
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return tm
}
