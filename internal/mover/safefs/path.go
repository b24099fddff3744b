// Package safefs confines the mover's receiver to its destination root.
// Paths from the network are checked lexically by CheckPath and then
// resolved with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), or, where
// openat2 is missing, one O_NOFOLLOW component at a time, so that no
// operation can leave the root or pass through a symlink.
package safefs

import (
	"errors"
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// ErrUnsafePath reports a path that could leave the root.
var ErrUnsafePath = errors.New("unsafe path")

// RootPath is how the root directory itself is named on the wire.
const RootPath = "."

// MaxPath is the longest path accepted: the longest a single system call
// takes (PATH_MAX less its terminating NUL), so that the receiver can
// resolve any accepted path in one openat2.
const MaxPath = unix.PathMax - 1

const maxName = 255

// CheckPath accepts a clean relative slash-separated path ("a/b/c") or
// RootPath, and rejects everything else: empty and absolute paths, empty,
// "." and ".." components, NUL bytes, and over-long paths or names.
func CheckPath(p string) error {
	if p == RootPath {
		return nil
	}
	if p == "" {
		return fmt.Errorf("%w: empty", ErrUnsafePath)
	}
	if len(p) > MaxPath {
		return fmt.Errorf("%w: %d bytes is too long", ErrUnsafePath, len(p))
	}
	if strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("%w: %q contains NUL", ErrUnsafePath, p)
	}
	if p[0] == '/' {
		return fmt.Errorf("%w: %q is absolute", ErrUnsafePath, p)
	}
	for name := range strings.SplitSeq(p, "/") {
		if err := CheckName(name); err != nil {
			return fmt.Errorf("%w: in %q", err, p)
		}
	}
	return nil
}

// CheckName accepts one path component.
func CheckName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return fmt.Errorf("%w: component %q", ErrUnsafePath, name)
	case len(name) > maxName:
		return fmt.Errorf("%w: component of %d bytes is too long", ErrUnsafePath, len(name))
	case strings.ContainsAny(name, "/\x00"):
		return fmt.Errorf("%w: component %q", ErrUnsafePath, name)
	}
	return nil
}

// Split returns the parent directory and the last component of a checked
// path; the parent of a top-level name is RootPath.
func Split(p string) (dir, name string) {
	i := strings.LastIndexByte(p, '/')
	if i < 0 {
		return RootPath, p
	}
	return p[:i], p[i+1:]
}

// Join joins a directory path and a name, treating RootPath as empty.
func Join(dir, name string) string {
	if dir == RootPath || dir == "" {
		return name
	}
	return dir + "/" + name
}
