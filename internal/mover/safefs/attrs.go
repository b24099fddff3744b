package safefs

import (
	"errors"
	"os"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/wire"
)

// Apply sets the owner (when chown), mode, extended attributes and times
// of name from m, in that order: chown clears setuid bits, and every other
// step would change times. f, when not nil, is an open descriptor of the
// same regular file or directory: then everything goes through it (see
// ApplyFile). Without it, extended attributes are left alone.
func (d *Dir) Apply(name string, m *wire.Meta, f *os.File, chown bool) error {
	if f != nil {
		return ApplyFile(f, Join(d.path, name), m, chown)
	}
	if chown {
		err := unix.Fchownat(d.fd, name, int(m.UID), int(m.GID), unix.AT_SYMLINK_NOFOLLOW)
		if err != nil {
			return wrap("change owner of", d.path, name, err)
		}
	}
	if m.Kind != wire.KindSymlink {
		if err := d.chmod(name, m.Mode&0o7777); err != nil {
			return err
		}
	}
	ts := []unix.Timespec{unix.NsecToTimespec(m.Atime), unix.NsecToTimespec(m.Mtime)}
	if err := unix.UtimesNanoAt(d.fd, name, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return wrap("set times of", d.path, name, err)
	}
	return nil
}

// ApplyFile sets the owner (when chown), mode, extended attributes and
// times of the open regular file or directory f from m, in the order of
// Apply, through its descriptor only; path names it in errors.
func ApplyFile(f *os.File, path string, m *wire.Meta, chown bool) error {
	fd := int(f.Fd())
	if chown {
		if err := unix.Fchown(fd, int(m.UID), int(m.GID)); err != nil {
			return &PathError{Op: "change owner of", Path: path, Err: err}
		}
	}
	if err := unix.Fchmod(fd, m.Mode&0o7777); err != nil {
		return &PathError{Op: "change mode of", Path: path, Err: err}
	}
	// A receiver that is not root may change user.* attributes only
	// while it may write the file (AsOwner: for a 0444 file, a moment).
	if err := AsOwner(f, func() error { return syncXattrs(f, m.Xattrs) }); err != nil {
		return &PathError{Op: "set extended attributes of", Path: path, Err: err}
	}
	ts := [2]unix.Timespec{unix.NsecToTimespec(m.Atime), unix.NsecToTimespec(m.Mtime)}
	// utimensat(fd, NULL, ...) sets the times of fd itself (futimens).
	_, _, errno := unix.Syscall6(unix.SYS_UTIMENSAT, uintptr(fd), 0, uintptr(unsafe.Pointer(&ts[0])), 0, 0, 0)
	if errno != 0 {
		return &PathError{Op: "set times of", Path: path, Err: errno}
	}
	return nil
}

func (d *Dir) chmod(name string, mode uint32) error {
	err := unix.Fchmodat(d.fd, name, mode, unix.AT_SYMLINK_NOFOLLOW)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) {
		// No fchmodat2: the caller checked the entry is no symlink.
		err = unix.Fchmodat(d.fd, name, mode, 0)
	}
	return wrap("change mode of", d.path, name, err)
}

// syncXattrs makes f's extended attributes equal to want. Failures on
// user.* attributes are errors; on other namespaces (security, trusted,
// system) EPERM, EACCES and ENOTSUP are ignored.
func syncXattrs(f *os.File, want []wire.Xattr) error {
	fd := int(f.Fd())
	have, err := ListXattrs(func(b []byte) (int, error) { return unix.Flistxattr(fd, b) })
	if err != nil && !errors.Is(err, unix.ENOTSUP) {
		return err
	}
	keep := make(map[string]bool, len(want))
	for _, x := range want {
		keep[x.Name] = true
	}
	for _, n := range have {
		if !keep[n] {
			if err := unix.Fremovexattr(fd, n); err != nil && !ignorableXattr(n, err) {
				return err
			}
		}
	}
	for _, x := range want {
		if err := unix.Fsetxattr(fd, x.Name, x.Value, 0); err != nil && !ignorableXattr(x.Name, err) {
			return err
		}
	}
	return nil
}

func ignorableXattr(name string, err error) bool {
	if strings.HasPrefix(name, "user.") {
		return false
	}
	return errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) ||
		errors.Is(err, unix.ENOTSUP) || errors.Is(err, unix.ENODATA)
}

// ListXattrs returns the attribute names that list (a listxattr variant)
// reports, growing the buffer as needed.
func ListXattrs(list func([]byte) (int, error)) ([]string, error) {
	n, err := list(nil)
	for range 5 {
		if err != nil || n == 0 {
			return nil, err
		}
		buf := make([]byte, n)
		var m int
		m, err = list(buf)
		if errors.Is(err, unix.ERANGE) {
			n, err = list(nil)
			continue
		}
		if err != nil {
			return nil, err
		}
		var names []string
		for s := range strings.SplitSeq(string(buf[:m]), "\x00") {
			if s != "" {
				names = append(names, s)
			}
		}
		return names, nil
	}
	return nil, unix.ERANGE
}
