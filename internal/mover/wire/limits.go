package wire

import "fmt"

// Frame size limits by message type. A frame's length is checked against
// its type's limit as soon as the header is read, before a buffer for the
// payload is allocated or a byte of it is read, so a peer cannot make a
// connection hold more than its largest legitimate message.
const (
	// MaxPayload bounds the payload of the bulk messages: Batch, Ops,
	// DirList, Data, Hashes, HashFiles and Commit (whose metadata may carry
	// extended attributes). A Batch holds about 2 MiB of file data and a
	// Data frame 1 MiB; the rest is room for metadata.
	MaxPayload = 16 << 20
	// MaxPathPayload bounds messages that carry a path or an error text
	// but no metadata: OpenDir, FileBegin, Error; and BeginOK, whose
	// MaxBasisExtents extents take at most 80 KiB. Paths of the deepest
	// trees are some kilobytes long.
	MaxPathPayload = 1 << 20
	// MaxSmallPayload bounds messages of a few fixed fields, Hello among
	// them: a Hello is under 30 bytes.
	MaxSmallPayload = 1 << 10
)

// MaxDecoded bounds the memory that decoding one payload allocates for
// lists (entries, operations, files, segments, sums, extended attributes)
// beyond the bytes of its strings, which are bounded by the payload
// itself. Varint-packed lists decode to several times their wire size; a
// payload that would exceed the bound fails as malformed before the list
// is allocated. The largest legitimate lists, about 16,000 operations of
// one Ops request or 10,000 sums of one Hashes reply, need about 2 MiB.
const MaxDecoded = 8 << 20

// MaxFrame returns the largest payload accepted for a message of type t,
// or 0 for an unknown type.
func MaxFrame(t Type) int {
	switch t {
	case TypeBatch, TypeOps, TypeDirList, TypeData, TypeHashes, TypeHashFiles, TypeCommit:
		return MaxPayload
	case TypeOpenDir, TypeFileBegin, TypeError, TypeBeginOK:
		return MaxPathPayload
	case TypeHello, TypeHelloOK, TypeOK, TypeDone, TypeRangeHashes, TypeZero, TypeRangeDone, TypeAbort:
		return MaxSmallPayload
	}
	return 0
}

// checkFrame validates a frame header: a known type and a length within
// that type's limit.
func checkFrame(t Type, n uint32) error {
	limit := MaxFrame(t)
	if limit == 0 {
		return fmt.Errorf("%w: unknown message type %d", ErrMalformed, t)
	}
	if uint64(n) > uint64(limit) {
		return fmt.Errorf("%w: message type %d: payload of %d bytes exceeds %d", ErrMalformed, t, n, limit)
	}
	return nil
}
