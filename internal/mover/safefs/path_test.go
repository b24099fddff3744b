package safefs

import (
	"errors"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckPath(t *testing.T) {
	tests := []struct {
		path string
		ok   bool
	}{
		{".", true},
		{"a", true},
		{"a/b/c", true},
		{"..a", true},
		{"a..", true},
		{".hidden/x", true},
		{"", false},
		{"/", false},
		{"/etc/passwd", false},
		{"..", false},
		{"../x", false},
		{"a/..", false},
		{"a/../b", false},
		{"a/./b", false},
		{"./a", false},
		{"a//b", false},
		{"a/", false},
		{"a\x00b", false},
		{strings.Repeat("x", 256), false},
		{strings.Repeat("x/", 2049) + "x", false},
	}
	for _, tt := range tests {
		err := CheckPath(tt.path)
		if (err == nil) != tt.ok {
			t.Errorf("CheckPath(%q) = %v, want ok=%v", tt.path, err, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrUnsafePath) {
			t.Errorf("CheckPath(%q) = %v, want ErrUnsafePath", tt.path, err)
		}
	}
}

func TestSplitJoin(t *testing.T) {
	tests := []struct{ path, dir, name string }{
		{"a", ".", "a"},
		{"a/b", "a", "b"},
		{"a/b/c", "a/b", "c"},
	}
	for _, tt := range tests {
		dir, name := Split(tt.path)
		if dir != tt.dir || name != tt.name {
			t.Errorf("Split(%q) = %q, %q; want %q, %q", tt.path, dir, name, tt.dir, tt.name)
		}
		if got := Join(dir, name); got != tt.path {
			t.Errorf("Join(%q, %q) = %q, want %q", dir, name, got, tt.path)
		}
	}
}

// FuzzCheckPath checks that every accepted path is clean, relative and
// stays beneath the root, and that resolving it never succeeds through a
// symlink planted in the root.
func FuzzCheckPath(f *testing.F) {
	for _, s := range []string{".", "a/b", "../x", "/x", "a/../../b", "a\x00", "link/x", "dir/link/x", "dir/x"} {
		f.Add(s)
	}
	root := f.TempDir()
	outside := f.TempDir()
	if err := os.Mkdir(filepath.Join(root, "dir"), 0o755); err != nil {
		f.Fatal(err)
	}
	for _, l := range []string{"link", "dir/link"} {
		if err := os.Symlink(outside, filepath.Join(root, l)); err != nil {
			f.Fatal(err)
		}
	}
	r, err := OpenRoot(root)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { r.Close() })
	f.Fuzz(func(t *testing.T, p string) {
		if CheckPath(p) != nil {
			return
		}
		if path.Clean(p) != p || path.IsAbs(p) || strings.Contains(p, "\x00") {
			t.Fatalf("accepted unclean path %q", p)
		}
		for _, c := range strings.Split(p, "/") {
			if c == ".." {
				t.Fatalf("accepted %q with a .. component", p)
			}
		}
		full := filepath.Join(root, p)
		if full != root && !strings.HasPrefix(full, root+string(filepath.Separator)) {
			t.Fatalf("%q escapes the root as %q", p, full)
		}
		d, err := r.OpenDir(p)
		if err != nil {
			return
		}
		defer d.Close()
		if strings.HasPrefix(p, "link") || strings.HasPrefix(p, "dir/link") {
			t.Fatalf("OpenDir(%q) went through a symlink", p)
		}
	})
}
