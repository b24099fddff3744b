package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"testing"
)

// TestRecvRejectsOversizedFrameUnread checks that a frame longer than its
// type allows fails on its header alone: the payload is never waited for
// nor buffered.
func TestRecvRejectsOversizedFrameUnread(t *testing.T) {
	tests := []struct {
		name string
		typ  Type
		n    uint32
	}{
		{"hello of 2 KiB", TypeHello, 2 << 10},
		{"hello of 16 MiB", TypeHello, 16 << 20},
		{"range done of 1 MiB", TypeRangeDone, 1 << 20},
		{"open dir of 2 MiB", TypeOpenDir, 2 << 20},
		{"batch over 16 MiB", TypeBatch, 16<<20 + 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := make([]byte, 5)
			hdr[0] = byte(tt.typ)
			binary.BigEndian.PutUint32(hdr[1:], tt.n)
			for _, recv := range []func() error{
				func() error { _, err := NewConn(nopCloser{bytes.NewReader(hdr)}).Recv(); return err },
				func() error { _, err := ReadFirst(bytes.NewReader(hdr)); return err },
			} {
				// Only the header is there: a reader that waited for the
				// payload would fail with io.ErrUnexpectedEOF instead.
				if err := recv(); !errors.Is(err, ErrMalformed) {
					t.Errorf("receive: %v, want %v", err, ErrMalformed)
				}
			}
		})
	}
}

// TestDecodeBoundsAllocation decodes payloads that pack many tiny list
// elements into a full-size frame, the cheapest way to make a decoder
// allocate many times the frame's size. Each must fail as malformed, and
// decoding must allocate at most the payload's size plus MaxDecoded.
func TestDecodeBoundsAllocation(t *testing.T) {
	const n = 8 << 20 // bytes of list elements to pack
	emptyMeta := func(e *Encoder) {
		e.Uint(uint64(KindRegular))
		for range 7 {
			e.Uint(0)
		}
		e.String("")
		e.Uint(0)
	}
	tests := []struct {
		name  string
		typ   Type
		build func(e *Encoder)
	}{
		{"batch of empty segments", TypeBatch, func(e *Encoder) {
			e.Uint(1)
			e.String("f")
			emptyMeta(e)
			e.Uint(n / 2)
			for range n / 2 {
				e.Int(0)
				e.Blob(nil)
			}
		}},
		{"listing of empty entries", TypeDirList, func(e *Encoder) {
			e.Uint(n / 11)
			for range n / 11 {
				e.String("")
				emptyMeta(e)
			}
			e.Bool(false)
		}},
		{"operations without paths", TypeOps, func(e *Encoder) {
			e.Uint(n / 13)
			for range n / 13 {
				e.Uint(uint64(OpRemove))
				e.String("")
				e.String("")
				emptyMeta(e)
			}
		}},
		{"empty sums", TypeHashes, func(e *Encoder) {
			e.Uint(n)
			for range n {
				e.Blob(nil)
			}
		}},
		{"empty paths", TypeHashFiles, func(e *Encoder) {
			e.Uint(n)
			for range n {
				e.String("")
			}
		}},
		{"empty extended attributes", TypeCommit, func(e *Encoder) {
			e.Uint(1)
			e.Uint(uint64(KindRegular))
			for range 7 {
				e.Uint(0)
			}
			e.String("")
			e.Uint(n / 2)
			for range n / 2 {
				e.String("")
				e.Blob(nil)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e Encoder
			tt.build(&e)
			payload := e.Bytes()
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Decode(tt.typ, payload)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("decode: %v, want %v", err, ErrMalformed)
			}
			if got, limit := after.TotalAlloc-before.TotalAlloc, uint64(len(payload))+MaxDecoded; got > limit {
				t.Errorf("decoding a %d-byte payload allocated %d bytes, want at most %d", len(payload), got, limit)
			}
		})
	}
}
