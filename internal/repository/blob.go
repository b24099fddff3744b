package repository

import (
	"fmt"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// BlobType says what a blob holds.
type BlobType uint8

// Blob types.
const (
	// DataBlob holds file data.
	DataBlob BlobType = 1
	// TreeBlob holds (part of) a directory listing.
	TreeBlob BlobType = 2
)

// Blob framing: the first plaintext byte says how the rest is stored.
const (
	frameRaw  byte = 0
	frameZstd byte = 1
)

// zstd coders are safe for concurrent use through EncodeAll/DecodeAll.
var (
	zstdOnce sync.Once
	zstdEnc  *zstd.Encoder
	zstdDec  *zstd.Decoder
)

func coders() (*zstd.Encoder, *zstd.Decoder) {
	zstdOnce.Do(func() {
		var err error
		zstdEnc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithLowerEncoderMem(true))
		if err != nil {
			panic(fmt.Sprintf("zstd encoder: %v", err))
		}
		zstdDec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(64<<20))
		if err != nil {
			panic(fmt.Sprintf("zstd decoder: %v", err))
		}
	})
	return zstdEnc, zstdDec
}

// compressible guesses from a sample whether zstd saves anything on
// data: random and already compressed data is stored as it is, without
// spending a pass of zstd on all of it.
func compressible(data []byte) bool {
	const sample = 16 << 10
	if len(data) <= sample*4 {
		return true
	}
	enc, _ := coders()
	probe := make([]byte, 0, sample+64)
	mid := len(data)/2 - sample/2
	probe = enc.EncodeAll(data[mid:mid+sample], probe)
	return len(probe) < sample*15/16
}

// sealBlob compresses data when that helps and seals it as the blob
// named id: a framing byte, then the sealed content, with the name and
// the framing as additional data (raw content is sealed without a copy).
func (k *keys) sealBlob(id ID, data []byte) []byte {
	frame, plain := frameRaw, data
	if compressible(data) {
		enc, _ := coders()
		if z := enc.EncodeAll(data, make([]byte, 0, len(data)/2+64)); len(z) <= len(data)*15/16 {
			frame, plain = frameZstd, z
		}
	}
	sealed := make([]byte, 1, 1+len(plain)+k.overhead())
	sealed[0] = frame
	return k.seal(sealed, plain, blobAAD(id, frame))
}

// blobAAD binds a sealed blob to its name and framing.
func blobAAD(id ID, frame byte) []byte { return append(id[:], frame) }

// openBlob opens a sealed blob, decompresses it and checks that its
// content hashes to id. It decrypts in place: sealed is overwritten.
func (k *keys) openBlob(id ID, sealed []byte, rawLen int) ([]byte, error) {
	if len(sealed) < 1+k.overhead() {
		return nil, fmt.Errorf("blob %s: %w: %d bytes is too short", id.Short(), ErrTampered, len(sealed))
	}
	frame, ct := sealed[0], sealed[1:]
	plain, err := k.open(ct[k.nonces:k.nonces], ct, blobAAD(id, frame))
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", id.Short(), err)
	}
	data := plain
	switch frame {
	case frameRaw:
	case frameZstd:
		_, dec := coders()
		if data, err = dec.DecodeAll(plain, make([]byte, 0, rawLen)); err != nil {
			return nil, fmt.Errorf("blob %s: decompress: %w", id.Short(), err)
		}
	default:
		return nil, fmt.Errorf("blob %s: %w: unknown framing %d", id.Short(), ErrTampered, frame)
	}
	if k.blobID(data) != id {
		return nil, fmt.Errorf("blob %s: %w: content does not match its hash", id.Short(), ErrTampered)
	}
	return data, nil
}
