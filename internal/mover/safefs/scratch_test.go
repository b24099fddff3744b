package safefs

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestReservedPathsRefused: no path from the network reaches the
// reserved directory, whatever the operation.
func TestReservedPathsRefused(t *testing.T) {
	root := t.TempDir()
	r, err := OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := r.Scratch(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{ReservedName, ReservedName + "/tmp", ReservedName + "/state.json", ReservedName + "/tmp/x/y"} {
		if _, err := r.OpenDir(p); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("OpenDir(%q) = %v, want ErrUnsafePath", p, err)
		}
		if _, _, err := r.OpenParent(p); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("OpenParent(%q) = %v, want ErrUnsafePath", p, err)
		}
	}
	for _, p := range []string{ReservedName + "x", "a/" + ReservedName, "." + ReservedName} {
		if err := checkPeerPath(p); err != nil {
			t.Errorf("checkPeerPath(%q) = %v, want nil: only the root's entry is reserved", p, err)
		}
	}
}

// TestScratchReplacesImpostor: a file or symlink where the reserved
// directory belongs is replaced, never followed.
func TestScratchReplacesImpostor(t *testing.T) {
	for name, setup := range map[string]func(root, outside string) error{
		"file":    func(root, _ string) error { return os.WriteFile(filepath.Join(root, ReservedName), nil, 0o644) },
		"symlink": func(root, outside string) error { return os.Symlink(outside, filepath.Join(root, ReservedName)) },
	} {
		t.Run(name, func(t *testing.T) {
			root, outside := t.TempDir(), t.TempDir()
			if err := setup(root, outside); err != nil {
				t.Fatal(err)
			}
			r, err := OpenRoot(root)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			sc, err := r.Scratch()
			if err != nil {
				t.Fatalf("Scratch: %v", err)
			}
			f, _, err := sc.CreateFile("x")
			if err != nil {
				t.Fatal(err)
			}
			f.Close()
			if st, err := os.Lstat(filepath.Join(root, ReservedName)); err != nil || !st.IsDir() {
				t.Errorf("reserved entry is %v (%v), want a directory", st, err)
			}
			if ents, _ := os.ReadDir(outside); len(ents) != 0 {
				t.Errorf("the symlink's target got %d entries", len(ents))
			}
		})
	}
}

// TestScratchCleanAndState: Clean empties the scratch folder; state files
// round-trip and replace each other.
func TestScratchCleanAndState(t *testing.T) {
	root := t.TempDir()
	r, err := OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	sc, err := r.Scratch()
	if err != nil {
		t.Fatal(err)
	}
	if b, err := r.ReadState("s"); err != nil || b != nil {
		t.Fatalf("ReadState before any write = %q, %v; want nil, nil", b, err)
	}
	for _, v := range []string{"one", "two"} {
		if err := r.WriteState("s", []byte(v)); err != nil {
			t.Fatal(err)
		}
		if b, err := r.ReadState("s"); err != nil || string(b) != v {
			t.Errorf("ReadState = %q, %v; want %q", b, err, v)
		}
	}
	for range 3 {
		f, _, err := sc.CreateFile("x")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if err := sc.Clean(); err != nil {
		t.Fatal(err)
	}
	assertOnly(t, root)
}
