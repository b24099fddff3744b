package fsmeta

import (
	"bytes"
	"errors"
	"os"
	"sort"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/wire"
)

// Extent is a run [Off, Off+Len) of a file that holds data.
type Extent = wire.Extent

// errStop ends a walk of data extents early; it is never returned.
var errStop = errors.New("stop")

// WalkData calls fn with each data run of f within [off, end), in order,
// found with SEEK_DATA and SEEK_HOLE; it stops at fn's first error and
// returns it. Where the file system cannot tell, the rest of the range is
// one run. Each call asks only for the next run, so a file of many runs
// costs no memory, and the whole walk costs what one DataExtents does.
func WalkData(f *os.File, off, end int64, fn func(Extent) error) error {
	fd := int(f.Fd())
	for off < end {
		data, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			return nil // only a hole is left
		}
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
			return fn(Extent{Off: off, Len: end - off})
		}
		if err != nil {
			return &os.PathError{Op: "seek data", Path: f.Name(), Err: err}
		}
		if data >= end {
			return nil
		}
		hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
		if err != nil {
			return &os.PathError{Op: "seek hole", Path: f.Name(), Err: err}
		}
		hole = min(hole, end)
		if err := fn(Extent{Off: data, Len: hole - data}); err != nil {
			return err
		}
		off = hole
	}
	return nil
}

// DataExtents returns the data runs of f within [off, end), found with
// SEEK_DATA and SEEK_HOLE. Where the file system cannot tell, the whole
// range is one extent.
func DataExtents(f *os.File, off, end int64) ([]Extent, error) {
	var out []Extent
	err := WalkData(f, off, end, func(e Extent) error {
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DataExtentsAtMost is DataExtents for at most n runs: ok is false, and
// the runs are nil, when [off, end) holds more.
func DataExtentsAtMost(f *os.File, off, end int64, n int) (exts []Extent, ok bool, err error) {
	err = WalkData(f, off, end, func(e Extent) error {
		if len(exts) == n {
			return errStop
		}
		exts = append(exts, e)
		return nil
	})
	if errors.Is(err, errStop) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return exts, true, nil
}

// HasData reports whether any of exts (sorted, not overlapping) overlaps
// [off, end).
func HasData(exts []Extent, off, end int64) bool {
	// The first extent that ends after off.
	i := sort.Search(len(exts), func(i int) bool { return exts[i].Off+exts[i].Len > off })
	return i < len(exts) && exts[i].Off < end
}

// ValidExtents reports whether exts are sorted, non-empty, not
// overlapping and within [0, size).
func ValidExtents(exts []Extent, size int64) bool {
	var prev int64
	for _, e := range exts {
		if e.Off < prev || e.Len <= 0 || e.Len > size-e.Off {
			return false
		}
		prev = e.Off + e.Len
	}
	return true
}

// zeroPage is compared against: bytes.Equal is far faster than a loop.
var zeroPage [64 << 10]byte

// IsZero reports whether b holds only zero bytes.
func IsZero(b []byte) bool {
	for len(b) > 0 {
		n := min(len(b), len(zeroPage))
		if !bytes.Equal(b[:n], zeroPage[:n]) {
			return false
		}
		b = b[n:]
	}
	return true
}

// PageSize is the granularity at which zero runs become holes.
const PageSize = 4096

// NonZeroRuns returns the runs of b, relative to b, made of PageSize pages
// holding at least one non-zero byte. Writing only those runs into a
// fresh (hole-filled) region reproduces b while keeping its holes.
func NonZeroRuns(b []byte) []Extent {
	var out []Extent
	for off := 0; off < len(b); off += PageSize {
		end := min(off+PageSize, len(b))
		if IsZero(b[off:end]) {
			continue
		}
		if n := len(out); n > 0 && out[n-1].Off+out[n-1].Len == int64(off) {
			out[n-1].Len += int64(end - off)
			continue
		}
		out = append(out, Extent{Off: int64(off), Len: int64(end - off)})
	}
	return out
}
