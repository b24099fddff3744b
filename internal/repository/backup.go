package repository

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// BackupOptions tune a backup.
type BackupOptions struct {
	// Tags are written into the snapshot. Unless Parent is set, the
	// newest snapshot with the same tags is the parent.
	Tags map[string]string
	// Parent, when set, is the snapshot whose unchanged files are reused.
	Parent *Snapshot
	// NoParent reads every file, whatever earlier snapshots hold.
	NoParent bool
	// Host names the backup's maker in the snapshot.
	Host string
	// Readers is how many large files are read at once (default 2).
	Readers int
}

// Progress counts a backup or restore while it runs; every field is
// updated atomically. Totals grow while the tree is scanned.
type Progress struct {
	FilesTotal, BytesTotal atomic.Int64
	FilesDone, BytesDone   atomic.Int64
	// Warnings counts entries that changed or vanished under the backup
	// (or could not be restored as they were); FirstWarning says what the
	// first was.
	Warnings     atomic.Int64
	FirstWarning atomic.Pointer[string]
}

// warn counts a warning, keeping the first one's text.
func (p *Progress) warn(format string, args ...any) {
	if p.Warnings.Add(1) == 1 {
		s := fmt.Sprintf(format, args...)
		p.FirstWarning.Store(&s)
	}
}

// Warning returns the first warning's text, or "".
func (p *Progress) Warning() string {
	if s := p.FirstWarning.Load(); s != nil {
		return *s
	}
	return ""
}

// Backup stores the tree at root as a new snapshot. prog, when not nil,
// is kept up to date while it runs.
func (r *Repository) Backup(ctx context.Context, root string, opts BackupOptions, prog *Progress) (*Snapshot, error) {
	if prog == nil {
		prog = &Progress{}
	}
	started := time.Now()
	l, err := r.lock(ctx, false)
	if err != nil {
		return nil, err
	}
	defer func() { _ = l.release(ctx) }()
	parent, err := r.backupParent(ctx, opts)
	if err != nil {
		return nil, err
	}
	rootInfo, err := fsmeta.Lstat(root)
	if err != nil {
		return nil, fmt.Errorf("back up %s: %w", root, err)
	}
	if rootInfo.Meta.Kind != wire.KindDir {
		return nil, fmt.Errorf("back up %s: not a directory", root)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	b := newBackup(ctx, r, opts, prog)
	if parent != nil {
		// The parent's totals stand for this backup's: a second walk to
		// count would cost as much as the backup of unchanged files.
		prog.FilesTotal.Store(parent.Summary.Files)
		prog.BytesTotal.Store(parent.Summary.Bytes)
	} else {
		go b.scan(root)
	}
	var parentNodes []Node
	if parent != nil {
		if parentNodes, err = r.LoadTree(ctx, parent.Tree); err != nil {
			return nil, fmt.Errorf("parent snapshot %s: %w", parent.ID.Short(), err)
		}
	}
	top := &dirJob{}
	b.encoder.start()
	b.walk(root, safefs.RootPath, parentNodes, top)
	b.finish()
	if err := b.failure(); err != nil {
		return nil, err
	}
	if err := r.Flush(ctx); err != nil {
		return nil, err
	}
	snap := &Snapshot{Time: started, Host: opts.Host, Tags: opts.Tags, Root: rootInfo.Meta, Tree: top.subtree}
	if parent != nil {
		snap.Parent = parent.ID.String()
	}
	snap.Summary = Summary{Files: b.files.Load(), Dirs: b.dirs.Load(), Bytes: b.bytes.Load(), BytesRead: b.read.Load(),
		BytesNew: r.Stats.BytesNew.Load(), BytesUploaded: r.Stats.BytesUploaded.Load(), Warnings: prog.Warnings.Load(),
		Duration: time.Since(started)}
	if err := r.saveSnapshot(ctx, snap); err != nil {
		return nil, err
	}
	return snap, nil
}

// backupParent finds the snapshot a backup compares with.
func (r *Repository) backupParent(ctx context.Context, opts BackupOptions) (*Snapshot, error) {
	switch {
	case opts.NoParent:
		return nil, nil
	case opts.Parent != nil:
		return opts.Parent, nil
	}
	s, err := r.Latest(ctx, opts.Tags)
	if errors.Is(err, ErrNoSnapshot) {
		return nil, nil
	}
	return s, err
}

// backup is one running backup.
type backup struct {
	ctx     context.Context
	r       *Repository
	prog    *Progress
	small   smallStream
	readers chan struct{}
	seals   *sealer
	encoder *encoder
	links   map[[2]uint64]string

	files, dirs, bytes, read atomic.Int64

	mu  sync.Mutex
	err error
}

func newBackup(ctx context.Context, r *Repository, opts BackupOptions, prog *Progress) *backup {
	n := opts.Readers
	if n <= 0 {
		n = 2
	}
	b := &backup{ctx: ctx, r: r, prog: prog, readers: make(chan struct{}, n), links: map[[2]uint64]string{}}
	b.seals = newSealer(ctx, r, 2)
	b.encoder = &encoder{b: b}
	b.small.b = b
	return b
}

// fail records the backup's first error.
func (b *backup) fail(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
	}
}

func (b *backup) failure() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil && b.ctx.Err() != nil {
		return b.ctx.Err()
	}
	return b.err
}

// finish cuts what is left of the small-file stream, lets the encoder
// store the remaining directories and waits for the sealers.
func (b *backup) finish() {
	b.small.cut(true)
	b.encoder.close()
	b.seals.close()
	if err := b.seals.failure(); err != nil {
		b.fail(err)
	}
}

// scan counts the tree's files and bytes ahead of the backup, for
// progress totals. Like the backup it reads directories without
// touching their access times.
func (b *backup) scan(path string) {
	names, err := readNames(path)
	if err != nil {
		return
	}
	for _, name := range names {
		if b.ctx.Err() != nil {
			return
		}
		var st unix.Stat_t
		p := filepath.Join(path, name)
		if unix.Lstat(p, &st) != nil {
			continue
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			b.scan(p)
		case unix.S_IFREG:
			b.prog.BytesTotal.Add(st.Size)
			fallthrough
		default:
			b.prog.FilesTotal.Add(1)
		}
	}
}

// dirJob is a directory whose tree blob waits for its files' content.
type dirJob struct {
	nodes   []Node
	pending sync.WaitGroup
	// node is this directory's node in its parent's list (nil for the
	// root); the encoder gives it its subtree.
	node    *Node
	subtree []ID
}

// walk backs up the directory at path (rel from the root), comparing with
// the parent snapshot's nodes of it, and queues job for the encoder once
// every entry is handed on.
func (b *backup) walk(path, rel string, parentNodes []Node, job *dirJob) {
	defer b.encoder.push(job)
	names, err := readNames(path)
	if err != nil {
		b.fail(fmt.Errorf("read directory %s: %w", rel, err))
		return
	}
	job.nodes = make([]Node, 0, len(names))
	for _, name := range names {
		if b.failure() != nil {
			return
		}
		childRel := safefs.Join(rel, name)
		if safefs.IsReserved(childRel) {
			continue
		}
		b.entry(filepath.Join(path, name), childRel, name, findNode(parentNodes, name), job)
	}
}

// entry backs up one directory entry into job.
func (b *backup) entry(path, rel, name string, prev *Node, job *dirJob) {
	info, err := fsmeta.LstatReusing(path, func(i fsmeta.Info) ([]wire.Xattr, bool) {
		if prev != nil && prev.Meta.Kind == i.Meta.Kind && prev.Ino == i.Ino && prev.Ctime == i.Ctime {
			return prev.Meta.Xattrs, true
		}
		return nil, false
	})
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			b.prog.warn("%s vanished while read", rel)
			return
		}
		b.fail(fmt.Errorf("back up %s: %w", rel, err))
		return
	}
	if info.Meta.Kind == wire.KindSymlink {
		// Reading a symlink's target sets its access time: keeping it
		// would make every backup see a change.
		info.Meta.Atime = info.Meta.Mtime
	}
	job.nodes = append(job.nodes, Node{Name: name, Meta: info.Meta, Ino: info.Ino, Ctime: info.Ctime})
	n := &job.nodes[len(job.nodes)-1]
	switch info.Meta.Kind {
	case wire.KindDir:
		b.dirs.Add(1)
		var prevNodes []Node
		if prev != nil && prev.Meta.Kind == wire.KindDir {
			if prevNodes, err = b.r.LoadTree(b.ctx, prev.Subtree); err != nil {
				b.fail(fmt.Errorf("parent snapshot's %s: %w", rel, err))
				return
			}
		}
		b.walk(path, rel, prevNodes, &dirJob{node: n})
	case wire.KindRegular:
		b.file(path, rel, n, &info, prev, job)
	default:
		b.prog.FilesDone.Add(1)
	}
}

// file backs up a regular file: as a link to an earlier name, reused from
// the parent, through the small-file stream or read on its own.
func (b *backup) file(path, rel string, n *Node, info *fsmeta.Info, prev *Node, job *dirJob) {
	b.files.Add(1)
	b.bytes.Add(n.Meta.Size)
	if info.Nlink > 1 {
		key := [2]uint64{info.Dev, info.Ino}
		if first, ok := b.links[key]; ok {
			n.Link = first
			b.done(n.Meta.Size)
			return
		}
		b.links[key] = rel
	}
	if prev != nil && unchanged(prev, n) {
		n.Content, n.Extents = prev.Content, prev.Extents
		b.done(n.Meta.Size)
		return
	}
	if n.Meta.Size == 0 {
		b.done(0)
		return
	}
	job.pending.Add(1)
	if n.Meta.Size < int64(b.r.chunker.Params().MinSize) && info.Dense() {
		b.smallFile(path, rel, n, job)
		return
	}
	select {
	case b.readers <- struct{}{}:
	case <-b.ctx.Done():
		job.pending.Done()
		return
	}
	go func() {
		defer func() { <-b.readers }()
		defer job.pending.Done()
		if err := b.largeFile(path, rel, n, info, prev); err != nil {
			b.fail(err)
		}
	}()
}

// unchanged reports whether the parent's node of a file can stand for
// the file now.
func unchanged(prev, n *Node) bool {
	return prev.Meta.Kind == wire.KindRegular && prev.Link == "" && prev.Meta.Size == n.Meta.Size &&
		prev.Meta.Mtime == n.Meta.Mtime && prev.Ctime == n.Ctime && prev.Ino == n.Ino
}

// done counts a file as backed up.
func (b *backup) done(size int64) {
	b.prog.FilesDone.Add(1)
	b.prog.BytesDone.Add(size)
}

// smallFile reads a small file into the shared stream.
func (b *backup) smallFile(path, rel string, n *Node, job *dirJob) {
	data, err := readSmall(path, n.Meta.Size)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			b.prog.warn("%s vanished while read", rel)
			n.Meta.Size = 0
			job.pending.Done()
			return
		}
		b.fail(fmt.Errorf("read %s: %w", rel, err))
		job.pending.Done()
		return
	}
	if int64(len(data)) != n.Meta.Size {
		b.prog.warn("%s changed while read", rel)
		n.Meta.Size = int64(len(data))
	}
	b.read.Add(int64(len(data)))
	b.small.add(data, n, job)
}

// readSmall reads a whole file of about size bytes.
func readSmall(path string, size int64) ([]byte, error) {
	f, err := openNoAtime(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, size)
	k, err := io.ReadFull(f, buf)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return buf[:k], nil
	}
	return buf, err
}

// openNoAtime opens a file or directory to read without changing its access time
// (which the snapshot records), where the process may.
func openNoAtime(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NOATIME|unix.O_NONBLOCK, 0)
	if errors.Is(err, unix.EPERM) {
		f, err = os.OpenFile(path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	}
	return f, err
}

// largeFile reads a file on its own, cutting its content into chunks,
// stored as a delta of prev, its parent's node, where they share runs.
func (b *backup) largeFile(path, rel string, n *Node, info *fsmeta.Info, prev *Node) error {
	f, err := openNoAtime(path)
	if errors.Is(err, fs.ErrNotExist) {
		b.prog.warn("%s vanished while read", rel)
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", rel, err)
	}
	defer f.Close()
	exts := []wire.Extent{{Off: 0, Len: n.Meta.Size}}
	if !info.Dense() {
		if exts, err = fsmeta.DataExtents(f, 0, n.Meta.Size); err != nil {
			return fmt.Errorf("read %s: %w", rel, err)
		}
		n.Extents = exts
	}
	c := &contentCutter{b: b, node: n, max: b.r.chunker.Params().MaxSize, delta: b.r.newDelta(prev, n.Meta.Size)}
	for _, x := range exts {
		if err := c.readExtent(f, x); err != nil {
			return fmt.Errorf("read %s: %w", rel, err)
		}
	}
	c.flush()
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err == nil && (st.Size != n.Meta.Size || unix.TimespecToNsec(st.Mtim) != n.Meta.Mtime) {
		b.prog.warn("%s changed while read", rel)
	}
	b.prog.FilesDone.Add(1)
	return nil
}

// contentCutter cuts one large file's content into blobs. Chunks are
// cut from buf[start:]; the buffer is compacted only when the room to
// read into runs short, so that each byte moves at most once.
type contentCutter struct {
	b     *backup
	node  *Node
	max   int
	buf   []byte
	start int
	off   int64  // content offset of buf[start]
	delta *delta // nil: no parent to compare with
}

// readExtent reads one data run, cutting chunks as the buffer fills.
func (c *contentCutter) readExtent(f *os.File, x wire.Extent) error {
	if c.buf == nil {
		c.buf = make([]byte, 0, 4*c.max)
	}
	for off, end := x.Off, x.Off+x.Len; off < end; {
		if err := c.b.ctx.Err(); err != nil {
			return err
		}
		if cap(c.buf)-len(c.buf) < c.max {
			// Keep what a delta looks at before the next chunk.
			keep := min(c.start, deltaContext)
			c.buf = c.buf[:copy(c.buf, c.buf[c.start-keep:])]
			c.start = keep
		}
		room := cap(c.buf) - len(c.buf)
		want := int(min(int64(room), end-off))
		k, err := f.ReadAt(c.buf[len(c.buf):len(c.buf)+want], off)
		c.buf = c.buf[:len(c.buf)+k]
		off += int64(k)
		c.b.read.Add(int64(k))
		c.b.prog.BytesDone.Add(int64(k))
		if errors.Is(err, io.EOF) {
			// The file shrank: what is left of the extent reads as zeros
			// would be wrong; keep what was read and warn.
			c.b.prog.warn("%s shrank while read", c.node.Name)
			c.node.Meta.Size = off
			return nil
		}
		if err != nil {
			return err
		}
		for len(c.buf)-c.start >= c.max {
			c.cutOne()
		}
	}
	return nil
}

// cutOne stores the next chunk of the buffer: whole, or as a delta of
// the parent's content when the repository lacks it.
func (c *contentCutter) cutOne() {
	n := c.b.r.chunker.Cut(c.buf[c.start:])
	data := c.buf[c.start : c.start+n]
	id := c.b.r.keys.blobID(data)
	if c.delta == nil || c.b.r.Has(id) || !c.cutDelta(data) {
		chunk := make([]byte, n)
		copy(chunk, data)
		c.node.Content = append(c.node.Content, Span{Blob: id, Length: uint32(n)})
		c.b.seals.submit(id, chunk)
	}
	c.start += n
	c.off += int64(n)
}

// cutDelta stores data as spans of the parent's blobs and one blob of
// what is fresh; false when too little is shared.
func (c *contentCutter) cutDelta(data []byte) bool {
	from := max(c.start-deltaContext, 0)
	ext := c.buf[from:min(c.start+len(data)+deltaContext, len(c.buf))]
	segs, ok := c.delta.match(c.b.ctx, c.off, ext, c.start-from, len(data))
	if !ok {
		return false
	}
	spans, fresh, freshID := c.delta.spans(segs, data)
	c.node.Content = append(c.node.Content, spans...)
	if len(fresh) > 0 {
		c.b.seals.submit(freshID, fresh)
	}
	return true
}

// flush stores what is left.
func (c *contentCutter) flush() {
	for len(c.buf) > c.start {
		c.cutOne()
	}
}

// readNames lists a directory's names, sorted.
func readNames(path string) ([]string, error) {
	f, err := openNoAtime(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names, err := f.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// smallStream concatenates small files and cuts the stream into chunks,
// so that many small files share a blob. Chunks are cut from
// buf[start:]; what is left moves to the front only before appending.
type smallStream struct {
	b       *backup
	buf     []byte
	start   int
	base    int64 // stream offset of buf[start]
	waiting []waiter
	chunks  []streamChunk
}

// waiter is a small file whose spans wait for its bytes to be cut.
type waiter struct {
	node       *Node
	job        *dirJob
	start, end int64
}

// streamChunk is a chunk cut from the stream.
type streamChunk struct {
	id         ID
	start, end int64
}

// add appends a file's data for node.
func (s *smallStream) add(data []byte, n *Node, job *dirJob) {
	if s.start > 0 && cap(s.buf)-len(s.buf) < len(data) {
		s.buf = s.buf[:copy(s.buf, s.buf[s.start:])]
		s.start = 0
	}
	start := s.base + int64(len(s.buf)-s.start)
	s.buf = append(s.buf, data...)
	s.waiting = append(s.waiting, waiter{node: n, job: job, start: start, end: start + int64(len(data))})
	if len(s.buf)-s.start >= 2*s.b.r.chunker.Params().MaxSize {
		s.cut(false)
	}
}

// cut stores chunks while the buffer holds a full window (all of it when
// final) and resolves the files they complete.
func (s *smallStream) cut(final bool) {
	maxSize := s.b.r.chunker.Params().MaxSize
	for rest := s.buf[s.start:]; len(rest) > 0 && (final || len(rest) >= maxSize); rest = s.buf[s.start:] {
		n := s.b.r.chunker.Cut(rest)
		chunk := make([]byte, n)
		copy(chunk, rest[:n])
		id := s.b.r.keys.blobID(chunk)
		s.b.seals.submit(id, chunk)
		s.chunks = append(s.chunks, streamChunk{id: id, start: s.base, end: s.base + int64(n)})
		s.base += int64(n)
		s.start += n
		s.resolve()
	}
	if s.start == len(s.buf) {
		s.buf, s.start = s.buf[:0], 0
	}
}

// resolve gives every waiting file whose bytes are all cut its spans.
func (s *smallStream) resolve() {
	i := 0
	for ; i < len(s.waiting) && s.waiting[i].end <= s.base; i++ {
		w := s.waiting[i]
		for _, c := range s.chunks {
			if c.end <= w.start || c.start >= w.end {
				continue
			}
			from, to := max(w.start, c.start), min(w.end, c.end)
			w.node.Content = append(w.node.Content, Span{Blob: c.id, Offset: uint32(from - c.start), Length: uint32(to - from)})
		}
		s.b.done(w.end - w.start)
		w.job.pending.Done()
	}
	s.waiting = s.waiting[i:]
	// Chunks before the first waiting file are no longer needed.
	keep := 0
	if len(s.waiting) > 0 {
		for keep < len(s.chunks) && s.chunks[keep].end <= s.waiting[0].start {
			keep++
		}
	} else {
		keep = len(s.chunks)
	}
	s.chunks = s.chunks[keep:]
}

// encoder stores directories' tree blobs in the order the walk finished
// them (children before parents), each once its files have content.
type encoder struct {
	b     *backup
	mu    sync.Mutex
	cond  *sync.Cond
	queue []*dirJob
	done  chan struct{}
	shut  bool
}

func (e *encoder) start() {
	e.cond = sync.NewCond(&e.mu)
	e.done = make(chan struct{})
	go e.run()
}

// push queues a finished directory.
func (e *encoder) push(j *dirJob) {
	e.mu.Lock()
	e.queue = append(e.queue, j)
	e.mu.Unlock()
	e.cond.Signal()
}

// close waits for the queue to drain.
func (e *encoder) close() {
	e.mu.Lock()
	e.shut = true
	e.mu.Unlock()
	e.cond.Signal()
	<-e.done
}

func (e *encoder) run() {
	defer close(e.done)
	for {
		e.mu.Lock()
		for len(e.queue) == 0 && !e.shut {
			e.cond.Wait()
		}
		if len(e.queue) == 0 {
			e.mu.Unlock()
			return
		}
		j := e.queue[0]
		e.queue = e.queue[1:]
		e.mu.Unlock()
		j.pending.Wait()
		if e.b.failure() != nil {
			continue
		}
		ids, err := e.b.r.saveTree(e.b.ctx, j.nodes)
		if err != nil {
			e.b.fail(err)
			continue
		}
		j.subtree, j.nodes = ids, nil
		if j.node != nil {
			j.node.Subtree = ids
		}
	}
}

// sealer seals and stores blobs on a few goroutines, so that reading,
// hashing and sealing overlap.
type sealer struct {
	ctx  context.Context
	r    *Repository
	jobs chan sealJob
	wg   sync.WaitGroup
	mu   sync.Mutex
	err  error
}

type sealJob struct {
	id   ID
	data []byte
}

func newSealer(ctx context.Context, r *Repository, n int) *sealer {
	s := &sealer{ctx: ctx, r: r, jobs: make(chan sealJob, 2*n)}
	for range n {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for j := range s.jobs {
				if err := r.saveBlob(ctx, DataBlob, j.id, j.data); err != nil {
					s.mu.Lock()
					if s.err == nil {
						s.err = err
					}
					s.mu.Unlock()
				}
			}
		}()
	}
	return s
}

// submit queues a blob; it blocks while the sealers are busy.
func (s *sealer) submit(id ID, data []byte) {
	select {
	case s.jobs <- sealJob{id: id, data: data}:
	case <-s.ctx.Done():
	}
}

func (s *sealer) close() {
	close(s.jobs)
	s.wg.Wait()
}

func (s *sealer) failure() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
