// Package chunker cuts data into content-defined chunks: where a chunk
// ends depends only on the bytes just before the cut, so inserting or
// deleting bytes moves only the boundaries near the edit and the chunks
// further on stay the same (and deduplicate).
//
// # Basics
//
// The rolling hash is a gear hash (h = h<<1 + gear[b]): each byte shifts
// the hash one bit, so its top bits depend on the last 64 bytes. A cut
// comes where the top bits of the hash are all zero. Cuts are normalized
// (FastCDC's idea): before the average size a cut needs more zero bits,
// after it fewer, which narrows the spread of sizes around the average.
// No cut comes before MinSize, every chunk ends by MaxSize.
//
// The gear table comes from a seed. A replication repository derives it
// from its key, so chunk sizes, which an observer of the bucket can
// measure, say nothing about the content to someone without the key.
//
// # Caveats
//
// Chunks shorter than MinSize come only at the end of the data.
package chunker

import (
	"fmt"

	"github.com/zeebo/blake3"
)

// Params are the sizes of chunks.
type Params struct {
	// MinSize is the smallest chunk (but the last); AvgSize the size
	// around which chunks cluster; MaxSize the largest chunk.
	MinSize, AvgSize, MaxSize int
}

// DefaultParams cut chunks of about 1 MiB, between 512 KiB and 8 MiB.
var DefaultParams = Params{MinSize: 512 << 10, AvgSize: 1 << 20, MaxSize: 8 << 20}

// Chunker finds chunk boundaries. It keeps no state between calls and is
// safe for concurrent use.
type Chunker struct {
	gear         [256]uint64
	p            Params
	strict, easy uint // zero bits a cut needs before and after AvgSize
}

// New returns a Chunker whose gear table is derived from seed.
func New(seed []byte, p Params) (*Chunker, error) {
	if p.MinSize < 64 || p.AvgSize <= p.MinSize || p.MaxSize < p.AvgSize {
		return nil, fmt.Errorf("chunker: sizes must grow from min (at least 64) through avg to max: %+v", p)
	}
	c := &Chunker{p: p}
	bits := uint(0)
	for 1<<(bits+1) <= p.AvgSize-p.MinSize {
		bits++
	}
	c.strict, c.easy = bits+2, max(bits-2, 1)
	h := blake3.New()
	_, _ = h.Write([]byte("ferry chunker gear table v1\x00"))
	_, _ = h.Write(seed)
	var table [256 * 8]byte
	if _, err := h.Digest().Read(table[:]); err != nil {
		return nil, fmt.Errorf("chunker: derive gear table: %w", err)
	}
	for i := range c.gear {
		for j := range 8 {
			c.gear[i] |= uint64(table[i*8+j]) << (8 * j)
		}
	}
	return c, nil
}

// Params returns the sizes the Chunker cuts.
func (c *Chunker) Params() Params { return c.p }

// Cut returns the length of the chunk at the start of data. Give it at
// least MaxSize bytes, or all that is left at the end of the data: with
// less it cannot know whether a later cut would come.
func (c *Chunker) Cut(data []byte) int {
	n := len(data)
	if n <= c.p.MinSize {
		return n
	}
	n = min(n, c.p.MaxSize)
	normal := min(c.p.AvgSize, n)
	strict, easy := 64-c.strict, 64-c.easy
	var h uint64
	// The hash starts 64 bytes before MinSize so that its top bits cover
	// a full window at the first place a cut may come.
	i := c.p.MinSize - 64
	for ; i < c.p.MinSize; i++ {
		h = h<<1 + c.gear[data[i]]
	}
	for ; i < normal; i++ {
		h = h<<1 + c.gear[data[i]]
		if h>>strict == 0 {
			return i + 1
		}
	}
	for ; i < n; i++ {
		h = h<<1 + c.gear[data[i]]
		if h>>easy == 0 {
			return i + 1
		}
	}
	return n
}
