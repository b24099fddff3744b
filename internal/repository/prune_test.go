package repository

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"ferry.dev/ferry/internal/objstore"
)

func TestPruneLeavesOnlyWhatSnapshotsUse(t *testing.T) {
	ctx := context.Background()
	store, key := testRepo(t)
	a, b := t.TempDir(), t.TempDir()
	shared := randomBytes(20, 6<<20)
	write(t, filepath.Join(a, "shared"), shared)
	write(t, filepath.Join(b, "shared"), shared)
	write(t, filepath.Join(a, "only-a"), randomBytes(21, 9<<20))
	write(t, filepath.Join(b, "only-b"), randomBytes(22, 3<<20))
	for i := range 50 {
		write(t, filepath.Join(a, "small", string(rune('a'+i%26))+string(rune('a'+i/26))), randomBytes(uint64(200+i), 3000))
	}
	r := open(t, store, key)
	snapA, err := r.Backup(ctx, a, BackupOptions{Tags: map[string]string{"claim": "a"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	snapB, err := open(t, store, key).Backup(ctx, b, BackupOptions{Tags: map[string]string{"claim": "b"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := storedBytes(t, store)
	r = open(t, store, key)
	if err := r.DeleteSnapshot(ctx, snapA.ID); err != nil {
		t.Fatal(err)
	}
	res, err := r.Prune(ctx)
	if err != nil {
		t.Fatal(err)
	}
	after := storedBytes(t, store)
	t.Logf("prune: %+v; data %d -> %d bytes", res, before, after)
	if res.Snapshots != 1 || after > before-8<<20 {
		t.Errorf("prune kept %d snapshots and %d of %d bytes; only-a's 9 MiB should be gone", res.Snapshots, after, before)
	}
	// Every blob left in the packs is used by the remaining snapshot.
	left := open(t, store, key)
	used := map[ID]bool{}
	if err := left.mark(ctx, snapB.Tree, used); err != nil {
		t.Fatal(err)
	}
	packs, err := left.allPacks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range packs {
		for _, e := range p.Entries {
			if !used[e.ID] {
				t.Errorf("pack %s keeps unused blob %s", p.ID.Short(), e.ID.Short())
			}
		}
	}
	dst := t.TempDir()
	if err := left.Restore(ctx, snapB, dst, RestoreOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	sameTree(t, b, dst)
}

func TestPruneWaitsForBackups(t *testing.T) {
	ctx := context.Background()
	store, key := testRepo(t)
	r := open(t, store, key)
	l, err := r.lock(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, store, key).Prune(ctx); !errors.Is(err, ErrLocked) {
		t.Fatalf("prune during a backup: %v, want ErrLocked", err)
	}
	if err := l.release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := open(t, store, key).Prune(ctx); err != nil {
		t.Fatalf("prune after the backup: %v", err)
	}
	src := t.TempDir()
	write(t, filepath.Join(src, "f"), []byte("x"))
	pl, err := r.lock(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = pl.release(ctx) }()
	if _, err := open(t, store, key).Backup(ctx, src, BackupOptions{}, nil); !errors.Is(err, ErrLocked) {
		t.Fatalf("backup during a prune: %v, want ErrLocked", err)
	}
	_ = os.Remove(src)
}

// storedBytes sums the packs' sizes.
func storedBytes(t *testing.T, store objstore.Store) int64 {
	t.Helper()
	objs, err := store.List(context.Background(), dataPrefix)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, o := range objs {
		n += o.Size
	}
	return n
}

func TestBundleRoundTripAndTamper(t *testing.T) {
	ctx := context.Background()
	store, key := testRepo(t)
	r := open(t, store, key)
	data := []byte(`{"items":[]}`)
	if err := r.SaveBundle(ctx, "plan-uid/mig-1", data); err != nil {
		t.Fatal(err)
	}
	got, err := r.LoadBundle(ctx, "plan-uid/mig-1")
	if err != nil || string(got) != string(data) {
		t.Fatalf("LoadBundle: %q, %v", got, err)
	}
	for _, bad := range []string{"../x", "a//b", "", "a/..", "a b"} {
		if err := r.SaveBundle(ctx, bad, data); err == nil {
			t.Errorf("SaveBundle(%q) accepted", bad)
		}
	}
	b, _ := store.Get(ctx, bundlePrefix+"plan-uid/mig-1")
	if err := store.Put(ctx, bundlePrefix+"plan-uid/mig-2", b); err != nil {
		t.Fatal(err)
	}
	if _, err := r.LoadBundle(ctx, "plan-uid/mig-2"); !errors.Is(err, ErrTampered) {
		t.Fatalf("a bundle moved to another name opened: %v", err)
	}
}
