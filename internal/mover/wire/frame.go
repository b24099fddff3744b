// Package wire is the mover's framing and message encoding: every frame is
// a type byte, a 4-byte big-endian payload length and the payload, whose
// fields are varints and length-prefixed byte strings.
package wire

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
)

const headerLen = 5

// Conn sends and receives messages over a byte stream. A Conn is not safe
// for concurrent use; use one goroutine per direction at most.
type Conn struct {
	rw  io.ReadWriteCloser
	r   *bufio.Reader
	w   *bufio.Writer
	buf []byte
	enc Encoder
}

// NewConn wraps a stream, usually a net.Conn.
func NewConn(rw io.ReadWriteCloser) *Conn {
	return &Conn{rw: rw, r: bufio.NewReaderSize(rw, 256<<10), w: bufio.NewWriterSize(rw, 256<<10)}
}

// Close closes the underlying stream.
func (c *Conn) Close() error { return c.rw.Close() }

// Write buffers one message; call Flush to send it.
func (c *Conn) Write(m Message) error {
	c.enc.buf = c.enc.buf[:0]
	m.encode(&c.enc)
	if err := writeFrame(c.w, m.Type(), c.enc.buf); err != nil {
		return err
	}
	if cap(c.enc.buf) > 4<<20 {
		c.enc.buf = nil // do not pin a big buffer after a large batch
	}
	return nil
}

// Flush sends buffered messages.
func (c *Conn) Flush() error {
	if err := c.w.Flush(); err != nil {
		return fmt.Errorf("flush frames: %w", err)
	}
	return nil
}

// Send writes and flushes one message.
func (c *Conn) Send(m Message) error {
	if err := c.Write(m); err != nil {
		return err
	}
	return c.Flush()
}

// Recv reads the next message. Byte slices inside the returned message
// (Data.Data, Segment.Data) alias an internal buffer and are valid only
// until the next call to Recv. A frame longer than its type allows
// (MaxFrame) fails before its payload is read.
func (c *Conn) Recv() (Message, error) {
	t, n, err := readHeader(c.r)
	if err != nil {
		return nil, err
	}
	if cap(c.buf) < n {
		c.buf = make([]byte, n)
	}
	buf := c.buf[:n]
	if _, err := io.ReadFull(c.r, buf); err != nil {
		return nil, fmt.Errorf("read frame payload: %w", err)
	}
	if cap(c.buf) > 4<<20 && n <= 4<<20 {
		c.buf = nil // let a one-off large buffer go once it is no longer needed
	}
	return Decode(t, buf)
}

// ReadFirst reads one message of at most MaxSmallPayload bytes straight
// from r, without buffering past its end: the first message of a
// connection, before the peer is accepted and a Conn with its buffers is
// set up. Anything longer fails without being read.
func ReadFirst(r io.Reader) (Message, error) {
	t, n, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	if n > MaxSmallPayload {
		return nil, fmt.Errorf("%w: first message type %d: payload of %d bytes exceeds %d", ErrMalformed, t, n, MaxSmallPayload)
	}
	var buf [MaxSmallPayload]byte
	if _, err := io.ReadFull(r, buf[:n]); err != nil {
		return nil, fmt.Errorf("read frame payload: %w", err)
	}
	return Decode(t, buf[:n])
}

// WriteOne writes one message straight to w, for replies to a connection
// that has no Conn.
func WriteOne(w io.Writer, m Message) error {
	var e Encoder
	m.encode(&e)
	return writeFrame(w, m.Type(), e.buf)
}

// readHeader reads a frame header and checks it against the type's limit.
func readHeader(r io.Reader) (Type, int, error) {
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, fmt.Errorf("read frame header: %w", err)
	}
	t, n := Type(hdr[0]), binary.BigEndian.Uint32(hdr[1:])
	if err := checkFrame(t, n); err != nil {
		return 0, 0, err
	}
	return t, int(n), nil
}

// writeFrame writes a header and payload, refusing a payload longer than
// the receiving side accepts for its type.
func writeFrame(w io.Writer, t Type, payload []byte) error {
	if err := checkFrame(t, uint32(min(len(payload), 1<<32-1))); err != nil {
		return fmt.Errorf("encode message: %w", err)
	}
	var hdr [headerLen]byte
	hdr[0] = byte(t)
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	if _, err := w.Write(hdr[:]); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	if _, err := w.Write(payload); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// Decode decodes one payload of type t.
func Decode(t Type, payload []byte) (Message, error) {
	m := newMessage(t)
	if m == nil {
		return nil, fmt.Errorf("%w: unknown message type %d", ErrMalformed, t)
	}
	d := NewDecoder(payload)
	m.decode(d)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("decode message type %d: %w", t, err)
	}
	return m, nil
}

// Encode returns the payload of m, for tests and fuzzing.
func Encode(m Message) []byte {
	var e Encoder
	m.encode(&e)
	return e.buf
}
