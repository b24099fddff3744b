package mover

import (
	"fmt"
	"testing"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/wire"
)

// TestMoveTrackerPicksLikelyOldName: among destination files of the new
// file's size, the one with its mtime and name wins, then its mtime,
// then its name; a minimum score leaves weaker ones for later.
func TestMoveTrackerPicksLikelyOldName(t *testing.T) {
	gone := []goneFile{{"a/other", 1}, {"b/x", 1}, {"c/other", 2}, {"d/x", 2}}
	tests := []struct {
		name  string
		rel   string
		mtime int64
		least int
		want  string
	}{
		{"same mtime and name", "new/x", 2, scoreSize, "d/x"},
		{"same mtime", "new/y", 2, scoreSize, "c/other"},
		{"same name", "new/x", 9, scoreSize, "b/x"},
		{"size only", "new/y", 9, scoreSize, "a/other"},
		{"size only is not enough", "new/y", 9, scoreMtime, ""},
		{"name only is not enough", "new/x", 9, scoreMtime, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m moveTracker
			for _, g := range gone {
				m.keep(g.path, &wire.Meta{Size: 100, Mtime: g.mtime})
			}
			if got := m.takeGone(tt.rel, &wire.Meta{Size: 100, Mtime: tt.mtime}, tt.least); got != tt.want {
				t.Errorf("takeGone = %q, want %q", got, tt.want)
			}
			if got := m.takeGone(tt.rel, &wire.Meta{Size: 101, Mtime: tt.mtime}, scoreSize); got != "" {
				t.Errorf("takeGone of another size = %q, want none", got)
			}
		})
	}
}

// TestMoveTrackerIsBounded: candidates and waiting files stop at their
// bounds, and a first sync keeps none.
func TestMoveTrackerIsBounded(t *testing.T) {
	var m moveTracker
	for i := range maxMoveCandidates {
		if !m.keep(fmt.Sprint("gone/", i), &wire.Meta{Size: int64(i)}) {
			t.Fatalf("candidate %d refused, bound is %d", i, maxMoveCandidates)
		}
	}
	if m.keep("gone/more", &wire.Meta{Size: 1}) {
		t.Errorf("candidate past the bound of %d kept", maxMoveCandidates)
	}
	for i := range maxMoveWaiting {
		if !m.wait(fmt.Sprint("new/", i), fsmeta.Info{Meta: wire.Meta{Size: int64(i)}}) {
			t.Fatalf("waiting file %d refused, bound is %d", i, maxMoveWaiting)
		}
	}
	if m.wait("new/more", fsmeta.Info{}) {
		t.Errorf("waiting file past the bound of %d kept", maxMoveWaiting)
	}
	first := moveTracker{off: true}
	if first.keep("gone/x", &wire.Meta{}) || first.wait("new/x", fsmeta.Info{}) {
		t.Error("a first sync kept a candidate or a waiting file")
	}
}
