package safefs

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestLinkAnon names unnamed files with each linking method, onto a free
// name, an existing file and a directory in the way, and leaves nothing
// else behind.
func TestLinkAnon(t *testing.T) {
	modes := []struct {
		name string
		mode int32
	}{
		{"AT_EMPTY_PATH", anonEmptyPath},
		{"/proc/self/fd", anonProcFD},
	}
	targets := []struct {
		name  string
		setup func(path string) error
	}{
		{"free name", func(string) error { return nil }},
		{"existing file", func(p string) error { return os.WriteFile(p, []byte("old"), 0o644) }},
		{"directory in the way", func(p string) error { return os.MkdirAll(filepath.Join(p, "sub"), 0o755) }},
	}
	for _, m := range modes {
		for _, tg := range targets {
			t.Run(m.name+"/"+tg.name, func(t *testing.T) {
				root := t.TempDir()
				if err := tg.setup(filepath.Join(root, "f")); err != nil {
					t.Fatal(err)
				}
				r, err := OpenRoot(root)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				r.anon.Store(m.mode)
				d, err := r.OpenDir(RootPath)
				if err != nil {
					t.Fatal(err)
				}
				defer d.Close()
				f, err := d.CreateAnon()
				if err != nil {
					t.Skipf("no O_TMPFILE here: %v", err)
				}
				defer f.Close()
				if _, err := f.WriteString("new"); err != nil {
					t.Fatal(err)
				}
				sc, err := r.Scratch()
				if err != nil {
					t.Fatal(err)
				}
				if err := d.LinkAnon(f, sc, "f"); err != nil {
					t.Fatalf("LinkAnon: %v", err)
				}
				if b, err := os.ReadFile(filepath.Join(root, "f")); err != nil || string(b) != "new" {
					t.Errorf("f = %q, %v; want new", b, err)
				}
				assertOnly(t, root, "f")
			})
		}
	}
}

func TestCreateAnonUnavailable(t *testing.T) {
	r, err := OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.ForceNamedTemps()
	d, err := r.OpenDir(RootPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.CreateAnon(); err != ErrNoAnon {
		t.Errorf("CreateAnon = %v, want ErrNoAnon", err)
	}
}

// assertOnly fails unless root holds exactly the given names besides the
// reserved directory, and the scratch folder is empty.
func assertOnly(t *testing.T, root string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		if e.Name() != ReservedName {
			got = append(got, e.Name())
		}
	}
	if !slices.Equal(got, names) {
		t.Errorf("root holds %q, want %q", got, names)
	}
	if left, _ := os.ReadDir(filepath.Join(root, ReservedName, scratchName)); len(left) != 0 {
		t.Errorf("scratch folder holds %d entries, want none", len(left))
	}
}
