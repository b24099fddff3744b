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
		{"all data", cat(page(1), page(1)), []Extent{{0, 2 * PageSize}}},
		{"hole in the middle", cat(page(1), page(0), page(1)), []Extent{{0, PageSize}, {2 * PageSize, PageSize}}},
		{"short tail", cat(page(0), []byte{0, 7}), []Extent{{PageSize, 2}}},
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
