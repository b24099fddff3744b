package safefs

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/wire"
)

// ReservedName is the receiver's own directory at the root of every
// destination. It holds the temporary entries of transfers in progress
// (ReservedName/tmp), files whose transfer could not finish, kept as the
// basis of the next (ReservedName/partial), and the state of the last
// completed sync. It is never listed, so a sync never copies or deletes
// it (a final sync removes it: RemoveReserved), and paths into it from
// the network are refused; no user file can therefore collide with
// a temporary one. A source root that holds it (a volume once synced
// into) is walked without it.
const ReservedName = ".ferry-mover"

const (
	scratchName = "tmp"
	partialName = "partial"
)

// IsReserved reports whether p, a checked path, is ReservedName or lies
// below it.
func IsReserved(p string) bool {
	return p == ReservedName || strings.HasPrefix(p, ReservedName+"/")
}

// Scratch is the folder where the receiver makes entries before they are
// complete; each is renamed into place with Dir.Place once it is. Names
// there are random and mean nothing outside the session that made them.
type Scratch struct {
	d *Dir
}

// openReserved opens (creating) the reserved directory and its scratch
// folder. Anything else found under those names is removed first.
func (r *Root) openReserved() error {
	r.reservedMu.Lock()
	defer r.reservedMu.Unlock()
	if r.scratch != nil {
		return nil
	}
	root := &Dir{fd: r.fd, path: RootPath, anon: anonNone}
	res, err := root.forceDir(ReservedName)
	if err != nil {
		return err
	}
	tmp, err := res.forceDir(scratchName)
	if err != nil {
		res.Close()
		return err
	}
	partial, err := res.forceDir(partialName)
	if err != nil {
		tmp.Close()
		res.Close()
		return err
	}
	r.reserved, r.scratch, r.partial = res, &Scratch{d: tmp}, partial
	return nil
}

// forceDir opens the child directory name of d, mode 0700, creating it
// and removing whatever non-directory or symlink stands in its place.
func (d *Dir) forceDir(name string) (*Dir, error) {
	if err := d.EnsureDir(name); err != nil {
		return nil, err
	}
	return d.OpenDir(name)
}

// Scratch returns the root's scratch folder, made on first use.
func (r *Root) Scratch() (*Scratch, error) {
	if err := r.openReserved(); err != nil {
		return nil, err
	}
	return r.scratch, nil
}

// Clean removes everything in the scratch folder: what an interrupted
// session left. Only call it when no session is running.
func (s *Scratch) Clean() error { return s.d.removeChildren() }

// Names lists the scratch folder.
func (s *Scratch) Names() ([]string, error) { return s.d.Names() }

func scratchEntry() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// CreateFile creates a new, empty regular file, mode 0600, that will
// become forPath (which names it in errors and is its os.File name).
func (s *Scratch) CreateFile(forPath string) (*os.File, string, error) {
	tmp := scratchEntry()
	fd, err := unix.Openat(s.d.fd, tmp, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, "", &PathError{Op: "create temporary file for", Path: forPath, Err: err}
	}
	return os.NewFile(uintptr(fd), forPath), tmp, nil
}

// Symlink creates a symlink to target that will become forPath.
func (s *Scratch) Symlink(target, forPath string) (string, error) {
	tmp := scratchEntry()
	if err := unix.Symlinkat(target, s.d.fd, tmp); err != nil {
		return "", &PathError{Op: "create symlink", Path: forPath, Err: err}
	}
	return tmp, nil
}

// Mknod creates a FIFO, device or socket that will become forPath.
func (s *Scratch) Mknod(mode uint32, dev uint64, forPath string) (string, error) {
	tmp := scratchEntry()
	if err := unix.Mknodat(s.d.fd, tmp, mode, int(dev)); err != nil {
		return "", &PathError{Op: "create special file", Path: forPath, Err: err}
	}
	return tmp, nil
}

// Link creates a hardlink to src/srcName that will become forPath.
func (s *Scratch) Link(src *Dir, srcName, forPath string) (string, error) {
	if err := CheckName(srcName); err != nil {
		return "", err
	}
	tmp := scratchEntry()
	if err := unix.Linkat(src.fd, srcName, s.d.fd, tmp, 0); err != nil {
		return "", &PathError{Op: "create hardlink", Path: forPath, Err: err}
	}
	return tmp, nil
}

// Apply sets the metadata of the scratch entry tmp, as Dir.Apply does.
func (s *Scratch) Apply(tmp string, m *wire.Meta, chown bool) error {
	return s.d.Apply(tmp, m, nil, chown)
}

// Remove removes the scratch entry tmp, ignoring a missing one.
func (s *Scratch) Remove(tmp string) error { return s.d.Unlink(tmp) }

// Place moves the scratch entry tmp onto name in d, removing a
// directory that is in the way.
func (d *Dir) Place(s *Scratch, tmp, name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	err := unix.Renameat(s.d.fd, tmp, d.fd, name)
	if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.ENOTEMPTY) || errors.Is(err, unix.EEXIST) {
		if err := d.RemoveAll(name); err != nil {
			return err
		}
		err = unix.Renameat(s.d.fd, tmp, d.fd, name)
	}
	return wrap("rename into place", d.path, name, err)
}

// maxStateFile bounds what ReadState reads.
const maxStateFile = 64 << 10

// ReadState returns the contents of the reserved state file name, or nil
// when there is none.
func (r *Root) ReadState(name string) ([]byte, error) {
	if err := r.openReserved(); err != nil {
		return nil, err
	}
	f, err := r.reserved.Open(name, false)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxStateFile))
	if err != nil {
		return nil, fmt.Errorf("read %s/%s: %w", ReservedName, name, err)
	}
	return b, nil
}

// WriteState replaces the reserved state file name with data, durably:
// written in the scratch folder, synced, then renamed into place.
func (r *Root) WriteState(name string, data []byte) error {
	s, err := r.Scratch()
	if err != nil {
		return err
	}
	path := Join(ReservedName, name)
	f, tmp, err := s.CreateFile(path)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.reserved.Place(s, tmp, name)
	}
	if err != nil {
		_ = s.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// KeepPartial keeps the scratch file tmp under key in the partial folder,
// replacing what was kept there: a file whose transfer could not finish,
// the basis of the next transfer of the same path.
func (r *Root) KeepPartial(s *Scratch, tmp, key string) error {
	if err := CheckName(key); err != nil {
		return err
	}
	r.reservedMu.Lock()
	defer r.reservedMu.Unlock()
	if r.partial == nil {
		return fmt.Errorf("keep partial file: %w", os.ErrClosed)
	}
	return r.partial.Place(s, tmp, key)
}

// OpenPartial opens the partial file kept under key, or returns nil, nil
// when there is none.
func (r *Root) OpenPartial(key string) (*os.File, error) {
	if err := r.openReserved(); err != nil {
		return nil, err
	}
	f, err := r.partial.Open(key, false)
	if errors.Is(err, unix.ENOENT) {
		return nil, nil
	}
	return f, err
}

// RemovePartial removes the partial file kept under key, if any.
func (r *Root) RemovePartial(key string) error {
	if err := r.openReserved(); err != nil {
		return err
	}
	return r.partial.Unlink(key)
}

// PartialKeys lists the keys of the partial files kept.
func (r *Root) PartialKeys() ([]string, error) {
	if err := r.openReserved(); err != nil {
		return nil, err
	}
	return r.partial.Names()
}

// RemoveReserved removes the reserved directory and all it holds; it is
// made again on next use. The root keeps its times (the sync applied the
// source's), and, when writable is set (a receiver without root, which
// may lack write permission on the root), its mode. A root that a
// process without root does not own (a volume root it writes through its
// group) takes the time of the removal: only its owner may set times.
func (r *Root) RemoveReserved(writable bool) error {
	r.reservedMu.Lock()
	defer r.reservedMu.Unlock()
	if r.scratch != nil {
		r.scratch.d.Close()
		r.partial.Close()
		r.reserved.Close()
		r.reserved, r.scratch, r.partial = nil, nil, nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(r.fd, &st); err != nil {
		return fmt.Errorf("stat root: %w", err)
	}
	fd, err := unix.Openat(r.fd, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open root: %w", err)
	}
	defer unix.Close(fd)
	mine := os.Geteuid() == 0 || int(st.Uid) == os.Geteuid()
	if writable && mine && st.Mode&0o200 == 0 {
		if err := unix.Fchmod(fd, st.Mode&0o7777|0o700); err != nil {
			return fmt.Errorf("make root writable: %w", err)
		}
		defer unix.Fchmod(fd, st.Mode&0o7777)
	}
	root := &Dir{fd: r.fd, path: RootPath, anon: anonNone}
	if err := root.RemoveAll(ReservedName); err != nil {
		return err
	}
	if !mine {
		return nil
	}
	ts := []unix.Timespec{st.Atim, st.Mtim}
	if err := unix.UtimesNanoAt(r.fd, ".", ts, 0); err != nil {
		return fmt.Errorf("restore the root's times: %w", err)
	}
	return nil
}
