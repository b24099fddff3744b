package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrMalformed reports a frame payload that does not decode.
var ErrMalformed = errors.New("malformed message")

// maxString bounds every string and byte slice inside a payload.
const maxString = MaxPayload

// Encoder appends primitive values to a payload buffer.
type Encoder struct {
	buf []byte
}

// Bytes returns the encoded payload.
func (e *Encoder) Bytes() []byte { return e.buf }

// Uint appends an unsigned varint.
func (e *Encoder) Uint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }

// Int appends a signed (zig-zag) varint.
func (e *Encoder) Int(v int64) { e.buf = binary.AppendVarint(e.buf, v) }

// Bool appends one byte, 0 or 1.
func (e *Encoder) Bool(v bool) {
	b := byte(0)
	if v {
		b = 1
	}
	e.buf = append(e.buf, b)
}

// Blob appends a length-prefixed byte slice.
func (e *Encoder) Blob(b []byte) {
	e.Uint(uint64(len(b)))
	e.buf = append(e.buf, b...)
}

// String appends a length-prefixed string.
func (e *Encoder) String(s string) {
	e.Uint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// Decoder reads primitive values from a payload. The first failure is
// sticky: later reads return zero values and Err reports the failure.
type Decoder struct {
	buf   []byte
	err   error
	spent int // bytes of list memory allocated so far, against MaxDecoded
}

// NewDecoder returns a Decoder over payload.
func NewDecoder(payload []byte) *Decoder { return &Decoder{buf: payload} }

// Err returns the first decoding error.
func (d *Decoder) Err() error { return d.err }

// Finish returns the first decoding error, or an error if bytes are left over.
func (d *Decoder) Finish() error {
	if d.err == nil && len(d.buf) != 0 {
		d.fail("trailing bytes")
	}
	return d.err
}

func (d *Decoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformed, what)
	}
	d.buf = nil
}

// Uint reads an unsigned varint.
func (d *Decoder) Uint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// Int reads a signed varint.
func (d *Decoder) Int() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.fail("bad varint")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

// Uint32 reads an unsigned varint that must fit in 32 bits.
func (d *Decoder) Uint32() uint32 {
	v := d.Uint()
	if v > 1<<32-1 {
		d.fail("value overflows uint32")
		return 0
	}
	return uint32(v)
}

// Bool reads one byte that must be 0 or 1.
func (d *Decoder) Bool() bool {
	if len(d.buf) < 1 || d.buf[0] > 1 {
		d.fail("bad bool")
		return false
	}
	v := d.buf[0] == 1
	d.buf = d.buf[1:]
	return v
}

// Blob reads a length-prefixed byte slice. The result aliases the payload.
func (d *Decoder) Blob() []byte {
	n := d.Uint()
	if n > maxString || n > uint64(len(d.buf)) {
		d.fail("bad length")
		return nil
	}
	b := d.buf[:n:n]
	d.buf = d.buf[n:]
	return b
}

// String reads a length-prefixed string.
func (d *Decoder) String() string { return string(d.Blob()) }

// Count reads a list length and checks it before the list is allocated:
// at least min bytes per element must remain in the payload, and size
// bytes per element (the element's in-memory size) must fit in what is
// left of MaxDecoded for this payload. A hostile length therefore cannot
// force a huge allocation, nor can many small elements.
func (d *Decoder) Count(min, size int) int {
	n := d.Uint()
	if min < 1 {
		min = 1
	}
	if n > uint64(len(d.buf)/min) {
		d.fail("bad count")
		return 0
	}
	if n > uint64((MaxDecoded-d.spent)/max(size, 1)) {
		d.fail(fmt.Sprintf("list of %d elements exceeds the decoding bound of %d bytes", n, MaxDecoded))
		return 0
	}
	d.spent += int(n) * size
	return int(n)
}

// Fail makes the decoder fail as on a malformed payload, for formats
// built on these primitives that check more than they do.
func (d *Decoder) Fail(what string) { d.fail(what) }
