package safefs

import (
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// How an unnamed (O_TMPFILE) file gets its name, found once per Root by
// probing: linkat with AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH, which
// containers lack by default; linking /proc/self/fd/N needs /proc.
const (
	anonUnknown int32 = iota
	anonEmptyPath
	anonProcFD
	anonNone
)

// anonMode returns how this root links unnamed files, probing once.
func (r *Root) anonMode() int32 {
	if m := r.anon.Load(); m != anonUnknown {
		return m
	}
	m := r.probeAnon()
	r.anon.Store(m)
	return m
}

// probeAnon creates an unnamed file in the root and tries each way of
// naming it; the probe's name is removed again.
func (r *Root) probeAnon() int32 {
	d := &Dir{fd: r.fd, path: RootPath, anon: anonNone}
	for _, m := range []int32{anonEmptyPath, anonProcFD} {
		f, err := d.openAnon()
		if err != nil {
			return anonNone
		}
		name := tempName("probe")
		err = linkAnon(f, d.fd, name, m)
		f.Close()
		if err == nil {
			_ = d.Unlink(name)
			return m
		}
	}
	return anonNone
}

func (d *Dir) openAnon() (*os.File, error) {
	fd, err := unix.Openat(d.fd, ".", unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), d.path), nil
}

func linkAnon(f *os.File, dirfd int, name string, mode int32) error {
	if mode == anonEmptyPath {
		return unix.Linkat(int(f.Fd()), "", dirfd, name, unix.AT_EMPTY_PATH)
	}
	return unix.Linkat(unix.AT_FDCWD, "/proc/self/fd/"+strconv.Itoa(int(f.Fd())), dirfd, name, unix.AT_SYMLINK_FOLLOW)
}

// ErrNoAnon means the file system or process cannot make unnamed files.
var ErrNoAnon = errors.New("unnamed temporary files are not available")

// CreateAnon creates an unnamed regular file in d, mode 0600, which
// appears under a name only through LinkAnon and vanishes if the process
// stops first. It returns ErrNoAnon where that is not possible; callers
// then use CreateTemp.
func (d *Dir) CreateAnon() (*os.File, error) {
	if d.anon == anonNone || d.anon == anonUnknown {
		return nil, ErrNoAnon
	}
	f, err := d.openAnon()
	if err != nil {
		return nil, wrap("create unnamed file in", d.path, ".", err)
	}
	return f, nil
}

// LinkAnon names the unnamed file f, made by CreateAnon, name in d,
// replacing whatever is there.
func (d *Dir) LinkAnon(f *os.File, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	err := linkAnon(f, d.fd, name, d.anon)
	if !errors.Is(err, unix.EEXIST) {
		return wrap("link into place", d.path, name, err)
	}
	tmp := tempName(name)
	if err := linkAnon(f, d.fd, tmp, d.anon); err != nil {
		return wrap("link into place", d.path, name, err)
	}
	if err := d.Rename(tmp, name); err != nil {
		_ = d.Unlink(tmp)
		return err
	}
	return nil
}
