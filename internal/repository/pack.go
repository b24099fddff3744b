package repository

import (
	"encoding/binary"
	"fmt"

	"github.com/zeebo/blake3"

	"ferry.dev/ferry/internal/mover/wire"
)

// Pack layout: the sealed blobs one after another, then the sealed
// header, then the header's sealed length as 4 bytes little-endian and
// the magic. Readers take the tail first, then the header, then the
// blobs they need by range.
const (
	packMagic = "FRP1"
	tailSize  = 4 + len(packMagic)
	// PackSize is the size at which a pack is closed and uploaded.
	PackSize = 8 << 20
	// maxHeader bounds a pack header a reader accepts.
	maxHeader = 4 << 20
)

var packHeaderAAD = []byte("ferry pack header v1")

// PackEntry is one blob in a pack.
type PackEntry struct {
	Type BlobType
	ID   ID
	// Offset and Length locate the sealed blob in the pack; RawLength is
	// its content's size.
	Offset, Length, RawLength uint32
}

// packer builds one pack in memory.
type packer struct {
	buf     []byte
	entries []PackEntry
	raw     int64
}

func newPacker() *packer { return &packer{buf: make([]byte, 0, PackSize+PackSize/4)} }

// add appends a sealed blob.
func (p *packer) add(typ BlobType, id ID, sealed []byte, rawLen int) {
	p.entries = append(p.entries, PackEntry{Type: typ, ID: id, Offset: uint32(len(p.buf)), Length: uint32(len(sealed)), RawLength: uint32(rawLen)})
	p.buf = append(p.buf, sealed...)
	p.raw += int64(rawLen)
}

// full reports whether the pack should be closed.
func (p *packer) full() bool { return len(p.buf) >= PackSize }

// finish appends the sealed header and the tail and names the pack by
// the hash of its bytes.
func (p *packer) finish(k *keys) (ID, []byte) {
	header := k.seal(nil, encodeEntries(p.entries), packHeaderAAD)
	p.buf = append(p.buf, header...)
	p.buf = binary.LittleEndian.AppendUint32(p.buf, uint32(len(header)))
	p.buf = append(p.buf, packMagic...)
	return ID(blake3.Sum256(p.buf)), p.buf
}

// encodeEntries encodes a list of pack entries.
func encodeEntries(entries []PackEntry) []byte {
	var e wire.Encoder
	e.Uint(uint64(len(entries)))
	for _, x := range entries {
		e.Uint(uint64(x.Type))
		e.Blob(x.ID[:])
		e.Uint(uint64(x.Offset))
		e.Uint(uint64(x.Length))
		e.Uint(uint64(x.RawLength))
	}
	return e.Bytes()
}

// decodeEntries decodes what encodeEntries wrote, checking each entry
// against the pack's data size when it is known (> 0).
func decodeEntries(d *wire.Decoder, dataSize int64) []PackEntry {
	n := d.Count(36, 48)
	out := make([]PackEntry, 0, n)
	for range n {
		var x PackEntry
		x.Type = BlobType(d.Uint())
		copy(x.ID[:], d.Blob())
		x.Offset, x.Length, x.RawLength = d.Uint32(), d.Uint32(), d.Uint32()
		if dataSize > 0 && int64(x.Offset)+int64(x.Length) > dataSize {
			d.Fail("blob beyond the pack's data")
		}
		out = append(out, x)
	}
	return out
}

// parseTail reads a pack's tail: the sealed header's length.
func parseTail(tail []byte) (int, error) {
	if len(tail) != tailSize || string(tail[4:]) != packMagic {
		return 0, fmt.Errorf("%w: not a pack (bad magic)", ErrTampered)
	}
	n := int(binary.LittleEndian.Uint32(tail))
	if n > maxHeader {
		return 0, fmt.Errorf("%w: pack header of %d bytes", ErrTampered, n)
	}
	return n, nil
}

// parseHeader opens a pack's sealed header; dataSize is the size of the
// pack's blob area (the pack less header and tail).
func parseHeader(k *keys, sealed []byte, dataSize int64) ([]PackEntry, error) {
	plain, err := k.open(nil, sealed, packHeaderAAD)
	if err != nil {
		return nil, fmt.Errorf("pack header: %w", err)
	}
	d := wire.NewDecoder(plain)
	entries := decodeEntries(d, dataSize)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("pack header: %w: %w", ErrTampered, err)
	}
	return entries, nil
}
