package safefs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// setupRoot makes root/{dir/sub, link -> outside, dir/rel -> ../dir}.
func setupRoot(t *testing.T) (root, outside string) {
	t.Helper()
	root, outside = t.TempDir(), t.TempDir()
	for _, step := range []error{
		os.MkdirAll(filepath.Join(root, "dir", "sub"), 0o755),
		os.Symlink(outside, filepath.Join(root, "link")),
		os.Symlink("../dir", filepath.Join(root, "dir", "rel")),
		os.WriteFile(filepath.Join(outside, "victim"), []byte("v"), 0o644),
	} {
		if step != nil {
			t.Fatal(step)
		}
	}
	return root, outside
}

func TestOpenDirRefusesSymlinks(t *testing.T) {
	root, _ := setupRoot(t)
	tests := []struct {
		path   string
		ok     bool
		unsafe bool
	}{
		{".", true, false},
		{"dir", true, false},
		{"dir/sub", true, false},
		{"link", false, true},
		{"link/x", false, true},
		{"dir/rel", false, true},
		{"dir/rel/sub", false, true},
		{"missing", false, false},
		{"../x", false, true},
	}
	for _, mode := range []string{"openat2", "fallback"} {
		r, err := OpenRoot(root)
		if err != nil {
			t.Fatal(err)
		}
		if mode == "fallback" {
			r.ForceFallback()
		}
		for _, tt := range tests {
			d, err := r.OpenDir(tt.path)
			if d != nil {
				d.Close()
			}
			if (err == nil) != tt.ok {
				t.Errorf("%s: OpenDir(%q) = %v, want ok=%v", mode, tt.path, err, tt.ok)
			}
			if tt.unsafe && !errors.Is(err, ErrUnsafePath) {
				t.Errorf("%s: OpenDir(%q) = %v, want ErrUnsafePath", mode, tt.path, err)
			}
		}
		r.Close()
	}
}

func TestRemoveAllDoesNotFollowSymlinks(t *testing.T) {
	root, outside := setupRoot(t)
	r, err := OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d, err := r.OpenDir(".")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, name := range []string{"link", "dir"} {
		if err := d.RemoveAll(name); err != nil {
			t.Fatalf("RemoveAll(%q): %v", name, err)
		}
	}
	if _, err := os.Stat(filepath.Join(outside, "victim")); err != nil {
		t.Errorf("file outside the root removed: %v", err)
	}
	assertOnly(t, root)
}

func TestPlaceReplacesDirectory(t *testing.T) {
	root, _ := setupRoot(t)
	r, _ := OpenRoot(root)
	defer r.Close()
	d, _ := r.OpenDir(".")
	defer d.Close()
	sc, err := r.Scratch()
	if err != nil {
		t.Fatal(err)
	}
	f, tmp, err := sc.CreateFile("dir")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := d.Place(sc, tmp, "dir"); err != nil {
		t.Fatalf("place over a directory: %v", err)
	}
	if st, err := os.Lstat(filepath.Join(root, "dir")); err != nil || !st.Mode().IsRegular() {
		t.Errorf("dir is not a file after rename: %v %v", st, err)
	}
}

// TestOpenDirLongestPath resolves a directory whose relative path is
// MaxPath bytes long, with openat2 and with the fallback, beneath a root
// whose own path makes the whole path longer than PATH_MAX; one byte more
// is refused as unsafe, not attempted.
func TestOpenDirLongestPath(t *testing.T) {
	base := t.TempDir()
	var names []string
	for n := 0; n < MaxPath; n += 201 {
		names = append(names, strings.Repeat("d", min(200, MaxPath-n)))
	}
	longest := strings.Join(names, "/")
	if len(longest) != MaxPath {
		t.Fatalf("test path has %d bytes, want %d", len(longest), MaxPath)
	}
	fd, err := unix.Open(base, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range append(names, "x") {
		if err := unix.Mkdirat(fd, name, 0o755); err != nil {
			t.Fatal(err)
		}
		next, err := unix.Openat(fd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		unix.Close(fd)
		if err != nil {
			t.Fatal(err)
		}
		fd = next
	}
	unix.Close(fd)
	tests := []struct {
		name     string
		path     string
		fallback bool
		wantErr  error
	}{
		{name: "MaxPath bytes", path: longest},
		{name: "MaxPath bytes, fallback", path: longest, fallback: true},
		{name: "one byte more", path: longest[:MaxPath-1] + "/x", wantErr: ErrUnsafePath},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := OpenRoot(base)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if tt.fallback {
				r.ForceFallback()
			}
			d, err := r.OpenDir(tt.path)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("OpenDir of %d bytes: %v, want %v", len(tt.path), err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("OpenDir of %d bytes: %v", len(tt.path), err)
			}
			d.Close()
		})
	}
}

func TestCreateMakesOnlyNewFiles(t *testing.T) {
	root, outside := setupRoot(t)
	r, err := OpenRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	d, err := r.OpenDir(".")
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	tests := []struct {
		name string
		ok   bool
	}{
		{"new", true},
		{"dir", false},  // an existing directory
		{"link", false}, // a symlink: never followed
		{"../escape", false},
		{"a/b", false},
	}
	for _, tt := range tests {
		f, err := d.Create(tt.name)
		if (err == nil) != tt.ok {
			t.Errorf("Create(%q): %v, want success %v", tt.name, err, tt.ok)
		}
		if f != nil {
			f.Close()
		}
	}
	if st, err := os.Stat(filepath.Join(root, "new")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("created file: %v, %v", st, err)
	}
	if names, _ := os.ReadDir(outside); len(names) != 1 {
		t.Errorf("Create wrote outside the root: %v", names)
	}
}
