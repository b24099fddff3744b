package mover

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"sync/atomic"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// hashBatch is how many files one HashFiles request names;
// hashBatchDirs bounds how many directories its files lie in, since each
// stays open until the request is answered.
const (
	hashBatch     = 256
	hashBatchDirs = 64
)

// verifier walks source and destination again, comparing metadata and
// BLAKE3 sums of every regular file. Like the transfer it walks the source
// by descriptor.
type verifier struct {
	s     *sender
	g     *errgroup.Group
	ctx   context.Context
	mu    sync.Mutex
	err   VerifyError
	links linkGroups
	batch []hashItem
	dirs  int // distinct directories in batch
}

// hashItem is a file waiting for its destination sum: its name in dir,
// which the item keeps open.
type hashItem struct {
	dir      *srcDir
	name     string
	rel      string
	info     fsmeta.Info
	xattrSum []byte // of the destination file
}

// srcDir is an open source directory shared by the walk and the pending
// hash requests; it is closed when the last of them releases it.
type srcDir struct {
	f    *os.File
	refs atomic.Int32
}

func newSrcDir(f *os.File) *srcDir {
	d := &srcDir{f: f}
	d.refs.Store(1)
	return d
}

func (d *srcDir) retain() { d.refs.Add(1) }

func (d *srcDir) release() {
	if d.refs.Add(-1) == 0 {
		d.f.Close()
	}
}

// verify returns a *VerifyError listing every path that differs.
func (s *sender) verify(ctx context.Context, rootDir *os.File) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2 * s.opts.Parallel)
	v := &verifier{s: s, g: g, ctx: gctx}
	// A new descriptor of the root: the transfer read the old one's
	// listing to its end.
	fd, err := unix.Openat(int(rootDir.Fd()), ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err == nil {
		err = v.dir(newSrcDir(os.NewFile(uintptr(fd), rootDir.Name())), safefs.RootPath)
	} else {
		err = fmt.Errorf("open source root: %w", err)
	}
	v.flush()
	if werr := g.Wait(); werr != nil {
		return fmt.Errorf("verify: %w", werr)
	}
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	if len(v.err.Paths) > 0 {
		sort.Strings(v.err.Paths)
		return &v.err
	}
	return nil
}

// dir compares the source directory d, at rel, and what lies below it;
// it releases d.
func (v *verifier) dir(d *srcDir, rel string) error {
	defer d.release()
	if err := v.ctx.Err(); err != nil {
		return err
	}
	dest, err := v.s.listForVerify(rel)
	if err != nil {
		return fmt.Errorf("list destination directory %q: %w", rel, err)
	}
	names, err := dirNames(d.f, rel)
	if err != nil {
		return err
	}
	var subs []subdir
	for _, name := range names {
		p := safefs.Join(rel, name)
		e, ok := dest[name]
		delete(dest, name)
		if info, isDir := v.entry(d, name, p, e, ok); isDir {
			subs = append(subs, subdir{rel: p, info: info, xattrSum: e.XattrSum})
		}
	}
	if v.s.opts.Delete {
		for name := range dest {
			v.mismatch(safefs.Join(rel, name), nil, "not on source")
		}
	}
	for _, sub := range subs {
		if err := v.sub(d, sub); err != nil {
			return err
		}
	}
	return nil
}

// sub opens the listed subdirectory sub of parent and compares it.
func (v *verifier) sub(parent *srcDir, sub subdir) error {
	_, name := safefs.Split(sub.rel)
	fd, err := unix.Openat(int(parent.f.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		v.s.warn("source entry vanished during verification", sub.rel, err)
		return nil
	}
	f := os.NewFile(uintptr(fd), sub.rel)
	if !sameInode(f, &sub.info) {
		f.Close()
		v.s.warn("source entry changed during sync", sub.rel, nil)
		return nil
	}
	v.compareXattrs(f, sub.rel, &sub.info, sub.xattrSum)
	return v.dir(newSrcDir(f), sub.rel)
}

// entry compares the entry name of d, at p, and returns its metadata and
// whether it is a directory to descend into.
func (v *verifier) entry(d *srcDir, name, p string, e wire.Entry, ok bool) (fsmeta.Info, bool) {
	info, err := fsmeta.StatAt(d.f, name)
	if err != nil {
		v.s.warn("source entry vanished during verification", p, err)
		return info, false
	}
	m := &info.Meta
	if (m.Kind == wire.KindDir && info.Dev != v.s.sourceFS) ||
		((m.Kind == wire.KindCharDev || m.Kind == wire.KindBlockDev) && !v.s.chown) {
		return info, false // skipped by the transfer with a warning
	}
	if !ok {
		v.mismatch(p, &info, "missing on destination")
		return info, false
	}
	if diff := v.s.differs(m, &e.Meta); diff != "" {
		v.mismatch(p, &info, diff)
		return info, false
	}
	switch m.Kind {
	case wire.KindDir:
		return info, true
	case wire.KindRegular:
		if diff := v.links.check(&info, &e); diff != "" {
			v.mismatch(p, &info, diff)
			return info, false
		}
		v.add(hashItem{dir: d, name: name, rel: p, info: info, xattrSum: e.XattrSum})
	}
	return info, false
}

// linkGroups checks, during verification, that files share an inode on
// the destination exactly where they share one on the source.
type linkGroups struct {
	dst map[inode]uint64 // source file -> destination inode
	src map[uint64]inode // destination inode -> source file
}

// check records the regular file info, listed on the destination as e,
// and describes how its links differ, or returns "".
func (g *linkGroups) check(info *fsmeta.Info, e *wire.Entry) string {
	if info.Nlink < 2 && e.Nlink < 2 {
		return ""
	}
	if g.dst == nil {
		g.dst, g.src = map[inode]uint64{}, map[uint64]inode{}
	}
	key := inode{info.Dev, info.Ino}
	if ino, ok := g.dst[key]; ok && ino != e.Ino {
		return "not hardlinked to its source's other links"
	}
	if other, ok := g.src[e.Ino]; ok && other != key {
		return "hardlinked to a file it is not linked to on the source"
	}
	g.dst[key], g.src[e.Ino] = e.Ino, key
	return ""
}

// compareXattrs compares the extended attributes of the open source entry
// f with the digest the destination listed.
func (v *verifier) compareXattrs(f *os.File, rel string, info *fsmeta.Info, want []byte) {
	x, err := fsmeta.FileXattrs(f)
	if err != nil {
		v.s.warn("source attributes unreadable during verification", rel, err)
		return
	}
	if !bytes.Equal(fsmeta.XattrSum(x), want) {
		v.mismatch(rel, info, "extended attributes or ACLs differ")
	}
}

// add queues a file for comparison by sum, keeping its directory open.
func (v *verifier) add(it hashItem) {
	if n := len(v.batch); n == 0 || v.batch[n-1].dir != it.dir {
		v.dirs++
	}
	it.dir.retain()
	v.batch = append(v.batch, it)
	if len(v.batch) >= hashBatch || v.dirs >= hashBatchDirs {
		v.flush()
	}
}

// differs names the first listed attribute that differs, or returns "".
func (s *sender) differs(src, dst *wire.Meta) string {
	switch {
	case src.Kind != dst.Kind:
		return fmt.Sprintf("type %s, want %s", dst.Kind, src.Kind)
	case src.Kind != wire.KindSymlink && src.Mode != dst.Mode:
		return fmt.Sprintf("mode %#o, want %#o", dst.Mode, src.Mode)
	case src.Kind == wire.KindRegular && src.Size != dst.Size:
		return fmt.Sprintf("size %d, want %d", dst.Size, src.Size)
	case src.Mtime != dst.Mtime:
		return fmt.Sprintf("mtime %d, want %d", dst.Mtime, src.Mtime)
	case src.Target != dst.Target:
		return fmt.Sprintf("symlink target %q, want %q", dst.Target, src.Target)
	case src.Rdev != dst.Rdev:
		return "device number differs"
	case !s.sameOwner(src, dst):
		return fmt.Sprintf("owner %d:%d, want %d:%d", dst.UID, dst.GID, src.UID, src.GID)
	}
	return ""
}

// mismatch records a difference, unless the source entry changed after
// the sync started: then it is a warning about a live source.
func (v *verifier) mismatch(p string, info *fsmeta.Info, reason string) {
	if info != nil && info.Ctime >= v.s.prog.start.UnixNano() {
		v.s.warn("source entry changed during sync", p, nil)
		return
	}
	v.s.log.Error("destination differs from source", "path", p, "reason", reason)
	v.mu.Lock()
	defer v.mu.Unlock()
	v.err.add(p)
}

// flush compares the sums of the batched files on a data connection.
func (v *verifier) flush() {
	items := v.batch
	v.batch, v.dirs = nil, 0
	if len(items) == 0 {
		return
	}
	v.g.Go(func() error {
		defer func() {
			for _, it := range items {
				it.dir.release()
			}
		}()
		paths := make([]string, len(items))
		for i, it := range items {
			paths[i] = it.rel
		}
		var remote [][]byte
		err := v.s.withConn(v.ctx, func(c *wire.Conn) error {
			m, err := roundTrip(c, &wire.HashFiles{Paths: paths})
			if err != nil {
				return err
			}
			h, ok := m.(*wire.Hashes)
			if !ok || len(h.Sums) != len(paths) {
				return fmt.Errorf("%w: bad hashes reply", errProtocol)
			}
			remote = h.Sums
			return nil
		})
		if err != nil {
			return err
		}
		for i, it := range items {
			v.compareSum(it, remote[i])
		}
		return nil
	})
}

func (v *verifier) compareSum(it hashItem, remote []byte) {
	fd, err := unix.Openat(int(it.dir.f.Fd()), it.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		v.s.warn("source entry vanished during verification", it.rel, err)
		return
	}
	f := os.NewFile(uintptr(fd), it.rel)
	defer f.Close()
	local, err := fileSum(f)
	if err != nil {
		v.s.warn("source file unreadable during verification", it.rel, err)
		return
	}
	if !unchanged(f, it.info) {
		v.s.warn("source entry changed during sync", it.rel, nil)
		return
	}
	if !bytes.Equal(local, remote) {
		v.mismatch(it.rel, &it.info, "content checksum differs")
		return
	}
	v.compareXattrs(f, it.rel, &it.info, it.xattrSum)
}
