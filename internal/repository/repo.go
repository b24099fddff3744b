package repository

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"ferry.dev/ferry/internal/chunker"
	"ferry.dev/ferry/internal/objstore"
)

// ErrNotInitialized is wrapped by Open's error for a bucket (and prefix)
// that holds no repository yet: Init makes one.
var ErrNotInitialized = errors.New("no repository here yet")

// ErrWrongKey is wrapped by Open's error when the repository was made
// with another key.
var ErrWrongKey = errors.New("the repository key does not open this repository (it was made with another key)")

// formatVersion is the version of the layout this package writes.
const formatVersion = 1

var configCheckAAD = []byte("ferry repository config check v1")

// config is the one plain object of a repository: what a reader must
// know before it can open anything, and a sealed value that proves the
// key.
type config struct {
	Version int            `json:"version"`
	Chunker chunker.Params `json:"chunker"`
	Check   []byte         `json:"check"`
}

// Stats count what a Repository did; every field is updated atomically.
type Stats struct {
	// BlobsNew and BytesNew count blobs (and their content bytes) that
	// were not stored yet; BlobsKnown those found already stored.
	BlobsNew, BytesNew, BlobsKnown atomic.Int64
	// BytesUploaded counts bytes of packs and trees sent to the store;
	// PacksUploaded the packs.
	BytesUploaded, PacksUploaded atomic.Int64
	// BlobsDownloaded and BytesDownloaded count what restores fetched.
	BlobsDownloaded, BytesDownloaded atomic.Int64
}

// Repository is an open repository.
type Repository struct {
	store   objstore.Store
	keys    *keys
	chunker *chunker.Chunker
	// subChunker cuts the sub-chunks a delta matches (delta.go).
	subChunker *chunker.Chunker
	idx        *index

	// indexObjects are the index objects loaded by Open; recovered the
	// packs found without one.
	indexObjects []string
	recovered    []packRecord
	damaged      atomic.Int64

	w writer

	// Stats count this Repository's work.
	Stats Stats
}

// Store returns the object store the repository lives in.
func (r *Repository) Store() objstore.Store { return r.store }

// Chunker returns the repository's chunker.
func (r *Repository) Chunker() *chunker.Chunker { return r.chunker }

// Init makes a repository in store under key unless one is there; an
// existing one must open with key. It reports whether it made one.
// Two Inits racing with the same key write equivalent configs.
func Init(ctx context.Context, store objstore.Store, key Key) (bool, error) {
	k, err := derive(key)
	if err != nil {
		return false, err
	}
	_, err = readConfig(ctx, store, k)
	switch {
	case err == nil:
		return false, nil
	case !errors.Is(err, ErrNotInitialized):
		return false, err
	}
	cfg := config{Version: formatVersion, Chunker: chunker.DefaultParams, Check: k.seal(nil, []byte("ferry"), configCheckAAD)}
	b, err := json.Marshal(cfg)
	if err != nil {
		return false, fmt.Errorf("encode repository config: %w", err)
	}
	if err := store.Put(ctx, configName, b); err != nil {
		return false, fmt.Errorf("write repository config: %w", err)
	}
	return true, nil
}

// readConfig reads and checks the config object.
func readConfig(ctx context.Context, store objstore.Store, k *keys) (config, error) {
	var cfg config
	b, err := store.Get(ctx, configName)
	if errors.Is(err, objstore.ErrNotFound) {
		return cfg, fmt.Errorf("%s: %w", store, ErrNotInitialized)
	}
	if err != nil {
		return cfg, fmt.Errorf("read repository config: %w", err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return cfg, fmt.Errorf("repository config in %s: %w", store, err)
	}
	if cfg.Version != formatVersion {
		return cfg, fmt.Errorf("repository in %s has format %d; this Ferry reads format %d", store, cfg.Version, formatVersion)
	}
	if _, err := k.open(nil, cfg.Check, configCheckAAD); err != nil {
		return cfg, fmt.Errorf("%s: %w", store, ErrWrongKey)
	}
	return cfg, nil
}

// Open opens the repository in store and loads its index.
func Open(ctx context.Context, store objstore.Store, key Key) (*Repository, error) {
	k, err := derive(key)
	if err != nil {
		return nil, err
	}
	cfg, err := readConfig(ctx, store, k)
	if err != nil {
		return nil, err
	}
	ch, err := chunker.New(k.seed[:], cfg.Chunker)
	if err != nil {
		return nil, fmt.Errorf("repository config in %s: %w", store, err)
	}
	sub, err := chunker.New(append([]byte("delta\x00"), k.seed[:]...), deltaParams)
	if err != nil {
		return nil, fmt.Errorf("repository config in %s: %w", store, err)
	}
	r := &Repository{store: store, keys: k, chunker: ch, subChunker: sub, idx: newIndex()}
	r.w.init()
	if err := r.loadIndex(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Has reports whether the blob is stored (or on its way).
func (r *Repository) Has(id ID) bool { return r.idx.has(id) || r.w.isPending(id) }

// BlobID names data as the repository would.
func (r *Repository) BlobID(data []byte) ID { return r.keys.blobID(data) }

// SaveBlob stores data as a blob unless the repository has it, and
// returns its ID. It is safe for concurrent use; the blob is durable
// once Flush returns.
func (r *Repository) SaveBlob(ctx context.Context, typ BlobType, data []byte) (ID, error) {
	id := r.keys.blobID(data)
	return id, r.saveBlob(ctx, typ, id, data)
}

// saveBlob stores data named id.
func (r *Repository) saveBlob(ctx context.Context, typ BlobType, id ID, data []byte) error {
	if r.Has(id) {
		r.Stats.BlobsKnown.Add(1)
		return nil
	}
	sealed := r.keys.sealBlob(id, data)
	isNew, full, err := r.w.add(typ, id, sealed, len(data))
	if err != nil {
		return err
	}
	if !isNew {
		r.Stats.BlobsKnown.Add(1)
		return nil
	}
	r.Stats.BlobsNew.Add(1)
	r.Stats.BytesNew.Add(int64(len(data)))
	if full != nil {
		return r.upload(ctx, full)
	}
	return nil
}

// LoadBlob returns a blob's content, checked against its ID.
func (r *Repository) LoadBlob(ctx context.Context, id ID) ([]byte, error) {
	pack, loc, ok := r.idx.lookup(id)
	if !ok {
		return nil, fmt.Errorf("blob %s is not in the repository", id.Short())
	}
	sealed := make([]byte, loc.length)
	if err := r.store.ReadRange(ctx, packName(pack), int64(loc.offset), sealed); err != nil {
		return nil, fmt.Errorf("read blob %s: %w", id.Short(), err)
	}
	r.Stats.BlobsDownloaded.Add(1)
	r.Stats.BytesDownloaded.Add(int64(len(sealed)))
	return r.keys.openBlob(id, sealed, int(loc.raw))
}

// Flush uploads the open pack, waits for every upload and writes the
// index of what was uploaded.
func (r *Repository) Flush(ctx context.Context) error {
	if p := r.w.take(); p != nil {
		if err := r.upload(ctx, p); err != nil {
			return err
		}
	}
	r.w.uploads.Wait()
	if err := r.w.failure(); err != nil {
		return err
	}
	return r.saveIndex(ctx, true)
}

// saveIndex writes an index object for uploaded packs that have none:
// always when all is true, else once enough have gathered.
func (r *Repository) saveIndex(ctx context.Context, all bool) error {
	packs := r.w.unindexed(all)
	if len(packs) == 0 {
		return nil
	}
	if _, err := r.writeIndex(ctx, packs); err != nil {
		r.w.requeue(packs)
		return err
	}
	return nil
}

// upload sends a finished pack in the background; it waits for a free
// upload slot first, which bounds the memory of packs in flight.
func (r *Repository) upload(ctx context.Context, p *packer) error {
	select {
	case r.w.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := r.w.failure(); err != nil {
		<-r.w.slots
		return err
	}
	id, data := p.finish(r.keys)
	r.w.uploads.Add(1)
	go func() {
		defer r.w.uploads.Done()
		defer func() { <-r.w.slots }()
		if err := putRetrying(ctx, r.store, packName(id), data); err != nil {
			r.w.fail(fmt.Errorf("upload pack %s: %w", id.Short(), err))
			return
		}
		r.idx.addPack(id, p.entries)
		r.w.uploaded(packRecord{ID: id, Entries: p.entries})
		r.Stats.BytesUploaded.Add(int64(len(data)))
		r.Stats.PacksUploaded.Add(1)
		if err := r.saveIndex(ctx, false); err != nil {
			r.w.fail(err)
		}
	}()
	return nil
}

// putRetrying puts an object, retrying a failed put twice after a pause.
func putRetrying(ctx context.Context, store objstore.Store, name string, data []byte) error {
	var err error
	for attempt := range 3 {
		if attempt > 0 {
			select {
			case <-time.After(time.Duration(attempt) * time.Second):
			case <-ctx.Done():
				return errors.Join(err, ctx.Err())
			}
		}
		if err = store.Put(ctx, name, data); err == nil || ctx.Err() != nil {
			return err
		}
	}
	return err
}

// writer holds the pack being filled and the packs being uploaded.
type writer struct {
	mu      sync.Mutex
	cur     *packer
	pending map[ID]bool
	slots   chan struct{}
	uploads sync.WaitGroup
	err     error
	waiting []packRecord
}

// Uploads is how many packs are uploaded at once.
const Uploads = 4

// indexEvery is how many uploaded packs wait for an index object.
const indexEvery = 16

func (w *writer) init() {
	w.pending = map[ID]bool{}
	w.slots = make(chan struct{}, Uploads)
}

func (w *writer) isPending(id ID) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.pending[id]
}

// add puts a sealed blob into the open pack. isNew is false when the
// blob was on its way already; full is the pack it filled, if any.
func (w *writer) add(typ BlobType, id ID, sealed []byte, rawLen int) (isNew bool, full *packer, err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return false, nil, w.err
	}
	if w.pending[id] {
		return false, nil, nil
	}
	w.pending[id] = true
	if w.cur == nil {
		w.cur = newPacker()
	}
	w.cur.add(typ, id, sealed, rawLen)
	if !w.cur.full() {
		return true, nil, nil
	}
	full, w.cur = w.cur, nil
	return true, full, nil
}

// take returns the open pack, if it holds anything.
func (w *writer) take() *packer {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.cur
	w.cur = nil
	if p == nil || len(p.entries) == 0 {
		return nil
	}
	return p
}

func (w *writer) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

func (w *writer) failure() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// uploaded records a stored pack: its blobs are no longer pending (the
// index has them) and it waits for an index object.
func (w *writer) uploaded(p packRecord) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range p.Entries {
		delete(w.pending, e.ID)
	}
	w.waiting = append(w.waiting, p)
}

// unindexed takes the packs waiting for an index object: all of them, or
// none until indexEvery have gathered.
func (w *writer) unindexed(all bool) []packRecord {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.waiting) == 0 || (!all && len(w.waiting) < indexEvery) {
		return nil
	}
	out := w.waiting
	w.waiting = nil
	return out
}

// requeue puts back packs whose index object could not be written.
func (w *writer) requeue(packs []packRecord) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waiting = append(packs, w.waiting...)
}
