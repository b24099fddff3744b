package mover

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

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

// walkDir syncs one directory: it makes sure the destination directory
// exists, compares the two listings, queues file transfers, sends the
// other operations, then recurses. Memory holds one directory's listings
// plus the names of pending subdirectories along the current path.
func (s *sender) walkDir(ctx context.Context, rel string, info fsmeta.Info) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	dest, err := s.listDest(rel, true)
	if err != nil {
		return fmt.Errorf("open destination directory %q: %w", rel, err)
	}
	names, err := s.sourceNames(rel)
	if errors.Is(err, fs.ErrNotExist) {
		s.warn("source directory vanished", rel, nil)
		return nil
	}
	if err != nil {
		return err
	}
	var ops opBatch
	var subs []subdir
	for _, name := range names {
		sub, err := s.walkEntry(ctx, rel, name, dest, &ops)
		if err != nil {
			return err
		}
		if sub != nil {
			subs = append(subs, *sub)
		}
	}
	s.addDeletes(rel, dest, &ops)
	if err := s.sendOps(&ops); err != nil {
		return err
	}
	for _, sub := range subs {
		if err := s.walkDir(ctx, sub.rel, sub.info); err != nil {
			return err
		}
	}
	return s.dirs.add(wire.Op{Kind: wire.OpAttrs, Path: rel, Meta: info.Meta})
}

// walkEntry handles one source entry; a directory is returned for later.
func (s *sender) walkEntry(ctx context.Context, dir, name string, dest map[string]wire.Entry, ops *opBatch) (*subdir, error) {
	rel := safefs.Join(dir, name)
	info, err := fsmeta.Lstat(s.sourcePath(rel))
	if errors.Is(err, fs.ErrNotExist) {
		s.warn("source entry vanished", rel, nil)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read source entry: %w", err)
	}
	if info.Meta.Kind == wire.KindDir && info.Dev != s.sourceFS {
		s.warn("skipping mount point", rel, nil)
		delete(dest, name)
		return nil, nil
	}
	have, ok := dest[name]
	delete(dest, name)
	var old *wire.Meta
	if ok {
		old = &have.Meta
	}
	switch info.Meta.Kind {
	case wire.KindDir:
		return &subdir{rel: rel, info: info}, nil
	case wire.KindRegular:
		return nil, s.syncFile(ctx, rel, info, old, ops)
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
	out := map[string]wire.Entry{}
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

// count scans the source concurrently to fill in the totals.
func (s *sender) count(ctx context.Context) {
	root := s.opts.Root
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			return nil
		}
		if d.IsDir() {
			if filepath.Dir(p) == filepath.Clean(root) && d.Name() == lostFound {
				return filepath.SkipDir
			}
			return nil
		}
		s.prog.filesTotal.Add(1)
		if d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				s.prog.bytesTotal.Add(fi.Size())
			}
		}
		return nil
	})
	if ctx.Err() == nil {
		s.prog.totalsFinal.Store(true)
	}
}
