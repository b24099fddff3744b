package mover

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// maxOpsBytes bounds the encoded size of one Ops request.
const maxOpsBytes = 1 << 20

// subdir is a source directory waiting to be walked.
type subdir struct {
	rel  string
	info fsmeta.Info
}

// srcEntry is one source directory entry, read while the receiver lists
// the destination directory.
type srcEntry struct {
	name string
	info fsmeta.Info
	err  error
}

// walkDir syncs one directory: it makes sure the destination directory
// exists, compares the two listings, queues file transfers, sends the
// other operations, then recurses. The destination listing is requested
// first and the source read while the receiver works on it. Memory holds
// one directory's listings plus the names of pending subdirectories along
// the current path.
func (s *sender) walkDir(ctx context.Context, rel string, info fsmeta.Info) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.ctrl.Send(&wire.OpenDir{Path: rel, Create: true}); err != nil {
		return fmt.Errorf("open destination directory %q: %w", rel, err)
	}
	dir, entries, srcErr := s.readSource(rel)
	defer func() {
		if dir != nil {
			dir.Close()
		}
	}()
	dest, err := s.recvListing()
	if err != nil {
		return fmt.Errorf("open destination directory %q: %w", rel, err)
	}
	if errors.Is(srcErr, fs.ErrNotExist) {
		s.warn("source directory vanished", rel, nil)
		return nil
	}
	if srcErr != nil {
		return srcErr
	}
	subs, err := s.walkEntries(ctx, dir, rel, entries, dest)
	dir.Close() // one descriptor per level of the walk
	dir = nil
	if err != nil {
		return err
	}
	for _, sub := range subs {
		if err := s.walkDir(ctx, sub.rel, sub.info); err != nil {
			return err
		}
	}
	return s.dirs.add(wire.Op{Kind: wire.OpAttrs, Path: rel, Meta: info.Meta})
}

// readSource opens a source directory and reads its entries' metadata,
// sorted by name, without lost+found at the root.
func (s *sender) readSource(rel string) (*os.File, []srcEntry, error) {
	dir, err := os.OpenFile(s.sourcePath(rel), os.O_RDONLY|syscall.O_DIRECTORY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open source directory: %w", err)
	}
	names, err := dirNames(dir, rel)
	if err != nil {
		dir.Close()
		return nil, nil, err
	}
	entries := make([]srcEntry, 0, len(names))
	for _, name := range names {
		info, err := fsmeta.StatAt(dir, name)
		if err == nil {
			s.prog.found(&info)
		}
		entries = append(entries, srcEntry{name: name, info: info, err: err})
	}
	return dir, entries, nil
}

// walkEntries handles one directory's entries and returns its
// subdirectories, to be walked next.
func (s *sender) walkEntries(ctx context.Context, dir *os.File, rel string, entries []srcEntry, dest map[string]wire.Entry) ([]subdir, error) {
	var ops opBatch
	var subs []subdir
	for i := range entries {
		sub, err := s.walkEntry(ctx, dir, rel, &entries[i], dest, &ops)
		if err != nil {
			return nil, err
		}
		if sub != nil {
			subs = append(subs, *sub)
		}
	}
	s.addDeletes(rel, dest, &ops)
	return subs, s.sendOps(&ops)
}

// walkEntry handles one source entry; a directory is returned for later.
func (s *sender) walkEntry(ctx context.Context, dir *os.File, dirRel string, e *srcEntry, dest map[string]wire.Entry, ops *opBatch) (*subdir, error) {
	rel := safefs.Join(dirRel, e.name)
	info := e.info
	if errors.Is(e.err, fs.ErrNotExist) {
		s.warn("source entry vanished", rel, nil)
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
	if ok {
		old = &have.Meta
	}
	switch info.Meta.Kind {
	case wire.KindDir:
		return &subdir{rel: rel, info: info}, nil
	case wire.KindRegular:
		return nil, s.syncFile(ctx, srcFile{dir: dir, name: e.name, rel: rel}, info, old, ops)
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

// addDeletes removes, with Delete, what is left of the destination listing.
func (s *sender) addDeletes(dir string, dest map[string]wire.Entry, ops *opBatch) {
	if !s.opts.Delete {
		return
	}
	names := make([]string, 0, len(dest))
	for name := range dest {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		ops.add(wire.Op{Kind: wire.OpRemove, Path: safefs.Join(dir, name)})
	}
}

// sourceNames lists a source directory, sorted, without lost+found at
// the root.
func (s *sender) sourceNames(rel string) ([]string, error) {
	f, err := os.Open(s.sourcePath(rel))
	if err != nil {
		return nil, fmt.Errorf("open source directory: %w", err)
	}
	defer f.Close()
	return dirNames(f, rel)
}

// dirNames lists the open source directory rel, sorted, without
// lost+found at the root.
func dirNames(f *os.File, rel string) ([]string, error) {
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("list source directory %s: %w", f.Name(), err)
	}
	out := names[:0]
	for _, n := range names {
		if rel == safefs.RootPath && n == lostFound {
			continue
		}
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

// listDest reads a destination listing into a map by name.
func (s *sender) listDest(rel string, create bool) (map[string]wire.Entry, error) {
	if err := s.ctrl.Send(&wire.OpenDir{Path: rel, Create: create}); err != nil {
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
// far behind. It stops when the walk has found everything.
func (s *sender) count(ctx context.Context) {
	root := filepath.Clean(s.opts.Root)
	var files, bytes int64
	n := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil || s.prog.totalsFinal.Load() {
			return filepath.SkipAll
		}
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if filepath.Dir(p) == root && d.Name() == lostFound {
				return filepath.SkipDir
			}
			return nil
		}
		files++
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				bytes += fi.Size()
			}
		}
		if n++; n%1024 == 0 {
			s.prog.estimate(files, bytes, false)
		}
		return nil
	})
	if err == nil && ctx.Err() == nil {
		s.prog.estimate(files, bytes, true)
	}
}
