package mover

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// Usage is the space a source tree takes, counted as a sync sees it: the
// entries a sync copies (not lost+found or the mover's reserved directory
// at the root, nothing on another file system), hard links once.
type Usage struct {
	// Bytes is the space allocated to the entries (st_blocks × 512, as du
	// counts it). It is what a copy needs on the destination: a sync sends
	// data extents only and keeps holes, so a sparse file costs its
	// allocated size there too, not its apparent size.
	Bytes int64 `json:"bytes"`
	// ApparentBytes is the sum of the regular files' and symlinks' sizes.
	ApparentBytes int64 `json:"apparentBytes"`
	// Inodes counts the entries, the root included, each hard-linked
	// file once.
	Inodes int64 `json:"inodes"`
	// Skipped counts the entries that vanished or changed type during
	// the walk, and mount points: they are not counted.
	Skipped int64 `json:"skipped"`
}

// MeasureUsage walks the tree at root with the sync's own walk rules and
// returns the space it takes. It reads metadata only.
func MeasureUsage(ctx context.Context, root string) (Usage, error) {
	dir, info, err := openRoot(root)
	if err != nil {
		return Usage{}, err
	}
	defer dir.Close()
	w := &usageWalk{fs: info.Dev, seen: map[uint64]bool{}}
	w.count(&info)
	if err := w.walk(ctx, dir, safefs.RootPath); err != nil {
		return Usage{}, err
	}
	return w.u, nil
}

// usageWalk is one MeasureUsage walk: the source file system, the
// inodes of hard-linked files counted so far and the sums.
type usageWalk struct {
	fs   uint64
	seen map[uint64]bool
	u    Usage
}

// count adds one entry, a hard-linked file only the first time.
func (w *usageWalk) count(info *fsmeta.Info) {
	if info.Meta.Kind != wire.KindDir && info.Nlink > 1 {
		if w.seen[info.Ino] {
			return
		}
		w.seen[info.Ino] = true
	}
	w.u.Inodes++
	w.u.Bytes += info.Blocks * 512
	if info.Meta.Kind == wire.KindRegular || info.Meta.Kind == wire.KindSymlink {
		w.u.ApparentBytes += info.Meta.Size
	}
}

// walk counts the entries of the open directory dir and recurses into
// its subdirectories, each opened by name relative to its parent.
func (w *usageWalk) walk(ctx context.Context, dir *os.File, rel string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	names, err := dirNames(dir, rel)
	if err != nil {
		return err
	}
	for _, name := range names {
		info, err := fsmeta.StatAt(dir, name)
		switch {
		case errors.Is(err, fs.ErrNotExist) || errors.Is(err, fsmeta.ErrChangedType):
			w.u.Skipped++
			continue
		case err != nil:
			return fmt.Errorf("read source entry: %w", err)
		case info.Meta.Kind == wire.KindDir && info.Dev != w.fs:
			w.u.Skipped++ // a mount point, which a sync skips too
			continue
		}
		w.count(&info)
		if info.Meta.Kind == wire.KindDir {
			if err := w.walkSub(ctx, dir, safefs.Join(rel, name), name); err != nil {
				return err
			}
		}
	}
	return nil
}

// walkSub opens the subdirectory name of parent without following a
// symlink and walks it; one that vanished or changed type is skipped.
func (w *usageWalk) walkSub(ctx context.Context, parent *os.File, rel, name string) error {
	fd, err := unix.Openat(int(parent.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR):
		w.u.Skipped++
		return nil
	case err != nil:
		return fmt.Errorf("open source directory %s: %w", rel, err)
	}
	dir := os.NewFile(uintptr(fd), rel)
	defer dir.Close()
	return w.walk(ctx, dir, rel)
}
