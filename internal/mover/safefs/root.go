package safefs

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Root is an open destination root directory.
type Root struct {
	fd   int
	path string
	// fallback is set once openat2 turns out to be unavailable.
	fallback atomic.Bool
	// anon is how unnamed files are linked here, found on first use.
	anon atomic.Int32

	reservedMu sync.Mutex
	reserved   *Dir     // ReservedName, opened on first use
	scratch    *Scratch // its scratch folder
	partial    *Dir     // its folder of partial files
}

// OpenRoot opens the directory at path (created if missing) as a root.
// The root path itself comes from the operator and may contain symlinks.
func OpenRoot(path string) (*Root, error) {
	if err := unix.Mkdir(path, 0o755); err != nil && !errors.Is(err, unix.EEXIST) {
		return nil, fmt.Errorf("create root %s: %w", path, err)
	}
	fd, err := unix.Open(path, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open root %s: %w", path, err)
	}
	return &Root{fd: fd, path: path}, nil
}

// Path returns the root's path on the local file system.
func (r *Root) Path() string { return r.path }

// Close releases the root.
func (r *Root) Close() error {
	if r.scratch != nil {
		r.scratch.d.Close()
		r.partial.Close()
		r.reserved.Close()
	}
	return unix.Close(r.fd)
}

// ForceFallback disables openat2, for tests of the fallback resolver.
func (r *Root) ForceFallback() { r.fallback.Store(true) }

// ForceNamedTemps disables unnamed temporary files, for tests of the
// named ones.
func (r *Root) ForceNamedTemps() { r.anon.Store(anonNone) }

// Sync flushes the root's file system to disk.
func (r *Root) Sync() error {
	fd, err := unix.Openat(r.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open root for sync: %w", err)
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("sync file system of %s: %w", r.path, err)
	}
	return nil
}

// Statfs reports the size and free bytes of the root's file system.
func (r *Root) Statfs() (total, free uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Fstatfs(r.fd, &st); err != nil {
		return 0, 0, fmt.Errorf("statfs %s: %w", r.path, err)
	}
	return st.Blocks * uint64(st.Bsize), st.Bavail * uint64(st.Bsize), nil
}

// OpenDir resolves the checked path p to a directory beneath the root
// without following any symlink.
func (r *Root) OpenDir(p string) (*Dir, error) {
	if err := checkPeerPath(p); err != nil {
		return nil, err
	}
	fd, err := r.resolve(p)
	if err != nil {
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.EXDEV) || errors.Is(err, unix.ENOTDIR) {
			return nil, fmt.Errorf("%w: open directory %q: %w", ErrUnsafePath, p, err)
		}
		return nil, fmt.Errorf("open directory %q: %w", p, err)
	}
	return &Dir{fd: fd, path: p, anon: r.anonMode()}, nil
}

// ParentOf checks p and splits it into its parent's path and its last
// name; the root has no parent.
func ParentOf(p string) (dir, name string, err error) {
	if err := checkPeerPath(p); err != nil {
		return "", "", err
	}
	if p == RootPath {
		return "", "", fmt.Errorf("%w: the root has no parent", ErrUnsafePath)
	}
	dir, name = Split(p)
	return dir, name, nil
}

// OpenParent resolves the parent of p and returns it with p's last name.
func (r *Root) OpenParent(p string) (*Dir, string, error) {
	dir, name, err := ParentOf(p)
	if err != nil {
		return nil, "", err
	}
	d, err := r.OpenDir(dir)
	if err != nil {
		return nil, "", err
	}
	return d, name, nil
}

// checkPeerPath accepts what CheckPath accepts, except the reserved
// directory and what lies below it.
func checkPeerPath(p string) error {
	if err := CheckPath(p); err != nil {
		return err
	}
	if IsReserved(p) {
		return fmt.Errorf("%w: %q is the receiver's reserved directory", ErrUnsafePath, p)
	}
	return nil
}

const dirFlags = unix.O_PATH | unix.O_DIRECTORY | unix.O_NOFOLLOW | unix.O_CLOEXEC

func (r *Root) resolve(p string) (int, error) {
	if !r.fallback.Load() {
		how := unix.OpenHow{
			Flags:   dirFlags,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		}
		fd, err := unix.Openat2(r.fd, p, &how)
		if !errors.Is(err, unix.ENOSYS) && !errors.Is(err, unix.EPERM) {
			return fd, err
		}
		r.fallback.Store(true) // seccomp or an old kernel
	}
	return r.resolveByComponent(p)
}

// resolveByComponent walks p one name at a time with O_NOFOLLOW, so a
// symlink anywhere on the way fails with ELOOP or ENOTDIR.
func (r *Root) resolveByComponent(p string) (int, error) {
	cur, err := unix.Openat(r.fd, ".", dirFlags, 0)
	if err != nil {
		return -1, err
	}
	if p == RootPath {
		return cur, nil
	}
	for name := range strings.SplitSeq(p, "/") {
		next, err := unix.Openat(cur, name, dirFlags, 0)
		unix.Close(cur)
		if err != nil {
			return -1, err
		}
		cur = next
	}
	return cur, nil
}
