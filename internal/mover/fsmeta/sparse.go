package fsmeta

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// Extent is a run [Off, Off+Len) of a file that holds data.
type Extent struct {
	Off int64
	Len int64
}

// DataExtents returns the data runs of f within [off, end), found with
// SEEK_DATA and SEEK_HOLE. Where the file system cannot tell, the whole
// range is one extent.
func DataExtents(f *os.File, off, end int64) ([]Extent, error) {
	fd := int(f.Fd())
	var out []Extent
	for off < end {
		data, err := unix.Seek(fd, off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only a hole is left
		}
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
			return []Extent{{Off: off, Len: end - off}}, nil
		}
		if err != nil {
			return nil, &os.PathError{Op: "seek data", Path: f.Name(), Err: err}
		}
		if data >= end {
			break
		}
		hole, err := unix.Seek(fd, data, unix.SEEK_HOLE)
		if err != nil {
			return nil, &os.PathError{Op: "seek hole", Path: f.Name(), Err: err}
		}
		hole = min(hole, end)
		out = append(out, Extent{Off: data, Len: hole - data})
		off = hole
	}
	return out, nil
}

// IsZero reports whether b holds only zero bytes.
func IsZero(b []byte) bool {
	for len(b) >= 8 {
		if b[0]|b[1]|b[2]|b[3]|b[4]|b[5]|b[6]|b[7] != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
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
