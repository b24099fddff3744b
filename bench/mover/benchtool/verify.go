package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/safefs"
)

// verifier compares a destination tree with its source: the same names,
// types, permission bits, owners, sizes, nanosecond mtimes (directories
// too, except the roots themselves), symlink targets, device numbers,
// hardlink structure and, with content, the same bytes in every regular
// file. It also hashes the source listing, so two runs can be compared
// by a short string.
type verifier struct {
	src, dst string
	content  bool

	mu      sync.Mutex
	diffs   []string
	ndiffs  int
	entries int64
	bytes   int64
	listing io.Writer
	links   map[uint64]uint64 // source inode -> destination inode, nlink > 1

	files chan [2]string
	wg    sync.WaitGroup
}

func cmdVerify(args []string) error {
	fset := flag.NewFlagSet("verify", flag.ContinueOnError)
	content := fset.Bool("content", true, "compare the bytes of every regular file")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if fset.NArg() != 2 {
		return errors.New("want SRC DST")
	}
	h := sha256.New()
	v := &verifier{src: fset.Arg(0), dst: fset.Arg(1), content: *content, listing: h,
		links: map[uint64]uint64{}, files: make(chan [2]string, 256)}
	for range 2 {
		v.wg.Go(v.compareFiles)
	}
	v.walk(".")
	close(v.files)
	v.wg.Wait()
	if v.ndiffs > 0 {
		for _, d := range v.diffs {
			fmt.Fprintln(os.Stderr, "DIFF", d)
		}
		return fmt.Errorf("%s and %s differ in %d places", v.src, v.dst, v.ndiffs)
	}
	fmt.Printf("entries=%d bytes=%d listing=%s\n", v.entries, v.bytes, hex.EncodeToString(h.Sum(nil))[:16])
	return nil
}

func (v *verifier) diff(format string, a ...any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.ndiffs++
	if len(v.diffs) < 20 {
		v.diffs = append(v.diffs, fmt.Sprintf(format, a...))
	}
}

func lstat(p string) (fs.FileInfo, *syscall.Stat_t, error) {
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, nil, err
	}
	return fi, fi.Sys().(*syscall.Stat_t), nil
}

// walk compares the entry rel and, for a directory, everything below it.
func (v *verifier) walk(rel string) {
	sp, dp := filepath.Join(v.src, rel), filepath.Join(v.dst, rel)
	sfi, sst, err := lstat(sp)
	if err != nil {
		v.diff("%s: source: %v", rel, err)
		return
	}
	dfi, dst, err := lstat(dp)
	if err != nil {
		v.diff("%s: missing in destination: %v", rel, err)
		return
	}
	v.entries++
	fmt.Fprintf(v.listing, "%s\x00%o\x00%d:%d\x00%d\x00%d.%09d\n", rel, uint32(sfi.Mode()), sst.Uid, sst.Gid, sst.Size, sst.Mtim.Sec, sst.Mtim.Nsec)
	if sfi.Mode() != dfi.Mode() {
		v.diff("%s: mode %v, destination %v", rel, sfi.Mode(), dfi.Mode())
		return
	}
	if sst.Uid != dst.Uid || sst.Gid != dst.Gid {
		v.diff("%s: owner %d:%d, destination %d:%d", rel, sst.Uid, sst.Gid, dst.Uid, dst.Gid)
	}
	if rel != "." && sst.Mtim != dst.Mtim {
		v.diff("%s: mtime %d.%09d, destination %d.%09d", rel, sst.Mtim.Sec, sst.Mtim.Nsec, dst.Mtim.Sec, dst.Mtim.Nsec)
	}
	switch {
	case sfi.Mode().IsRegular():
		v.bytes += sst.Size
		if sst.Size != dst.Size {
			v.diff("%s: size %d, destination %d", rel, sst.Size, dst.Size)
			return
		}
		if sst.Nlink != dst.Nlink {
			v.diff("%s: %d links, destination %d", rel, sst.Nlink, dst.Nlink)
		}
		if sst.Nlink > 1 {
			if ino, ok := v.links[sst.Ino]; ok && ino != dst.Ino {
				v.diff("%s: hardlink not preserved", rel)
			}
			v.links[sst.Ino] = dst.Ino
		}
		if v.content {
			v.files <- [2]string{sp, dp}
		}
	case sfi.Mode()&fs.ModeSymlink != 0:
		st, err1 := os.Readlink(sp)
		dt, err2 := os.Readlink(dp)
		if err1 != nil || err2 != nil || st != dt {
			v.diff("%s: symlink %q, destination %q (%v, %v)", rel, st, dt, err1, err2)
		}
	case sfi.Mode()&(fs.ModeDevice|fs.ModeCharDevice) != 0:
		if sst.Rdev != dst.Rdev {
			v.diff("%s: device %x, destination %x", rel, sst.Rdev, dst.Rdev)
		}
	case sfi.IsDir():
		sents, err1 := os.ReadDir(sp)
		dents, err2 := os.ReadDir(dp)
		if err1 != nil || err2 != nil {
			v.diff("%s: read directory: %v, %v", rel, err1, err2)
			return
		}
		names := map[string]bool{}
		for _, e := range dents {
			// The Ferry receiver's own directory at the root holds its
			// state, never a copy of source data.
			if rel == "." && e.Name() == safefs.ReservedName {
				continue
			}
			names[e.Name()] = true
		}
		for _, e := range sents {
			delete(names, e.Name())
			v.walk(filepath.Join(rel, e.Name()))
		}
		for n := range names {
			v.diff("%s: extra in destination", filepath.Join(rel, n))
		}
	}
}

// compareFiles compares the contents of the file pairs it receives.
func (v *verifier) compareFiles() {
	a, b := make([]byte, 1<<20), make([]byte, 1<<20)
	for p := range v.files {
		if err := sameContent(p[0], p[1], a, b); err != nil {
			v.diff("%s: %v", p[1], err)
		}
	}
}

// sameContent compares two files of the same size where either has data
// (SEEK_DATA); elsewhere both are holes, so a sparse file of 100 GiB costs
// its data only.
func sameContent(x, y string, a, b []byte) error {
	fx, err := os.Open(x)
	if err != nil {
		return err
	}
	defer fx.Close()
	fy, err := os.Open(y)
	if err != nil {
		return err
	}
	defer fy.Close()
	sx, err := fx.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	sy, err := fy.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if sx != sy {
		return fmt.Errorf("size %d, destination %d", sx, sy)
	}
	for off := int64(0); off < sx; {
		dx, err := nextData(fx, off, sx)
		if err != nil {
			return err
		}
		dy, err := nextData(fy, off, sx)
		if err != nil {
			return err
		}
		off = min(dx, dy)
		if off >= sx {
			return nil
		}
		n := min(int64(len(a)), sx-off)
		if _, err := fx.ReadAt(a[:n], off); err != nil {
			return err
		}
		if _, err := fy.ReadAt(b[:n], off); err != nil {
			return err
		}
		if !bytes.Equal(a[:n], b[:n]) {
			return fmt.Errorf("content differs in the %d bytes at offset %d", n, off)
		}
		off += n
	}
	return nil
}

// nextData returns the first offset from off where f has data, or size
// when only a hole is left; where SEEK_DATA is not supported, off.
func nextData(f *os.File, off, size int64) (int64, error) {
	d, err := unix.Seek(int(f.Fd()), off, unix.SEEK_DATA)
	switch {
	case errors.Is(err, unix.ENXIO):
		return size, nil
	case errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP):
		return off, nil
	case err != nil:
		return 0, fmt.Errorf("seek data in %s: %w", f.Name(), err)
	}
	return d, nil
}
