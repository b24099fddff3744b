package mover_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"ferry.dev/ferry/internal/mover"
)

func TestMeasureUsage(t *testing.T) {
	const mib = 1 << 20
	root := t.TempDir()
	write := func(rel string, n int) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte{'x'}, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a/dense", 2*mib)
	write("a/b/small", 100)
	if err := os.Link(filepath.Join(root, "a/dense"), filepath.Join(root, "a/b/dense-link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a/dense", filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	sparse, err := os.Create(filepath.Join(root, "sparse"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sparse.WriteAt([]byte("data"), 64*mib); err != nil {
		t.Fatal(err)
	}
	sparse.Close()
	// Neither is synced, so neither counts.
	write("lost+found/big", 4*mib)
	write(".ferry-mover/partial", 4*mib)

	u, err := mover.MeasureUsage(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	// root, a, a/b, a/dense (its link once), a/b/small, link, sparse.
	if u.Inodes != 7 {
		t.Errorf("inodes = %d, want 7", u.Inodes)
	}
	if u.Bytes < 2*mib || u.Bytes > 3*mib {
		t.Errorf("bytes = %d, want the dense file's 2 MiB plus a few blocks (the sparse file's hole and the hidden directories not counted)", u.Bytes)
	}
	wantApparent := int64(2*mib + 100 + len("a/dense") + 64*mib + len("data"))
	if u.ApparentBytes != wantApparent {
		t.Errorf("apparent bytes = %d, want %d", u.ApparentBytes, wantApparent)
	}
}

func TestMeasureUsageMissingRoot(t *testing.T) {
	if _, err := mover.MeasureUsage(context.Background(), filepath.Join(t.TempDir(), "none")); err == nil {
		t.Fatal("want an error for a missing root")
	}
}

// TestMeasureUsageOwners checks the owners a scan reports (the root
// directory not among them), the identity a non-root mover takes and the
// entries that identity cannot read.
func TestMeasureUsageOwners(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files other owners")
	}
	root := t.TempDir()
	file := func(rel string, n int, mode os.FileMode, uid, gid int) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, bytes.Repeat([]byte{'x'}, n), mode); err != nil {
			t.Fatal(err)
		}
		chown(t, p, uid, gid, mode)
	}
	file("db/base", 1<<20, 0o600, 999, 999)
	file("db/wal", 64<<10, 0o600, 999, 999)
	file("db/other-group", 4096, 0o640, 999, 5)
	file("www/index.html", 4096, 0o644, 33, 33)
	file("www/secret", 4096, 0o600, 33, 33)
	file("root-only", 4096, 0o600, 0, 0)
	file("group-readable", 4096, 0o640, 0, 999)
	if err := os.Mkdir(filepath.Join(root, "locked"), 0o700); err != nil {
		t.Fatal(err)
	}
	file("locked/inside", 10, 0o644, 0, 0)
	chown(t, filepath.Join(root, "locked"), 0, 0, 0o700|os.ModeDir)
	chown(t, filepath.Join(root, "db"), 999, 999, 0o700|os.ModeDir)

	u, err := mover.MeasureUsage(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	if u.NonRoot != (mover.Identity{UID: 999, GID: 999}) {
		t.Errorf("non-root identity %s, want 999:999 (the owner of most bytes)", u.NonRoot)
	}
	files := map[mover.Identity]int64{}
	for _, o := range u.Owners {
		files[o.Identity()] = o.Files
	}
	want := map[mover.Identity]int64{
		{UID: 999, GID: 999}: 3, // db, db/base, db/wal
		{UID: 999, GID: 5}:   1,
		{UID: 33, GID: 33}:   2,
		{UID: 0, GID: 0}:     4, // root-only, locked, locked/inside, www (the root is not counted)
		{UID: 0, GID: 999}:   1,
	}
	for id, n := range want {
		if files[id] != n {
			t.Errorf("owner %s has %d entries, want %d (owners %+v)", id, files[id], n, u.Owners)
		}
	}
	if u.OtherOwners != 0 || len(u.Owners) != 5 {
		t.Errorf("%d owners listed and %d others, want 5 and 0", len(u.Owners), u.OtherOwners)
	}
	// 999:999 cannot read www/secret (33's, 0600), root-only (0600) and
	// locked (0700, root's); locked/inside is readable by its bits but
	// behind locked. It reads group-readable through its group and
	// db/other-group as its owner.
	if u.Unreadable != 3 {
		t.Errorf("unreadable = %d, want 3", u.Unreadable)
	}
	if u.UnreadableExample != "locked" {
		t.Errorf("unreadable example %q, want the first by name, locked", u.UnreadableExample)
	}
}

// chown gives p an owner and mode (chown clears setuid bits, so the mode
// goes after it).
func chown(t *testing.T, p string, uid, gid int, mode os.FileMode) {
	t.Helper()
	if err := os.Lchown(p, uid, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode.Perm()); err != nil {
		t.Fatal(err)
	}
}

func TestNonRootIdentity(t *testing.T) {
	tests := []struct {
		name   string
		owners []mover.Owner
		want   mover.Identity
	}{
		{"none", nil, mover.DefaultNonRoot},
		{"root owns most", []mover.Owner{{UID: 0, GID: 0, Bytes: 100}, {UID: 33, GID: 33, Bytes: 10}}, mover.DefaultNonRoot},
		{"one user", []mover.Owner{{UID: 999, GID: 999, Bytes: 100}}, mover.Identity{UID: 999, GID: 999}},
		{"most bytes wins", []mover.Owner{{UID: 33, GID: 33, Bytes: 10, Files: 100}, {UID: 70, GID: 70, Bytes: 20, Files: 1}}, mover.Identity{UID: 70, GID: 70}},
		{"ties go to most files", []mover.Owner{{UID: 33, GID: 33, Bytes: 10, Files: 1}, {UID: 70, GID: 71, Bytes: 10, Files: 2}}, mover.Identity{UID: 70, GID: 71}},
		{"full tie to the lowest user", []mover.Owner{{UID: 70, GID: 70, Bytes: 10}, {UID: 33, GID: 33, Bytes: 10}}, mover.Identity{UID: 33, GID: 33}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := mover.NonRootIdentity(tt.owners); got != tt.want {
				t.Errorf("NonRootIdentity = %s, want %s", got, tt.want)
			}
		})
	}
}
