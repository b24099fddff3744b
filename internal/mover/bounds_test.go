package mover_test

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/mover/wire"
)

// heapInuse returns the bytes of live heap spans after a collection.
func heapInuse() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}

func dialTLS(t *testing.T, addr string, cfg *tls.Config) net.Conn {
	t.Helper()
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// writeHeader writes a frame header announcing n payload bytes of type typ.
func writeHeader(t *testing.T, c net.Conn, typ wire.Type, n int) {
	t.Helper()
	hdr := []byte{byte(typ), 0, 0, 0, 0}
	binary.BigEndian.PutUint32(hdr[1:], uint32(n))
	if _, err := c.Write(hdr); err != nil {
		t.Fatalf("write frame header: %v", err)
	}
}

// TestReceiverBoundsHelloMemory drives the first attack of issue 9 item 3
// (many connections, each announcing a 16 MiB Hello) against a receiver
// on loopback TLS. Each oversized Hello must be refused on its header,
// with an error reply, before its body is read; connections still in
// their Hello must hold no buffers. Bound: 256 KiB of heap per
// connection, both TLS ends included (a 16 MiB Hello buffer, or the
// 512 KiB of a connection's frame buffers, exceeds it).
func TestReceiverBoundsHelloMemory(t *testing.T) {
	const perConn = 256 << 10
	pki := newPKI(t)
	r := startReceiver(t, t.TempDir(), serverTLS(t, pki), false)
	client := clientTLS(t, pki)

	t.Run("oversized hello", func(t *testing.T) {
		const n = 32
		base := heapInuse()
		conns := make([]net.Conn, n)
		for i := range conns {
			conns[i] = dialTLS(t, r.addr, client)
			// The header alone: a receiver that waited for the body
			// would never reply.
			writeHeader(t, conns[i], wire.TypeHello, 16<<20)
		}
		for i, c := range conns {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			m, err := wire.ReadFirst(c)
			if err != nil {
				t.Fatalf("connection %d: no reply to an oversized hello: %v", i, err)
			}
			if e, ok := m.(*wire.Error); !ok || e.Code != wire.CodeProtocol {
				t.Fatalf("connection %d: reply %+v, want a protocol error", i, m)
			}
		}
		grown := heapInuse() - base
		t.Logf("heap grew by %d bytes for %d refused connections", grown, n)
		if grown > n*perConn {
			t.Errorf("heap grew by %d bytes for %d connections, want at most %d", grown, n, n*perConn)
		}
	})

	t.Run("pending hellos", func(t *testing.T) {
		const n = 100
		base := heapInuse()
		for range n {
			c := dialTLS(t, r.addr, client)
			writeHeader(t, c, wire.TypeHello, 20) // and then nothing
		}
		time.Sleep(500 * time.Millisecond) // let the receiver reach each Hello
		grown := heapInuse() - base
		t.Logf("heap grew by %d bytes for %d pending connections", grown, n)
		if grown > n*perConn {
			t.Errorf("heap grew by %d bytes for %d pending connections, want at most %d", grown, n, n*perConn)
		}
	})

	t.Run("sync after the attack", func(t *testing.T) {
		src := t.TempDir()
		newTree(t, src).file("f", []byte("data"))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if _, err := runSync(ctx, t, src, r.addr, client); err != nil {
			t.Fatalf("sync: %v", err)
		}
	})
}

// tlsPeer is a hand-driven sender over loopback TLS.
type tlsPeer struct {
	t    *testing.T
	addr string
	cfg  *tls.Config
	id   []byte
}

// hello opens a connection of role and returns it with the reply.
func (p *tlsPeer) hello(role wire.Role) (net.Conn, *wire.Conn, wire.Message) {
	p.t.Helper()
	raw := dialTLS(p.t, p.addr, p.cfg)
	c := wire.NewConn(raw)
	if err := c.Send(&wire.Hello{Version: wire.Version, Session: p.id, Role: role}); err != nil {
		p.t.Fatalf("send hello: %v", err)
	}
	_ = raw.SetReadDeadline(time.Now().Add(10 * time.Second))
	m, err := c.Recv()
	if err != nil {
		p.t.Fatalf("hello reply: %v", err)
	}
	_ = raw.SetReadDeadline(time.Time{})
	return raw, c, m
}

// TestReceiverBoundsDataConnections drives the second attack of issue 9
// item 3 (data connections carrying batches of empty segments): a session
// gets at most mover.MaxParallel data connections, a closed one frees its
// place, and a batch that packs millions of empty segments into one frame
// is refused as malformed without being decoded. Bound: handling the
// batch allocates at most twice its frame plus wire.MaxDecoded (before,
// 8 MiB of empty segments decoded to 128 MiB).
func TestReceiverBoundsDataConnections(t *testing.T) {
	pki := newPKI(t)
	r := startReceiver(t, t.TempDir(), serverTLS(t, pki), false)
	p := &tlsPeer{t: t, addr: r.addr, cfg: clientTLS(t, pki), id: make([]byte, 16)}
	_, _ = rand.Read(p.id)
	if _, _, m := p.hello(wire.RoleControl); m.Type() != wire.TypeHelloOK {
		t.Fatalf("control hello: %+v", m)
	}
	var data []*wire.Conn
	var raws []net.Conn
	for i := range mover.MaxParallel {
		raw, c, m := p.hello(wire.RoleData)
		if m.Type() != wire.TypeHelloOK {
			t.Fatalf("data connection %d refused: %+v", i+1, m)
		}
		raws, data = append(raws, raw), append(data, c)
	}
	_, _, m := p.hello(wire.RoleData)
	if e, ok := m.(*wire.Error); !ok || !strings.Contains(e.Message, "too many data connections") {
		t.Fatalf("data connection %d: reply %+v, want too many data connections", mover.MaxParallel+1, m)
	}
	raws[0].Close()
	var again wire.Message
	for range 50 { // the receiver notices the close asynchronously
		if _, data[0], again = p.hello(wire.RoleData); again.Type() == wire.TypeHelloOK {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if again.Type() != wire.TypeHelloOK {
		t.Fatalf("data connection after a close: reply %+v, want it accepted", again)
	}

	payload := emptySegmentsBatch(8 << 20)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	reply := sendRaw(t, raws[1], data[1], wire.TypeBatch, payload)
	runtime.ReadMemStats(&after)
	if e, ok := reply.(*wire.Error); !ok || e.Code != wire.CodeProtocol {
		t.Errorf("batch of empty segments: reply %+v, want a protocol error", reply)
	}
	got, limit := after.TotalAlloc-before.TotalAlloc, uint64(2*len(payload)+wire.MaxDecoded)
	t.Logf("a %d-byte batch of empty segments: %d bytes allocated", len(payload), got)
	if got > limit {
		t.Errorf("a %d-byte batch made the process allocate %d bytes, want at most %d", len(payload), got, limit)
	}
}

// emptySegmentsBatch encodes a Batch of one empty file with n/2 empty
// segments: n bytes on the wire.
func emptySegmentsBatch(n int) []byte {
	var e wire.Encoder
	e.Uint(1)
	e.String("f")
	e.Uint(uint64(wire.KindRegular))
	for range 7 {
		e.Uint(0)
	}
	e.String("")
	e.Uint(0)
	e.Uint(uint64(n / 2))
	for range n / 2 {
		e.Int(0)
		e.Blob(nil)
	}
	return e.Bytes()
}

// sendRaw writes one frame of payload on raw and reads the reply on c.
func sendRaw(t *testing.T, raw net.Conn, c *wire.Conn, typ wire.Type, payload []byte) wire.Message {
	t.Helper()
	writeHeader(t, raw, typ, len(payload))
	if _, err := raw.Write(payload); err != nil {
		t.Fatalf("write payload: %v", err)
	}
	_ = raw.SetReadDeadline(time.Now().Add(20 * time.Second))
	m, err := c.Recv()
	if err != nil {
		t.Fatalf("reply: %v", err)
	}
	return m
}

// TestSenderBoundsEndlessListing drives the third attack of issue 9 item
// 3: a receiver that answers OpenDir with a listing that never ends. The
// sync must fail with ErrListingTooLarge once the listing exceeds the
// sender's bound (lowered here to 4 MiB; 256 MiB in production) instead
// of growing. The hostile receiver gives up after 64 times the bound.
func TestSenderBoundsEndlessListing(t *testing.T) {
	const bound = 4 << 20
	defer mover.SetMaxListingBytes(bound)()
	pki := newPKI(t)
	ln, err := mover.TLSListener("127.0.0.1:0", serverTLS(t, pki))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go endlessLister(ln, 64*bound/300)

	src := t.TempDir()
	newTree(t, src).file("f", []byte("data"))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	_, err = runSync(ctx, t, src, ln.Addr().String(), clientTLS(t, pki))
	if !errors.Is(err, mover.ErrListingTooLarge) {
		t.Fatalf("sync against an endless listing: %v, want %v", err, mover.ErrListingTooLarge)
	}
	if !strings.Contains(err.Error(), `"."`) {
		t.Errorf("error %q does not name the directory", err)
	}
}

// endlessLister accepts every connection and answers the control
// connection's first OpenDir with up to max entries in chunks, all
// announcing more, then closes.
func endlessLister(ln net.Listener, max int) {
	for {
		raw, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer raw.Close()
			c := wire.NewConn(raw)
			m, err := c.Recv()
			if err != nil {
				return
			}
			if c.Send(&wire.HelloOK{Version: wire.Version}) != nil || m.(*wire.Hello).Role != wire.RoleControl {
				_, _ = c.Recv() // hold a data connection until the sender closes it
				return
			}
			if _, err := c.Recv(); err != nil { // OpenDir
				return
			}
			chunk := make([]wire.Entry, 1000)
			for sent := 0; sent < max; sent += len(chunk) {
				for i := range chunk {
					chunk[i] = wire.Entry{Name: fmt.Sprintf("n%09d", sent+i), Meta: wire.Meta{Kind: wire.KindRegular, Mode: 0o644}}
				}
				if c.Send(&wire.DirList{Entries: chunk, More: true}) != nil {
					return
				}
			}
		}()
	}
}

// TestReceiverBoundsOpenFiles checks that a session holds at most 256
// large files open at once (each a descriptor and a temporary file), and
// that finishing one frees its place.
func TestReceiverBoundsOpenFiles(t *testing.T) {
	const most = 256
	p := newPeer(t, t.TempDir())
	data := p.dial(wire.RoleData)
	for id := range uint64(most) {
		if m := p.call(data, &wire.FileBegin{ID: id, Path: fmt.Sprintf("f%d", id), Size: 1}); m.Type() != wire.TypeBeginOK {
			t.Fatalf("file %d: reply %+v, want it opened", id+1, m)
		}
	}
	if e, ok := p.call(data, &wire.FileBegin{ID: most, Path: "one-more", Size: 1}).(*wire.Error); !ok || e.Code != wire.CodeProtocol {
		t.Fatalf("file %d: opened, want a protocol error", most+1)
	}
	if m := p.call(data, &wire.Abort{ID: 0}); m.Type() != wire.TypeOK {
		t.Fatalf("abort: %+v", m)
	}
	if m := p.call(data, &wire.FileBegin{ID: most, Path: "one-more", Size: 1}); m.Type() != wire.TypeBeginOK {
		t.Errorf("file after an abort: reply %+v, want it opened", m)
	}
}
