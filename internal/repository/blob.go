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

// sealBlob frames, compresses when that helps, and seals data named id.
func (k *keys) sealBlob(id ID, data []byte) []byte {
	var plain []byte
	if compressible(data) {
		enc, _ := coders()
		plain = enc.EncodeAll(data, append(make([]byte, 0, len(data)/2+64), frameZstd))
	}
	if plain == nil || len(plain) > len(data)*15/16 {
		plain = append(append(make([]byte, 0, len(data)+1), frameRaw), data...)
	}
	return k.seal(make([]byte, 0, len(plain)+k.overhead()), plain, id[:])
}

// openBlob opens a sealed blob, decompresses it and checks that its
// content hashes to id.
func (k *keys) openBlob(id ID, sealed []byte, rawLen int) ([]byte, error) {
	plain, err := k.open(nil, sealed, id[:])
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", id.Short(), err)
	}
	if len(plain) == 0 {
		return nil, fmt.Errorf("blob %s: %w: empty", id.Short(), ErrTampered)
	}
	var data []byte
	switch plain[0] {
	case frameRaw:
		data = plain[1:]
	case frameZstd:
		_, dec := coders()
		if data, err = dec.DecodeAll(plain[1:], make([]byte, 0, rawLen)); err != nil {
			return nil, fmt.Errorf("blob %s: decompress: %w", id.Short(), err)
		}
	default:
		return nil, fmt.Errorf("blob %s: %w: unknown framing %d", id.Short(), ErrTampered, plain[0])
	}
	if k.blobID(data) != id {
		return nil, fmt.Errorf("blob %s: %w: content does not match its hash", id.Short(), ErrTampered)
	}
	return data, nil
}
