package repository

import (
	"context"
	"hash/maphash"
	"sort"

	"ferry.dev/ferry/internal/chunker"
)

// A changed large file is stored as a delta of its version in the parent
// snapshot. Content-defined chunks alone send again every chunk an edit
// touches: about a chunk's length (1 MiB) more than the edit on average,
// so 1 MiB edits cost 2-4 MiB each. So a chunk the repository does not
// hold yet is compared with the parent's content around the same place:
// both are cut into sub-chunks of about 32 KiB, sub-chunks of the same
// content are matched (by a hash, then byte by byte), each match is
// extended byte by byte, and the runs they share become spans of the
// parent's blobs. Only the bytes left over, about the edit, are sent, in
// one new blob. The parent's blobs are downloaded for it, within a budget
// per file, and a file whose chunks keep sharing nothing (rewritten, not
// edited) stops trying.

// Bounds of the delta of one file.
const (
	// deltaWindow is how far before and after a chunk's place the
	// parent's content is searched (insertions and deletions shift it).
	deltaWindow = 1 << 20
	// deltaMinRun is the shortest shared run kept as a reference:
	// shorter ones are sent again.
	deltaMinRun = 4 << 10
	// deltaCache is how many of the parent's spans are kept in memory.
	deltaCache = 16
	// deltaMisses chunks in a row that share nothing end the delta.
	deltaMisses = 4
	// deltaContext is how much of the file before and after a chunk
	// helps to match its edges.
	deltaContext = 256 << 10
	// deltaMinBudget is the least the delta of a file may download; it
	// may download an eighth of the file when that is more.
	deltaMinBudget = 32 << 20
)

// deltaParams cut sub-chunks.
var deltaParams = chunker.Params{MinSize: 8 << 10, AvgSize: 32 << 10, MaxSize: 128 << 10}

// delta compares a changed file's new chunks with its parent's content.
type delta struct {
	r      *Repository
	parent []Span
	starts []int64 // content offset of each parent span, and the end
	budget int64   // bytes of the parent's blobs it may still download
	misses int
	seed   maphash.Seed
	cache  []*parentSpan
}

// parentSpan is one span of the parent's content, loaded and cut.
type parentSpan struct {
	index int
	data  []byte
	subs  []sub
}

// sub is a sub-chunk: where it is and its hash.
type sub struct {
	off, n int
	sum    uint64
}

// segment is a run of a new chunk: shared with the parent's content
// from offset old, or fresh.
type segment struct {
	n      int
	shared bool
	old    int64
}

// newDelta returns the delta of a file against its parent's node, or nil
// when the parent holds no content to compare with.
func (r *Repository) newDelta(prev *Node, size int64) *delta {
	if prev == nil || prev.Link != "" || len(prev.Content) == 0 || r.subChunker == nil {
		return nil
	}
	d := &delta{r: r, parent: prev.Content, budget: max(deltaMinBudget, size/8), seed: maphash.MakeSeed()}
	d.starts = make([]int64, len(prev.Content)+1)
	for i, s := range prev.Content {
		d.starts[i+1] = d.starts[i] + int64(s.Length)
	}
	return d
}

// match splits a chunk into shared and fresh segments; ok is false when
// too little is shared to be worth it. The chunk is ext[from:from+n], at
// content offset off; ext holds bytes of the file before and after it
// (up to deltaContext each side) that help to find the shared runs at
// its edges.
func (d *delta) match(ctx context.Context, off int64, ext []byte, from, n int) (segs []segment, ok bool) {
	if d.misses >= deltaMisses {
		return nil, false
	}
	w, ok := d.window(ctx, off-int64(from), int64(len(ext)))
	if !ok {
		d.misses = deltaMisses
		return nil, false
	}
	segs = clip(d.segments(w, ext), from, n)
	shared := 0
	for _, s := range segs {
		if s.shared {
			shared += s.n
		}
	}
	if shared < n/8 || !d.rebuilds(w, segs, ext[from:from+n]) {
		d.misses++
		return nil, false
	}
	d.misses = 0
	return segs, true
}

// clip keeps the part [from, from+n) of segments.
func clip(segs []segment, from, n int) []segment {
	var out []segment
	pos := 0
	for _, s := range segs {
		start, end := max(pos, from), min(pos+s.n, from+n)
		if start < end {
			c := segment{n: end - start, shared: s.shared}
			if s.shared {
				c.old = s.old + int64(start-pos)
			}
			out = append(out, c)
		}
		pos += s.n
	}
	return out
}

// window loads the parent's spans within deltaWindow of [off, off+n).
func (d *delta) window(ctx context.Context, off, n int64) (window, bool) {
	first := d.spanAt(off - deltaWindow)
	out := window{}
	for i := first; i < len(d.parent) && d.starts[i] < off+n+deltaWindow; i++ {
		p, err := d.load(ctx, i)
		if err != nil || p == nil {
			return nil, false
		}
		out[i] = p
	}
	return out, len(out) > 0
}

// load returns parent span i, from the cache or downloaded and cut; nil
// when the budget is spent.
func (d *delta) load(ctx context.Context, i int) (*parentSpan, error) {
	for _, p := range d.cache {
		if p.index == i {
			return p, nil
		}
	}
	s := d.parent[i]
	if d.budget <= 0 {
		return nil, nil
	}
	blob, err := d.r.LoadBlob(ctx, s.Blob)
	if err != nil {
		return nil, err
	}
	d.budget -= int64(len(blob))
	if int(s.Offset)+int(s.Length) > len(blob) {
		return nil, ErrTampered
	}
	p := &parentSpan{index: i, data: blob[s.Offset : s.Offset+s.Length]}
	p.subs = d.cut(p.data)
	if len(d.cache) == deltaCache {
		d.cache = d.cache[1:]
	}
	d.cache = append(d.cache, p)
	return p, nil
}

// cut cuts data into hashed sub-chunks.
func (d *delta) cut(data []byte) []sub {
	var out []sub
	for off := 0; off < len(data); {
		n := d.r.subChunker.Cut(data[off:])
		out = append(out, sub{off: off, n: n, sum: maphash.Bytes(d.seed, data[off:off+n])})
		off += n
	}
	return out
}

// window is the parent's spans loaded around a chunk, by index.
type window map[int]*parentSpan

// spanAt returns the index of the parent's span holding content offset
// o (the first span when o is before the start).
func (d *delta) spanAt(o int64) int {
	return sort.Search(len(d.parent), func(i int) bool { return d.starts[i+1] > o })
}

// at returns the parent's content from offset o to the end of its span,
// nil outside the window.
func (d *delta) at(w window, o int64) []byte {
	if o < 0 || o >= d.starts[len(d.parent)] {
		return nil
	}
	i := d.spanAt(o)
	p := w[i]
	if p == nil {
		return nil
	}
	return p.data[o-d.starts[i]:]
}

// before returns the parent's content before offset o back to the start
// of its span, nil outside the window.
func (d *delta) before(w window, o int64) []byte {
	if o <= 0 || o > d.starts[len(d.parent)] {
		return nil
	}
	i := sort.Search(len(d.parent), func(i int) bool { return d.starts[i+1] >= o }) // span ending at or after o
	p := w[i]
	if p == nil {
		return nil
	}
	return p.data[:o-d.starts[i]]
}

// same counts how many bytes of data the parent's content from o repeats.
func (d *delta) same(w window, o int64, data []byte) int {
	k := 0
	for k < len(data) {
		old := d.at(w, o+int64(k))
		if old == nil {
			break
		}
		n := commonPrefix(old, data[k:])
		k += n
		if n < len(old) {
			break
		}
	}
	return k
}

// sameBefore counts how many bytes at the end of data the parent's
// content before o repeats.
func (d *delta) sameBefore(w window, o int64, data []byte) int {
	k := 0
	for k < len(data) {
		old := d.before(w, o-int64(k))
		if old == nil {
			break
		}
		n := commonSuffix(old, data[:len(data)-k])
		k += n
		if n < len(old) {
			break
		}
	}
	return k
}

func commonPrefix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func commonSuffix(a, b []byte) int {
	n := min(len(a), len(b))
	for i := range n {
		if a[len(a)-1-i] != b[len(b)-1-i] {
			return i
		}
	}
	return n
}

// segments matches data's sub-chunks with the parent's, extends each
// match byte by byte and merges the result into runs.
func (d *delta) segments(w window, data []byte) []segment {
	known := map[uint64][]int64{}
	for i, p := range w {
		for _, s := range p.subs {
			known[s.sum] = append(known[s.sum], d.starts[i]+int64(s.off))
		}
	}
	var segs []segment
	for _, s := range d.cut(data) {
		seg := segment{n: s.n}
		for _, o := range known[s.sum] {
			if d.same(w, o, data[s.off:s.off+s.n]) == s.n {
				seg = segment{n: s.n, shared: true, old: o}
				break
			}
		}
		segs = append(segs, seg)
	}
	segs = merge(d.extend(w, merge(segs), data))
	for i := range segs {
		if segs[i].shared && segs[i].n < deltaMinRun {
			segs[i] = segment{n: segs[i].n}
		}
	}
	return merge(segs)
}

// extend grows each shared segment into the fresh ones beside it while
// the bytes still agree.
func (d *delta) extend(w window, segs []segment, data []byte) []segment {
	pos := 0
	for i := range segs {
		if i+1 < len(segs) {
			a, b := &segs[i], &segs[i+1]
			switch {
			case a.shared && !b.shared:
				k := d.same(w, a.old+int64(a.n), data[pos+a.n:pos+a.n+b.n])
				a.n, b.n = a.n+k, b.n-k
			case !a.shared && b.shared:
				k := d.sameBefore(w, b.old, data[pos:pos+a.n])
				a.n, b.n, b.old = a.n-k, b.n+k, b.old-int64(k)
			}
		}
		pos += segs[i].n
	}
	return segs
}

// merge joins neighbouring fresh segments, and shared ones that continue
// each other, and drops empty ones.
func merge(segs []segment) []segment {
	out := segs[:0]
	for _, s := range segs {
		if s.n == 0 {
			continue
		}
		if k := len(out) - 1; k >= 0 && out[k].shared == s.shared && (!s.shared || out[k].old+int64(out[k].n) == s.old) {
			out[k].n += s.n
			continue
		}
		out = append(out, s)
	}
	return out
}

// rebuilds checks that the segments give back data exactly, a guard
// against a fault in the matching.
func (d *delta) rebuilds(w window, segs []segment, data []byte) bool {
	pos := 0
	for _, s := range segs {
		if pos+s.n > len(data) || s.shared && d.same(w, s.old, data[pos:pos+s.n]) != s.n {
			return false
		}
		pos += s.n
	}
	return pos == len(data)
}

// spans turns the segments of a chunk into spans of the node's content;
// the fresh bytes, gathered into one blob, are returned with its ID to be
// stored.
func (d *delta) spans(segs []segment, data []byte) (out []Span, fresh []byte, freshID ID) {
	pos := 0
	for _, s := range segs {
		if !s.shared {
			fresh = append(fresh, data[pos:pos+s.n]...)
		}
		pos += s.n
	}
	if len(fresh) > 0 {
		freshID = d.r.keys.blobID(fresh)
	}
	at := uint32(0)
	for _, s := range segs {
		if !s.shared {
			out = append(out, Span{Blob: freshID, Offset: at, Length: uint32(s.n)})
			at += uint32(s.n)
			continue
		}
		// A shared run may cross the parent's spans: one span each.
		for o, n := s.old, int64(s.n); n > 0; {
			i := d.spanAt(o)
			m := min(n, d.starts[i+1]-o)
			p := d.parent[i]
			out = append(out, Span{Blob: p.Blob, Offset: p.Offset + uint32(o-d.starts[i]), Length: uint32(m)})
			o, n = o+m, n-m
		}
	}
	return out, fresh, freshID
}
