package repository

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestBackupWithParentDirectoriesGoneAndNew backs up 30 directories, then
// removes some, adds others and changes a file deep in one, so that the
// trees loaded ahead of the walk skip and miss: the second snapshot must
// restore exactly.
func TestBackupWithParentDirectoriesGoneAndNew(t *testing.T) {
	ctx := context.Background()
	store, key := testRepo(t)
	src, dst := t.TempDir(), t.TempDir()
	for i := range 30 {
		write(t, filepath.Join(src, fmt.Sprintf("d%02d", i), "sub", "f"), []byte(fmt.Sprint(i)))
	}
	if _, err := open(t, store, key).Backup(ctx, src, BackupOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 2, 3, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 29} {
		if err := os.RemoveAll(filepath.Join(src, fmt.Sprintf("d%02d", i))); err != nil {
			t.Fatal(err)
		}
	}
	write(t, filepath.Join(src, "d05a", "new"), []byte("new"))
	write(t, filepath.Join(src, "d20", "sub", "f"), []byte("changed"))
	r := open(t, store, key)
	snap, err := r.Backup(ctx, src, BackupOptions{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if snap.Parent == "" {
		t.Fatal("the second backup had no parent")
	}
	restoreLatest(t, store, key, dst)
	sameTree(t, src, dst)
}
