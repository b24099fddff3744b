package mover

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"
)

// layout writes a test file: its size, then data at offsets; zeros in
// data are written (allocated), not left as holes.
type layout struct {
	size   int64
	writes []write
	punch  [][2]int64 // holes punched after the writes: offset, length
}

type write struct {
	off  int64
	data []byte
}

func (l layout) create(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(l.size); err != nil {
		t.Fatal(err)
	}
	for _, w := range l.writes {
		if _, err := f.WriteAt(w.data, w.off); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range l.punch {
		if err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, h[0], h[1]); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func sumOf(t *testing.T, p string) []byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sum, err := fileSum(f)
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// naiveSum is fileSum's definition computed the slow way: every block of
// the file read in order, holes and all.
func naiveSum(t *testing.T, p string) []byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	h := blake3.New()
	h.Write(binary.LittleEndian.AppendUint64(nil, uint64(st.Size())))
	buf := make([]byte, sumBlock)
	for i := uint64(0); ; i++ {
		n, err := io.ReadFull(f, buf)
		if n > 0 && !bytes.Equal(buf[:n], make([]byte, n)) {
			h.Write(binary.LittleEndian.AppendUint64(nil, i))
			h.Write(buf[:n])
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return h.Sum(nil)
}

func filled(n int, c byte) []byte { return bytes.Repeat([]byte{c}, n) }

// TestFileSumMatchesDefinition checks that skipping holes changes nothing:
// the sum of every layout equals the one computed by reading it all.
func TestFileSumMatchesDefinition(t *testing.T) {
	tests := []struct {
		name string
		l    layout
	}{
		{"empty", layout{}},
		{"one byte", layout{size: 1, writes: []write{{0, []byte{9}}}}},
		{"dense", layout{size: 300 << 10, writes: []write{{0, filled(300<<10, 7)}}}},
		{"all hole", layout{size: 10 << 20}},
		{"data across a block boundary", layout{size: 4 << 20, writes: []write{{sumBlock - 100, filled(200, 1)}}}},
		{"data in the partial last block", layout{size: 1<<20 + 5, writes: []write{{1<<20 + 2, []byte{3}}}}},
		{"two runs in one block", layout{size: 4 << 20, writes: []write{{1 << 20, filled(4096, 1)}, {1<<20 + 3*4096, filled(4096, 2)}},
			punch: [][2]int64{{1<<20 + 4096, 4096}}}},
		{"zeros as data", layout{size: 4 << 20, writes: []write{{0, make([]byte, 1<<20)}, {2 << 20, filled(10, 5)}}}},
		{"runs in adjacent blocks", layout{size: 1 << 20, writes: []write{{sumBlock - 4096, filled(4096, 1)}, {sumBlock + 4096, filled(4096, 1)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.l.create(t)
			if got, want := sumOf(t, p), naiveSum(t, p); !bytes.Equal(got, want) {
				t.Errorf("fileSum = %x, want %x", got, want)
			}
		})
	}
}

// TestFileSumComparesContent checks which pairs of files have the same sum:
// the same bytes, however allocated, and nothing else.
func TestFileSumComparesContent(t *testing.T) {
	const size = 3 << 20
	data := write{2<<20 + 1000, filled(5000, 0xAA)}
	tests := []struct {
		name string
		a, b layout
		same bool
	}{
		{"hole and zeros", layout{size: size, writes: []write{data}},
			layout{size: size, writes: []write{{0, make([]byte, size)}, data}}, true},
		{"data punched to a hole and zeros", layout{size: size, writes: []write{data, {0, filled(size/2, 1)}}, punch: [][2]int64{{0, size / 2}}},
			layout{size: size, writes: []write{{0, make([]byte, size/2)}, data}}, true},
		{"one byte in a hole", layout{size: size, writes: []write{data}},
			layout{size: size, writes: []write{data, {2<<20 + 7, []byte{1}}}}, false},
		{"trailing hole", layout{size: size, writes: []write{data}},
			layout{size: size + 1, writes: []write{data}}, false},
		{"a block moved", layout{size: size, writes: []write{{0, filled(sumBlock, 4)}}},
			layout{size: size, writes: []write{{sumBlock, filled(sumBlock, 4)}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := sumOf(t, tt.a.create(t)), sumOf(t, tt.b.create(t))
			if bytes.Equal(a, b) != tt.same {
				t.Errorf("sums %x and %x: equal = %v, want %v", a, b, !tt.same, tt.same)
			}
		})
	}
}

// TestFileSumSkipsHoles sums a file of 1 TiB apparent size holding one
// byte: only the block that holds it is read.
func TestFileSumSkipsHoles(t *testing.T) {
	p := layout{size: 1 << 40, writes: []write{{1<<39 + 5, []byte{1}}}}.create(t)
	before := contentReads.Load()
	sumOf(t, p)
	if n := contentReads.Load() - before; n > sumBlock {
		t.Errorf("read %d bytes, want at most one block of %d", n, sumBlock)
	}
}
