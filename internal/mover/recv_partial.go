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

// openPartialBasis opens the partial file kept for path as the basis of
// its transfer and remembers that the session used the key; it returns
// nil when there is none.
func (s *session) openPartialBasis(path string) (*os.File, int64, error) {
	key := partialKey(path)
	s.mu.Lock()
	s.partials[key] = true
	s.mu.Unlock()
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
	for _, k := range keys {
		if !s.partials[k] {
			if err := s.srv.root.RemovePartial(k); err != nil {
				s.srv.log.Warn("partial file not removed", "key", k, "error", err)
			}
		}
	}
}
