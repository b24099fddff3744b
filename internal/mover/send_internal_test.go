package mover

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/wire"
)

// TestLiveSourceChangesAreWarnings covers files that vanish or change
// between the walk and the read: they are counted as warnings and not
// sent, never failures.
func TestLiveSourceChangesAreWarnings(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(t *testing.T, path string, info *fsmeta.Info)
	}{
		{"vanished", func(t *testing.T, path string, _ *fsmeta.Info) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
		{"content changed", func(t *testing.T, path string, _ *fsmeta.Info) {
			if err := os.WriteFile(path, []byte("changed and longer"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"mtime changed", func(t *testing.T, path string, _ *fsmeta.Info) {
			if err := os.Chtimes(path, time.Now(), time.Now().Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced by a symlink", func(t *testing.T, path string, _ *fsmeta.Info) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/etc/passwd", path); err != nil {
				t.Fatal(err)
			}
		}},
		{"replaced by another file", func(t *testing.T, path string, _ *fsmeta.Info) {
			tmp := path + ".new"
			if err := os.WriteFile(tmp, []byte("other"), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			path := filepath.Join(root, "f")
			if err := os.WriteFile(path, []byte("original"), 0o644); err != nil {
				t.Fatal(err)
			}
			info, err := fsmeta.Lstat(path)
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(t, path, &info)
			s := &sender{opts: Options{Root: root}, log: slog.New(slog.DiscardHandler), prog: newTracker(), arena: &arena{}}
			dir, err := os.Open(root)
			if err != nil {
				t.Fatal(err)
			}
			defer dir.Close()
			if err := s.addSmall(srcFile{dir: dir, name: "f", rel: "f"}, info); err != nil {
				t.Fatalf("addSmall: %v", err)
			}
			if got := s.prog.warnings.Load(); got != 1 {
				t.Errorf("warnings = %d, want 1", got)
			}
			if len(s.batch.Files) != 0 {
				t.Errorf("changed file was batched: %+v", s.batch.Files)
			}
		})
	}
}

func TestReadSegmentsSkipsHoles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sparse")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const size = 4 << 20
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("data"), 2<<20); err != nil {
		t.Fatal(err)
	}
	info, err := fsmeta.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	segs, err := readSegments(f, &info, &arena{})
	if err != nil {
		t.Fatal(err)
	}
	var total int
	for _, s := range segs {
		total += len(s.Data)
		if s.Off > 2<<20 || s.Off+int64(len(s.Data)) < 2<<20+4 {
			t.Errorf("segment at %d+%d misses the data", s.Off, len(s.Data))
		}
	}
	if len(segs) != 1 || total >= size/2 {
		t.Errorf("got %d segments with %d bytes, want one small segment", len(segs), total)
	}
}

func TestProgressSnapshot(t *testing.T) {
	tests := []struct {
		name      string
		final     bool
		phase     string
		wantEta   bool
		wantZeroE bool
	}{
		{"totals still growing", false, PhaseTransferring, false, false},
		{"totals final", true, PhaseTransferring, true, false},
		{"done", true, PhaseDone, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTracker()
			tr.lastAt = tr.start.Add(-time.Second)
			tr.bytesTotal.Store(1000)
			tr.bytesDone.Store(100)
			tr.totalsFinal.Store(tt.final)
			tr.setPhase(tt.phase)
			p := tr.snapshot()
			if p.BytesPerSecond <= 0 {
				t.Errorf("rate = %v, want > 0", p.BytesPerSecond)
			}
			switch {
			case tt.wantZeroE && p.EtaSeconds != 0:
				t.Errorf("eta = %v, want 0 when done", p.EtaSeconds)
			case tt.wantEta && p.EtaSeconds <= 0:
				t.Errorf("eta = %v, want > 0", p.EtaSeconds)
			case !tt.wantEta && !tt.wantZeroE && p.EtaSeconds != -1:
				t.Errorf("eta = %v, want -1 while totals grow", p.EtaSeconds)
			}
		})
	}
}

func TestClipExtents(t *testing.T) {
	exts := []fsmeta.Extent{{Off: 0, Len: 10}, {Off: 20, Len: 10}, {Off: 40, Len: 5}}
	tests := []struct {
		off, end int64
		want     []fsmeta.Extent
	}{
		{0, 50, exts},
		{5, 25, []fsmeta.Extent{{Off: 5, Len: 5}, {Off: 20, Len: 5}}},
		{10, 20, nil},
		{42, 100, []fsmeta.Extent{{Off: 42, Len: 3}}},
		{100, 200, nil},
	}
	for _, tt := range tests {
		got := clipExtents(exts, tt.off, tt.end)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("clipExtents(%d, %d) = %v, want %v", tt.off, tt.end, got, tt.want)
		}
	}
}

func TestProgressReportsFailure(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantCode int
	}{
		{"full volume", fmt.Errorf("send file big: %w", &RemoteError{Code: wire.CodeNoSpace, Message: "full"}), ExitNoSpace},
		{"network", errors.New("control connection: EOF"), ExitFailed},
		{"path too long", pathTooLong(slog.New(slog.DiscardHandler), strings.Repeat("d/", 2100)), ExitPathLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := newTracker()
			tr.fail(tt.err)
			p := tr.snapshot()
			if p.Phase != PhaseFailed || p.Error != tt.err.Error() || p.ExitCode != tt.wantCode {
				t.Errorf("snapshot = phase %s, error %q, exit code %d; want failed, %q, %d", p.Phase, p.Error, p.ExitCode, tt.err, tt.wantCode)
			}
		})
	}
}

// TestCountStaysInSource checks that the totals scan counts files and
// bytes below the root and does not follow a symlink to a directory
// outside it.
func TestCountStaysInSource(t *testing.T) {
	root, outside := t.TempDir(), t.TempDir()
	for _, f := range []struct {
		path string
		size int
	}{{"a", 1}, {"sub/b", 2}, {"sub/deeper/c", 3}} {
		p := filepath.Join(root, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, make([]byte, f.size), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(outside, "big"), make([]byte, 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(root, "sub", "link")); err != nil {
		t.Fatal(err)
	}
	rootDir, info, err := openRoot(root)
	if err != nil {
		t.Fatal(err)
	}
	defer rootDir.Close()
	s := &sender{opts: Options{Root: root}, log: slog.New(slog.DiscardHandler), prog: newTracker(), sourceFS: info.Dev}
	s.count(context.Background(), rootDir)
	if files, bytes, final := s.prog.filesTotal.Load(), s.prog.bytesTotal.Load(), s.prog.totalsFinal.Load(); files != 4 || bytes != 6 || !final {
		t.Errorf("count = %d files, %d bytes, final %v; want 4 files (the symlink too), 6 bytes, final", files, bytes, final)
	}
}

// TestLinkGroupsCheck: verification accepts destination inodes that
// mirror the source's link groups and names each way they can differ.
func TestLinkGroupsCheck(t *testing.T) {
	type file struct {
		srcIno, srcLinks uint64
		dstIno, dstLinks uint64
	}
	tests := []struct {
		name  string
		files []file
		want  []string // one per file, "" for a match
	}{
		{"single files", []file{{1, 1, 10, 1}, {2, 1, 11, 1}}, []string{"", ""}},
		{"same groups", []file{{1, 2, 10, 2}, {1, 2, 10, 2}, {2, 1, 11, 1}}, []string{"", "", ""}},
		{"split on destination", []file{{1, 2, 10, 1}, {1, 2, 11, 1}}, []string{"", "not hardlinked to its source's other links"}},
		{"joined on destination", []file{{1, 1, 10, 2}, {2, 1, 10, 2}}, []string{"", "hardlinked to a file it is not linked to on the source"}},
		{"two groups joined", []file{{1, 2, 10, 4}, {1, 2, 10, 4}, {2, 2, 10, 4}}, []string{"", "", "hardlinked to a file it is not linked to on the source"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var g linkGroups
			for i, f := range tt.files {
				info := fsmeta.Info{Dev: 1, Ino: f.srcIno, Nlink: f.srcLinks}
				e := wire.Entry{Ino: f.dstIno, Nlink: f.dstLinks}
				if got := g.check(&info, &e); got != tt.want[i] {
					t.Errorf("file %d: check = %q, want %q", i, got, tt.want[i])
				}
			}
		})
	}
}
