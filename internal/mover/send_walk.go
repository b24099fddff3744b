package mover

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// maxOpsBytes bounds the encoded size of one Ops request.
const maxOpsBytes = 1 << 20

// subdir is a source directory waiting to be walked; in verification,
// with the digest of the destination directory's extended attributes.
type subdir struct {
	rel      string
	info     fsmeta.Info
	xattrSum []byte
}

// srcEntry is one source directory entry, read while the receiver lists
// the destination directory.
type srcEntry struct {
	name string
	info fsmeta.Info
	err  error
}

// walkDir syncs one directory, open as dir (owned by the caller): it
// makes sure the destination directory exists, compares the two
// listings, queues file transfers, sends the other operations, then
// recurses. The destination listing is requested first and the source
// read while the receiver works on it. Memory holds one directory's
// listings plus the names of pending subdirectories along the current
// path; the walk holds one descriptor per level, its ancestors', and
// every source entry is reached by a single name relative to its open
// parent, so nothing on the way can be swapped for a symlink.
func (s *sender) walkDir(ctx context.Context, dir *os.File, rel string, info fsmeta.Info) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.ctrl.Send(&wire.OpenDir{Path: rel, Create: true}); err != nil {
		return fmt.Errorf("open destination directory %q: %w", rel, err)
	}
	entries, srcErr := s.readSource(dir, rel)
	dest, err := s.recvListing()
	if err != nil {
		return fmt.Errorf("open destination directory %q: %w", rel, err)
	}
	if srcErr != nil {
		return srcErr
	}
	subs, err := s.walkEntries(ctx, dir, rel, entries, dest)
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if err := s.walkSub(ctx, dir, sub); err != nil {
			return err
		}
	}
	return s.dirs.add(wire.Op{Kind: wire.OpAttrs, Path: rel, Meta: info.Meta})
}

// walkSub opens the listed subdirectory sub of parent and walks it.
func (s *sender) walkSub(ctx context.Context, parent *os.File, sub subdir) error {
	dir, err := s.openSubdir(parent, &sub)
	if err != nil || dir == nil {
		return err
	}
	defer dir.Close()
	return s.walkDir(ctx, dir, sub.rel, sub.info)
}

// openSubdir opens the subdirectory sub of parent by its name, without
// following a symlink, checks that it is still the directory that was
// listed and reads its extended attributes into sub.info. A directory
// that vanished, changed type or was replaced gives a warning and nil.
func (s *sender) openSubdir(parent *os.File, sub *subdir) (*os.File, error) {
	_, name := safefs.Split(sub.rel)
	fd, err := unix.Openat(int(parent.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ENOENT):
		s.warn("source entry vanished", sub.rel, nil)
		return nil, nil
	case errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR):
		s.warn("source entry changed type", sub.rel, nil)
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("open source directory %s: %w", sub.rel, err)
	}
	dir := os.NewFile(uintptr(fd), sub.rel)
	if !sameInode(dir, &sub.info) {
		dir.Close()
		s.warn("source entry replaced during sync", sub.rel, nil)
		return nil, nil
	}
	if sub.info.Meta.Xattrs, err = fsmeta.FileXattrs(dir); err != nil {
		dir.Close()
		return nil, fmt.Errorf("read source directory %s: %w", sub.rel, err)
	}
	return dir, nil
}

// sameInode reports whether the open file f is still the entry that the
// walk listed as info: same device, same inode, same type.
func sameInode(f *os.File, info *fsmeta.Info) bool {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return st.Dev == info.Dev && st.Ino == info.Ino && fsmeta.KindOf(st.Mode) == info.Meta.Kind
}

// openRoot opens the source root, which the operator names and which may
// lie behind symlinks, and reads its metadata.
func openRoot(path string) (*os.File, fsmeta.Info, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fsmeta.Info{}, fmt.Errorf("open source root: %w", &os.PathError{Op: "open", Path: path, Err: err})
	}
	f := os.NewFile(uintptr(fd), path)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		f.Close()
		return nil, fsmeta.Info{}, fmt.Errorf("read source root %s: %w", path, err)
	}
	info := fsmeta.FromStat(&st)
	if info.Meta.Xattrs, err = fsmeta.FileXattrs(f); err != nil {
		f.Close()
		return nil, fsmeta.Info{}, fmt.Errorf("read source root: %w", err)
	}
	return f, info, nil
}

// readSource reads the entries of the open source directory dir and their
// metadata, sorted by name, without what dirNames leaves out.
func (s *sender) readSource(dir *os.File, rel string) ([]srcEntry, error) {
	names, err := dirNames(dir, rel)
	if err != nil {
		return nil, err
	}
	entries := make([]srcEntry, 0, len(names))
	for _, name := range names {
		info, err := fsmeta.StatAt(dir, name)
		if err == nil {
			s.prog.found(&info)
		}
		entries = append(entries, srcEntry{name: name, info: info, err: err})
	}
	return entries, nil
}

// walkEntries handles one directory's entries and returns its
// subdirectories, to be walked next.
func (s *sender) walkEntries(ctx context.Context, dir *os.File, rel string, entries []srcEntry, dest map[string]wire.Entry) ([]subdir, error) {
	var ops opBatch
	var subs []subdir
	if rel == safefs.RootPath && len(dest) == 0 {
		s.moves.off = true // a first sync: nothing was moved
	}
	bases := s.renameBases(rel, entries, dest)
	for i := range entries {
		sub, err := s.walkEntry(ctx, dir, rel, &entries[i], dest, bases[entries[i].name], &ops)
		if err != nil {
			return nil, err
		}
		if sub != nil {
			subs = append(subs, *sub)
		}
	}
	if err := s.addLeftovers(ctx, rel, dest, &ops); err != nil {
		return nil, err
	}
	return subs, s.sendOps(&ops)
}

// walkEntry handles one source entry; a directory is returned for later.
// basis is the destination file a new large file is sent against, or "".
func (s *sender) walkEntry(ctx context.Context, dir *os.File, dirRel string, e *srcEntry, dest map[string]wire.Entry, basis string, ops *opBatch) (*subdir, error) {
	rel := safefs.Join(dirRel, e.name)
	info := e.info
	if len(rel) > safefs.MaxPath {
		return nil, pathTooLong(s.log, rel)
	}
	if errors.Is(e.err, fs.ErrNotExist) {
		s.warn("source entry vanished", rel, nil)
		return nil, nil
	}
	if errors.Is(e.err, fsmeta.ErrChangedType) {
		s.warn("source entry changed type", rel, nil)
		return nil, nil
	}
	if e.err != nil {
		return nil, fmt.Errorf("read source entry: %w", e.err)
	}
	if info.Meta.Kind == wire.KindDir && info.Dev != s.sourceFS {
		s.warn("skipping mount point", rel, nil)
		delete(dest, e.name)
		return nil, nil
	}
	have, ok := dest[e.name]
	delete(dest, e.name)
	var old *wire.Meta
	var listed *wire.Entry
	if ok {
		old, listed = &have.Meta, &have
	}
	switch info.Meta.Kind {
	case wire.KindDir:
		return &subdir{rel: rel, info: info}, nil
	case wire.KindRegular:
		return nil, s.syncFile(ctx, srcFile{dir: dir, name: e.name, rel: rel}, info, listed, basis, ops)
	case wire.KindSymlink:
		s.syncOther(rel, info, old, wire.OpSymlink, ops)
	default:
		s.syncSpecial(rel, info, old, ops)
	}
	return nil, nil
}

func (s *sender) syncOther(rel string, info fsmeta.Info, old *wire.Meta, kind wire.OpKind, ops *opBatch) {
	s.prog.filesDone.Add(1)
	if old != nil && s.sameEntry(&info.Meta, old) {
		s.prog.skipped.Add(1)
		return
	}
	ops.add(wire.Op{Kind: kind, Path: rel, Meta: info.Meta})
}

func (s *sender) syncSpecial(rel string, info fsmeta.Info, old *wire.Meta, ops *opBatch) {
	dev := info.Meta.Kind == wire.KindCharDev || info.Meta.Kind == wire.KindBlockDev
	if dev && !s.chown {
		s.prog.filesDone.Add(1)
		s.warn("skipping device node: the receiver does not run as root", rel, nil)
		return
	}
	s.syncOther(rel, info, old, wire.OpSpecial, ops)
}

// sameEntry reports whether a destination entry already matches the
// source in everything a listing shows.
func (s *sender) sameEntry(src, dst *wire.Meta) bool {
	return src.Kind == dst.Kind && src.Mtime == dst.Mtime && src.Target == dst.Target &&
		src.Rdev == dst.Rdev && (src.Kind == wire.KindSymlink || src.Mode == dst.Mode) &&
		(src.Kind != wire.KindRegular || src.Size == dst.Size) && s.sameOwner(src, dst)
}

func (s *sender) sameOwner(src, dst *wire.Meta) bool {
	return !s.chown || (src.UID == dst.UID && src.GID == dst.GID)
}

// addLeftovers handles what is left of the destination listing, the
// entries the source no longer has: large files go to move detection
// (send_move.go), the others are removed with Delete.
func (s *sender) addLeftovers(ctx context.Context, dir string, dest map[string]wire.Entry, ops *opBatch) error {
	names := make([]string, 0, len(dest))
	for name := range dest {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		e, p := dest[name], safefs.Join(dir, name)
		taken, err := s.offerGone(ctx, p, &e)
		if err != nil {
			return err
		}
		if !taken && s.opts.Delete {
			ops.add(wire.Op{Kind: wire.OpRemove, Path: p})
		}
	}
	return nil
}

// dirNames lists the open source directory rel, sorted, without
// lost+found and the mover's reserved directory at the root.
func dirNames(f *os.File, rel string) ([]string, error) {
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list source directory %s: %w", rel, err)
	}
	out := names[:0]
	for _, n := range names {
		if hiddenAtRoot(rel, n) {
			continue
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// listForVerify reads a destination listing, with the digests of
// extended attributes, into a map by name.
func (s *sender) listForVerify(rel string) (map[string]wire.Entry, error) {
	if err := s.ctrl.Send(&wire.OpenDir{Path: rel, Xattrs: true}); err != nil {
		return nil, err
	}
	return s.recvListing()
}

// recvListing reads the reply to an OpenDir request into a map by name,
// within the bounds of listingBudget.
func (s *sender) recvListing() (map[string]wire.Entry, error) {
	out := map[string]wire.Entry{}
	budget := newListingBudget()
	for {
		m, err := recvReply(s.ctrl)
		if err != nil {
			return nil, err
		}
		list, ok := m.(*wire.DirList)
		if !ok {
			return nil, fmt.Errorf("%w: listing reply of type %d", errProtocol, m.Type())
		}
		for _, e := range list.Entries {
			if err := budget.charge(&e); err != nil {
				return nil, err
			}
			out[e.Name] = e
		}
		if !list.More {
			return out, nil
		}
	}
}

// opBatch collects operations for one Ops request.
type opBatch struct {
	ops []wire.Op
}

func (b *opBatch) add(op wire.Op) { b.ops = append(b.ops, op) }

// opSize estimates the encoded size of an operation.
func opSize(op *wire.Op) int {
	n := 64 + len(op.Path) + len(op.Target) + len(op.Meta.Target)
	for _, x := range op.Meta.Xattrs {
		n += 16 + len(x.Name) + len(x.Value)
	}
	return n
}

// sendOps sends the collected operations on the control connection, in
// requests of bounded size, and counts deletions.
func (s *sender) sendOps(b *opBatch) error {
	for len(b.ops) > 0 {
		n, size := 0, 0
		for n < len(b.ops) && (n == 0 || size < maxOpsBytes) {
			size += opSize(&b.ops[n])
			n++
		}
		if _, err := s.control(&wire.Ops{Ops: b.ops[:n]}); err != nil {
			return fmt.Errorf("apply operations: %w", err)
		}
		for _, op := range b.ops[:n] {
			if op.Kind == wire.OpRemove {
				s.prog.deleted.Add(1)
			}
		}
		b.ops = b.ops[n:]
	}
	*b = opBatch{}
	return nil
}

// count scans the source to estimate the totals while the walk is still
// far behind. It stops when the walk has found everything. Like the walk
// it goes by descriptor, so a swapped directory cannot make it count
// what lies outside the source.
func (s *sender) count(ctx context.Context, rootDir *os.File) {
	fd, err := unix.Openat(int(rootDir.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	root := os.NewFile(uintptr(fd), rootDir.Name())
	defer root.Close()
	c := &counter{s: s, ctx: ctx}
	if c.dir(root, safefs.RootPath) {
		s.prog.estimate(c.files, c.bytes, true)
	}
}

// counter is the state of the totals scan.
type counter struct {
	s            *sender
	ctx          context.Context
	files, bytes int64
}

// dir counts what lies in the open directory dir, at rel; it reports
// false when the scan was stopped.
func (c *counter) dir(dir *os.File, rel string) bool {
	names, err := dirNames(dir, rel)
	if err != nil {
		return true // the walk reports it
	}
	for _, name := range names {
		if c.ctx.Err() != nil || c.s.prog.totalsFinal.Load() {
			return false
		}
		var st unix.Stat_t
		if err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			continue
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			if st.Dev != c.s.sourceFS {
				continue // a mount point, which the walk skips
			}
			if !c.sub(dir, safefs.Join(rel, name), name) {
				return false
			}
			continue
		case unix.S_IFREG:
			c.bytes += st.Size
		}
		if c.files++; c.files%1024 == 0 {
			c.s.prog.estimate(c.files, c.bytes, false)
		}
	}
	return true
}

func (c *counter) sub(parent *os.File, rel, name string) bool {
	if len(rel) > safefs.MaxPath {
		return true // the walk fails on it
	}
	fd, err := unix.Openat(int(parent.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return true
	}
	dir := os.NewFile(uintptr(fd), rel)
	defer dir.Close()
	return c.dir(dir, rel)
}
