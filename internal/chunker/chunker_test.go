package chunker

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// small keeps the tests fast: the same code cuts 1 MiB chunks.
var small = Params{MinSize: 2 << 10, AvgSize: 8 << 10, MaxSize: 64 << 10}

func randomData(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// cuts returns every chunk's end offset.
func cuts(c *Chunker, data []byte) []int {
	var out []int
	for off := 0; off < len(data); {
		off += c.Cut(data[off:])
		out = append(out, off)
	}
	return out
}

// chunkSet returns the chunks as strings, to compare as sets.
func chunkSet(c *Chunker, data []byte) map[string]bool {
	set := map[string]bool{}
	start := 0
	for _, end := range cuts(c, data) {
		set[string(data[start:end])] = true
		start = end
	}
	return set
}

func TestNewRejectsBadParams(t *testing.T) {
	for _, p := range []Params{
		{MinSize: 10, AvgSize: 100, MaxSize: 1000},
		{MinSize: 100, AvgSize: 100, MaxSize: 1000},
		{MinSize: 100, AvgSize: 1000, MaxSize: 999},
	} {
		if _, err := New(nil, p); err == nil {
			t.Errorf("New(%+v) accepted", p)
		}
	}
}

func TestSizes(t *testing.T) {
	tests := []struct {
		name string
		p    Params
		n    int
	}{
		{"small", small, 8 << 20},
		{"default", DefaultParams, 96 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New([]byte("seed"), tt.p)
			if err != nil {
				t.Fatal(err)
			}
			data := randomData(1, tt.n)
			ends := cuts(c, data)
			prev := 0
			for i, end := range ends {
				size := end - prev
				if size > tt.p.MaxSize || (size < tt.p.MinSize && i != len(ends)-1) {
					t.Fatalf("chunk %d has %d bytes, outside [%d, %d]", i, size, tt.p.MinSize, tt.p.MaxSize)
				}
				prev = end
			}
			avg := tt.n / len(ends)
			if avg < tt.p.AvgSize*3/4 || avg > tt.p.AvgSize*3/2 {
				t.Errorf("average chunk %d bytes over %d chunks; want about %d", avg, len(ends), tt.p.AvgSize)
			}
			t.Logf("%d chunks, average %d bytes", len(ends), avg)
		})
	}
}

func TestSeedChangesBoundaries(t *testing.T) {
	a, _ := New([]byte("a"), small)
	b, _ := New([]byte("b"), small)
	data := randomData(2, 1<<20)
	if equalInts(cuts(a, data), cuts(b, data)) {
		t.Fatal("two seeds cut the same boundaries")
	}
	again, _ := New([]byte("a"), small)
	if !equalInts(cuts(a, data), cuts(again, data)) {
		t.Fatal("the same seed cut different boundaries")
	}
}

func TestEditsShiftOnlyNearbyChunks(t *testing.T) {
	c, _ := New([]byte("seed"), small)
	base := randomData(3, 4<<20)
	edits := []struct {
		name string
		edit func([]byte) []byte
	}{
		{"insert", func(b []byte) []byte {
			return append(append(append([]byte{}, b[:1<<20]...), []byte("inserted bytes")...), b[1<<20:]...)
		}},
		{"delete", func(b []byte) []byte { return append(append([]byte{}, b[:2<<20]...), b[2<<20+777:]...) }},
		{"overwrite", func(b []byte) []byte {
			out := bytes.Clone(b)
			copy(out[3<<20:], "overwritten")
			return out
		}},
		{"prepend", func(b []byte) []byte { return append([]byte("head"), b...) }},
	}
	before := chunkSet(c, base)
	for _, e := range edits {
		t.Run(e.name, func(t *testing.T) {
			after := chunkSet(c, e.edit(base))
			lost := 0
			for s := range before {
				if !after[s] {
					lost++
				}
			}
			// One edit touches the chunk it lands in and perhaps its
			// neighbour; every other chunk must be found again.
			if lost > 3 {
				t.Errorf("%d of %d chunks changed after one edit", lost, len(before))
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzCut checks that cuts stay within bounds and that an insertion
// leaves the boundaries after it where they were.
func FuzzCut(f *testing.F) {
	f.Add(uint64(1), uint32(100), []byte("x"))
	f.Add(uint64(7), uint32(70000), []byte{})
	c, _ := New([]byte("fuzz"), small)
	f.Fuzz(func(t *testing.T, seed uint64, at uint32, insert []byte) {
		data := randomData(seed, 256<<10)
		pos := int(at) % len(data)
		edited := append(append(append([]byte{}, data[:pos]...), insert...), data[pos:]...)
		a, b := cuts(c, data), cuts(c, edited)
		for i, end := range b {
			prev := 0
			if i > 0 {
				prev = b[i-1]
			}
			if end-prev > small.MaxSize || (end-prev < small.MinSize && i != len(b)-1) {
				t.Fatalf("chunk %d of %d bytes out of bounds", i, end-prev)
			}
		}
		// Boundaries well after the edit (one max chunk plus the window)
		// must be the old ones shifted by the insertion.
		shifted := map[int]bool{}
		for _, end := range a {
			shifted[end+len(insert)] = true
		}
		resync := false
		for _, end := range b {
			if end <= pos+len(insert) {
				continue
			}
			if shifted[end] {
				resync = true
			} else if resync {
				t.Fatalf("boundary %d after resynchronizing is not an old one", end)
			}
		}
	})
}

func BenchmarkCut(b *testing.B) {
	c, _ := New([]byte("bench"), DefaultParams)
	data := randomData(4, 64<<20)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		cuts(c, data)
	}
}
