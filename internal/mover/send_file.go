package mover

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"sync/atomic"

	"github.com/zeebo/blake3"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/wire"
)

// Batch limits: a batch is sent once it holds this many bytes or files.
const (
	batchBytes = 1 << 20
	batchFiles = 512
	chunkSize  = 1 << 20 // largest Data frame
)

// errSourceChanged marks a source file that changed while it was read.
var errSourceChanged = errors.New("source file changed during transfer")

// srcFile names a regular source file: its directory, open while the
// walk is in it, its name there, and its relative path.
type srcFile struct {
	dir  *os.File
	name string
	rel  string
}

// syncFile decides what a regular file needs: nothing, an attribute
// update, a hardlink, a place in a batch or a large-file transfer.
//
// A file whose size and mtime match is unchanged. Its attributes are sent
// again when the listing shows a difference or when its ctime moved since
// the last completed sync (a change of extended attributes or ACLs only,
// which the listing does not show). It is sent again, to get an inode of
// its own, when the destination file is hardlinked where the source is
// not.
//
// basis names the destination file of another name that a new large file
// is sent against (a rename within its directory), or is "": then a new
// large file may find one elsewhere or wait for one (send_move.go).
func (s *sender) syncFile(ctx context.Context, sf srcFile, info fsmeta.Info, dest *wire.Entry, basis string, ops *opBatch) error {
	size, rel := info.Meta.Size, sf.rel
	if info.Nlink > 1 && s.links.seen(info, rel) {
		s.prog.filesDone.Add(1)
		s.prog.bytesDone.Add(size)
		return nil
	}
	var old *wire.Meta
	if dest != nil {
		old = &dest.Meta
	}
	if old != nil && old.Kind == wire.KindRegular && old.Size == size && old.Mtime == info.Meta.Mtime &&
		!s.links.mustSplit(info, dest) {
		s.prog.skipped.Add(1)
		s.prog.filesDone.Add(1)
		s.prog.bytesDone.Add(size)
		if s.sameEntry(&info.Meta, old) && info.Ctime < s.attrsSince {
			return nil
		}
		return s.addAttrs(sf, info, ops)
	}
	if size < s.opts.SmallFile {
		return s.addSmall(sf, info)
	}
	if dest == nil && basis == "" {
		var wait bool
		if basis, wait = s.newLargeBasis(rel, info); wait {
			return nil // sent later (send_move.go)
		}
	}
	// The file is opened here, relative to its directory, while the walk
	// holds that open; the job that sends it closes it. The job limit
	// bounds how many are open at once.
	f, err := s.openSource(sf, &info)
	if err != nil || f == nil {
		s.links.fail(info)
		return err
	}
	s.startLarge(ctx, f, rel, info, old != nil && old.Kind == wire.KindRegular && old.Size > 0, basis)
	return nil
}

// startLarge starts the transfer of the large file rel, open as f, which
// the job closes.
func (s *sender) startLarge(ctx context.Context, f *os.File, rel string, info fsmeta.Info, delta bool, basis string) {
	s.jobs.Go(func() error {
		defer f.Close()
		return s.sendLarge(ctx, f, rel, info, delta, basis)
	})
}

// addAttrs queues an attribute update of an unchanged file, with its
// extended attributes, which the walk does not read.
func (s *sender) addAttrs(sf srcFile, info fsmeta.Info, ops *opBatch) error {
	f, err := s.openSource(sf, &info)
	if err != nil || f == nil {
		return err
	}
	f.Close()
	ops.add(wire.Op{Kind: wire.OpAttrs, Path: sf.rel, Meta: info.Meta})
	return nil
}

// openSource opens the source file sf by its name in its open directory,
// without following a symlink, checks it is still the regular file that
// was listed (device and inode) and reads its extended attributes into
// info. A vanished or replaced file gives a warning and nil.
func (s *sender) openSource(sf srcFile, info *fsmeta.Info) (*os.File, error) {
	fd, err := unix.Openat(int(sf.dir.Fd()), sf.name, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOENT) {
		s.warn("source entry vanished", sf.rel, nil)
		return nil, nil
	}
	if errors.Is(err, unix.ELOOP) {
		s.warn("source entry changed type", sf.rel, nil)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("open source file %s: %w", sf.rel, err)
	}
	f := os.NewFile(uintptr(fd), sf.rel)
	if !sameInode(f, info) {
		f.Close()
		s.warn("source entry replaced during sync", sf.rel, nil)
		return nil, nil
	}
	if info.Meta.Xattrs, err = fsmeta.FileXattrs(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("read source file %s: %w", sf.rel, err)
	}
	return f, nil
}

// unchanged reports whether an open source file is still the one seen by
// the walk (device and inode) with the same size and mtime.
func unchanged(f *os.File, info fsmeta.Info) bool {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return false
	}
	return st.Dev == info.Dev && st.Ino == info.Ino && st.Size == info.Meta.Size && st.Mtim.Nano() == info.Meta.Mtime
}

// addSmall reads a small file whole into the current batch.
func (s *sender) addSmall(sf srcFile, info fsmeta.Info) error {
	f, err := s.openSource(sf, &info)
	if err != nil || f == nil {
		s.links.fail(info)
		return err
	}
	defer f.Close()
	segs, err := readSegments(f, &info, s.arena)
	if errors.Is(err, errSourceChanged) || (err == nil && !unchanged(f, info)) {
		s.links.fail(info)
		s.warn("source file changed during transfer; not copied", sf.rel, nil)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read source file %s: %w", sf.rel, err)
	}
	s.batch.Files = append(s.batch.Files, wire.File{Path: sf.rel, Meta: info.Meta, Segments: segs})
	s.bytes += info.Meta.Size
	if s.bytes >= batchBytes || len(s.batch.Files) >= batchFiles {
		return s.flushBatch()
	}
	return nil
}

// readSegments reads the data of a whole file into buffers from a, skipping
// holes. A dense file is read in one piece without looking for holes.
func readSegments(f *os.File, info *fsmeta.Info, a *arena) ([]wire.Segment, error) {
	size := info.Meta.Size
	exts := []fsmeta.Extent{{Len: size}}
	if !info.Dense() {
		var err error
		if exts, err = fsmeta.DataExtents(f, 0, size); err != nil {
			return nil, err
		}
	}
	segs := make([]wire.Segment, 0, len(exts))
	for _, e := range exts {
		if e.Len == 0 {
			continue
		}
		b := a.alloc(int(e.Len))
		if err := readFull(f, b, e.Off); err != nil {
			return nil, err
		}
		segs = append(segs, wire.Segment{Off: e.Off, Data: b})
	}
	return segs, nil
}

// arena hands out slices of large shared buffers, so that a batch of
// small files costs a few allocations rather than one per file. A buffer
// lives as long as any batch that uses it.
type arena struct {
	buf []byte
}

// arenaSize is the size of one arena buffer.
const arenaSize = 2 * batchBytes

func (a *arena) alloc(n int) []byte {
	if n > arenaSize/4 {
		return make([]byte, n)
	}
	if len(a.buf) < n {
		a.buf = make([]byte, arenaSize)
	}
	b := a.buf[:n:n]
	a.buf = a.buf[n:]
	return b
}

// readFull reads len(b) bytes at off; a short file means it changed.
func readFull(f *os.File, b []byte, off int64) error {
	n, err := f.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return errSourceChanged
	}
	return err
}

// flushBatch hands the current batch to a data connection.
func (s *sender) flushBatch() error {
	if len(s.batch.Files) == 0 {
		return nil
	}
	b := s.batch
	s.batch, s.bytes = wire.Batch{}, 0
	s.jobs.Go(func() error {
		err := s.withConn(s.jobCtx, func(c *wire.Conn) error {
			_, err := roundTrip(c, &b)
			return err
		})
		if err != nil {
			return fmt.Errorf("send batch of %d files: %w", len(b.Files), err)
		}
		for i := range b.Files {
			s.prog.bytesDone.Add(b.Files[i].Meta.Size)
			for _, seg := range b.Files[i].Segments {
				s.prog.sent.Add(int64(len(seg.Data)))
			}
		}
		s.prog.filesDone.Add(int64(len(b.Files)))
		return nil
	})
	return nil
}

// sendLarge transfers one large file, open as f, in ranges over all data
// connections, then commits it, or, if the source changed meanwhile,
// aborts it and has the receiver keep what it got as a partial file.
func (s *sender) sendLarge(ctx context.Context, f *os.File, rel string, info fsmeta.Info, delta bool, basis string) error {
	id := s.nextID.Add(1)
	var old basisMap
	err := s.withConn(ctx, func(c *wire.Conn) error {
		m, err := roundTrip(c, &wire.FileBegin{ID: id, Path: rel, Size: info.Meta.Size, Delta: delta, Basis: basis})
		if err != nil {
			return err
		}
		ok, isOK := m.(*wire.BeginOK)
		if !isOK {
			return fmt.Errorf("%w: begin reply of type %d", errProtocol, m.Type())
		}
		if ok.Mapped && !fsmeta.ValidExtents(ok.Extents, ok.OldSize) {
			return fmt.Errorf("%w: begin reply with bad basis extents", errProtocol)
		}
		old = basisMap{size: ok.OldSize, mapped: ok.Mapped, exts: ok.Extents}
		return nil
	})
	if err != nil {
		return fmt.Errorf("begin file %s: %w", rel, err)
	}
	err = s.sendRanges(ctx, f, id, info.Meta.Size, &old, &deltaState{})
	if errors.Is(err, errSourceChanged) {
		// A short read: the file shrank, and later ranges were not sent;
		// what the receiver holds is no better a basis than its current
		// file.
		s.links.fail(info)
		s.warn("source file changed during transfer; not copied", rel, nil)
		return s.finish(ctx, &wire.Abort{ID: id}, rel)
	}
	if err == nil && !unchanged(f, info) {
		// Every range was written: what the receiver holds is mostly
		// current, and it keeps it as the basis of the next sync, which
		// then sends only what differs.
		s.links.fail(info)
		s.prog.partial.Add(1)
		s.warn("source file changed during transfer; not committed, kept as the basis of the next sync", rel, nil)
		return s.finish(ctx, &wire.Abort{ID: id, Keep: true}, rel)
	}
	if err != nil {
		return fmt.Errorf("send file %s: %w", rel, err)
	}
	if err := s.finish(ctx, &wire.Commit{ID: id, Meta: info.Meta}, rel); err != nil {
		return err
	}
	if basis != "" && old.size >= 0 {
		s.prog.reused.Add(1)
	}
	s.prog.filesDone.Add(1)
	return nil
}

func (s *sender) finish(ctx context.Context, req wire.Message, rel string) error {
	err := s.withConn(ctx, func(c *wire.Conn) error {
		_, err := roundTrip(c, req)
		return err
	})
	if err != nil {
		return fmt.Errorf("finish file %s: %w", rel, err)
	}
	return nil
}

// basisMap is what the receiver told of the basis of a large file: its
// size (-1 without one) and, when mapped, all its data runs.
type basisMap struct {
	size   int64
	mapped bool
	exts   []fsmeta.Extent
}

// hasData reports whether the basis may hold data in [off, end).
func (b *basisMap) hasData(off, end int64) bool {
	if off >= b.size {
		return false
	}
	return !b.mapped || fsmeta.HasData(b.exts, off, min(end, b.size))
}

// sendRanges sends [0, size) in ranges of RangeSize, each on whichever data
// connection is free. A range that is a hole on the source needs nothing:
// the new file is all holes until written, and only RangeHashes copies
// the basis into it.
func (s *sender) sendRanges(ctx context.Context, f *os.File, id uint64, size int64, old *basisMap, ds *deltaState) error {
	// The data extents are found once for the whole file: asking per range
	// costs O(file size) each on tmpfs (SEEK_HOLE scans to the end), which
	// made large files quadratic.
	exts, err := fsmeta.DataExtents(f, 0, size)
	if err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	for off := int64(0); off < size; off += s.opts.RangeSize {
		end := min(off+s.opts.RangeSize, size)
		if !fsmeta.HasData(exts, off, end) {
			s.prog.bytesDone.Add(end - off)
			continue
		}
		var c *wire.Conn
		select {
		case c = <-s.pool:
		case <-gctx.Done():
		}
		if c == nil {
			break
		}
		g.Go(func() error {
			defer func() { s.pool <- c }()
			return s.sendRange(c, f, id, off, end, old, clipExtents(exts, off, end), ds)
		})
	}
	err = g.Wait()
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// sendRange streams one range, whose source data runs are exts, and waits
// for the receiver's verdict. Where the basis has no data the range is
// sent as is, without comparing. A local read failure still ends the
// range properly so the connection stays in step.
func (s *sender) sendRange(c *wire.Conn, f *os.File, id uint64, off, end int64, old *basisMap, exts []fsmeta.Extent, ds *deltaState) error {
	var readErr error
	// Give up on comparing only after two ranges and a quarter of the old
	// version matched nothing: a rewritten head must not cost a file
	// whose tail is unchanged.
	giveUpAfter := max(2*s.opts.RangeSize, old.size/4) / s.opts.BlockSize
	if old.hasData(off, end) && ds.worthIt(giveUpAfter) {
		sums, err := s.rangeHashes(c, id, off, end)
		if err != nil {
			return err
		}
		var matched int64
		matched, readErr = s.sendBlocks(c, f, id, off, end, old.size, sums, exts)
		ds.compared.Add(int64(len(sums)))
		ds.matched.Add(matched)
	} else {
		readErr = s.sendExtents(c, f, id, exts)
	}
	var netErr *connError
	if errors.As(readErr, &netErr) {
		return netErr.err
	}
	if _, err := roundTrip(c, &wire.RangeDone{ID: id}); err != nil {
		return err
	}
	if readErr != nil {
		return readErr
	}
	s.prog.bytesDone.Add(end - off)
	return nil
}

// connError wraps a failed write to the connection, which ends the range.
type connError struct{ err error }

func (e *connError) Error() string { return e.err.Error() }

func (s *sender) rangeHashes(c *wire.Conn, id uint64, off, end int64) ([][]byte, error) {
	m, err := roundTrip(c, &wire.RangeHashes{ID: id, Off: off, Len: end - off, BlockSize: s.opts.BlockSize})
	if err != nil {
		return nil, err
	}
	h, ok := m.(*wire.Hashes)
	if !ok {
		return nil, fmt.Errorf("%w: hashes reply of type %d", errProtocol, m.Type())
	}
	return h.Sums, nil
}

var chunkPool = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// clipExtents returns the parts of exts (sorted, not overlapping) that lie
// within [off, end).
func clipExtents(exts []fsmeta.Extent, off, end int64) []fsmeta.Extent {
	var out []fsmeta.Extent
	first := sort.Search(len(exts), func(i int) bool { return exts[i].Off+exts[i].Len > off })
	for _, e := range exts[first:] {
		if e.Off >= end {
			break
		}
		lo, hi := max(e.Off, off), min(e.Off+e.Len, end)
		out = append(out, fsmeta.Extent{Off: lo, Len: hi - lo})
	}
	return out
}

// sendExtents sends the given data extents of the file; holes between
// them are not sent.
func (s *sender) sendExtents(c *wire.Conn, f *os.File, id uint64, exts []fsmeta.Extent) error {
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	buf := *bp
	for _, e := range exts {
		for p := e.Off; p < e.Off+e.Len; {
			b := buf[:min(int64(len(buf)), e.Off+e.Len-p)]
			if err := readFull(f, b, p); err != nil {
				return err
			}
			if err := c.Write(&wire.Data{ID: id, Off: p, Data: b}); err != nil {
				return &connError{err}
			}
			s.prog.sent.Add(int64(len(b)))
			p += int64(len(b))
		}
	}
	return nil
}

// sendBlocks compares [off, end), whose source data runs are exts, block
// by block with the receiver's sums and sends only blocks that differ.
// Blocks of zeros, whether holes (not read) or read, match an empty sum.
// A differing block that had basis data is first punched out; then only
// its non-zero pages travel, so zero runs stay holes.
func (s *sender) sendBlocks(c *wire.Conn, f *os.File, id uint64, off, end, oldSize int64, sums [][]byte, exts []fsmeta.Extent) (matched int64, err error) {
	bs := s.opts.BlockSize
	var buf []byte
	for i, p := 0, off; p < end; i, p = i+1, p+bs {
		n := min(bs, end-p)
		hasOld := i < len(sums)
		oldData := hasOld && len(sums[i]) > 0
		var b []byte
		if fsmeta.HasData(exts, p, p+n) {
			if buf == nil {
				buf = make([]byte, bs)
			}
			b = buf[:n]
			if err := readFull(f, b, p); err != nil {
				return matched, err
			}
			contentReads.Add(n)
			if fsmeta.IsZero(b) {
				b = nil
			}
		}
		switch {
		case b == nil && !oldData:
			if hasOld {
				matched++
				s.prog.matched.Add(n)
			}
			continue
		case b != nil && oldData && min(bs, oldSize-p) == n:
			sum := blake3.Sum256(b)
			if bytes.Equal(sum[:], sums[i]) {
				matched++
				s.prog.matched.Add(n)
				continue
			}
		}
		if oldData {
			if err := c.Write(&wire.Zero{ID: id, Off: p, Len: n}); err != nil {
				return matched, &connError{err}
			}
		}
		for _, run := range fsmeta.NonZeroRuns(b) {
			data := b[run.Off : run.Off+run.Len]
			if err := c.Write(&wire.Data{ID: id, Off: p + run.Off, Data: data}); err != nil {
				return matched, &connError{err}
			}
			s.prog.sent.Add(int64(len(data)))
		}
	}
	return matched, nil
}

// deltaState decides, per file, whether comparing blocks still pays: once
// the ranges compared so far matched no block at all, the rest of the
// file travels whole, sparing both sides the hashing and the receiver the
// copy of its old version.
type deltaState struct {
	compared, matched atomic.Int64 // blocks
}

// worthIt tells whether to compare the next range, given how many blocks
// must have been compared before giving up.
func (d *deltaState) worthIt(minBlocks int64) bool {
	return d.matched.Load() > 0 || d.compared.Load() < minBlocks
}

// inode identifies a source file for hardlink detection.
type inode struct{ dev, ino uint64 }

// pendingLink is a hardlink created after all file data is in place.
type pendingLink struct {
	path, target string
	key          inode
}

// linkTracker remembers, for files with several links, the first path
// seen; later paths become hardlinks to it. It also remembers which
// source file each multiply-linked destination inode stands for. Its
// memory grows with the number of multiply-linked files only.
type linkTracker struct {
	first   map[inode]string
	pending []pendingLink
	mu      sync.Mutex
	failed  map[inode]bool
	dest    map[uint64]inode // destination inode -> source file
}

// mustSplit reports whether the destination file dest, listed for the
// source file info (the first path of its link group), shares its inode
// with destination files that are not links of info: either info has a
// single link, or the inode already stands for another source file. Such
// a file is written again, which gives it an inode of its own; the links
// it should have are made again afterwards.
func (t *linkTracker) mustSplit(info fsmeta.Info, dest *wire.Entry) bool {
	if dest == nil || dest.Nlink < 2 {
		return false
	}
	if info.Nlink < 2 {
		return true
	}
	key := inode{info.Dev, info.Ino}
	if t.dest == nil {
		t.dest = map[uint64]inode{}
	}
	if other, ok := t.dest[dest.Ino]; ok && other != key {
		return true
	}
	t.dest[dest.Ino] = key
	return false
}

// seen records rel and reports whether it is a further link of a file
// already sent.
func (t *linkTracker) seen(info fsmeta.Info, rel string) bool {
	key := inode{info.Dev, info.Ino}
	if t.first == nil {
		t.first = map[inode]string{}
	}
	if target, ok := t.first[key]; ok {
		t.pending = append(t.pending, pendingLink{path: rel, target: target, key: key})
		return true
	}
	t.first[key] = rel
	return false
}

// fail marks a multiply-linked file that was not copied, so its further
// links are skipped too.
func (t *linkTracker) fail(info fsmeta.Info) {
	if info.Nlink < 2 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failed == nil {
		t.failed = map[inode]bool{}
	}
	t.failed[inode{info.Dev, info.Ino}] = true
}

func (t *linkTracker) isFailed(key inode) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.failed[key]
}
