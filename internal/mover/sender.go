package mover

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// Defaults for Options.
const (
	DefaultParallel         = 4
	DefaultSmallFile        = 1 << 20
	DefaultRangeSize        = 8 << 20
	DefaultBlockSize        = 128 << 10
	DefaultProgressInterval = 500 * time.Millisecond
)

// MaxParallel is the most data connections a receiver accepts for one
// session; it bounds the receiver's memory (see the package Caveats).
const MaxParallel = 16

// Options configure a Sync.
type Options struct {
	// Root is the source directory.
	Root string
	// Dial opens connections to the receiver.
	Dial Dialer
	// Parallel is the number of data connections.
	Parallel int
	// Delete removes destination entries that are absent on the source.
	Delete bool
	// Verify compares every file by BLAKE3 sum after the transfer.
	Verify bool
	// Log receives warnings; nil discards them.
	Log *slog.Logger
	// Progress, when set, is called every ProgressInterval and once at the
	// end, from a single goroutine.
	Progress         func(Progress)
	ProgressInterval time.Duration
	// SmallFile is the size below which files travel whole in batches and
	// above which changed files are compared by block hashes.
	SmallFile int64
	// RangeSize is how much of a large file one data request carries; a
	// multiple of BlockSize.
	RangeSize int64
	// BlockSize is the unit of block-hash comparison.
	BlockSize int64
	// Final marks the last sync into the destination: the receiver then
	// removes its reserved directory (safefs.ReservedName) at the end,
	// leaving the source's data alone; a later sync works, comparing
	// every file's attributes once.
	Final bool
}

func (o *Options) defaults() error {
	if o.Root == "" || o.Dial == nil {
		return errors.New("sync options: Root and Dial are required")
	}
	if o.Parallel <= 0 {
		o.Parallel = DefaultParallel
	}
	if o.Parallel > MaxParallel {
		return fmt.Errorf("sync options: %d parallel connections, more than the receiver accepts (%d)", o.Parallel, MaxParallel)
	}
	if o.SmallFile <= 0 {
		o.SmallFile = DefaultSmallFile
	}
	if o.BlockSize < minBlockSize || o.BlockSize > maxBlockSize {
		o.BlockSize = DefaultBlockSize
	}
	if o.RangeSize <= 0 {
		o.RangeSize = DefaultRangeSize
	}
	o.RangeSize = max(o.RangeSize/o.BlockSize, 1) * o.BlockSize
	if o.ProgressInterval <= 0 {
		o.ProgressInterval = DefaultProgressInterval
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return nil
}

// sender is the state of one Sync.
type sender struct {
	opts  Options
	log   *slog.Logger
	prog  *tracker
	chown bool // the receiver applies owners

	ctrl   *wire.Conn
	pool   chan *wire.Conn
	connMu sync.Mutex
	conns  []net.Conn

	jobs   *errgroup.Group
	jobCtx context.Context
	batch  wire.Batch
	bytes  int64
	arena  *arena
	nextID atomic.Uint64

	links linkTracker
	dirs  *spool
	// laterRemoves are destination files used as the basis of a renamed
	// or moved file, removed once all data is acknowledged (see
	// send_rename.go and send_move.go).
	laterRemoves []string
	moves        moveTracker
	rootDir      *os.File // the source root, open during the transfer
	sourceFS     uint64   // st_dev of the source root

	// state is what Done records: this source and when the sync started.
	state wire.SyncState
	// attrsSince is the ctime from which an unchanged file's attributes
	// are sent again: the start of the last completed sync from this
	// source, less ctimeSlack, or 0 when unknown (everything is sent).
	attrsSince int64
}

// ctimeSlack allows for file system timestamps coarser than the sender's
// clock (a jiffy) and for some skew of a network file server's clock:
// a ctime this much before the last sync's start still counts as a
// change after it.
const ctimeSlack = int64(time.Second)

// Sync copies opts.Root to the receiver and returns the final progress.
// It returns nil only when every entry was transferred and acknowledged
// (and, with Verify, compared equal). Source entries that vanish or change
// during the sync are counted as warnings and logged.
func Sync(ctx context.Context, opts Options) (Progress, error) {
	if err := opts.defaults(); err != nil {
		return Progress{}, err
	}
	s := &sender{opts: opts, log: opts.Log, prog: newTracker(), arena: &arena{}}
	stop := s.startProgress()
	err := s.run(ctx)
	if err != nil {
		s.prog.fail(err)
	} else {
		s.prog.setPhase(PhaseDone)
	}
	return stop(), err
}

func (s *sender) run(ctx context.Context) error {
	rootDir, root, err := openRoot(s.opts.Root)
	if err != nil {
		return err
	}
	defer rootDir.Close()
	s.sourceFS = root.Dev
	s.state = wire.SyncState{Source: sourceID(rootDir, root), Start: time.Now().UnixNano()}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer s.closeConns()
	if err := s.connect(ctx); err != nil {
		return err
	}
	stopClose := context.AfterFunc(ctx, s.closeConns)
	defer stopClose()
	counted := s.startCount(ctx, rootDir)
	defer func() {
		cancel()
		<-counted
	}()
	if s.dirs, err = newSpool(); err != nil {
		return err
	}
	defer s.dirs.close()
	err = s.transfer(ctx, rootDir, root)
	if ctx.Err() != nil && err != nil {
		return fmt.Errorf("sync interrupted: %w", errors.Join(ctx.Err(), err))
	}
	return err
}

// countDelay is how long a sync runs before a separate scan estimates
// its totals; shorter syncs are not worth the extra pass over the source,
// and the walk's own figures are final when it ends.
const countDelay = time.Second

// startCount starts the totals scan after countDelay unless the walk has
// finished by then; the returned channel is closed when it has stopped.
func (s *sender) startCount(ctx context.Context, rootDir *os.File) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTimer(countDelay)
		defer t.Stop()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !s.prog.totalsFinal.Load() {
			s.count(ctx, rootDir)
		}
	}()
	return done
}

// transfer runs the phases of a sync in order.
func (s *sender) transfer(ctx context.Context, rootDir *os.File, root fsmeta.Info) error {
	s.prog.setPhase(PhaseTransferring)
	s.jobs, s.jobCtx = errgroup.WithContext(ctx)
	s.jobs.SetLimit(2 * s.opts.Parallel)
	s.rootDir = rootDir
	walkErr := s.walkDir(s.jobCtx, rootDir, safefs.RootPath, root)
	if walkErr == nil {
		walkErr = s.finishMoves(s.jobCtx)
	}
	if walkErr == nil {
		s.prog.walked()
		walkErr = s.flushBatch()
	}
	if err := s.jobs.Wait(); err != nil {
		return err // the first job failure is the cause; the walk stopped on it
	}
	if walkErr != nil {
		return walkErr
	}
	s.prog.setPhase(PhaseFinalizing)
	if err := s.finalize(ctx); err != nil {
		return err
	}
	if s.opts.Verify {
		s.prog.setPhase(PhaseVerifying)
		if err := s.verify(ctx, rootDir); err != nil {
			return err
		}
	}
	if _, err := s.control(&wire.Done{State: s.state, Final: s.opts.Final}); err != nil {
		return fmt.Errorf("finish session: %w", err)
	}
	return nil
}

// connect opens the control connection, then the data connections.
func (s *sender) connect(ctx context.Context) error {
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	ctrl, ok, err := s.dial(ctx, id, wire.RoleControl)
	if err != nil {
		return err
	}
	s.ctrl, s.chown = ctrl, ok.Chown
	if bytes.Equal(ok.Last.Source, s.state.Source) {
		s.attrsSince = max(ok.Last.Start-ctimeSlack, 0)
	}
	s.pool = make(chan *wire.Conn, s.opts.Parallel)
	for range s.opts.Parallel {
		c, _, err := s.dial(ctx, id, wire.RoleData)
		if err != nil {
			return err
		}
		s.pool <- c
	}
	return nil
}

func (s *sender) dial(ctx context.Context, id []byte, role wire.Role) (*wire.Conn, *wire.HelloOK, error) {
	raw, err := s.opts.Dial(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to receiver: %w", err)
	}
	s.connMu.Lock()
	s.conns = append(s.conns, raw)
	s.connMu.Unlock()
	c := wire.NewConn(raw)
	reply, err := roundTrip(c, &wire.Hello{Version: wire.Version, Session: id, Role: role})
	if err != nil {
		return nil, nil, fmt.Errorf("hello: %w", err)
	}
	ok, isOK := reply.(*wire.HelloOK)
	if !isOK || ok.Version != wire.Version {
		return nil, nil, fmt.Errorf("hello: %w: unexpected reply type %d", errProtocol, reply.Type())
	}
	return c, ok, nil
}

func (s *sender) closeConns() {
	s.connMu.Lock()
	defer s.connMu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}

// roundTrip sends one request and reads its reply, turning an Error reply
// into a *RemoteError.
func roundTrip(c *wire.Conn, req wire.Message) (wire.Message, error) {
	if err := c.Send(req); err != nil {
		return nil, err
	}
	return recvReply(c)
}

func recvReply(c *wire.Conn) (wire.Message, error) {
	m, err := c.Recv()
	if err != nil {
		return nil, err
	}
	if e, ok := m.(*wire.Error); ok {
		return nil, &RemoteError{Code: e.Code, Message: e.Message, Path: e.Path}
	}
	return m, nil
}

// control makes one request on the control connection, which only the
// walking goroutine uses.
func (s *sender) control(req wire.Message) (wire.Message, error) {
	return roundTrip(s.ctrl, req)
}

// withConn runs fn with a data connection from the pool.
func (s *sender) withConn(ctx context.Context, fn func(*wire.Conn) error) error {
	select {
	case c := <-s.pool:
		defer func() { s.pool <- c }()
		return fn(c)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// warn logs and counts a problem that does not fail the sync.
func (s *sender) warn(msg, path string, err error) {
	s.prog.warn(msg, path)
	if err != nil {
		s.log.Warn(msg, "path", path, "error", err)
		return
	}
	s.log.Warn(msg, "path", path)
}

// startProgress reports progress until the returned stop function is
// called; stop reports once more and returns the final snapshot.
func (s *sender) startProgress() func() Progress {
	done := make(chan struct{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	snap := func() Progress {
		mu.Lock()
		defer mu.Unlock()
		return s.prog.snapshot()
	}
	if s.opts.Progress != nil {
		wg.Go(func() {
			t := time.NewTicker(s.opts.ProgressInterval)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					s.opts.Progress(snap())
				}
			}
		})
	}
	return func() Progress {
		close(done)
		wg.Wait()
		p := snap()
		if s.opts.Progress != nil {
			s.opts.Progress(p)
		}
		return p
	}
}

// sourceID identifies the source file system and root directory, so that
// a sync state recorded on the destination is trusted only by later syncs
// of the same source: the file system's id, device and the root's inode.
func sourceID(rootDir *os.File, root fsmeta.Info) []byte {
	var st unix.Statfs_t
	_ = unix.Fstatfs(int(rootDir.Fd()), &st)
	b := make([]byte, 0, 32)
	b = binary.BigEndian.AppendUint32(b, uint32(st.Fsid.Val[0]))
	b = binary.BigEndian.AppendUint32(b, uint32(st.Fsid.Val[1]))
	b = binary.BigEndian.AppendUint64(b, root.Dev)
	return binary.BigEndian.AppendUint64(b, root.Ino)
}
