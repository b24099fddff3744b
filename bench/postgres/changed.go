package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"ferry.dev/ferry/internal/mover/safefs"
)

// changeBlock is the block size of the strict comparison of two volume
// states (the file system's block; PostgreSQL's pages are 8 KiB).
const changeBlock = 4096

// granularity is how finely changes are counted: in blocks of block
// bytes, and files under small bytes whole when they changed at all.
type granularity struct {
	block int
	small int64
}

var (
	// strict counts every differing 4 KiB block.
	strict = granularity{block: changeBlock}
	// ferryLike counts as Ferry's mover compares: 128 KiB blocks
	// (mover.DefaultBlockSize), files under 1 MiB (mover.DefaultSmallFile)
	// whole.
	ferryLike = granularity{block: 128 << 10, small: 1 << 20}
)

// changes is what differs between two states of a volume, A (after the
// stage) and B (at quiesce), counted at one granularity.
type changes struct {
	// Files and Bytes of B's regular files.
	Files, Bytes int64
	// InPlace: bytes of the differing blocks of files present in both
	// states under the same path (blocks past A's end count whole), in
	// InPlaceFiles files.
	InPlace, InPlaceFiles int64
	// New: files of B under a path A lacks, NewBytes their size.
	New, NewBytes int64
	// Renamed: new files matched to a file of the same size that B
	// lacks, or to a partial file the stage kept in A (the receiver's
	// basis of a file it could not finish), that shares at least one
	// block at the same offset (a recycled WAL segment, the segment
	// written during the stage); RenamedBytes is their size,
	// RenamedChanged the bytes of their differing blocks, FromPartial how
	// many were matched to a partial file.
	Renamed, RenamedBytes, RenamedChanged, FromPartial int64
	// Gone counts A's files that B lacks (deleted or renamed away).
	Gone int64
}

// ByPath is the bytes that changed when every new file counts whole.
func (c changes) ByPath() int64 { return c.InPlace + c.NewBytes }

// Matched is the bytes that changed when a renamed file counts only its
// differing blocks: the bytes that really had to travel.
func (c changes) Matched() int64 {
	return c.InPlace + c.RenamedChanged + c.NewBytes - c.RenamedBytes
}

// compareStates compares the regular files of states a and b (the
// receiver's own directory left out) at granularity g.
func compareStates(a, b string, g granularity) (changes, error) {
	fa, err := regularFiles(a)
	if err != nil {
		return changes{}, err
	}
	fb, err := regularFiles(b)
	if err != nil {
		return changes{}, err
	}
	var c changes
	gone := map[int64][]string{} // size -> paths of A that B lacks, and partial files
	for p, size := range fa {
		if _, ok := fb[p]; !ok {
			gone[size] = append(gone[size], p)
			c.Gone++
		}
	}
	partialDir := filepath.Join(safefs.ReservedName, "partial")
	if ents, err := os.ReadDir(filepath.Join(a, partialDir)); err == nil {
		for _, e := range ents {
			if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
				gone[info.Size()] = append(gone[info.Size()], filepath.Join(partialDir, e.Name()))
			}
		}
	}
	for _, l := range gone {
		sort.Strings(l)
	}
	var news []string
	for p, size := range fb {
		c.Files++
		c.Bytes += size
		if _, ok := fa[p]; !ok {
			news = append(news, p)
			continue
		}
		d, err := g.diff(filepath.Join(a, p), filepath.Join(b, p), size)
		if err != nil {
			return changes{}, err
		}
		if d > 0 {
			c.InPlace += d
			c.InPlaceFiles++
		}
	}
	sort.Strings(news)
	for _, p := range news {
		size := fb[p]
		c.New++
		c.NewBytes += size
		best, bestDiff := -1, size
		for i, q := range gone[size] {
			d, err := g.diff(filepath.Join(a, q), filepath.Join(b, p), size)
			if err != nil {
				return changes{}, err
			}
			if d < bestDiff {
				best, bestDiff = i, d
			}
		}
		if best < 0 {
			continue
		}
		c.Renamed++
		c.RenamedChanged += bestDiff
		c.RenamedBytes += size
		if strings.HasPrefix(gone[size][best], partialDir) {
			c.FromPartial++
		}
		gone[size] = append(gone[size][:best], gone[size][best+1:]...)
	}
	return c, nil
}

// regularFiles maps the path of every regular file under root to its size.
func regularFiles(root string) (map[string]int64, error) {
	files := map[string]int64{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() && rel == safefs.ReservedName {
			return filepath.SkipDir
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files[rel] = info.Size()
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", root, err)
	}
	return files, nil
}

// diff counts the bytes of b (of size bytes) that differ from a at g.
func (g granularity) diff(a, b string, size int64) (int64, error) {
	d, err := diffBlocks(a, b, g.block)
	if err == nil && d > 0 && size < g.small {
		d = size
	}
	return d, err
}

// diffBlocks counts the bytes of b's blocks of block bytes that differ
// from a's at the same offset; b's blocks past a's end count whole.
func diffBlocks(a, b string, block int) (int64, error) {
	fa, err := os.Open(a)
	if err != nil {
		return 0, err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return 0, err
	}
	defer fb.Close()
	chunk := max(256*changeBlock, block)
	ba, bb := make([]byte, chunk), make([]byte, chunk)
	var diff int64
	for {
		nb, errB := io.ReadFull(fb, bb)
		if nb == 0 {
			if errB == io.EOF {
				return diff, nil
			}
			return 0, fmt.Errorf("read %s: %w", b, errB)
		}
		na, errA := io.ReadFull(fa, ba[:nb])
		if errA != nil && errA != io.EOF && errA != io.ErrUnexpectedEOF {
			return 0, fmt.Errorf("read %s: %w", a, errA)
		}
		for off := 0; off < nb; off += block {
			end := min(off+block, nb)
			if end > na || !bytes.Equal(ba[off:end], bb[off:end]) {
				diff += int64(end - off)
			}
		}
		if errB == io.ErrUnexpectedEOF || errB == io.EOF {
			return diff, nil
		}
	}
}
