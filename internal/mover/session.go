package mover

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// session is the receiver's state for one sync: its data connections and
// the large files being written.
type session struct {
	id  string
	srv *Server
	ctx context.Context

	cancel    context.CancelFunc
	completed bool // Done was handled successfully
	scratch   *safefs.Scratch

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]bool // open data connections
	files  map[uint64]*openFile
	wg     sync.WaitGroup

	stats struct {
		files, bytes, deleted, partial atomic.Int64
	}
	// partials holds the keys of the partial files this session's
	// transfers used or may have made (see recv_partial.go).
	partials         map[string]bool
	partialsOverflow bool // more keys than maxTrackedPartials
}

// openFile is a large file being received in the scratch folder.
type openFile struct {
	// mu is held shared by writers and exclusively by commit and abort.
	mu      sync.RWMutex
	dir     *safefs.Dir
	name    string
	scratch *safefs.Scratch
	tmp     string // its name in scratch
	f       *os.File
	basis   *os.File
	size    int64
	oldSize int64
	done    bool
	// mapped says basisExts lists every data run of the basis.
	mapped    bool
	basisExts []fsmeta.Extent
}

func newSession(ctx context.Context, srv *Server, id string) *session {
	ctx, cancel := context.WithCancel(ctx)
	return &session{
		id: id, srv: srv, ctx: ctx, cancel: cancel,
		conns: map[net.Conn]bool{}, files: map[uint64]*openFile{}, partials: map[string]bool{},
	}
}

func (s *session) name() string { return hex.EncodeToString([]byte(s.id))[:8] }

// Limits on what one session may hold open. A sender opens at most
// MaxParallel data connections and has at most two large files per data
// connection in flight.
const (
	maxDataConns = MaxParallel
	maxOpenFiles = 256
)

// attach registers a data connection; it fails once the session closed
// or when it already has maxDataConns.
func (s *session) attach(c net.Conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("session closed")
	}
	if len(s.conns) >= maxDataConns {
		return fmt.Errorf("too many data connections: the session has %d, the most it may open", maxDataConns)
	}
	s.conns[c] = true
	s.wg.Add(1)
	return nil
}

// detach forgets a data connection whose handler has returned.
func (s *session) detach(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

// close ends the session: it closes the data connections, waits for their
// handlers and removes the temporary files of unfinished transfers.
func (s *session) close() {
	s.cancel() // first, so handlers know the closed connections are expected
	s.closeData()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, of := range s.files {
		of.discard()
		delete(s.files, id)
	}
}

// closeData closes the data connections, refuses new ones and waits for
// their handlers to return.
func (s *session) closeData() {
	s.mu.Lock()
	s.closed = true
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *session) addFile(id uint64, of *openFile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.files[id]; dup || s.closed {
		return fmt.Errorf("%w: file id %d already open", errProtocol, id)
	}
	if len(s.files) >= maxOpenFiles {
		return fmt.Errorf("%w: more than %d large files open at once", errProtocol, maxOpenFiles)
	}
	s.files[id] = of
	return nil
}

func (s *session) file(id uint64) (*openFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	of, ok := s.files[id]
	if !ok {
		return nil, fmt.Errorf("%w: unknown file id %d", errProtocol, id)
	}
	return of, nil
}

func (s *session) takeFile(id uint64) (*openFile, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	of, ok := s.files[id]
	if !ok {
		return nil, fmt.Errorf("%w: unknown file id %d", errProtocol, id)
	}
	delete(s.files, id)
	return of, nil
}

// prepare readies the destination for the session: it opens the scratch
// folder and removes what an interrupted session left there (only one
// session runs at a time).
func (s *session) prepare() error {
	sc, err := s.srv.root.Scratch()
	if err != nil {
		return fmt.Errorf("open the receiver's scratch folder: %w", err)
	}
	names, err := sc.Names()
	if err != nil {
		return fmt.Errorf("list the receiver's scratch folder: %w", err)
	}
	if len(names) > 0 {
		s.srv.log.Info("removing temporary files of an interrupted session", "count", len(names))
		if err := sc.Clean(); err != nil {
			return fmt.Errorf("clean the receiver's scratch folder: %w", err)
		}
	}
	s.scratch = sc
	return nil
}

// discard closes the file and removes its temporary name.
func (of *openFile) discard() {
	of.mu.Lock()
	defer of.mu.Unlock()
	if of.done {
		return
	}
	of.done = true
	of.f.Close()
	if of.basis != nil {
		of.basis.Close()
	}
	_ = of.scratch.Remove(of.tmp)
	of.dir.Close()
}

// errProtocol marks a peer that broke the protocol.
var errProtocol = errors.New("protocol violation")

// toWire converts a local failure into an Error reply.
func (s *session) toWire(err error, path string, size int64) *wire.Error {
	e := &wire.Error{Code: wire.CodeInternal, Message: err.Error(), Path: path}
	var pe *safefs.PathError
	if errors.As(err, &pe) && path == "" {
		e.Path = pe.Path
	}
	switch {
	case errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EDQUOT):
		e.Code = wire.CodeNoSpace
		total, free, _ := s.srv.root.Statfs()
		e.Message = fmt.Sprintf("%s: writing %q (file size %d bytes): volume size %d bytes, %d bytes free: %v",
			ErrNoSpace, e.Path, size, total, free, err)
	case errors.Is(err, safefs.ErrUnsafePath):
		e.Code = wire.CodeUnsafe
	case errors.Is(err, errProtocol) || errors.Is(err, wire.ErrMalformed):
		e.Code = wire.CodeProtocol
	case errors.Is(err, errNoTarget):
		e.Code = wire.CodeNotFound
	}
	return e
}
