package repository

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// RestoreOptions tune a restore.
type RestoreOptions struct {
	// Chown sets owners as the snapshot has them (needs root).
	Chown bool
	// Downloads is how many ranges are fetched at once (default 4).
	Downloads int
}

// Restore makes target hold exactly the snapshot's tree: it keeps files
// whose size and modification time match, rebuilds changed large files
// from the chunks they still share with the snapshot, fetches only the
// blobs missing, and removes what the snapshot does not have. Every blob
// is checked against its hash. prog, when not nil, is kept up to date.
func (r *Repository) Restore(ctx context.Context, snap *Snapshot, target string, opts RestoreOptions, prog *Progress) error {
	if prog == nil {
		prog = &Progress{}
	}
	l, err := r.lock(ctx, false)
	if err != nil {
		return err
	}
	defer func() { _ = l.release(ctx) }()
	prog.FilesTotal.Store(snap.Summary.Files)
	prog.BytesTotal.Store(snap.Summary.Bytes)
	root, err := safefs.OpenRoot(target)
	if err != nil {
		return err
	}
	defer root.Close()
	scratch, err := root.Scratch()
	if err != nil {
		return fmt.Errorf("restore into %s: %w", target, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	rs := &restorer{ctx: ctx, r: r, root: root, scratch: scratch, opts: opts, prog: prog}
	// On failure, the batch still fetching stops before the root closes.
	defer func() { _ = rs.wait() }()
	defer cancel()
	if rs.opts.Downloads <= 0 {
		rs.opts.Downloads = 4
	}
	rs.buffers = make(chan []byte, rs.opts.Downloads)
	top, err := root.OpenDir(safefs.RootPath)
	if err != nil {
		return fmt.Errorf("restore into %s: %w", target, err)
	}
	defer top.Close()
	if err := rs.dir(top, safefs.RootPath, snap.Tree); err != nil {
		return err
	}
	if err := rs.flush(); err != nil {
		return err
	}
	if err := rs.wait(); err != nil {
		return err
	}
	if err := rs.finish(top, snap); err != nil {
		return err
	}
	if err := root.RemoveReserved(!opts.Chown); err != nil {
		return fmt.Errorf("restore into %s: %w", target, err)
	}
	return root.Sync()
}

// restorer is one running restore.
type restorer struct {
	ctx     context.Context
	r       *Repository
	root    *safefs.Root
	scratch *safefs.Scratch
	opts    RestoreOptions
	prog    *Progress

	batch      []*fileTask
	batchBytes int64
	fetching   chan error  // the fetch of the last batch flushed, until waited for
	buffers    chan []byte // for ranges of packs, one per download (see buffer)
	links      []linkTask
	dirs       []dirMeta
}

// Batches bound what a restore holds before it fetches: open files, and
// the spans to write (a few dozen bytes per MiB). A batch spans many
// large files, because writes into one file take its inode's lock in the
// kernel: downloads writing into different files run in parallel, into
// one they wait for each other. Two batches are open at a time.
const (
	batchFiles = 2048
	batchBytes = 8 << 30
)

type linkTask struct {
	dir, name, target string
	meta              wire.Meta
}

type dirMeta struct {
	path string
	meta wire.Meta
}

// dir restores the directory d (at path) from its tree blobs.
func (rs *restorer) dir(d *safefs.Dir, path string, tree []ID) error {
	nodes, err := rs.r.LoadTree(rs.ctx, tree)
	if err != nil {
		return err
	}
	if err := rs.removeExtra(d, path, nodes); err != nil {
		return err
	}
	for i := range nodes {
		if err := rs.entry(d, path, &nodes[i]); err != nil {
			return err
		}
	}
	return nil
}

// removeExtra removes entries of d that the snapshot does not have.
func (rs *restorer) removeExtra(d *safefs.Dir, path string, nodes []Node) error {
	names, err := d.Names()
	if err != nil {
		return err
	}
	for _, name := range names {
		if path == safefs.RootPath && (name == safefs.ReservedName || name == "lost+found") {
			continue
		}
		if findNode(nodes, name) == nil {
			if err := d.RemoveAll(name); err != nil {
				return err
			}
		}
	}
	return nil
}

// entry restores one node into d.
func (rs *restorer) entry(d *safefs.Dir, path string, n *Node) error {
	if err := safefs.CheckName(n.Name); err != nil {
		return fmt.Errorf("snapshot entry in %s: %w", path, err)
	}
	rel := safefs.Join(path, n.Name)
	if path == safefs.RootPath && n.Name == safefs.ReservedName {
		return nil
	}
	var st unix.Stat_t
	exists := unix.Fstatat(d.FD(), n.Name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil
	switch n.Meta.Kind {
	case wire.KindDir:
		if err := d.EnsureDir(n.Name); err != nil {
			return err
		}
		child, err := d.OpenDir(n.Name)
		if err != nil {
			return err
		}
		defer child.Close()
		rs.dirs = append(rs.dirs, dirMeta{path: rel, meta: n.Meta})
		return rs.dir(child, rel, n.Subtree)
	case wire.KindRegular:
		if n.Link != "" {
			if err := safefs.CheckPath(n.Link); err != nil {
				return fmt.Errorf("snapshot entry %s: link: %w", rel, err)
			}
			rs.links = append(rs.links, linkTask{dir: path, name: n.Name, target: n.Link, meta: n.Meta})
			return nil
		}
		if exists && st.Mode&unix.S_IFMT == unix.S_IFREG && st.Size == n.Meta.Size && unix.TimespecToNsec(st.Mtim) == n.Meta.Mtime {
			rs.prog.FilesDone.Add(1)
			rs.prog.BytesDone.Add(n.Meta.Size)
			return d.Apply(n.Name, &n.Meta, nil, rs.opts.Chown)
		}
		return rs.addFile(d, path, n, exists, exists && st.Mode&unix.S_IFMT == unix.S_IFREG)
	default:
		return rs.special(d, rel, n)
	}
}

// special restores a symlink, FIFO, device or socket through the scratch
// folder.
func (rs *restorer) special(d *safefs.Dir, rel string, n *Node) error {
	var tmp string
	var err error
	switch n.Meta.Kind {
	case wire.KindSymlink:
		tmp, err = rs.scratch.Symlink(n.Meta.Target, rel)
	case wire.KindFIFO, wire.KindCharDev, wire.KindBlockDev, wire.KindSocket:
		tmp, err = rs.scratch.Mknod(fsmeta.TypeBits(n.Meta.Kind)|n.Meta.Mode&0o7777, n.Meta.Rdev, rel)
	default:
		return fmt.Errorf("snapshot entry %s: unknown kind %d", rel, n.Meta.Kind)
	}
	if err != nil {
		rs.prog.warn("%s: %v", rel, err)
		return nil
	}
	if err := rs.scratch.Apply(tmp, &n.Meta, rs.opts.Chown); err != nil {
		_ = rs.scratch.Remove(tmp)
		return err
	}
	rs.prog.FilesDone.Add(1)
	return d.Place(rs.scratch, tmp, n.Name)
}

// fileTask is a file being rebuilt in the scratch folder.
type fileTask struct {
	dirPath, name string
	node          *Node
	// basis is the file's old content at its place, when it may share
	// chunks with the new.
	hasBasis bool

	mu sync.Mutex
	// wmu serializes the writes into f: the kernel takes the file's lock
	// for each write anyway, and concurrent writers spinning on it cost
	// a third more CPU than waiting here (measured on tmpfs).
	wmu sync.Mutex
	f   *os.File
	tmp string // its name in the scratch folder; "" when made in place
	// remaining counts the spans still to write.
	remaining int
}

// addFile queues a file to rebuild, fetching the batch once it is full.
// A file whose name is free is made in place (a restore that stops
// leaves it with the wrong time, which the next one sees and redoes);
// one that replaces an entry is made in the scratch folder and moved
// over it when complete.
func (rs *restorer) addFile(d *safefs.Dir, path string, n *Node, exists, hasBasis bool) error {
	t := &fileTask{dirPath: path, name: n.Name, node: n, hasBasis: hasBasis && n.Meta.Size >= int64(rs.r.chunker.Params().MinSize)}
	if !exists {
		f, err := d.Create(n.Name)
		if err != nil {
			return err
		}
		t.f = f
		if err := f.Truncate(n.Meta.Size); err != nil {
			f.Close()
			return fmt.Errorf("restore %s: %w", safefs.Join(path, n.Name), err)
		}
	}
	rs.batch = append(rs.batch, t)
	rs.batchBytes += n.Meta.Size
	if len(rs.batch) >= batchFiles || rs.batchBytes >= batchBytes {
		return rs.flush()
	}
	return nil
}

// target is where a blob's bytes go: a span of a file.
type target struct {
	task    *fileTask
	off     int64 // content offset of the span in the file
	blobOff uint32
	length  uint32
}

// flush rebuilds the batch's files: chunks the old files still hold are
// copied locally, the rest fetched pack range by pack range, in the
// background while the next batch is planned (the walk and the creation
// of files overlap the downloads).
func (rs *restorer) flush() error {
	batch := rs.batch
	rs.batch, rs.batchBytes = nil, 0
	if len(batch) == 0 {
		return nil
	}
	need := map[ID][]target{}
	for _, t := range batch {
		if err := rs.plan(t, need); err != nil {
			return err
		}
	}
	if err := rs.wait(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- rs.fetch(need) }()
	rs.fetching = done
	return nil
}

// wait waits for the batch being fetched, if any.
func (rs *restorer) wait() error {
	if rs.fetching == nil {
		return nil
	}
	err := <-rs.fetching
	rs.fetching = nil
	return err
}

// plan creates t's file, copies what its old content shares and records
// the spans left to fetch.
func (rs *restorer) plan(t *fileTask, need map[ID][]target) error {
	if t.f == nil {
		if err := rs.open(t); err != nil {
			return err
		}
	}
	basis, err := rs.basis(t)
	if err != nil {
		return err
	}
	var off int64
	missing := 0
	for _, s := range t.node.Content {
		if loc, ok := basis.chunks[s.Blob]; ok && s.Offset+s.Length <= uint32(loc.length) {
			if err := t.copyFrom(basis.f, loc.off+int64(s.Offset), off, int64(s.Length)); err != nil {
				basis.close()
				return err
			}
			rs.prog.BytesDone.Add(int64(s.Length))
		} else {
			need[s.Blob] = append(need[s.Blob], target{task: t, off: off, blobOff: s.Offset, length: s.Length})
			missing++
		}
		off += int64(s.Length)
	}
	basis.close()
	t.remaining = missing
	if missing == 0 {
		return rs.complete(t)
	}
	return nil
}

// open creates t's file in the scratch folder, sized as the snapshot's.
func (rs *restorer) open(t *fileTask) error {
	rel := safefs.Join(t.dirPath, t.name)
	f, tmp, err := rs.scratch.CreateFile(rel)
	if err != nil {
		return err
	}
	if err := f.Truncate(t.node.Meta.Size); err != nil {
		f.Close()
		_ = rs.scratch.Remove(tmp)
		return fmt.Errorf("restore %s: %w", rel, err)
	}
	t.f, t.tmp = f, tmp
	return nil
}

// basisChunks are the chunks of a file's old content.
type basisChunks struct {
	f      *os.File
	chunks map[ID]struct{ off, length int64 }
}

func (b basisChunks) close() {
	if b.f != nil {
		b.f.Close()
	}
}

// basis cuts t's old file into chunks as a backup would, so that chunks
// the new content shares are copied instead of fetched.
func (rs *restorer) basis(t *fileTask) (basisChunks, error) {
	out := basisChunks{chunks: map[ID]struct{ off, length int64 }{}}
	if !t.hasBasis || len(t.node.Content) < 2 {
		return out, nil
	}
	d, err := rs.root.OpenDir(t.dirPath)
	if err != nil {
		return out, err
	}
	defer d.Close()
	f, err := d.Open(t.name, false)
	if err != nil {
		return out, nil // gone or replaced: fetch everything
	}
	out.f = f
	maxSize := rs.r.chunker.Params().MaxSize
	buf := make([]byte, 0, 4*maxSize)
	var pos, read int64 // file offsets of buf[start] and of buf's end
	start, eof := 0, false
	for !eof || start < len(buf) {
		if !eof && len(buf)-start < maxSize {
			if cap(buf)-len(buf) < maxSize {
				buf, start = buf[:copy(buf, buf[start:])], 0
			}
			k, err := f.ReadAt(buf[len(buf):cap(buf)], read)
			buf, read = buf[:len(buf)+k], read+int64(k)
			if errors.Is(err, io.EOF) {
				eof = true
			} else if err != nil {
				return out, fmt.Errorf("read old %s: %w", safefs.Join(t.dirPath, t.name), err)
			}
			continue
		}
		n := rs.r.chunker.Cut(buf[start:])
		out.chunks[rs.r.keys.blobID(buf[start:start+n])] = struct{ off, length int64 }{pos, int64(n)}
		pos += int64(n)
		start += n
	}
	return out, nil
}

// place maps a span of t's content to file offsets through its
// extents, calling fn for each piece.
func (t *fileTask) place(contentOff, length int64, fn func(fileOff, from, n int64) error) error {
	if t.node.Extents == nil {
		return fn(contentOff, 0, length)
	}
	var pos int64 // content offset of the extent's start
	for _, x := range t.node.Extents {
		if contentOff+length <= pos {
			break
		}
		if contentOff < pos+x.Len {
			from := max(contentOff, pos)
			to := min(contentOff+length, pos+x.Len)
			if err := fn(x.Off+from-pos, from-contentOff, to-from); err != nil {
				return err
			}
		}
		pos += x.Len
	}
	return nil
}

// write writes a span's bytes into t's file.
func (t *fileTask) write(contentOff int64, data []byte) error {
	return t.place(contentOff, int64(len(data)), func(fileOff, from, n int64) error {
		if fileOff+n > t.node.Meta.Size {
			return fmt.Errorf("restore %s: %w: data beyond the file's size", t.name, ErrTampered)
		}
		t.wmu.Lock()
		defer t.wmu.Unlock()
		_, err := t.f.WriteAt(data[from:from+n], fileOff)
		return err
	})
}

// copyFrom copies n bytes at basisOff of the old file to content offset
// contentOff of the new.
func (t *fileTask) copyFrom(old *os.File, basisOff, contentOff, n int64) error {
	buf := make([]byte, n)
	if _, err := old.ReadAt(buf, basisOff); err != nil {
		return fmt.Errorf("read old %s: %w", t.name, err)
	}
	return t.write(contentOff, buf)
}

// pieceOf is one range of a pack to fetch.
type pieceOf struct {
	pack       ID
	start, end int64
	blobs      []ID
}

// fetch fetches the blobs needed, merging neighbours in a pack into one
// ranged read, and writes each to its targets.
func (rs *restorer) fetch(need map[ID][]target) error {
	g, ctx := errgroup.WithContext(rs.ctx)
	g.SetLimit(rs.opts.Downloads)
	for _, p := range rs.pieces(need) {
		g.Go(func() error { return rs.fetchPiece(ctx, p, need) })
	}
	return g.Wait()
}

// pieces groups needed blobs into ranges of packs.
func (rs *restorer) pieces(need map[ID][]target) []pieceOf {
	type loc struct {
		id   ID
		pack ID
		l    location
	}
	var locs []loc
	for id := range need {
		pack, l, ok := rs.r.idx.lookup(id)
		if !ok {
			// Reported by fetchPiece.
			locs = append(locs, loc{id: id})
			continue
		}
		locs = append(locs, loc{id: id, pack: pack, l: l})
	}
	sort.Slice(locs, func(i, j int) bool {
		if locs[i].pack != locs[j].pack {
			return string(locs[i].pack[:]) < string(locs[j].pack[:])
		}
		return locs[i].l.offset < locs[j].l.offset
	})
	const gap, most = 256 << 10, 16 << 20
	var out []pieceOf
	for _, x := range locs {
		start, end := int64(x.l.offset), int64(x.l.offset)+int64(x.l.length)
		if n := len(out); n > 0 && out[n-1].pack == x.pack && !x.pack.IsZero() && start-out[n-1].end <= gap && end-out[n-1].start <= most {
			out[n-1].end = max(out[n-1].end, end)
			out[n-1].blobs = append(out[n-1].blobs, x.id)
			continue
		}
		out = append(out, pieceOf{pack: x.pack, start: start, end: end, blobs: []ID{x.id}})
	}
	return out
}

// rangeBuffer is the least a buffer for ranges of packs holds: a whole
// pack of PackSize and a chunk beyond it, so that most ranges fit the
// first buffer made.
const rangeBuffer = PackSize + PackSize/4

// buffer takes a buffer for a range of n bytes from the restore's own
// ones (one per download, made on first use, never given back to the
// heap: a fresh 16 MiB buffer costs its zeroing, and its pages' first
// touch, as much as decrypting it).
func (rs *restorer) buffer(n int64) []byte {
	var buf []byte
	select {
	case buf = <-rs.buffers:
	default:
	}
	if int64(cap(buf)) < n {
		buf = make([]byte, max(n, rangeBuffer))
	}
	return buf[:n]
}

// fetchPiece reads one range and writes its blobs.
func (rs *restorer) fetchPiece(ctx context.Context, p pieceOf, need map[ID][]target) error {
	if p.pack.IsZero() {
		return fmt.Errorf("blob %s of the snapshot is not in the repository (prune removed it, or the snapshot is damaged)", p.blobs[0].Short())
	}
	data := rs.buffer(p.end - p.start)
	defer func() { rs.buffers <- data }()
	if err := rs.r.store.ReadRange(ctx, packName(p.pack), p.start, data); err != nil {
		return fmt.Errorf("read pack %s: %w", p.pack.Short(), err)
	}
	rs.r.Stats.BytesDownloaded.Add(int64(len(data)))
	for _, id := range p.blobs {
		_, l, _ := rs.r.idx.lookup(id)
		from := int64(l.offset) - p.start
		content, err := rs.r.keys.openBlob(id, data[from:from+int64(l.length)], int(l.raw))
		if err != nil {
			return err
		}
		rs.r.Stats.BlobsDownloaded.Add(1)
		for _, t := range need[id] {
			if int64(t.blobOff)+int64(t.length) > int64(len(content)) {
				return fmt.Errorf("restore %s: %w: span beyond its blob", t.task.name, ErrTampered)
			}
			if err := t.task.write(t.off, content[t.blobOff:t.blobOff+t.length]); err != nil {
				return err
			}
			rs.prog.BytesDone.Add(int64(t.length))
			if t.task.written() {
				if err := rs.complete(t.task); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// written counts one fetched span; it is true for the last.
func (t *fileTask) written() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.remaining--
	return t.remaining == 0
}

// complete gives the rebuilt file its metadata and, when made in the
// scratch folder, moves it into place.
func (rs *restorer) complete(t *fileTask) error {
	defer t.f.Close()
	rel := safefs.Join(t.dirPath, t.name)
	if err := safefs.ApplyFile(t.f, rel, &t.node.Meta, rs.opts.Chown); err != nil {
		if t.tmp != "" {
			_ = rs.scratch.Remove(t.tmp)
		}
		return err
	}
	if t.tmp != "" {
		if err := rs.place(t); err != nil {
			return err
		}
	}
	rs.prog.FilesDone.Add(1)
	return nil
}

// place moves t's file from the scratch folder to its name.
func (rs *restorer) place(t *fileTask) error {
	d, err := rs.root.OpenDir(t.dirPath)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Place(rs.scratch, t.tmp, t.name); err != nil {
		_ = rs.scratch.Remove(t.tmp)
		return err
	}
	return nil
}

// finish makes hard links, then sets directories' metadata deepest
// first (a change inside a directory changes its times), the root last.
func (rs *restorer) finish(top *safefs.Dir, snap *Snapshot) error {
	for _, l := range rs.links {
		if err := rs.link(l); err != nil {
			return err
		}
	}
	for i := len(rs.dirs) - 1; i >= 0; i-- {
		dm := rs.dirs[i]
		parent, name := safefs.Split(dm.path)
		d, err := rs.root.OpenDir(parent)
		if err != nil {
			return err
		}
		err = d.Apply(name, &dm.meta, nil, rs.opts.Chown)
		d.Close()
		if err != nil {
			return err
		}
	}
	if !rs.opts.Chown && !top.Mine() {
		// Not root and not the root's owner (a volume root made by its
		// provisioner, writable through fsGroup): it keeps its own mode
		// and times.
		return nil
	}
	return top.Apply(".", &snap.Root, nil, rs.opts.Chown)
}

// link makes a hard link's second name.
func (rs *restorer) link(l linkTask) error {
	srcDir, srcName, err := rs.root.OpenParent(l.target)
	if err != nil {
		return err
	}
	defer srcDir.Close()
	rel := safefs.Join(l.dir, l.name)
	tmp, err := rs.scratch.Link(srcDir, srcName, rel)
	if err != nil {
		rs.prog.warn("%s: %v", rel, err)
		return nil
	}
	d, err := rs.root.OpenDir(l.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	rs.prog.FilesDone.Add(1)
	rs.prog.BytesDone.Add(l.meta.Size)
	return d.Place(rs.scratch, tmp, l.name)
}
