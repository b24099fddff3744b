package safefs

import (
	"errors"
	"fmt"
	"os"
	"sort"

	"golang.org/x/sys/unix"
)

// Dir is a directory beneath a Root, held as an O_PATH descriptor. All
// operations take a single checked name, never a path.
type Dir struct {
	fd   int
	path string
	anon int32 // how unnamed files are linked; see CreateAnon
}

// Path returns the directory's path relative to the root.
func (d *Dir) Path() string { return d.path }

// FD returns the O_PATH descriptor, valid until Close.
func (d *Dir) FD() int { return d.fd }

// Close releases the directory; later uses of d fail with EBADF rather
// than reach whatever reuses the descriptor's number.
func (d *Dir) Close() error {
	fd := d.fd
	d.fd = -1
	return unix.Close(fd)
}

// Lstat stats name without following it.
func (d *Dir) Lstat(name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	if err := CheckName(name); err != nil {
		return st, err
	}
	err := unix.Fstatat(d.fd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	return st, err
}

// Names lists the directory, sorted.
func (d *Dir) Names() ([]string, error) {
	fd, err := unix.Openat(d.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("open directory %q for listing: %w", d.path, err)
	}
	f := os.NewFile(uintptr(fd), d.path)
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list directory %q: %w", d.path, err)
	}
	sort.Strings(names)
	return names, nil
}

// EnsureDir makes name a directory: it is created with mode 0700 when
// missing and anything else in its place is removed first.
func (d *Dir) EnsureDir(name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	err := unix.Mkdirat(d.fd, name, 0o700)
	if err == nil || !errors.Is(err, unix.EEXIST) {
		return wrap("create directory", d.path, name, err)
	}
	st, err := d.Lstat(name)
	if err != nil {
		return wrap("stat", d.path, name, err)
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		return nil
	}
	if err := d.RemoveAll(name); err != nil {
		return err
	}
	return wrap("create directory", d.path, name, unix.Mkdirat(d.fd, name, 0o700))
}

// OpenDir opens the child directory name without following symlinks.
func (d *Dir) OpenDir(name string) (*Dir, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	fd, err := unix.Openat(d.fd, name, dirFlags, 0)
	if err != nil {
		return nil, wrap("open directory", d.path, name, err)
	}
	return &Dir{fd: fd, path: Join(d.path, name), anon: d.anon}, nil
}

// Open opens name read-only; it fails on symlinks and, unless dirOK, on
// anything but a regular file. FIFOs and devices are never opened.
func (d *Dir) Open(name string, dirOK bool) (*os.File, error) {
	st, err := d.Lstat(name)
	if err != nil {
		return nil, wrap("stat", d.path, name, err)
	}
	isDir := st.Mode&unix.S_IFMT == unix.S_IFDIR
	if st.Mode&unix.S_IFMT != unix.S_IFREG && !(dirOK && isDir) {
		return nil, fmt.Errorf("open %q in %q: not a regular file", name, d.path)
	}
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.EACCES) && os.Geteuid() != 0 && int(st.Uid) == os.Geteuid() {
		fd, err = d.openOwn(name, &st)
	}
	if err != nil {
		return nil, wrap("open", d.path, name, err)
	}
	f := os.NewFile(uintptr(fd), Join(d.path, name))
	var now unix.Stat_t
	if err := unix.Fstat(fd, &now); err != nil || now.Ino != st.Ino || now.Dev != st.Dev {
		f.Close()
		return nil, fmt.Errorf("open %q in %q: entry changed while opening", name, d.path)
	}
	return f, nil
}

// openOwn opens name, an entry of the process's own user whose mode
// denies that user reading it (a copy of a 0000 or 0200 file, by a
// receiver that is not root): with the owner's read (and for a directory
// search) bit for the moment, its mode st again once it is open.
func (d *Dir) openOwn(name string, st *unix.Stat_t) (int, error) {
	mode := st.Mode & 0o7777
	grant := mode | 0o400
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		grant |= 0o100
	}
	if err := d.chmod(name, grant); err != nil {
		return -1, err
	}
	fd, err := unix.Openat(d.fd, name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		_ = d.chmod(name, mode)
		return -1, err
	}
	if err := unix.Fchmod(fd, mode); err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

// Mine reports whether the process's user owns the directory d itself.
// A process that is not root can change the mode and times only of what
// it owns: a volume root made by its provisioner is not a non-root
// mover's (it writes there through its group, fsGroup).
func (d *Dir) Mine() bool {
	var st unix.Stat_t
	return unix.Fstat(d.fd, &st) == nil && int(st.Uid) == os.Geteuid()
}

// AsOwner runs fn, which reads the open file f (its extended attributes,
// which need read permission, not only a descriptor), and when it fails
// with EACCES on an entry of the process's own user that is not root,
// runs it again with the owner's read and write bits for the moment, then
// f's mode again.
func AsOwner(f *os.File, fn func() error) error {
	err := fn()
	if !errors.Is(err, unix.EACCES) || os.Geteuid() == 0 {
		return err
	}
	var st unix.Stat_t
	fd := int(f.Fd())
	if unix.Fstat(fd, &st) != nil || int(st.Uid) != os.Geteuid() {
		return err
	}
	mode := st.Mode & 0o7777
	if cerr := unix.Fchmod(fd, mode|0o600); cerr != nil {
		return err
	}
	err = fn()
	if cerr := unix.Fchmod(fd, mode); err == nil {
		err = cerr
	}
	return err
}

// Create creates name, which must not exist, as an empty regular file
// open for reading and writing, mode 0600 until its metadata is applied.
func (d *Dir) Create(name string) (*os.File, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	fd, err := unix.Openat(d.fd, name, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, wrap("create", d.path, name, err)
	}
	return os.NewFile(uintptr(fd), Join(d.path, name)), nil
}

// Unlink removes the non-directory name, ignoring a missing entry.
func (d *Dir) Unlink(name string) error {
	err := unix.Unlinkat(d.fd, name, 0)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	return wrap("remove", d.path, name, err)
}

// RemoveAll removes name and, for a directory, everything below it,
// without following symlinks. A missing entry is not an error.
func (d *Dir) RemoveAll(name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	err := unix.Unlinkat(d.fd, name, 0)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EISDIR) && !errors.Is(err, unix.EPERM) {
		return wrap("remove", d.path, name, err)
	}
	child, err := d.OpenDir(name)
	if err != nil {
		return err
	}
	if err := child.removeChildren(); err != nil {
		child.Close()
		return err
	}
	child.Close()
	err = unix.Unlinkat(d.fd, name, unix.AT_REMOVEDIR)
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	return wrap("remove directory", d.path, name, err)
}

func (d *Dir) removeChildren() error {
	names, err := d.Names()
	if err != nil {
		return err
	}
	for _, n := range names {
		if err := d.RemoveAll(n); err != nil {
			return err
		}
	}
	return nil
}

func wrap(op, dir, name string, err error) error {
	if err == nil {
		return nil
	}
	return &PathError{Op: op, Path: Join(dir, name), Err: err}
}

// PathError records a failed operation on a path relative to the root.
type PathError struct {
	Op   string
	Path string
	Err  error
}

// Error implements error.
func (e *PathError) Error() string { return e.Op + " " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PathError) Unwrap() error { return e.Err }
