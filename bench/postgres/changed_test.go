package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// write creates the files (path -> content) under root.
func write(t *testing.T, root string, files map[string][]byte) {
	t.Helper()
	for p, data := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// blocks is n blocks of changeBlock bytes, block i filled with seed+i.
func blocks(seed byte, n int) []byte {
	var b []byte
	for i := range n {
		b = append(b, bytes.Repeat([]byte{seed + byte(i)}, changeBlock)...)
	}
	return b
}

// withBlock returns data with block i replaced by bytes of value v.
func withBlock(data []byte, i int, v byte) []byte {
	out := append([]byte{}, data...)
	copy(out[i*changeBlock:], bytes.Repeat([]byte{v}, changeBlock))
	return out
}

func TestCompareStates(t *testing.T) {
	table := blocks(1, 8)
	wal := blocks(100, 4)
	tests := []struct {
		name string
		g    granularity
		a, b map[string][]byte
		want changes
	}{
		{"unchanged", strict, map[string][]byte{"t": table}, map[string][]byte{"t": table},
			changes{Files: 1, Bytes: int64(len(table))}},
		{"two blocks rewritten in place", strict, map[string][]byte{"t": table},
			map[string][]byte{"t": withBlock(withBlock(table, 2, 0), 7, 0)},
			changes{Files: 1, Bytes: int64(len(table)), InPlace: 2 * changeBlock, InPlaceFiles: 1}},
		{"appended half a block", strict, map[string][]byte{"t": table},
			map[string][]byte{"t": append(append([]byte{}, table...), make([]byte, changeBlock/2)...)},
			changes{Files: 1, Bytes: int64(len(table)) + changeBlock/2, InPlace: changeBlock / 2, InPlaceFiles: 1}},
		{"truncated: nothing to send", strict, map[string][]byte{"t": table}, map[string][]byte{"t": table[:3*changeBlock]},
			changes{Files: 1, Bytes: 3 * changeBlock}},
		{"a recycled segment: renamed, one block rewritten", strict, map[string][]byte{"wal/1": wal},
			map[string][]byte{"wal/9": withBlock(wal, 0, 0)},
			changes{Files: 1, Bytes: int64(len(wal)), New: 1, NewBytes: int64(len(wal)), Renamed: 1,
				RenamedBytes: int64(len(wal)), RenamedChanged: changeBlock, Gone: 1}},
		{"a new file of another size counts whole", strict, map[string][]byte{"wal/1": wal},
			map[string][]byte{"wal/9": table},
			changes{Files: 1, Bytes: int64(len(table)), New: 1, NewBytes: int64(len(table)), Gone: 1}},
		{"the receiver's directory is left out", strict, map[string][]byte{".ferry-mover/partial/x": table, "t": wal},
			map[string][]byte{"t": wal}, changes{Files: 1, Bytes: int64(len(wal))}},
		{"a file the stage kept in part is matched to its partial file", strict,
			map[string][]byte{".ferry-mover/partial/0f3a": withBlock(wal, 3, 0)}, map[string][]byte{"wal/1": wal},
			changes{Files: 1, Bytes: int64(len(wal)), New: 1, NewBytes: int64(len(wal)), Renamed: 1,
				RenamedBytes: int64(len(wal)), RenamedChanged: changeBlock, FromPartial: 1}},
		{"coarse blocks: one changed block of 4 counts 8 KiB", granularity{block: 2 * changeBlock},
			map[string][]byte{"t": table}, map[string][]byte{"t": withBlock(table, 3, 0)},
			changes{Files: 1, Bytes: int64(len(table)), InPlace: 2 * changeBlock, InPlaceFiles: 1}},
		{"a changed small file counts whole", granularity{block: changeBlock, small: int64(len(table)) + 1},
			map[string][]byte{"t": table}, map[string][]byte{"t": withBlock(table, 3, 0)},
			changes{Files: 1, Bytes: int64(len(table)), InPlace: int64(len(table)), InPlaceFiles: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := t.TempDir(), t.TempDir()
			write(t, a, tt.a)
			write(t, b, tt.b)
			got, err := compareStates(a, b, tt.g)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("compareStates:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestChangesTotals(t *testing.T) {
	c := changes{InPlace: 10, NewBytes: 100, RenamedBytes: 60, RenamedChanged: 5}
	if got := c.Matched(); got != 10+5+40 {
		t.Errorf("Matched = %d, want 55", got)
	}
	if got := c.ByPath(); got != 110 {
		t.Errorf("ByPath = %d, want 110", got)
	}
}

func TestRsyncStat(t *testing.T) {
	out := "Number of files: 20\nMatched data: 1.23M bytes\nTotal bytes sent: 5,450 \nTotal bytes received: 2.10K\n"
	tests := []struct {
		label string
		want  int64
		err   bool
	}{
		{"Matched data", 1230000, false},
		{"Total bytes sent", 5450, false},
		{"Total bytes received", 2100, false},
		{"Literal data", 0, true},
	}
	for _, tt := range tests {
		got, err := rsyncStat(out, tt.label)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("rsyncStat(%q) = %d, %v; want %d (error %v)", tt.label, got, err, tt.want, tt.err)
		}
	}
}
