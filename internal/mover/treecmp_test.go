package mover_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/safefs"
)

// node is everything the comparison looks at for one entry.
type node struct {
	Kind   string
	Mode   uint32
	UID    uint32
	GID    uint32
	Size   int64
	Hash   string
	Mtime  int64
	Target string
	Rdev   uint64
	Xattrs string
	Blocks int64
	// Link is the first path (in walk order) of the entry's inode when it
	// has several links, so hardlink groups compare by membership.
	Link string
}

// snapshot reads a whole tree, skipping lost+found and the mover's
// reserved directory at the root.
func snapshot(t *testing.T, root string) map[string]node {
	t.Helper()
	out := map[string]node{}
	firsts := map[[2]uint64]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "lost+found" || rel == safefs.ReservedName {
			return filepath.SkipDir
		}
		out[rel] = readNode(t, p, firsts, rel)
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

func readNode(t *testing.T, p string, firsts map[[2]uint64]string, rel string) node {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Lstat(p, &st); err != nil {
		t.Fatalf("lstat: %v", err)
	}
	info, err := fsmeta.Lstat(p)
	if err != nil {
		t.Fatalf("read metadata: %v", err)
	}
	m := info.Meta
	n := node{Kind: m.Kind.String(), Mode: m.Mode, UID: m.UID, GID: m.GID, Size: m.Size,
		Mtime: m.Mtime, Target: m.Target, Rdev: m.Rdev, Blocks: st.Blocks}
	var xs []string
	for _, x := range m.Xattrs {
		xs = append(xs, x.Name+"="+string(x.Value))
	}
	n.Xattrs = strings.Join(xs, ",")
	if st.Mode&unix.S_IFMT == unix.S_IFREG {
		n.Hash = fileHash(t, p)
		if st.Nlink > 1 {
			key := [2]uint64{st.Dev, st.Ino}
			if _, ok := firsts[key]; !ok {
				firsts[key] = rel
			}
			n.Link = firsts[key]
		}
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		n.Blocks = 0 // directory allocation depends on its history
	}
	return n
}

func fileHash(t *testing.T, p string) string {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatalf("hash: %v", err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// compareTrees fails the test for every difference between two trees.
func compareTrees(t *testing.T, src, dst string) {
	t.Helper()
	a, b := snapshot(t, src), snapshot(t, dst)
	var paths []string
	for p := range a {
		paths = append(paths, p)
	}
	for p := range b {
		if _, ok := a[p]; !ok {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		x, okA := a[p]
		y, okB := b[p]
		switch {
		case !okA:
			t.Errorf("%s: only on destination", p)
		case !okB:
			t.Errorf("%s: missing on destination", p)
		case x != y:
			t.Errorf("%s differs:\n  source      %+v\n  destination %+v", p, x, y)
		}
	}
}

// tempFiles lists leftover temporary files of the receiver at root.
func tempFiles(t *testing.T, root string) []string {
	t.Helper()
	ents, err := os.ReadDir(scratchDir(root))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// scratchDir is where the receiver at root keeps its temporary files.
func scratchDir(root string) string { return filepath.Join(root, safefs.ReservedName, "tmp") }
