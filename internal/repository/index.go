package repository

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"

	"ferry.dev/ferry/internal/mover/wire"
)

// Object name prefixes.
const (
	dataPrefix     = "data/"
	indexPrefix    = "index/"
	snapshotPrefix = "snapshots/"
	lockPrefix     = "locks/"
	configName     = "config"
)

var indexAAD = []byte("ferry index v1")

// maxIndexEntries bounds the blobs one index object lists, so that each
// decodes within the wire format's bounds.
const maxIndexEntries = 100_000

// packName is the object name of a pack.
func packName(id ID) string { return dataPrefix + id.String()[:2] + "/" + id.String() }

// packOfName reads a pack's ID from its object name.
func packOfName(name string) (ID, bool) {
	base := name[strings.LastIndexByte(name, '/')+1:]
	id, err := ParseID(base)
	return id, err == nil && name == packName(id)
}

// location is where a blob is stored.
type location struct {
	pack                int32
	offset, length, raw uint32
	typ                 BlobType
}

// index maps blobs to packs, in memory.
type index struct {
	mu      sync.RWMutex
	blobs   map[ID]location
	packs   []ID
	packNum map[ID]int32
}

func newIndex() *index { return &index{blobs: map[ID]location{}, packNum: map[ID]int32{}} }

// has reports whether the blob is stored.
func (x *index) has(id ID) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	_, ok := x.blobs[id]
	return ok
}

// lookup returns the blob's pack and place.
func (x *index) lookup(id ID) (ID, location, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	loc, ok := x.blobs[id]
	if !ok {
		return ID{}, loc, false
	}
	return x.packs[loc.pack], loc, true
}

// hasPack reports whether the pack is indexed.
func (x *index) hasPack(id ID) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	_, ok := x.packNum[id]
	return ok
}

// addPack records a pack's blobs.
func (x *index) addPack(pack ID, entries []PackEntry) {
	x.mu.Lock()
	defer x.mu.Unlock()
	n, ok := x.packNum[pack]
	if !ok {
		n = int32(len(x.packs))
		x.packs = append(x.packs, pack)
		x.packNum[pack] = n
	}
	for _, e := range entries {
		if _, dup := x.blobs[e.ID]; !dup {
			x.blobs[e.ID] = location{pack: n, offset: e.Offset, length: e.Length, raw: e.RawLength, typ: e.Type}
		}
	}
}

// len is the number of blobs.
func (x *index) len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.blobs)
}

// packRecord is a pack and its blobs, as an index object lists them.
type packRecord struct {
	ID      ID
	Entries []PackEntry
}

// encodeIndex seals a list of packs as an index object.
func encodeIndex(k *keys, packs []packRecord) []byte {
	var e wire.Encoder
	e.Uint(uint64(len(packs)))
	for _, p := range packs {
		e.Blob(p.ID[:])
		e.Blob(encodeEntries(p.Entries))
	}
	return k.seal(nil, e.Bytes(), indexAAD)
}

// decodeIndex opens an index object.
func decodeIndex(k *keys, sealed []byte) ([]packRecord, error) {
	plain, err := k.open(nil, sealed, indexAAD)
	if err != nil {
		return nil, err
	}
	d := wire.NewDecoder(plain)
	n := d.Count(34, 64)
	out := make([]packRecord, 0, n)
	for range n {
		var p packRecord
		id := d.Blob()
		if len(id) != len(p.ID) {
			d.Fail("bad pack ID")
			break
		}
		copy(p.ID[:], id)
		ed := wire.NewDecoder(d.Blob())
		p.Entries = decodeEntries(ed, 0)
		if err := ed.Finish(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrTampered, err)
		}
		out = append(out, p)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTampered, err)
	}
	return out, nil
}

// splitIndex cuts packs into lists of at most maxIndexEntries blobs.
func splitIndex(packs []packRecord) [][]packRecord {
	var out [][]packRecord
	var cur []packRecord
	n := 0
	for _, p := range packs {
		if n+len(p.Entries) > maxIndexEntries && len(cur) > 0 {
			out, cur, n = append(out, cur), nil, 0
		}
		cur = append(cur, p)
		n += len(p.Entries)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// writeIndex stores packs as new index objects and returns their names.
func (r *Repository) writeIndex(ctx context.Context, packs []packRecord) ([]string, error) {
	var names []string
	for _, part := range splitIndex(packs) {
		name := indexPrefix + randomID().String()
		if err := r.store.Put(ctx, name, encodeIndex(r.keys, part)); err != nil {
			return names, fmt.Errorf("write index: %w", err)
		}
		names = append(names, name)
	}
	return names, nil
}

// loadIndex reads every index object, then finds packs no index lists
// (left by an interrupted upload) and reads their own headers, so that
// what they hold is used, not sent again.
func (r *Repository) loadIndex(ctx context.Context) error {
	objs, err := r.store.List(ctx, indexPrefix)
	if err != nil {
		return fmt.Errorf("list index: %w", err)
	}
	r.indexObjects = nil
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, o := range objs {
		r.indexObjects = append(r.indexObjects, o.Name)
		g.Go(func() error {
			b, err := r.store.Get(gctx, o.Name)
			if err != nil {
				return fmt.Errorf("read index: %w", err)
			}
			packs, err := decodeIndex(r.keys, b)
			if err != nil {
				return fmt.Errorf("index %s: %w", o.Name, err)
			}
			for _, p := range packs {
				r.idx.addPack(p.ID, p.Entries)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return r.recoverPacks(ctx)
}

// recoverPacks indexes packs that no index object lists.
func (r *Repository) recoverPacks(ctx context.Context) error {
	objs, err := r.store.List(ctx, dataPrefix)
	if err != nil {
		return fmt.Errorf("list packs: %w", err)
	}
	var mu sync.Mutex
	var found []packRecord
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, o := range objs {
		id, ok := packOfName(o.Name)
		if !ok || r.idx.hasPack(id) {
			continue
		}
		g.Go(func() error {
			entries, err := r.readPackHeader(gctx, id, o.Size)
			if err != nil {
				// A pack that does not open is not ours to use; prune
				// reports and removes it.
				r.damaged.Add(1)
				return nil
			}
			mu.Lock()
			found = append(found, packRecord{ID: id, Entries: entries})
			mu.Unlock()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, p := range found {
		r.idx.addPack(p.ID, p.Entries)
	}
	r.recovered = found
	return nil
}

// readPackHeader reads the blob list at the end of a pack of size bytes.
func (r *Repository) readPackHeader(ctx context.Context, id ID, size int64) ([]PackEntry, error) {
	if size < int64(tailSize) {
		return nil, fmt.Errorf("pack %s: %w: %d bytes", id.Short(), ErrTampered, size)
	}
	tail := make([]byte, tailSize)
	if err := r.store.ReadRange(ctx, packName(id), size-int64(tailSize), tail); err != nil {
		return nil, fmt.Errorf("read pack %s: %w", id.Short(), err)
	}
	n, err := parseTail(tail)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", id.Short(), err)
	}
	dataSize := size - int64(tailSize) - int64(n)
	if dataSize < 0 {
		return nil, fmt.Errorf("pack %s: %w: header larger than the pack", id.Short(), ErrTampered)
	}
	header := make([]byte, n)
	if err := r.store.ReadRange(ctx, packName(id), dataSize, header); err != nil {
		return nil, fmt.Errorf("read pack %s: %w", id.Short(), err)
	}
	entries, err := parseHeader(r.keys, header, dataSize)
	if err != nil {
		return nil, fmt.Errorf("pack %s: %w", id.Short(), err)
	}
	return entries, nil
}
