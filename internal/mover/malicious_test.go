package mover_test

import (
	"context"
	"crypto/rand"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/mover/wire"
)

// peer is a hand-driven sender speaking raw protocol over net.Pipe.
type peer struct {
	t    *testing.T
	srv  *mover.Server
	id   []byte
	conn *wire.Conn
	// pipes are the peer's ends of its connections, and served counts
	// the receiver's ServeConn calls, which end once those close.
	pipes  []net.Conn
	served sync.WaitGroup
}

func newPeer(t *testing.T, dst string) *peer {
	t.Helper()
	srv, err := mover.NewServer(dst, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, srv: srv, id: make([]byte, 16)}
	_, _ = rand.Read(p.id)
	p.conn = p.dial(wire.RoleControl)
	t.Cleanup(p.close)
	return p
}

// close closes the peer's connections, waits until the receiver is done
// with them and closes it, as Server.Close wants.
func (p *peer) close() {
	for _, c := range p.pipes {
		c.Close()
	}
	p.served.Wait()
	p.srv.Close()
}

func (p *peer) dial(role wire.Role) *wire.Conn {
	p.t.Helper()
	a, b := net.Pipe()
	p.pipes = append(p.pipes, a)
	p.served.Go(func() { p.srv.ServeConn(context.Background(), b) })
	c := wire.NewConn(a)
	if _, ok := p.call(c, &wire.Hello{Version: wire.Version, Session: p.id, Role: role}).(*wire.HelloOK); !ok {
		p.t.Fatal("hello refused")
	}
	return c
}

func (p *peer) call(c *wire.Conn, m wire.Message) wire.Message {
	p.t.Helper()
	if err := c.Send(m); err != nil {
		p.t.Fatalf("send: %v", err)
	}
	reply, err := c.Recv()
	if err != nil {
		p.t.Fatalf("receive: %v", err)
	}
	return reply
}

// TestReceiverConfinesMaliciousPeer sends hostile message sequences and
// checks that nothing outside the root is created, changed or removed.
func TestReceiverConfinesMaliciousPeer(t *testing.T) {
	base := t.TempDir()
	dst, outside := filepath.Join(base, "dst"), filepath.Join(base, "outside")
	for _, d := range []string{dst, outside} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	victim := filepath.Join(outside, "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := newPeer(t, dst)
	data := p.dial(wire.RoleData)
	reg := wire.Meta{Kind: wire.KindRegular, Mode: 0o666, Size: 4}
	// The peer plants a symlink to the outside; that itself is allowed
	// (targets are kept verbatim) but must never be written through.
	plant := &wire.Ops{Ops: []wire.Op{{Kind: wire.OpSymlink, Path: "esc", Meta: wire.Meta{Kind: wire.KindSymlink, Target: outside}}}}
	if _, ok := p.call(p.conn, plant).(*wire.OK); !ok {
		t.Fatal("planting a symlink failed")
	}
	bad := []string{"../evil", "/abs/evil", "a/../../evil", "evil\x00", "", ".", "a//b", "./a", "esc/evil", "esc/victim", "esc/../x"}
	for _, path := range bad {
		t.Run(path, func(t *testing.T) {
			msgs := []struct {
				conn *wire.Conn
				m    wire.Message
			}{
				{data, &wire.Batch{Files: []wire.File{{Path: path, Meta: reg, Segments: []wire.Segment{{Data: []byte("evil")}}}}}},
				{data, &wire.FileBegin{ID: 99, Path: path, Size: 4}},
				{data, &wire.HashFiles{Paths: []string{path}}},
				{p.conn, &wire.OpenDir{Path: path + "/sub", Create: true}},
				{p.conn, &wire.Ops{Ops: []wire.Op{{Kind: wire.OpRemove, Path: path + "/victim"}}}},
				{p.conn, &wire.Ops{Ops: []wire.Op{{Kind: wire.OpAttrs, Path: path + "/victim", Meta: wire.Meta{Kind: wire.KindRegular, Mode: 0o777}}}}},
				{p.conn, &wire.Ops{Ops: []wire.Op{{Kind: wire.OpLink, Path: "stolen", Target: path + "/victim"}}}},
				{p.conn, &wire.Ops{Ops: []wire.Op{{Kind: wire.OpSymlink, Path: path + "/victim", Meta: wire.Meta{Kind: wire.KindSymlink, Target: "x"}}}}},
				{p.conn, &wire.Ops{Ops: []wire.Op{{Kind: wire.OpSpecial, Path: path + "/fifo", Meta: wire.Meta{Kind: wire.KindFIFO}}}}},
			}
			for _, m := range msgs {
				reply := p.call(m.conn, m.m)
				if _, isErr := reply.(*wire.Error); !isErr {
					if h, ok := reply.(*wire.Hashes); ok && len(h.Sums[0]) == 0 {
						continue // "not a regular file" is a fine answer too
					}
					t.Errorf("message type %d for %q: got %T, want an error", m.m.Type(), path, reply)
				}
				if b, ok := reply.(*wire.BeginOK); ok && b != nil {
					p.call(data, &wire.Abort{ID: 99})
				}
			}
		})
	}
	// Writing the name of the symlink itself replaces the symlink.
	over := &wire.Batch{Files: []wire.File{{Path: "esc", Meta: reg, Segments: []wire.Segment{{Data: []byte("file")}}}}}
	if _, ok := p.call(data, over).(*wire.OK); !ok {
		t.Error("replacing the symlink by a file failed")
	}
	if st, err := os.Lstat(filepath.Join(dst, "esc")); err != nil || !st.Mode().IsRegular() {
		t.Errorf("esc is not a regular file after the batch: %v, %v", st, err)
	}
	assertOutsideUntouched(t, outside, victim)
	if _, err := os.Lstat(filepath.Join(dst, "stolen")); err == nil {
		t.Error("a hardlink to a file outside the root was created")
	}
}

// TestReceiverRejectsOutOfRangeWrites checks offsets are bounded by the
// announced size and that unknown file ids fail.
func TestReceiverRejectsOutOfRangeWrites(t *testing.T) {
	dst := t.TempDir()
	p := newPeer(t, dst)
	data := p.dial(wire.RoleData)
	if _, ok := p.call(data, &wire.FileBegin{ID: 1, Path: "f", Size: 10}).(*wire.BeginOK); !ok {
		t.Fatal("begin failed")
	}
	tests := []struct {
		name string
		msgs []wire.Message
	}{
		{"write past the end", []wire.Message{&wire.Data{ID: 1, Off: 8, Data: []byte("xyz")}}},
		{"negative offset", []wire.Message{&wire.Data{ID: 1, Off: -1, Data: []byte("x")}}},
		{"huge hole", []wire.Message{&wire.Zero{ID: 1, Off: 0, Len: 1 << 40}}},
		{"unknown file", []wire.Message{&wire.Data{ID: 7, Off: 0, Data: []byte("x")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, m := range tt.msgs {
				if err := data.Write(m); err != nil {
					t.Fatal(err)
				}
			}
			if _, ok := p.call(data, &wire.RangeDone{ID: 1}).(*wire.Error); !ok {
				t.Error("range accepted, want an error")
			}
		})
	}
	if st, err := os.Stat(filepath.Join(dst, "f")); err == nil {
		t.Errorf("file committed without a commit: %v", st)
	}
}

func assertOutsideUntouched(t *testing.T, outside, victim string) {
	t.Helper()
	entries, err := os.ReadDir(outside)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("outside directory now holds %d entries, want only the victim", len(entries))
	}
	st, err := os.Stat(victim)
	if err != nil {
		t.Fatalf("victim gone: %v", err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("victim mode changed to %v", st.Mode())
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me" {
		t.Errorf("victim content changed to %q", b)
	}
}
