package repository

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"ferry.dev/ferry/internal/mover/wire"
)

func testKeys(t testing.TB) *keys {
	t.Helper()
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	ks, err := derive(k)
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

func TestPackRoundTrip(t *testing.T) {
	k := testKeys(t)
	p := newPacker()
	blobs := [][]byte{randomBytes(1, 1000), bytes.Repeat([]byte("z"), 5000), {}}
	for i, b := range blobs {
		id := k.blobID(b)
		p.add(BlobType(1+i%2), id, k.sealBlob(id, b), len(b))
	}
	want := append([]PackEntry{}, p.entries...)
	id, data := p.finish(k)
	if id == (ID{}) {
		t.Fatal("no pack ID")
	}
	n, err := parseTail(data[len(data)-tailSize:])
	if err != nil {
		t.Fatal(err)
	}
	dataSize := int64(len(data) - tailSize - n)
	got, err := parseHeader(k, data[dataSize:len(data)-tailSize], dataSize)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("header %+v, want %+v", got, want)
	}
	for i, e := range got {
		b, err := k.openBlob(e.ID, bytes.Clone(data[e.Offset:e.Offset+e.Length]), int(e.RawLength))
		if err != nil || !bytes.Equal(b, blobs[i]) {
			t.Fatalf("blob %d: %v", i, err)
		}
	}
	if _, err := parseHeader(testKeys(t), data[dataSize:len(data)-tailSize], dataSize); !errors.Is(err, ErrTampered) {
		t.Fatalf("a header opened under another key: %v", err)
	}
}

func TestIndexRoundTrip(t *testing.T) {
	k := testKeys(t)
	packs := []packRecord{
		{ID: randomID(), Entries: []PackEntry{{Type: DataBlob, ID: randomID(), Offset: 0, Length: 100, RawLength: 90}}},
		{ID: randomID(), Entries: []PackEntry{{Type: TreeBlob, ID: randomID(), Offset: 7, Length: 3, RawLength: 1}, {Type: DataBlob, ID: randomID(), Offset: 10, Length: 20, RawLength: 30}}},
	}
	got, err := decodeIndex(k, encodeIndex(k, packs))
	if err != nil || !reflect.DeepEqual(got, packs) {
		t.Fatalf("decodeIndex: %+v, %v", got, err)
	}
	sealed := encodeIndex(k, packs)
	sealed[len(sealed)/2] ^= 1
	if _, err := decodeIndex(k, sealed); !errors.Is(err, ErrTampered) {
		t.Fatalf("a changed index opened: %v", err)
	}
	parts := splitIndex(append(packs, packRecord{ID: randomID(), Entries: make([]PackEntry, maxIndexEntries)}))
	if len(parts) != 2 {
		t.Fatalf("split into %d parts, want 2", len(parts))
	}
}

func TestTreeRoundTrip(t *testing.T) {
	nodes := []Node{
		{Name: "a", Meta: wire.Meta{Kind: wire.KindRegular, Mode: 0o644, Size: 10, Mtime: 5, Xattrs: []wire.Xattr{{Name: "user.x", Value: []byte("v")}}},
			Ino: 7, Ctime: 9, Extents: []wire.Extent{{Off: 0, Len: 4}, {Off: 8, Len: 2}}, Content: []Span{{Blob: randomID(), Offset: 3, Length: 6}}},
		{Name: "b", Meta: wire.Meta{Kind: wire.KindDir, Mode: 0o755}, Subtree: []ID{randomID(), randomID()}},
		{Name: "c", Meta: wire.Meta{Kind: wire.KindSymlink, Target: "a"}},
		{Name: "d", Meta: wire.Meta{Kind: wire.KindRegular}, Link: "x/y"},
	}
	got, err := decodeTree(encodeTree(nodes))
	if err != nil || !reflect.DeepEqual(got, nodes) {
		t.Fatalf("decodeTree:\n got %+v\nwant %+v\n%v", got, nodes, err)
	}
}

func TestTamperedBlobs(t *testing.T) {
	k := testKeys(t)
	data := bytes.Repeat([]byte("compressible "), 10000)
	id := k.blobID(data)
	sealed := k.sealBlob(id, data)
	if sealed[0] != frameZstd {
		t.Fatalf("compressible data stored with framing %d", sealed[0])
	}
	tests := []struct {
		name   string
		change func([]byte) []byte
		id     ID
	}{
		{"flipped bit", func(b []byte) []byte { b[len(b)/2] ^= 1; return b }, id},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, id},
		{"framing changed", func(b []byte) []byte { b[0] = frameRaw; return b }, id},
		{"under another name", func(b []byte) []byte { return b }, k.blobID([]byte("other"))},
		{"empty", func([]byte) []byte { return nil }, id},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := k.openBlob(tt.id, tt.change(bytes.Clone(sealed)), len(data))
			if !errors.Is(err, ErrTampered) || !bytes.Contains([]byte(err.Error()), []byte(tt.id.Short())) {
				t.Fatalf("openBlob: %v, want ErrTampered naming blob %s", err, tt.id.Short())
			}
		})
	}
}

// FuzzDecoders feeds arbitrary bytes to every decoder of data read from
// the bucket (after authentication a peer with the key could still write
// garbage): none may panic or accept trailing bytes.
func FuzzDecoders(f *testing.F) {
	f.Add(encodeTree([]Node{{Name: "a", Meta: wire.Meta{Kind: wire.KindRegular}, Content: []Span{{Length: 1}}}}))
	f.Add(encodeEntries([]PackEntry{{Type: DataBlob, Length: 5}}))
	f.Add([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = decodeTree(b)
		d := wire.NewDecoder(b)
		_ = decodeEntries(d, 100)
		_ = d.Finish()
		_, _ = parseTail(b)
	})
}
