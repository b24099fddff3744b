package mover

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// listChunk is how many entries one DirList frame carries.
const listChunk = 1000

// lostFound is never copied, listed or deleted at the root.
const lostFound = "lost+found"

var errNoTarget = errors.New("hardlink target missing")

// control serves the control connection until the peer closes it.
func (s *session) control(conn *wire.Conn) error {
	for {
		m, err := conn.Recv()
		if errors.Is(err, wire.ErrMalformed) {
			replyErr(conn, &wire.Error{Code: wire.CodeProtocol, Message: err.Error()})
		}
		if err != nil {
			if s.completed && errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("control connection: %w", err)
		}
		var reply wire.Message
		switch m := m.(type) {
		case *wire.OpenDir:
			if err := s.openDir(conn, m); err != nil {
				reply = s.toWire(err, m.Path, 0)
			}
		case *wire.Ops:
			reply = s.ops(m)
		case *wire.Done:
			reply = s.done(m)
		default:
			replyErr(conn, &wire.Error{Code: wire.CodeProtocol, Message: fmt.Sprintf("unexpected message type %d on control connection", m.Type())})
			return fmt.Errorf("%w: message type %d on control connection", errProtocol, m.Type())
		}
		if reply != nil {
			if err := conn.Send(reply); err != nil {
				return err
			}
		}
	}
}

func (s *session) done(m *wire.Done) wire.Message {
	if m.Final {
		// No data connection may use the reserved directory once it
		// goes; the session ends here, so their closing is expected.
		s.cancel()
		s.closeData()
		s.mu.Lock()
		open := len(s.files)
		s.mu.Unlock()
		if open > 0 {
			return s.toWire(fmt.Errorf("%w: final Done with %d files still open", errProtocol, open), "", 0)
		}
		if err := s.srv.root.RemoveReserved(!s.srv.chown); err != nil {
			return s.toWire(err, "", 0)
		}
	}
	if err := s.srv.root.Sync(); err != nil {
		return s.toWire(err, "", 0)
	}
	if m.Final {
		s.completed = true
		return &wire.OK{}
	}
	s.dropUnusedPartials()
	if err := s.srv.recordSync(m.State); err != nil {
		// An older or missing state only makes the next sync compare
		// more attributes; the data of this one is complete.
		s.srv.log.Warn("sync state not recorded; the next sync compares every file's attributes", "error", err)
	}
	s.completed = true
	return &wire.OK{}
}

// openDir makes sure the directory exists when asked to, then streams its
// listing.
func (s *session) openDir(conn *wire.Conn, m *wire.OpenDir) error {
	if m.Create && m.Path != safefs.RootPath {
		parent, name, err := s.srv.root.OpenParent(m.Path)
		if err != nil {
			return err
		}
		err = parent.EnsureDir(name)
		parent.Close()
		if err != nil {
			return err
		}
	}
	dir, err := s.srv.root.OpenDir(m.Path)
	if err != nil {
		return err
	}
	defer dir.Close()
	if m.Create && !s.srv.chown {
		// Without root, a read-only directory must be writable for now;
		// its final mode is applied at the end of the session.
		_ = unix.Fchmodat(dir.FD(), ".", 0o700, 0)
	}
	names, err := dir.Names()
	if err != nil {
		return err
	}
	return s.sendListing(conn, dir, names, m.Xattrs)
}

// hiddenAtRoot reports whether name, at the root, is never listed, copied
// or deleted: lost+found and the mover's reserved directory.
func hiddenAtRoot(dir, name string) bool {
	return dir == safefs.RootPath && (name == lostFound || name == safefs.ReservedName)
}

func (s *session) sendListing(conn *wire.Conn, dir *safefs.Dir, names []string, xattrs bool) error {
	chunk := make([]wire.Entry, 0, listChunk)
	for _, name := range names {
		if hiddenAtRoot(dir.Path(), name) {
			continue
		}
		e, err := entryAt(dir, name, xattrs)
		if errors.Is(err, unix.ENOENT) {
			continue
		}
		if err != nil {
			return err
		}
		chunk = append(chunk, e)
		if len(chunk) == listChunk {
			if err := conn.Write(&wire.DirList{Entries: chunk, More: true}); err != nil {
				return err
			}
			chunk = chunk[:0]
		}
	}
	return conn.Send(&wire.DirList{Entries: chunk})
}

// entryAt lists name in dir: its metadata, for a regular file its inode
// and link count, and with xattrs the digest of its compared extended
// attributes (regular files and directories).
func entryAt(dir *safefs.Dir, name string, xattrs bool) (wire.Entry, error) {
	st, err := dir.Lstat(name)
	if err != nil {
		return wire.Entry{}, err
	}
	info := fsmeta.FromStat(&st)
	e := wire.Entry{Name: name}
	switch info.Meta.Kind {
	case 0:
		info.Meta.Kind = wire.KindSocket // unknown types are replaced anyway
	case wire.KindSymlink:
		t, err := fsmeta.ReadlinkAt(dir.FD(), name, st.Size)
		if err != nil {
			return wire.Entry{}, fmt.Errorf("read symlink %q: %w", safefs.Join(dir.Path(), name), err)
		}
		info.Meta.Target = t
	case wire.KindRegular:
		e.Ino, e.Nlink = st.Ino, st.Nlink
		fallthrough
	case wire.KindDir:
		if xattrs {
			if e.XattrSum, err = xattrSumAt(dir, name, info.Meta.Kind == wire.KindDir); err != nil {
				return wire.Entry{}, err
			}
		}
	}
	e.Meta = info.Meta
	return e, nil
}

// xattrSumAt returns the digest of the compared extended attributes of
// the regular file or directory name in dir.
func xattrSumAt(dir *safefs.Dir, name string, isDir bool) ([]byte, error) {
	f, err := dir.Open(name, isDir)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var x []wire.Xattr
	err = safefs.AsOwner(f, func() (err error) {
		x, err = fsmeta.FileXattrs(f)
		return err
	})
	if err != nil {
		return nil, err
	}
	return fsmeta.XattrSum(x), nil
}

// ops applies directory-level operations in order and stops at the first
// failure.
func (s *session) ops(m *wire.Ops) wire.Message {
	for i := range m.Ops {
		op := &m.Ops[i]
		if err := s.op(op); err != nil {
			return s.toWire(err, op.Path, 0)
		}
	}
	return &wire.OK{}
}

func (s *session) op(op *wire.Op) error {
	if op.Path == safefs.RootPath && op.Kind == wire.OpAttrs {
		return s.rootAttrs(&op.Meta)
	}
	dir, name, err := s.srv.root.OpenParent(op.Path)
	if err != nil {
		return err
	}
	defer dir.Close()
	switch op.Kind {
	case wire.OpRemove:
		if err := dir.RemoveAll(name); err != nil {
			return err
		}
		s.stats.deleted.Add(1)
		return nil
	case wire.OpSymlink:
		if op.Meta.Kind != wire.KindSymlink {
			return fmt.Errorf("%w: symlink operation with %s metadata", errProtocol, op.Meta.Kind)
		}
		tmp, err := s.scratch.Symlink(op.Meta.Target, op.Path)
		if err != nil {
			return err
		}
		return s.place(dir, tmp, name, &op.Meta)
	case wire.OpSpecial:
		return s.special(dir, name, &op.Meta)
	case wire.OpAttrs:
		return s.attrs(dir, name, &op.Meta)
	case wire.OpLink:
		return s.link(dir, name, op.Target)
	}
	return fmt.Errorf("%w: unknown operation %d", errProtocol, op.Kind)
}

// place applies metadata to a freshly made scratch entry and renames it
// into place, removing it on failure.
func (s *session) place(dir *safefs.Dir, tmp, name string, m *wire.Meta) error {
	err := s.scratch.Apply(tmp, m, s.srv.chown)
	if err == nil {
		err = dir.Place(s.scratch, tmp, name)
	}
	if err != nil {
		_ = s.scratch.Remove(tmp)
	}
	return err
}

func (s *session) special(dir *safefs.Dir, name string, m *wire.Meta) error {
	switch m.Kind {
	case wire.KindFIFO, wire.KindCharDev, wire.KindBlockDev, wire.KindSocket:
	default:
		return fmt.Errorf("%w: special operation with %s metadata", errProtocol, m.Kind)
	}
	tmp, err := s.scratch.Mknod(fsmeta.TypeBits(m.Kind)|0o600, m.Rdev, safefs.Join(dir.Path(), name))
	if err != nil {
		return err
	}
	return s.place(dir, tmp, name, m)
}

// attrs updates an existing entry whose contents are already current.
func (s *session) attrs(dir *safefs.Dir, name string, m *wire.Meta) error {
	st, err := dir.Lstat(name)
	if err != nil {
		return fmt.Errorf("stat %q: %w", safefs.Join(dir.Path(), name), err)
	}
	if fsmeta.KindOf(st.Mode) != m.Kind {
		return fmt.Errorf("set attributes of %q: it is a %s, not a %s", safefs.Join(dir.Path(), name), fsmeta.KindOf(st.Mode), m.Kind)
	}
	if m.Kind != wire.KindRegular && m.Kind != wire.KindDir {
		return dir.Apply(name, m, nil, s.srv.chown)
	}
	f, err := dir.Open(name, true)
	if err != nil {
		return err
	}
	defer f.Close()
	return dir.Apply(name, m, f, s.srv.chown)
}

// link makes name a hardlink of the regular file target, unless it is one
// already.
func (s *session) link(dir *safefs.Dir, name, target string) error {
	tdir, tname, err := s.srv.root.OpenParent(target)
	if err != nil {
		return err
	}
	defer tdir.Close()
	tst, err := tdir.Lstat(tname)
	if err != nil || tst.Mode&unix.S_IFMT != unix.S_IFREG {
		return fmt.Errorf("%w: %q for %q", errNoTarget, target, safefs.Join(dir.Path(), name))
	}
	if st, err := dir.Lstat(name); err == nil && st.Ino == tst.Ino && st.Dev == tst.Dev {
		return nil
	}
	tmp, err := s.scratch.Link(tdir, tname, safefs.Join(dir.Path(), name))
	if err != nil {
		return err
	}
	if err := dir.Place(s.scratch, tmp, name); err != nil {
		_ = s.scratch.Remove(tmp)
		return err
	}
	return nil
}

// rootAttrs applies the source root's attributes to the destination root.
func (s *session) rootAttrs(m *wire.Meta) error {
	if m.Kind != wire.KindDir {
		return fmt.Errorf("%w: root attributes with %s metadata", errProtocol, m.Kind)
	}
	dir, err := s.srv.root.OpenDir(safefs.RootPath)
	if err != nil {
		return err
	}
	defer dir.Close()
	fd, err := unix.Openat(dir.FD(), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open root: %w", err)
	}
	f := os.NewFile(uintptr(fd), safefs.RootPath)
	defer f.Close()
	if !s.srv.chown && !dir.Mine() {
		// A receiver that is not root cannot change the mode, times or
		// attributes of a root it does not own (a volume's root made by
		// its provisioner, group-writable through fsGroup): the root
		// keeps its own.
		s.srv.log.Info("destination root not owned by the receiver: its mode and times are left as they are", "uid", os.Geteuid())
		return nil
	}
	return dir.Apply(".", m, f, s.srv.chown)
}
