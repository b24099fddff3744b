package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"ferry.dev/ferry/internal/objstore"
)

func TestDirStore(t *testing.T) {
	ctx := context.Background()
	s, err := objstore.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	for name, data := range map[string][]byte{"packs/a": big, "packs/b": []byte("bee")} {
		if err := s.Put(ctx, name, data); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := s.Get(ctx, "packs/a"); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Get = %d bytes, %v; want the 4 MiB put", len(got), err)
	}
	checkRanges(ctx, t, s, big)
	if err := s.ReadRange(ctx, "packs/c", 0, make([]byte, 1)); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("ReadRange of a missing object: %v, want ErrNotFound", err)
	}
}

// checkRanges reads ranges of packs/a (holding big) and packs/b ("bee")
// from s.
func checkRanges(ctx context.Context, t *testing.T, s objstore.Store, big []byte) {
	t.Helper()
	tests := []struct {
		name, object string
		off          int64
		n            int
		want         []byte // nil: an error
	}{
		{"inside", "packs/a", 1<<20 + 3, 5, []byte("34567")},
		{"to the end", "packs/a", int64(len(big)) - 4, 4, []byte("cdef")},
		{"whole", "packs/b", 0, 3, []byte("bee")},
		{"beyond the end", "packs/b", 2, 10, nil},
		{"after the end", "packs/b", 3, 1, nil},
	}
	for _, tt := range tests {
		p := make([]byte, tt.n)
		err := s.ReadRange(ctx, tt.object, tt.off, p)
		switch {
		case tt.want == nil && err == nil:
			t.Errorf("%s: ReadRange(%s, %d, %d bytes) succeeded", tt.name, tt.object, tt.off, tt.n)
		case tt.want != nil && (err != nil || !bytes.Equal(p, tt.want)):
			t.Errorf("%s: ReadRange(%s, %d, %d bytes) = %q, %v; want %q", tt.name, tt.object, tt.off, tt.n, p, err, tt.want)
		}
	}

}
