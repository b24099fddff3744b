package mover_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover"
)

// sparseFile is a handle on a fixture file for sparse edits; every method
// fails the test on error.
type sparseFile struct {
	b *treeBuilder
	f *os.File
}

func (b *treeBuilder) openSparse(rel string, size int64) *sparseFile {
	b.t.Helper()
	f, err := os.OpenFile(b.path(rel), os.O_RDWR|os.O_CREATE, 0o644)
	b.check(err)
	b.t.Cleanup(func() { f.Close() })
	if size >= 0 {
		b.check(f.Truncate(size))
	}
	return &sparseFile{b: b, f: f}
}

func (s *sparseFile) write(off int64, data []byte) {
	s.b.t.Helper()
	_, err := s.f.WriteAt(data, off)
	s.b.check(err)
}

func (s *sparseFile) punch(off, n int64) {
	s.b.t.Helper()
	s.b.check(unix.Fallocate(int(s.f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, n))
}

func (s *sparseFile) truncate(size int64) {
	s.b.t.Helper()
	s.b.check(s.f.Truncate(size))
}

// close closes the file and gives it a new mtime, so that the next sync
// does not skip it.
func (s *sparseFile) close(mtime time.Time) {
	s.b.t.Helper()
	s.b.check(s.f.Close())
	s.b.check(os.Chtimes(s.f.Name(), mtime, mtime))
}

// TestSparseSyncReadsOnlyData syncs a file of 1 GiB apparent size holding
// 3 MiB of data, then changes 1 MiB of it, with Verify both times: the
// delta and the checksums must read the data, not the holes.
func TestSparseSyncReadsOnlyData(t *testing.T) {
	const (
		size   = 1 << 30
		chunks = 48
		chunk  = 64 << 10 // 48 x 64 KiB = 3 MiB of data
		// Both sides read the blocks that hold data, for the delta and
		// again for the verification; a chunk spans two blocks of each
		// kind at most. That is a few times the data, and far less than
		// the 1 GiB that is there to read.
		maxReads = 64 << 20
	)
	src, dst := t.TempDir(), t.TempDir()
	b := newTree(t, src)
	f := b.openSparse("disk.img", size)
	for k := range int64(chunks) {
		f.write(k*(size/chunks), b.random(chunk))
	}
	f.close(time.Unix(1_600_000_000, 0))
	pki := newPKI(t)
	r := startReceiver(t, dst, serverTLS(t, pki), false)
	ctx := context.Background()

	before := mover.ContentReads()
	if _, err := runSync(ctx, t, src, r.addr, clientTLS(t, pki), withVerify); err != nil {
		t.Fatalf("first sync: %v", err)
	}
	if n := mover.ContentReads() - before; n > maxReads {
		t.Errorf("first sync read %d bytes to compare, want at most %d for %d bytes of data", n, maxReads, chunks*chunk)
	}
	sameContent(t, filepath.Join(src, "disk.img"), filepath.Join(dst, "disk.img"))

	// 1 MiB changes: 960 KiB written into a hole, 64 KiB of data rewritten.
	f = b.openSparse("disk.img", -1)
	f.write(size/2+size/chunks/2, b.random(1<<20-chunk))
	f.write(5*(size/chunks), b.random(chunk))
	f.close(time.Unix(1_600_000_100, 0))
	before = mover.ContentReads()
	p, err := runSync(ctx, t, src, r.addr, clientTLS(t, pki), withVerify)
	if err != nil {
		t.Fatalf("second sync: %v", err)
	}
	if n := mover.ContentReads() - before; n > maxReads {
		t.Errorf("second sync read %d bytes to compare, want at most %d for %d bytes of data", n, maxReads, chunks*chunk+1<<20)
	}
	if p.BytesSent > 2<<20 {
		t.Errorf("second sync sent %d bytes for 1 MiB of change", p.BytesSent)
	}
	sameContent(t, filepath.Join(src, "disk.img"), filepath.Join(dst, "disk.img"))
}

// TestSparseDelta changes sparse files in every way a hole can change and
// checks that the delta transfer reproduces them, that Verify agrees, and
// that little more than the change travels.
func TestSparseDelta(t *testing.T) {
	const size = 64 << 20
	// base: data at 0, 8 MiB (unaligned, 100 KiB) and the last 64 KiB.
	base := func(b *treeBuilder, f *sparseFile) {
		f.write(0, b.random(256<<10))
		f.write(8<<20+12345, b.random(100<<10))
		f.write(size-64<<10, b.random(64<<10))
	}
	tests := []struct {
		name string
		edit func(b *treeBuilder, f *sparseFile)
		// zeros is true when the change wrote zeros: the destination then
		// keeps a hole where the source has zeros as data.
		zeros bool
	}{
		{name: "data changed in place", edit: func(b *treeBuilder, f *sparseFile) { f.write(8<<20+20000, b.random(4000)) }},
		{name: "data written into a hole", edit: func(b *treeBuilder, f *sparseFile) { f.write(30<<20+777, b.random(200<<10)) }},
		{name: "data punched to a hole", edit: func(_ *treeBuilder, f *sparseFile) { f.punch(8<<20, 1<<20) }},
		{name: "zeros written into a hole", zeros: true, edit: func(_ *treeBuilder, f *sparseFile) { f.write(40<<20, make([]byte, 256<<10)) }},
		{name: "zeros written over data", zeros: true, edit: func(_ *treeBuilder, f *sparseFile) { f.write(0, make([]byte, 256<<10)) }},
		{name: "grown by a hole", edit: func(_ *treeBuilder, f *sparseFile) { f.truncate(size + 100<<20 + 5) }},
		{name: "grown with data at the end", edit: func(b *treeBuilder, f *sparseFile) { f.write(size+50<<20, b.random(70<<10)) }},
		{name: "shrunk into a hole", edit: func(_ *treeBuilder, f *sparseFile) { f.truncate(20<<20 + 3) }},
		{name: "shrunk into data", edit: func(_ *treeBuilder, f *sparseFile) { f.truncate(8<<20 + 50000) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := t.TempDir(), t.TempDir()
			b := newTree(t, src)
			f := b.openSparse("disk.img", size)
			base(b, f)
			f.close(time.Unix(1_600_000_000, 0))
			pki := newPKI(t)
			r := startReceiver(t, dst, serverTLS(t, pki), false)
			ctx := context.Background()
			if _, err := runSync(ctx, t, src, r.addr, clientTLS(t, pki)); err != nil {
				t.Fatalf("first sync: %v", err)
			}
			f = b.openSparse("disk.img", -1)
			tt.edit(b, f)
			f.close(time.Unix(1_600_000_100, 0))
			p, err := runSync(ctx, t, src, r.addr, clientTLS(t, pki), withVerify)
			if err != nil {
				t.Fatalf("second sync: %v", err)
			}
			if p.BytesSent > 1<<20 {
				t.Errorf("second sync sent %d bytes, want at most the changed blocks", p.BytesSent)
			}
			if tt.zeros {
				sameContent(t, filepath.Join(src, "disk.img"), filepath.Join(dst, "disk.img"))
				return
			}
			compareTrees(t, src, dst)
		})
	}
}

// sameContent fails the test unless two files have the same size and
// bytes. It reads where either has data; elsewhere both are holes.
func sameContent(t *testing.T, a, b string) {
	t.Helper()
	x, y := openRead(t, a), openRead(t, b)
	sx, sy := fileSize(t, x), fileSize(t, y)
	if sx != sy {
		t.Errorf("%s and %s: sizes %d and %d", a, b, sx, sy)
		return
	}
	bx, by := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := int64(0); off < sx; {
		start := min(nextData(t, x, off, sx), nextData(t, y, off, sx))
		if start >= sx {
			return
		}
		n := min(int64(len(bx)), sx-start)
		if _, err := x.ReadAt(bx[:n], start); err != nil {
			t.Fatal(err)
		}
		if _, err := y.ReadAt(by[:n], start); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(bx[:n], by[:n]) {
			t.Errorf("%s and %s differ in the %d bytes at offset %d", a, b, n, start)
			return
		}
		off = start + n
	}
}

func openRead(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func fileSize(t *testing.T, f *os.File) int64 {
	t.Helper()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// nextData returns the first offset from off where f has data, or size.
func nextData(t *testing.T, f *os.File, off, size int64) int64 {
	t.Helper()
	d, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
	if errors.Is(err, unix.ENXIO) {
		return size
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestVerifySparseEquivalence checks that Verify compares content, not
// allocation: zeros stored as data equal a hole, either way round, while
// a byte of data where the source has a hole is a difference.
func TestVerifySparseEquivalence(t *testing.T) {
	const size = 8 << 20
	hole := func(_ *treeBuilder, f *sparseFile) {}
	zeros := func(_ *treeBuilder, f *sparseFile) { f.write(2<<20, make([]byte, 3<<20)) }
	dirty := func(_ *treeBuilder, f *sparseFile) { f.write(3<<20+17, []byte{1}) }
	tests := []struct {
		name     string
		src, dst func(*treeBuilder, *sparseFile)
		differs  bool
	}{
		{"hole on source, zeros on destination", hole, zeros, false},
		{"zeros on source, hole on destination", zeros, hole, false},
		{"a byte in the source's hole", hole, dirty, true},
		{"a byte in the source's zeros", zeros, dirty, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, dst := t.TempDir(), t.TempDir()
			mtime := time.Unix(1_600_000_000, 0)
			for _, side := range []struct {
				root string
				fill func(*treeBuilder, *sparseFile)
			}{{src, tt.src}, {dst, tt.dst}} {
				b := newTree(t, side.root)
				f := b.openSparse("disk.img", size)
				f.write(0, bytes.Repeat([]byte("ferry"), 100000))
				f.write(size-10, []byte("end"))
				side.fill(b, f)
				f.close(mtime)
			}
			pki := newPKI(t)
			r := startReceiver(t, dst, serverTLS(t, pki), false)
			_, err := runSync(context.Background(), t, src, r.addr, clientTLS(t, pki), withVerify)
			var verr *mover.VerifyError
			switch {
			case tt.differs && (!errors.As(err, &verr) || len(verr.Paths) != 1 || verr.Paths[0] != "disk.img"):
				t.Errorf("sync returned %v, want a VerifyError naming disk.img", err)
			case !tt.differs && err != nil:
				t.Errorf("sync returned %v, want success", err)
			}
		})
	}
}

// TestSparseDeltaTailHole punches out the end of a file whose size is not
// a whole number of pages, where the destination has data: the last,
// partial page is a hole on the source and must be one on the
// destination, not a page of zeros (a hole punched up to the end of the
// file has to take that page whole).
func TestSparseDeltaTailHole(t *testing.T) {
	const size = 4<<20 + 1000
	p := newSyncPair(t)
	f := p.b.openSparse("disk.img", size)
	f.write(0, p.b.random(size))
	f.close(time.Unix(1_600_000_000, 0))
	p.sync("first sync")
	f = p.b.openSparse("disk.img", -1)
	f.punch(size-200<<10, 1<<20) // past the end: the kernel frees the partial page
	f.close(time.Unix(1_600_000_100, 0))
	p.sync("sync after punching the tail")
}
