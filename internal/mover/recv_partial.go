package mover

import (
	"encoding/hex"
	"fmt"
	"os"

	"github.com/zeebo/blake3"
)

// Partial files: a large file whose source changed while a sync read it
// is not committed, but what the receiver holds of it (mostly current
// data) is kept in the reserved directory under a key derived from its
// path, and the next transfer of that path uses it as its basis, so that
// only blocks that differ travel again. It is never put under the file's
// name. A commit of the path removes it, and a session that completes
// removes the partial files of paths it did not transfer (gone, or
// finished some other way).

// partialKey is the name of the partial file kept for path.
func partialKey(path string) string {
	sum := blake3.Sum256([]byte(path))
	return hex.EncodeToString(sum[:16])
}

// maxTrackedPartials bounds the keys a session remembers; past it, the
// session keeps every partial file rather than drop one it may have used.
const maxTrackedPartials = 100000

// partialRoom is the room, besides the new file's size, that a transfer
// wants free on the destination before it uses a partial file as its
// basis; below it, partial files go, since the current file, the partial
// and the new copy would not all fit.
const partialRoom = 64 << 20

// openPartialBasis opens the partial file kept for path as the basis of
// its transfer of size bytes and remembers that the session used the
// key; it returns nil when there is none. When the destination lacks
// room for the new copy, partial files are removed first (they only save
// bytes on the wire) and nil is returned.
func (s *session) openPartialBasis(path string, size int64) (*os.File, int64, error) {
	key := partialKey(path)
	s.mu.Lock()
	if len(s.partials) < maxTrackedPartials {
		s.partials[key] = true
	} else {
		s.partialsOverflow = true
	}
	s.mu.Unlock()
	if s.lowOnRoom(size) {
		s.dropAllPartials()
		return nil, 0, nil
	}
	f, err := s.srv.root.OpenPartial(key)
	if err != nil || f == nil {
		return nil, 0, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("stat partial file of %q: %w", path, err)
	}
	return f, st.Size(), nil
}

// keep moves an aborted file into the partial folder.
func (s *session) keep(of *openFile) error {
	of.mu.Lock()
	defer of.mu.Unlock()
	if of.done {
		return nil
	}
	of.done = true
	of.f.Close()
	if of.basis != nil {
		of.basis.Close()
	}
	defer of.dir.Close()
	if err := s.srv.root.KeepPartial(s.scratch, of.tmp, partialKey(of.path())); err != nil {
		_ = s.scratch.Remove(of.tmp)
		return fmt.Errorf("keep the partial copy of %q: %w", of.path(), err)
	}
	s.stats.partial.Add(1)
	return nil
}

// dropPartial removes the partial file of a path just committed.
func (s *session) dropPartial(path string) {
	if err := s.srv.root.RemovePartial(partialKey(path)); err != nil {
		s.srv.log.Warn("partial file not removed", "path", path, "error", err)
	}
}

// lowOnRoom reports whether the destination has less free room than a
// new file of size bytes and partialRoom need.
func (s *session) lowOnRoom(size int64) bool {
	_, free, err := s.srv.root.Statfs()
	return err == nil && free < uint64(size)+partialRoom
}

// dropAllPartials removes every partial file, to make room.
func (s *session) dropAllPartials() {
	keys, err := s.srv.root.PartialKeys()
	if err != nil {
		s.srv.log.Warn("partial files not listed", "error", err)
		return
	}
	if len(keys) > 0 {
		s.srv.log.Info("removing partial files to make room", "count", len(keys))
	}
	for _, k := range keys {
		if err := s.srv.root.RemovePartial(k); err != nil {
			s.srv.log.Warn("partial file not removed", "key", k, "error", err)
		}
	}
}

// dropUnusedPartials removes, at the end of a completed session, the
// partial files of paths the session did not transfer.
func (s *session) dropUnusedPartials() {
	keys, err := s.srv.root.PartialKeys()
	if err != nil {
		s.srv.log.Warn("partial files not listed", "error", err)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.partialsOverflow {
		return
	}
	for _, k := range keys {
		if !s.partials[k] {
			if err := s.srv.root.RemovePartial(k); err != nil {
				s.srv.log.Warn("partial file not removed", "key", k, "error", err)
			}
		}
	}
}
