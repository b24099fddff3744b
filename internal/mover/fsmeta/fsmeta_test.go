package fsmeta

import (
	"reflect"
	"testing"

	"ferry.dev/ferry/internal/mover/wire"
)

func TestNonZeroRuns(t *testing.T) {
	page := func(fill byte) []byte {
		b := make([]byte, PageSize)
		b[PageSize/2] = fill
		return b
	}
	cat := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	tests := []struct {
		name string
		in   []byte
		want []Extent
	}{
		{"empty", nil, nil},
		{"all zero", cat(page(0), page(0)), nil},
		{"all data", cat(page(1), page(1)), []Extent{{Off: 0, Len: 2 * PageSize}}},
		{"hole in the middle", cat(page(1), page(0), page(1)), []Extent{{Off: 0, Len: PageSize}, {Off: 2 * PageSize, Len: PageSize}}},
		{"short tail", cat(page(0), []byte{0, 7}), []Extent{{Off: PageSize, Len: 2}}},
	}
	for _, tt := range tests {
		if got := NonZeroRuns(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: NonZeroRuns = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestKindRoundTrip(t *testing.T) {
	for k := wire.KindRegular; k <= wire.KindSocket; k++ {
		if got := KindOf(TypeBits(k)); got != k {
			t.Errorf("KindOf(TypeBits(%s)) = %s", k, got)
		}
	}
	if KindOf(0) != 0 {
		t.Error("KindOf(0) is not 0")
	}
}

func TestInfoDense(t *testing.T) {
	tests := []struct {
		name   string
		size   int64
		blocks int64
		want   bool
	}{
		{"empty", 0, 0, true},
		{"fully allocated", 4096, 8, true},
		{"tail in a partly used block", 5000, 16, true},
		{"hole", 1 << 20, 8, false},
		{"nothing allocated", 10, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := Info{Blocks: tt.blocks}
			i.Meta.Size = tt.size
			if got := i.Dense(); got != tt.want {
				t.Errorf("Dense() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHasData(t *testing.T) {
	exts := []Extent{{Off: 100, Len: 50}, {Off: 1000, Len: 1}}
	tests := []struct {
		off, end int64
		want     bool
	}{
		{0, 100, false},
		{0, 101, true},
		{149, 150, true},
		{150, 1000, false},
		{999, 2000, true},
		{1001, 1 << 40, false},
		{120, 130, true},
	}
	for _, tt := range tests {
		if got := HasData(exts, tt.off, tt.end); got != tt.want {
			t.Errorf("HasData(%d, %d) = %v, want %v", tt.off, tt.end, got, tt.want)
		}
	}
	if HasData(nil, 0, 1<<40) {
		t.Error("HasData(nil) = true")
	}
}

func TestValidExtents(t *testing.T) {
	tests := []struct {
		name string
		exts []Extent
		want bool
	}{
		{"none", nil, true},
		{"sorted", []Extent{{Off: 0, Len: 10}, {Off: 10, Len: 5}, {Off: 90, Len: 10}}, true},
		{"overlapping", []Extent{{Off: 0, Len: 10}, {Off: 9, Len: 5}}, false},
		{"unsorted", []Extent{{Off: 50, Len: 10}, {Off: 0, Len: 5}}, false},
		{"empty run", []Extent{{Off: 5, Len: 0}}, false},
		{"negative offset", []Extent{{Off: -5, Len: 10}}, false},
		{"past the end", []Extent{{Off: 95, Len: 6}}, false},
		{"overflowing", []Extent{{Off: 50, Len: 1<<63 - 1}}, false},
	}
	for _, tt := range tests {
		if got := ValidExtents(tt.exts, 100); got != tt.want {
			t.Errorf("%s: ValidExtents = %v, want %v", tt.name, got, tt.want)
		}
	}
}
