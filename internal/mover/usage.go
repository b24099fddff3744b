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
	// Owners are the users and groups owning the most bytes, at most
	// MaxOwners, the largest first; the root directory is not counted
	// (a copy never changes the destination root's owner).
	Owners []Owner `json:"owners,omitempty"`
	// OtherOwners counts the owners not listed, OtherOwnerFiles their
	// entries.
	OtherOwners     int   `json:"otherOwners,omitempty"`
	OtherOwnerFiles int64 `json:"otherOwnerFiles,omitempty"`
	// NonRoot is the identity a non-root mover of this tree takes
	// (NonRootIdentity of the owners).
	NonRoot Identity `json:"nonRoot"`
	// Unreadable counts the regular files and directories that NonRoot
	// cannot read (by their mode bits, or because the walk itself, not
	// running as root, could not open a directory), UnreadableExample
	// names one of them. A non-root sender fails on them.
	Unreadable        int64  `json:"unreadable,omitempty"`
	UnreadableExample string `json:"unreadableExample,omitempty"`
}

// MeasureUsage walks the tree at root with the sync's own walk rules and
// returns the space it takes, its owners and what a non-root mover could
// not read. It reads metadata only. Running as non-root, it counts the
// directories it cannot open as unreadable and goes on without them.
func MeasureUsage(ctx context.Context, root string) (Usage, error) {
	dir, info, err := openRoot(root)
	if err != nil {
		return Usage{}, err
	}
	defer dir.Close()
	w := &usageWalk{fs: info.Dev, seen: map[uint64]bool{}, owners: newOwnerTally()}
	w.count(&info, safefs.RootPath, false)
	if err := w.walk(ctx, dir, safefs.RootPath); err != nil {
		return Usage{}, err
	}
	w.finish()
	return w.u, nil
}

// finish sets the owners and what the non-root identity cannot read.
func (w *usageWalk) finish() {
	w.u.Owners, w.u.OtherOwners, w.u.OtherOwnerFiles = w.owners.top()
	all := make([]Owner, 0, len(w.owners.owners))
	for _, o := range w.owners.owners {
		all = append(all, *o)
	}
	w.u.NonRoot = NonRootIdentity(all)
	w.u.Unreadable, w.u.UnreadableExample = w.owners.unreadable(w.u.NonRoot)
	defer func() { w.u.UnreadableExample = clipPath(w.u.UnreadableExample) }()
	for _, d := range w.denied {
		a, _ := accessOf(&fsmeta.Info{Meta: wire.Meta{Kind: wire.KindDir, Mode: d.mode}})
		if !a.readableBy(d.owner, w.u.NonRoot) {
			continue // counted by its mode bits already
		}
		w.u.Unreadable++
		if w.u.UnreadableExample == "" || d.rel < w.u.UnreadableExample {
			w.u.UnreadableExample = d.rel
		}
	}
}

// usageWalk is one MeasureUsage walk: the source file system, the
// inodes of hard-linked files counted so far, the sums and the owners.
type usageWalk struct {
	fs     uint64
	seen   map[uint64]bool
	u      Usage
	owners *ownerTally
	denied []deniedDir
}

// count adds one entry at rel, a hard-linked file only the first time;
// owned says whether it counts among the owners.
func (w *usageWalk) count(info *fsmeta.Info, rel string, owned bool) {
	if info.Meta.Kind != wire.KindDir && info.Nlink > 1 {
		if w.seen[info.Ino] {
			return
		}
		w.seen[info.Ino] = true
	}
	w.u.Inodes++
	w.u.Bytes += info.Blocks * 512
	w.owners.add(info, rel, owned)
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
		w.count(&info, safefs.Join(rel, name), true)
		if info.Meta.Kind == wire.KindDir {
			if err := w.walkSub(ctx, dir, safefs.Join(rel, name), name, &info); err != nil {
				return err
			}
		}
	}
	return nil
}

// walkSub opens the subdirectory name of parent without following a
// symlink and walks it; one that vanished or changed type is skipped.
func (w *usageWalk) walkSub(ctx context.Context, parent *os.File, rel, name string, info *fsmeta.Info) error {
	fd, err := unix.Openat(int(parent.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR):
		w.u.Skipped++
		return nil
	case errors.Is(err, unix.EACCES):
		w.denied = append(w.denied, deniedDir{rel: rel, owner: Identity{UID: info.Meta.UID, GID: info.Meta.GID}, mode: info.Meta.Mode})
		return nil
	case err != nil:
		return fmt.Errorf("open source directory %s: %w", rel, err)
	}
	dir := os.NewFile(uintptr(fd), rel)
	defer dir.Close()
	return w.walk(ctx, dir, rel)
}

// deniedDir is a directory a walk not running as root could not open.
type deniedDir struct {
	rel   string
	owner Identity
	mode  uint32
}

// maxExamplePath is the most bytes of an example path a usage report
// carries: the report travels in a pod's termination message (4 KiB).
const maxExamplePath = 256

// clipPath shortens a path to maxExamplePath bytes, keeping its start.
func clipPath(p string) string {
	if len(p) <= maxExamplePath {
		return p
	}
	return p[:maxExamplePath-3] + "..."
}
