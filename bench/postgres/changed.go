package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"ferry.dev/ferry/internal/mover/safefs"
)

// changeBlock is the block size of the comparison of two volume states.
const changeBlock = 4096

// changes is what differs between two states of a volume, A (after the
// stage) and B (at quiesce), counted in blocks of changeBlock bytes.
type changes struct {
	// Files and Bytes of B's regular files.
	Files, Bytes int64
	// InPlace: bytes of the differing blocks of files present in both
	// states under the same path (blocks past A's end count whole), in
	// InPlaceFiles files.
	InPlace, InPlaceFiles int64
	// New: files of B under a path A lacks, NewBytes their size.
	New, NewBytes int64
	// Renamed: new files matched to a file gone from A of the same size
	// that shares at least one block at the same offset (a recycled WAL
	// segment); RenamedBytes is their size, RenamedChanged the bytes of
	// their differing blocks.
	Renamed, RenamedBytes, RenamedChanged int64
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
// receiver's own directory left out).
func compareStates(a, b string) (changes, error) {
	fa, err := regularFiles(a)
	if err != nil {
		return changes{}, err
	}
	fb, err := regularFiles(b)
	if err != nil {
		return changes{}, err
	}
	var c changes
	gone := map[int64][]string{} // size -> paths of A that B lacks
	for p, size := range fa {
		if _, ok := fb[p]; !ok {
			gone[size] = append(gone[size], p)
			c.Gone++
		}
	}
	var news []string
	for p, size := range fb {
		c.Files++
		c.Bytes += size
		if _, ok := fa[p]; !ok {
			news = append(news, p)
			continue
		}
		d, err := diffBlocks(filepath.Join(a, p), filepath.Join(b, p))
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
			d, err := diffBlocks(filepath.Join(a, q), filepath.Join(b, p))
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

// diffBlocks counts the bytes of b's blocks that differ from a's at the
// same offset; b's blocks past a's end count whole.
func diffBlocks(a, b string) (int64, error) {
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
	const chunk = 256 * changeBlock
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
		for off := 0; off < nb; off += changeBlock {
			end := min(off+changeBlock, nb)
			if end > na || !bytes.Equal(ba[off:end], bb[off:end]) {
				diff += int64(end - off)
			}
		}
		if errB == io.ErrUnexpectedEOF || errB == io.EOF {
			return diff, nil
		}
	}
}
