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
