package mover

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"sync"
	"syscall"

	"golang.org/x/sync/errgroup"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// hashBatch is how many files one HashFiles request names.
const hashBatch = 256

// verifier walks source and destination again, comparing metadata and
// BLAKE3 sums of every regular file.
type verifier struct {
	s     *sender
	g     *errgroup.Group
	ctx   context.Context
	mu    sync.Mutex
	err   VerifyError
	batch []hashItem
}

type hashItem struct {
	rel  string
	info fsmeta.Info
}

// verify returns a *VerifyError listing every path that differs.
func (s *sender) verify(ctx context.Context, root fsmeta.Info) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(2 * s.opts.Parallel)
	v := &verifier{s: s, g: g, ctx: gctx}
	err := v.dir(safefs.RootPath)
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

func (v *verifier) dir(rel string) error {
	if err := v.ctx.Err(); err != nil {
		return err
	}
	dest, err := v.s.listDest(rel, false)
	if err != nil {
		return fmt.Errorf("list destination directory %q: %w", rel, err)
	}
	names, err := v.s.sourceNames(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var subs []string
	for _, name := range names {
		p := safefs.Join(rel, name)
		d, ok := dest[name]
		delete(dest, name)
		if v.entry(p, d, ok) {
			subs = append(subs, p)
		}
	}
	if v.s.opts.Delete {
		for name := range dest {
			v.mismatch(safefs.Join(rel, name), nil, "not on source")
		}
	}
	for _, p := range subs {
		if err := v.dir(p); err != nil {
			return err
		}
	}
	return nil
}

// entry compares one entry and reports whether it is a directory to
// descend into.
func (v *verifier) entry(p string, d wire.Entry, ok bool) bool {
	info, err := fsmeta.Lstat(v.s.sourcePath(p))
	if err != nil {
		v.s.warn("source entry vanished during verification", p, err)
		return false
	}
	m := &info.Meta
	if (m.Kind == wire.KindDir && info.Dev != v.s.sourceFS) ||
		((m.Kind == wire.KindCharDev || m.Kind == wire.KindBlockDev) && !v.s.chown) {
		return false // skipped by the transfer with a warning
	}
	if !ok {
		v.mismatch(p, &info, "missing on destination")
		return false
	}
	if diff := v.s.differs(m, &d.Meta); diff != "" {
		v.mismatch(p, &info, diff)
		return false
	}
	switch m.Kind {
	case wire.KindDir:
		return true
	case wire.KindRegular:
		v.batch = append(v.batch, hashItem{rel: p, info: info})
		if len(v.batch) >= hashBatch {
			v.flush()
		}
	}
	return false
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
	v.batch = nil
	if len(items) == 0 {
		return
	}
	v.g.Go(func() error {
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
	f, err := os.OpenFile(v.s.sourcePath(it.rel), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		v.s.warn("source entry vanished during verification", it.rel, err)
		return
	}
	defer f.Close()
	local, err := HashReader(f)
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
	}
}
