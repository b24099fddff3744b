package wire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"reflect"
	"testing"
)

func sampleMeta() Meta {
	return Meta{Kind: KindRegular, Mode: 0o4755, UID: 1234, GID: 5678, Size: 1 << 40,
		Mtime: 1_600_000_000_123456789, Atime: -5, Rdev: 7, Target: "../x",
		Xattrs: []Xattr{{Name: "user.a", Value: []byte("b")}}}
}

func TestRoundTrip(t *testing.T) {
	msgs := []Message{
		&Hello{Version: Version, Session: bytes.Repeat([]byte{1}, 16), Role: RoleData},
		&HelloOK{Version: Version, Chown: true, Last: SyncState{Source: []byte{1, 2, 3}, Start: 1 << 60}},
		&Error{Code: CodeNoSpace, Message: "full", Path: "a/b"},
		&OK{},
		&OpenDir{Path: "a/b", Create: true, Xattrs: true},
		&DirList{Entries: []Entry{{Name: "x", Meta: sampleMeta(), Ino: 1 << 40, Nlink: 3, XattrSum: []byte{9, 8}}}, More: true},
		&Ops{Ops: []Op{{Kind: OpLink, Path: "a", Target: "b", Meta: sampleMeta()}}},
		&Done{State: SyncState{Source: []byte{4}, Start: 5}, Final: true},
		&Batch{Files: []File{{Path: "f", Meta: sampleMeta(), Segments: []Segment{{Off: 3, Data: []byte("abc")}}}}},
		&FileBegin{ID: 9, Path: "big", Size: 1 << 33, Delta: true, Basis: "old/big"},
		&BeginOK{OldSize: -1},
		&BeginOK{OldSize: 1 << 40, Mapped: true, Extents: []Extent{{Off: 0, Len: 4096}, {Off: 1 << 39, Len: 1 << 20}}},
		&RangeHashes{ID: 9, Off: 1 << 20, Len: 8 << 20, BlockSize: 128 << 10},
		&Hashes{Sums: [][]byte{{1, 2}, {}}},
		&Data{ID: 9, Off: 5, Data: []byte("data")},
		&Zero{ID: 9, Off: 5, Len: 10},
		&RangeDone{ID: 9},
		&Commit{ID: 9, Meta: sampleMeta()},
		&Abort{ID: 9, Keep: true},
		&HashFiles{Paths: []string{"a", "b/c"}},
	}
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	w, r := NewConn(a), NewConn(b)
	go func() {
		for _, m := range msgs {
			if w.Send(m) != nil {
				return
			}
		}
	}()
	for _, m := range msgs {
		got, err := r.Recv()
		if err != nil {
			t.Fatalf("receive %T: %v", m, err)
		}
		norm := func(m Message) Message { d, _ := Decode(m.Type(), Encode(m)); return d }
		if !reflect.DeepEqual(got, norm(m)) {
			t.Errorf("round trip of %T:\n got  %+v\n want %+v", m, got, m)
		}
	}
}

func TestRecvRejectsBadFrames(t *testing.T) {
	tests := []struct {
		name  string
		frame []byte
	}{
		{"unknown type", []byte{200, 0, 0, 0, 0}},
		{"oversized payload", []byte{byte(TypeOK), 0xff, 0xff, 0xff, 0xff}},
		{"trailing bytes", []byte{byte(TypeOK), 0, 0, 0, 1, 0}},
		{"truncated varint", []byte{byte(TypeRangeDone), 0, 0, 0, 1, 0x80}},
		{"huge list count", []byte{byte(TypeHashFiles), 0, 0, 0, 5, 0xff, 0xff, 0xff, 0xff, 0x0f}},
		{"bad kind", append([]byte{byte(TypeCommit), 0, 0, 0, 13}, 1, 99, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)},
	}
	for _, tt := range tests {
		c := NewConn(nopCloser{bytes.NewReader(tt.frame)})
		if _, err := c.Recv(); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Recv() = %v, want ErrMalformed", tt.name, err)
		}
	}
}

// TestBeginOKBoundsExtents checks that a reply mapping more basis
// extents than MaxBasisExtents does not decode.
func TestBeginOKBoundsExtents(t *testing.T) {
	m := &BeginOK{OldSize: 1 << 40, Mapped: true, Extents: make([]Extent, MaxBasisExtents+1)}
	if _, err := Decode(TypeBeginOK, Encode(m)); !errors.Is(err, ErrMalformed) {
		t.Errorf("decode %d extents: %v, want ErrMalformed", len(m.Extents), err)
	}
	m.Extents = m.Extents[:MaxBasisExtents]
	for i := range m.Extents {
		m.Extents[i] = Extent{Off: 1<<39 + int64(i)<<20, Len: 1 << 19}
	}
	if n := len(Encode(m)); n > MaxFrame(TypeBeginOK) {
		t.Errorf("a reply of %d extents takes %d bytes, more than its frame limit %d", len(m.Extents), n, MaxFrame(TypeBeginOK))
	}
}

type nopCloser struct{ io.Reader }

func (nopCloser) Write(b []byte) (int, error) { return len(b), nil }
func (nopCloser) Close() error                { return nil }

// FuzzDecode checks that no payload panics the decoder and that whatever
// decodes re-encodes to something that decodes the same.
func FuzzDecode(f *testing.F) {
	f.Add(uint8(TypeBatch), Encode(&Batch{Files: []File{{Path: "f", Meta: sampleMeta()}}}))
	f.Add(uint8(TypeOps), Encode(&Ops{Ops: []Op{{Kind: OpRemove, Path: "x"}}}))
	f.Add(uint8(TypeHello), []byte{1, 0, 1})
	f.Fuzz(func(t *testing.T, typ uint8, payload []byte) {
		m, err := Decode(Type(typ), payload)
		if err != nil {
			return
		}
		again, err := Decode(Type(typ), Encode(m))
		if err != nil {
			t.Fatalf("re-encoded %T does not decode: %v", m, err)
		}
		if !reflect.DeepEqual(normalize(m), normalize(again)) {
			t.Fatalf("re-encoded %T differs", m)
		}
	})
}

func normalize(m Message) Message {
	d, _ := Decode(m.Type(), Encode(m))
	return d
}
