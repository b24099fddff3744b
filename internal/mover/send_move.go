package mover

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// Moves across directories: a new large file that found no basis in its
// own directory (send_rename.go) is sent against a large destination
// file of the same size (the same mtime preferred) from another
// directory that the source no longer has, the likely old name of a move
// (a/x to b/y). The walk goes one directory at a time, so either one may
// come first:
//
//   - a destination file the source no longer has, seen first, is not
//     deleted with its directory's other leftovers but kept as a
//     candidate until the end of the walk;
//   - a new file, seen first, waits: it is sent when a candidate of its
//     size turns up, or at the end of the walk without one. It is
//     remembered by path and opened again then, by descriptor from the
//     source root, so waiting holds no descriptor.
//
// At the end of the walk the files still waiting are sent, and, with
// Options.Delete, the candidates no file took are removed. A candidate
// that became a basis is removed, like a renamed file's old name, only
// once all data is acknowledged (sender.finalize), and never without
// Options.Delete. Memory stays bounded: at most maxMoveCandidates
// candidates and maxMoveWaiting waiting files per sync, each a path and
// its metadata (at most about 9 MiB with paths of safefs.MaxPath, far
// less with real ones); past either bound files travel as before. The
// price is that removed large files keep their room on the destination
// until the end of the walk, and that some new files are sent after the
// walk rather than during it. A sync whose destination root was empty
// (the first one) keeps and defers nothing.
const (
	maxMoveCandidates = 1024
	maxMoveWaiting    = 1024
)

// moveTracker holds the candidates and the waiting files of a sync's
// move detection; only the walking goroutine uses it.
type moveTracker struct {
	off            bool                  // nothing to detect: the destination was empty
	gone           map[int64][]goneFile  // candidates by size, in walk order
	waiting        map[int64][]*waitFile // new files waiting for a basis, by size
	order          []*waitFile           // every waiting file, in walk order
	kept, deferred int                   // candidates and waiting files so far
}

// goneFile is a destination file the source no longer has.
type goneFile struct {
	path  string
	mtime int64
}

// waitFile is a new large source file waiting for a basis.
type waitFile struct {
	rel  string
	info fsmeta.Info
	sent bool
}

// Scores of moveScore: a move keeps the mtime, and often the name.
const (
	scoreSize  = 0 // of the same size only
	scoreName  = 1
	scoreMtime = 2
)

// moveScore rates how likely the destination file old, of mtime oldMtime,
// is the file now at rel with mtime mtime, of the same size.
func moveScore(old string, oldMtime int64, rel string, mtime int64) int {
	score := scoreSize
	if oldMtime == mtime {
		score += scoreMtime
	}
	_, oldName := safefs.Split(old)
	if _, name := safefs.Split(rel); oldName == name {
		score += scoreName
	}
	return score
}

// best returns the index of the first element of l with the highest
// score, if that is at least least, else -1.
func best[T any](l []T, least int, score func(T) int) int {
	i, top := -1, least-1
	for j, x := range l {
		if s := score(x); s > top {
			i, top = j, s
		}
	}
	return i
}

// takeGone returns, and stops offering, the candidate that is most
// likely the old name of the new file rel, listed as m, if its moveScore
// is at least least; "" when there is none.
func (t *moveTracker) takeGone(rel string, m *wire.Meta, least int) string {
	l := t.gone[m.Size]
	i := best(l, least, func(g goneFile) int { return moveScore(g.path, g.mtime, rel, m.Mtime) })
	if i < 0 {
		return ""
	}
	path := l[i].path
	t.gone[m.Size] = slices.Delete(l, i, i+1)
	return path
}

// takeWaiting returns, and stops offering, the waiting file that most
// likely was the destination file path, listed as m, before a move, if
// its moveScore is at least least; nil when there is none.
func (t *moveTracker) takeWaiting(path string, m *wire.Meta, least int) *waitFile {
	l := t.waiting[m.Size]
	i := best(l, least, func(w *waitFile) int { return moveScore(path, m.Mtime, w.rel, w.info.Meta.Mtime) })
	if i < 0 {
		return nil
	}
	w := l[i]
	t.waiting[m.Size] = slices.Delete(l, i, i+1)
	return w
}

// keep offers the destination file path, listed as m, as a candidate;
// it reports false when the candidates are full.
func (t *moveTracker) keep(path string, m *wire.Meta) bool {
	if t.off || t.kept >= maxMoveCandidates {
		return false
	}
	if t.gone == nil {
		t.gone = map[int64][]goneFile{}
	}
	t.gone[m.Size] = append(t.gone[m.Size], goneFile{path: path, mtime: m.Mtime})
	t.kept++
	return true
}

// wait makes the new file rel wait for a candidate; it reports false
// when the waiting files are full.
func (t *moveTracker) wait(rel string, info fsmeta.Info) bool {
	if t.off || t.deferred >= maxMoveWaiting {
		return false
	}
	if t.waiting == nil {
		t.waiting = map[int64][]*waitFile{}
	}
	w := &waitFile{rel: rel, info: info}
	t.waiting[info.Meta.Size] = append(t.waiting[info.Meta.Size], w)
	t.order = append(t.order, w)
	t.deferred++
	return true
}

// leftovers returns the candidates no new file took, sorted.
func (t *moveTracker) leftovers() []string {
	var out []string
	for _, l := range t.gone {
		for _, g := range l {
			out = append(out, g.path)
		}
	}
	sort.Strings(out)
	return out
}

// newLargeBasis finds the basis of the new large file rel, which has none
// in its directory, among the candidates: one of its mtime now, else it
// waits for one (wait is true; it is sent later), else, without room to
// wait, it takes the best candidate of its size there is.
func (s *sender) newLargeBasis(rel string, info fsmeta.Info) (basis string, wait bool) {
	if basis = s.moves.takeGone(rel, &info.Meta, scoreMtime); basis == "" {
		if s.moves.wait(rel, info) {
			return "", true
		}
		basis = s.moves.takeGone(rel, &info.Meta, scoreSize)
	}
	if basis != "" {
		s.removeLater(basis)
	}
	return basis, false
}

// removeLater removes, with Options.Delete, the destination file path,
// the basis of a renamed or moved file, once all data is acknowledged.
func (s *sender) removeLater(path string) {
	if s.opts.Delete {
		s.laterRemoves = append(s.laterRemoves, path)
	}
}

// offerGone offers the destination file path, listed as e, that the
// source no longer has, to move detection: a waiting file of its mtime is
// sent against it now, else it is kept as a candidate, else (without
// room) the best waiting file of its size is sent against it. It reports
// false when none of these happened: the file goes the usual way.
func (s *sender) offerGone(ctx context.Context, path string, e *wire.Entry) (bool, error) {
	if e.Meta.Kind != wire.KindRegular || e.Meta.Size < s.opts.SmallFile {
		return false, nil
	}
	w := s.moves.takeWaiting(path, &e.Meta, scoreMtime)
	if w == nil {
		if s.moves.keep(path, &e.Meta) {
			return true, nil
		}
		if w = s.moves.takeWaiting(path, &e.Meta, scoreSize); w == nil {
			return false, nil
		}
	}
	s.removeLater(path)
	return true, s.sendWaiting(ctx, w, path)
}

// finishMoves ends move detection after the walk: it sends the files
// still waiting, each against the best candidate of its size left or
// without a basis, and, with Options.Delete, removes the candidates no
// file took.
func (s *sender) finishMoves(ctx context.Context) error {
	for _, w := range s.moves.order {
		if w.sent {
			continue
		}
		basis := s.moves.takeGone(w.rel, &w.info.Meta, scoreSize)
		if basis != "" {
			s.removeLater(basis)
		}
		if err := s.sendWaiting(ctx, w, basis); err != nil {
			return err
		}
	}
	s.moves.order, s.moves.waiting = nil, nil
	if !s.opts.Delete {
		return nil
	}
	var ops opBatch
	for _, p := range s.moves.leftovers() {
		ops.add(wire.Op{Kind: wire.OpRemove, Path: p})
	}
	s.moves.gone = nil
	if err := s.sendOps(&ops); err != nil {
		return fmt.Errorf("remove destination files: %w", err)
	}
	return nil
}

// sendWaiting opens the waiting file w again and starts its transfer
// against basis ("" for none).
func (s *sender) sendWaiting(ctx context.Context, w *waitFile, basis string) error {
	w.sent = true
	f, err := s.reopen(w.rel, &w.info)
	if err != nil || f == nil {
		s.links.fail(w.info)
		return err
	}
	s.startLarge(ctx, f, w.rel, w.info, false, basis)
	return nil
}

// reopen opens the regular source file rel, listed earlier as info, from
// the source root, one name at a time without following symlinks, as
// openSource does in its directory. A file that vanished or was replaced
// meanwhile gives a warning and nil.
func (s *sender) reopen(rel string, info *fsmeta.Info) (*os.File, error) {
	dirRel, name := safefs.Split(rel)
	dir := s.rootDir
	if dirRel != safefs.RootPath {
		fd := int(s.rootDir.Fd())
		for i, part := range strings.Split(dirRel, "/") {
			next, err := unix.Openat(fd, part, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			if i > 0 {
				unix.Close(fd)
			}
			if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
				s.warn("source entry vanished", rel, nil)
				return nil, nil
			}
			if err != nil {
				return nil, fmt.Errorf("open source directory of %s: %w", rel, err)
			}
			fd = next
		}
		dir = os.NewFile(uintptr(fd), dirRel)
		defer dir.Close()
	}
	return s.openSource(srcFile{dir: dir, name: name, rel: rel}, info)
}
