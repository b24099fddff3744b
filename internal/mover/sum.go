package mover

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync/atomic"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover/fsmeta"
)

// sumBlock is the unit of a whole-file sum. Both sides must use the same.
const sumBlock = 64 << 10

// contentReads counts the bytes of file content read to be compared or
// checksummed, rather than sent: delta blocks on both sides and whole-file
// sums. Tests read it to check that holes are not read.
var contentReads atomic.Int64

// fileSum returns the sum Verify compares on both sides: BLAKE3-256 over
// the file size, then the index and bytes of every sumBlock-aligned block
// that holds a non-zero byte. Blocks of zeros contribute nothing, so the
// sum depends on the content only, not on which parts are holes: holes
// are skipped without being read, and data blocks found to be zeros are
// dropped. A file of 100 GiB with 3 MiB of data costs 3 MiB of reading.
func fileSum(f *os.File) ([]byte, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, fmt.Errorf("hash %s: stat: %w", f.Name(), err)
	}
	s := &summer{f: f, size: st.Size, h: blake3.New()}
	s.h.Write(binary.LittleEndian.AppendUint64(s.word[:0], uint64(st.Size)))
	bp := chunkPool.Get().(*[]byte)
	defer chunkPool.Put(bp)
	s.buf = *bp
	var err error
	if st.Blocks*512 >= st.Size {
		err = s.run(fsmeta.Extent{Len: st.Size}) // dense: no holes to look for
	} else {
		err = fsmeta.WalkData(f, 0, st.Size, s.run)
	}
	if err != nil {
		return nil, fmt.Errorf("hash %s: %w", f.Name(), err)
	}
	return s.h.Sum(nil), nil
}

// summer is the state of one fileSum.
type summer struct {
	f    *os.File
	size int64
	h    *blake3.Hasher
	buf  []byte // a multiple of sumBlock
	next int64  // the first block not yet hashed
	word [8]byte
}

// run hashes the blocks that overlap the data run e and were not hashed
// for an earlier run (one block may hold the end of a run and the start
// of the next).
func (s *summer) run(e fsmeta.Extent) error {
	from := max(e.Off/sumBlock, s.next) * sumBlock
	to := min((e.Off+e.Len+sumBlock-1)/sumBlock*sumBlock, s.size)
	for p := from; p < to; {
		b := s.buf[:min(int64(len(s.buf)), to-p)]
		if err := readFull(s.f, b, p); err != nil {
			return err
		}
		contentReads.Add(int64(len(b)))
		for q := 0; q < len(b); q += sumBlock {
			blk := b[q:min(q+sumBlock, len(b))]
			if fsmeta.IsZero(blk) {
				continue
			}
			s.h.Write(binary.LittleEndian.AppendUint64(s.word[:0], uint64((p+int64(q))/sumBlock)))
			s.h.Write(blk)
		}
		p += int64(len(b))
	}
	s.next = max(s.next, (to+sumBlock-1)/sumBlock)
	return nil
}
