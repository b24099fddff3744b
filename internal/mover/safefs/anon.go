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

// probeAnon creates an unnamed file in the scratch folder and tries each
// way of naming it; the probe's name is removed again.
func (r *Root) probeAnon() int32 {
	s, err := r.Scratch()
	if err != nil {
		return anonNone
	}
	for _, m := range []int32{anonEmptyPath, anonProcFD} {
		f, err := s.d.openAnon()
		if err != nil {
			return anonNone
		}
		name := scratchEntry()
		err = linkAnon(f, s.d.fd, name, m)
		f.Close()
		if err == nil {
			_ = s.Remove(name)
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
// then use Scratch.CreateFile.
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
// replacing whatever is there (through a name in s, then a rename).
func (d *Dir) LinkAnon(f *os.File, s *Scratch, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	err := linkAnon(f, d.fd, name, d.anon)
	if !errors.Is(err, unix.EEXIST) {
		return wrap("link into place", d.path, name, err)
	}
	tmp := scratchEntry()
	if err := linkAnon(f, s.d.fd, tmp, d.anon); err != nil {
		return wrap("link into place", d.path, name, err)
	}
	if err := d.Place(s, tmp, name); err != nil {
		_ = s.Remove(tmp)
		return err
	}
	return nil
}
