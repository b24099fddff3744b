package mover

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// Limits on what one request may ask of the receiver.
const (
	minBlockSize   = 4 << 10
	maxBlockSize   = 8 << 20
	maxRangeBlocks = 4096
	maxHashPaths   = 10000
)

// data serves one data connection until the peer closes it. A failed
// Data or Zero write is remembered and reported at the next RangeDone, so
// the receiver never writes while the sender is still streaming.
func (s *session) data(conn *wire.Conn) error {
	var pending *wire.Error
	for {
		m, err := conn.Recv()
		if errors.Is(err, wire.ErrMalformed) {
			replyErr(conn, &wire.Error{Code: wire.CodeProtocol, Message: err.Error()})
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		var reply wire.Message
		switch m := m.(type) {
		case *wire.Data:
			if pending == nil {
				pending = s.write(m)
			}
			continue
		case *wire.Zero:
			if pending == nil {
				pending = s.zero(m)
			}
			continue
		case *wire.RangeDone:
			reply, pending = orOK(pending), nil
		case *wire.Batch:
			reply = s.batch(m)
		case *wire.FileBegin:
			reply = s.begin(m)
		case *wire.RangeHashes:
			reply = s.rangeHashes(m)
		case *wire.Commit:
			reply = s.commit(m)
		case *wire.Abort:
			reply = s.abort(m)
		case *wire.HashFiles:
			reply = s.hashFiles(m)
		default:
			replyErr(conn, &wire.Error{Code: wire.CodeProtocol, Message: fmt.Sprintf("unexpected message type %d on data connection", m.Type())})
			return fmt.Errorf("%w: message type %d on data connection", errProtocol, m.Type())
		}
		if err := conn.Send(reply); err != nil {
			return err
		}
	}
}

func orOK(e *wire.Error) wire.Message {
	if e == nil {
		return &wire.OK{}
	}
	return e
}

// batch writes each small file and puts it in place; it stops at the
// first failure. Consecutive files in one directory share its descriptor.
func (s *session) batch(m *wire.Batch) wire.Message {
	var dir *safefs.Dir
	defer func() {
		if dir != nil {
			dir.Close()
		}
	}()
	for i := range m.Files {
		f := &m.Files[i]
		parent, name, err := safefs.ParentOf(f.Path)
		if err == nil && (dir == nil || dir.Path() != parent) {
			if dir != nil {
				dir.Close()
			}
			dir, err = s.srv.root.OpenDir(parent)
		}
		if err == nil {
			err = s.smallFile(dir, name, f)
		}
		if err != nil {
			return s.toWire(err, f.Path, f.Meta.Size)
		}
	}
	return &wire.OK{}
}

// smallFile writes one file of a batch into an unnamed file and links it
// into place once complete, or uses a file in the scratch folder where
// unnamed ones are not available.
func (s *session) smallFile(dir *safefs.Dir, name string, file *wire.File) error {
	if file.Meta.Kind != wire.KindRegular {
		return fmt.Errorf("%w: batch entry %q is a %s", errProtocol, file.Path, file.Meta.Kind)
	}
	f, err := dir.CreateAnon()
	if errors.Is(err, safefs.ErrNoAnon) {
		return s.smallFileNamed(dir, name, file)
	}
	if err != nil {
		return err
	}
	defer f.Close()
	err = writeSmall(f, file)
	if err == nil {
		err = safefs.ApplyFile(f, file.Path, &file.Meta, s.srv.chown)
	}
	if err == nil {
		err = dir.LinkAnon(f, s.scratch, name)
	}
	if err != nil {
		return err
	}
	s.stats.files.Add(1)
	return nil
}

func (s *session) smallFileNamed(dir *safefs.Dir, name string, file *wire.File) error {
	f, tmp, err := s.scratch.CreateFile(file.Path)
	if err != nil {
		return err
	}
	err = writeSmall(f, file)
	if err == nil {
		err = safefs.ApplyFile(f, file.Path, &file.Meta, s.srv.chown)
	}
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %q: %w", file.Path, cerr)
	}
	if err == nil {
		err = dir.Place(s.scratch, tmp, name)
	}
	if err != nil {
		_ = s.scratch.Remove(tmp)
		return err
	}
	s.stats.files.Add(1)
	return nil
}

// writeSmall writes a small file's segments into the new, empty file f;
// it sets the size only where a hole ends the file.
func writeSmall(f *os.File, file *wire.File) error {
	var end int64
	for _, seg := range file.Segments {
		if seg.Off < 0 || seg.Off+int64(len(seg.Data)) > file.Meta.Size {
			return fmt.Errorf("%w: segment outside %q", errProtocol, file.Path)
		}
		if _, err := f.WriteAt(seg.Data, seg.Off); err != nil {
			return fmt.Errorf("write %q: %w", file.Path, err)
		}
		end = max(end, seg.Off+int64(len(seg.Data)))
	}
	if end < file.Meta.Size {
		if err := f.Truncate(file.Meta.Size); err != nil {
			return fmt.Errorf("truncate %q: %w", file.Path, err)
		}
	}
	return nil
}

// begin opens a large file in the scratch folder and its basis: the
// partial file kept of an earlier attempt when there is one (see
// recv_partial.go), else the other file the sender names (a rename), else,
// for a delta transfer, the current file.
func (s *session) begin(m *wire.FileBegin) wire.Message {
	of, err := s.openLarge(m)
	if err != nil {
		return s.toWire(err, m.Path, m.Size)
	}
	if err := of.mapBasis(); err != nil {
		of.discard()
		return s.toWire(err, m.Path, m.Size)
	}
	if err := s.addFile(m.ID, of); err != nil {
		of.discard()
		return s.toWire(err, m.Path, m.Size)
	}
	return &wire.BeginOK{OldSize: of.oldSize, Mapped: of.mapped, Extents: of.basisExts}
}

// mapBasis finds the data runs of the basis, unless it has more than
// wire.MaxBasisExtents: then every basis block in a hashed range is read.
func (of *openFile) mapBasis() error {
	if of.basis == nil {
		return nil
	}
	exts, ok, err := fsmeta.DataExtentsAtMost(of.basis, 0, of.oldSize, wire.MaxBasisExtents)
	if err != nil {
		return fmt.Errorf("map basis of %q: %w", of.path(), err)
	}
	of.basisExts, of.mapped = exts, ok
	return nil
}

func (s *session) openLarge(m *wire.FileBegin) (*openFile, error) {
	if m.Size < 0 {
		return nil, fmt.Errorf("%w: negative size", errProtocol)
	}
	dir, name, err := s.srv.root.OpenParent(m.Path)
	if err != nil {
		return nil, err
	}
	f, tmp, err := s.scratch.CreateFile(m.Path)
	if err != nil {
		dir.Close()
		return nil, err
	}
	of := &openFile{dir: dir, name: name, scratch: s.scratch, tmp: tmp, f: f, size: m.Size, oldSize: -1}
	if err := f.Truncate(m.Size); err != nil {
		of.discard()
		return nil, fmt.Errorf("truncate %q: %w", m.Path, err)
	}
	basis, size, err := s.openPartialBasis(m.Path, m.Size)
	if err != nil {
		of.discard()
		return nil, err
	}
	if basis == nil && m.Basis != "" {
		basis, size, err = s.openOtherBasis(m.Basis)
		if err != nil {
			of.discard()
			return nil, err
		}
	}
	if basis == nil && m.Delta {
		basis, size = openBasisIn(dir, name)
	}
	if basis != nil {
		of.basis, of.oldSize = basis, size
	}
	return of, nil
}

// openBasisIn opens the regular file name of dir read-only as a basis,
// with its size; a missing or unreadable file is no basis (nil).
func openBasisIn(dir *safefs.Dir, name string) (*os.File, int64) {
	f, err := dir.Open(name, false)
	if err != nil {
		return nil, 0
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0
	}
	return f, st.Size()
}

func (s *session) write(m *wire.Data) *wire.Error {
	of, err := s.file(m.ID)
	if err != nil {
		return s.toWire(err, "", 0)
	}
	of.mu.RLock()
	defer of.mu.RUnlock()
	if of.done || m.Off < 0 || m.Off+int64(len(m.Data)) > of.size {
		return s.toWire(fmt.Errorf("%w: write outside file", errProtocol), of.path(), of.size)
	}
	if _, err := of.f.WriteAt(m.Data, m.Off); err != nil {
		return s.toWire(fmt.Errorf("write %q at offset %d: %w", of.path(), m.Off, err), of.path(), of.size)
	}
	s.stats.bytes.Add(int64(len(m.Data)))
	return nil
}

func (s *session) zero(m *wire.Zero) *wire.Error {
	of, err := s.file(m.ID)
	if err != nil {
		return s.toWire(err, "", 0)
	}
	of.mu.RLock()
	defer of.mu.RUnlock()
	if of.done || m.Off < 0 || m.Len < 0 || m.Off+m.Len > of.size {
		return s.toWire(fmt.Errorf("%w: hole outside file", errProtocol), of.path(), of.size)
	}
	if err := punchHole(of.f, m.Off, m.Len, of.size); err != nil {
		return s.toWire(fmt.Errorf("punch hole in %q at offset %d: %w", of.path(), m.Off, err), of.path(), of.size)
	}
	return nil
}

// punchHole deallocates [off, off+n) of f, a file of size bytes, writing
// zeros where holes are unsupported. A hole up to the end of the file
// takes its last, partial page too: a punch that ends inside a page only
// zeroes that part of it, which would leave the page allocated.
func punchHole(f *os.File, off, n, size int64) error {
	punch := n
	if off+n == size {
		punch = (size+fsmeta.PageSize-1)/fsmeta.PageSize*fsmeta.PageSize - off
	}
	err := unix.Fallocate(int(f.Fd()), unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, punch)
	if err == nil || !(errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS)) {
		return err
	}
	zeros := make([]byte, min(n, 1<<20))
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := f.WriteAt(zeros[:k], off); err != nil {
			return err
		}
		off, n = off+k, n-k
	}
	return nil
}

func (of *openFile) path() string { return safefs.Join(of.dir.Path(), of.name) }

// rangeHashes hashes the basis blocks in a range and copies the non-zero
// ones into the new file, which the sender then patches. A block of zeros
// has the empty sum; one in a hole of a mapped basis is not even read.
func (s *session) rangeHashes(m *wire.RangeHashes) wire.Message {
	of, err := s.file(m.ID)
	if err != nil {
		return s.toWire(err, "", 0)
	}
	of.mu.RLock()
	defer of.mu.RUnlock()
	if of.done || m.BlockSize < minBlockSize || m.BlockSize > maxBlockSize || m.Off < 0 || m.Len < 0 ||
		m.Off%m.BlockSize != 0 || m.Len/m.BlockSize > maxRangeBlocks {
		return s.toWire(fmt.Errorf("%w: bad hash range", errProtocol), of.path(), of.size)
	}
	sums, err := of.copyBasis(m.Off, min(m.Off+m.Len, of.size), m.BlockSize)
	if err != nil {
		return s.toWire(err, of.path(), of.size)
	}
	return &wire.Hashes{Sums: sums}
}

func (of *openFile) copyBasis(off, end, bs int64) ([][]byte, error) {
	var sums [][]byte
	if of.basis == nil {
		return sums, nil
	}
	end = min(end, of.oldSize)
	var buf []byte
	for ; off < end; off += bs {
		n := min(bs, end-off)
		if of.mapped && !fsmeta.HasData(of.basisExts, off, off+n) {
			sums = append(sums, nil)
			continue
		}
		if buf == nil {
			buf = make([]byte, bs)
		}
		b := buf[:n]
		if _, err := of.basis.ReadAt(b, off); err != nil {
			return nil, fmt.Errorf("read basis of %q: %w", of.path(), err)
		}
		contentReads.Add(n)
		if fsmeta.IsZero(b) {
			sums = append(sums, nil)
			continue
		}
		sum := blake3.Sum256(b)
		sums = append(sums, sum[:])
		for _, run := range fsmeta.NonZeroRuns(b) {
			if _, err := of.f.WriteAt(b[run.Off:run.Off+run.Len], off+run.Off); err != nil {
				return nil, fmt.Errorf("copy basis of %q at offset %d: %w", of.path(), off, err)
			}
		}
	}
	return sums, nil
}

// commit applies the final metadata and renames the file into place.
func (s *session) commit(m *wire.Commit) wire.Message {
	of, err := s.takeFile(m.ID)
	if err != nil {
		return s.toWire(err, "", 0)
	}
	if err := of.commit(&m.Meta, s.srv.chown); err != nil {
		of.discard()
		return s.toWire(err, of.path(), of.size)
	}
	s.dropPartial(of.path())
	s.stats.files.Add(1)
	return &wire.OK{}
}

func (of *openFile) commit(m *wire.Meta, chown bool) error {
	of.mu.Lock()
	defer of.mu.Unlock()
	if m.Kind != wire.KindRegular || m.Size != of.size {
		return fmt.Errorf("%w: commit metadata does not match %q", errProtocol, of.path())
	}
	if err := safefs.ApplyFile(of.f, of.path(), m, chown); err != nil {
		return err
	}
	if err := of.f.Close(); err != nil {
		return fmt.Errorf("close %q: %w", of.path(), err)
	}
	if err := of.dir.Place(of.scratch, of.tmp, of.name); err != nil {
		return err
	}
	of.done = true
	if of.basis != nil {
		of.basis.Close()
	}
	of.dir.Close()
	return nil
}

func (s *session) abort(m *wire.Abort) wire.Message {
	of, err := s.takeFile(m.ID)
	if err != nil {
		return s.toWire(err, "", 0)
	}
	if !m.Keep {
		of.discard()
		return &wire.OK{}
	}
	if err := s.keep(of); err != nil {
		return s.toWire(err, of.path(), of.size)
	}
	return &wire.OK{}
}

// hashFiles returns the content sum (fileSum) of each path; an empty sum
// means the path is missing or not a regular file.
func (s *session) hashFiles(m *wire.HashFiles) wire.Message {
	if len(m.Paths) > maxHashPaths {
		return s.toWire(fmt.Errorf("%w: too many paths", errProtocol), "", 0)
	}
	sums := make([][]byte, len(m.Paths))
	for i, p := range m.Paths {
		sum, err := s.hashFile(p)
		if errors.Is(err, safefs.ErrUnsafePath) {
			return s.toWire(err, p, 0)
		}
		sums[i] = sum
	}
	return &wire.Hashes{Sums: sums}
}

func (s *session) hashFile(p string) ([]byte, error) {
	dir, name, err := s.srv.root.OpenParent(p)
	if err != nil {
		return nil, err
	}
	defer dir.Close()
	f, err := dir.Open(name, false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return fileSum(f)
}

// openOtherBasis opens the destination file p, which the sender names as
// the basis of another path; a missing or non-regular file means no
// basis, and an unsafe path is refused.
func (s *session) openOtherBasis(p string) (*os.File, int64, error) {
	dir, name, err := s.srv.root.OpenParent(p)
	if errors.Is(err, safefs.ErrUnsafePath) {
		return nil, 0, err
	}
	if err != nil {
		return nil, 0, nil
	}
	defer dir.Close()
	f, size := openBasisIn(dir, name)
	return f, size, nil
}
