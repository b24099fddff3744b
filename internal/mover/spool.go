package mover

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"

	"ferry.dev/ferry/internal/mover/wire"
)

// spool keeps the directory attribute operations of a sync on disk, in
// walk post-order (every directory after its subdirectories), so memory
// does not grow with the number of directories.
type spool struct {
	f *os.File
	w *bufio.Writer
	n int
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "ferry-mover-dirs-*")
	if err != nil {
		return nil, fmt.Errorf("create directory spool: %w", err)
	}
	_ = os.Remove(f.Name()) // unlinked; the open descriptor keeps it
	return &spool{f: f, w: bufio.NewWriter(f)}, nil
}

func (s *spool) add(op wire.Op) error {
	payload := wire.Encode(&wire.Ops{Ops: []wire.Op{op}})
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(payload)))
	if _, err := s.w.Write(hdr[:n]); err != nil {
		return fmt.Errorf("write directory spool: %w", err)
	}
	if _, err := s.w.Write(payload); err != nil {
		return fmt.Errorf("write directory spool: %w", err)
	}
	s.n++
	return nil
}

// each calls fn with every operation in the order they were added.
func (s *spool) each(fn func(wire.Op) error) error {
	if err := s.w.Flush(); err != nil {
		return fmt.Errorf("flush directory spool: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind directory spool: %w", err)
	}
	r := bufio.NewReader(s.f)
	for range s.n {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			return fmt.Errorf("read directory spool: %w", err)
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return fmt.Errorf("read directory spool: %w", err)
		}
		m, err := wire.Decode(wire.TypeOps, buf)
		if err != nil {
			return fmt.Errorf("read directory spool: %w", err)
		}
		if err := fn(m.(*wire.Ops).Ops[0]); err != nil {
			return err
		}
	}
	return nil
}

func (s *spool) close() { s.f.Close() }
