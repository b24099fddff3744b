package repository

import (
	"context"
	"fmt"
	"time"
)

// PruneResult counts what a prune did.
type PruneResult struct {
	// Snapshots are the snapshots kept; BlobsUsed the blobs they use.
	Snapshots, BlobsUsed int
	// PacksDeleted held only unused blobs; PacksRepacked held some used
	// ones, which were copied into new packs; PacksKept were all used.
	PacksDeleted, PacksRepacked, PacksKept int
	// BytesFreed is the size of the packs removed less the new ones.
	BytesFreed int64
}

// Prune removes every blob no snapshot uses: packs holding only such
// blobs are deleted, packs holding some are rewritten with the used ones.
// It takes the exclusive lock, so it fails (ErrLocked) while backups or
// restores run, and they fail while it runs. A prune that stops midway
// leaves a repository that works: new packs and the new index are
// written before anything is deleted.
func (r *Repository) Prune(ctx context.Context) (PruneResult, error) {
	var res PruneResult
	l, err := r.lock(ctx, true)
	if err != nil {
		return res, err
	}
	defer func() { _ = l.release(ctx) }()
	// Reload under the lock: what a backup wrote before it counts.
	if err := r.reload(ctx); err != nil {
		return res, err
	}
	snaps, err := r.Snapshots(ctx, nil)
	if err != nil {
		return res, err
	}
	used := map[ID]bool{}
	for _, s := range snaps {
		if err := r.mark(ctx, s.Tree, used); err != nil {
			return res, fmt.Errorf("snapshot %s: %w", s.ID.Short(), err)
		}
	}
	res.Snapshots, res.BlobsUsed = len(snaps), len(used)
	packs, err := r.allPacks(ctx)
	if err != nil {
		return res, err
	}
	var keep []packRecord
	var drop []ID
	sizes := map[ID]int64{}
	for _, p := range packs {
		n := 0
		for _, e := range p.Entries {
			if used[e.ID] {
				n++
			}
		}
		switch {
		case n == len(p.Entries):
			keep = append(keep, p)
			res.PacksKept++
		case n == 0:
			drop = append(drop, p.ID)
			res.PacksDeleted++
		default:
			if err := r.repack(ctx, p, used); err != nil {
				return res, err
			}
			drop = append(drop, p.ID)
			res.PacksRepacked++
		}
		sizes[p.ID] = packSize(p)
	}
	// The new packs get their own index object from Flush.
	uploaded := r.Stats.BytesUploaded.Load()
	if err := r.Flush(ctx); err != nil {
		return res, err
	}
	written, err := r.writeIndex(ctx, keep)
	if err != nil {
		return res, err
	}
	for _, name := range r.indexObjects {
		if err := r.store.Delete(ctx, name); err != nil {
			return res, fmt.Errorf("delete old index: %w", err)
		}
	}
	for _, id := range drop {
		if err := r.store.Delete(ctx, packName(id)); err != nil {
			return res, fmt.Errorf("delete pack %s: %w", id.Short(), err)
		}
		res.BytesFreed += sizes[id]
	}
	res.BytesFreed -= r.Stats.BytesUploaded.Load() - uploaded
	r.indexObjects = written
	r.removeStaleLocks(ctx)
	return res, nil
}

// packSize estimates a pack's size from its entries.
func packSize(p packRecord) int64 {
	var n int64
	for _, e := range p.Entries {
		n += int64(e.Length)
	}
	return n
}

// mark adds the blobs of the trees ids, and of everything below them, to
// used.
func (r *Repository) mark(ctx context.Context, ids []ID, used map[ID]bool) error {
	var fresh []ID
	for _, id := range ids {
		if !used[id] {
			used[id] = true
			fresh = append(fresh, id)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	nodes, err := r.LoadTree(ctx, fresh)
	if err != nil {
		return err
	}
	for i := range nodes {
		for _, s := range nodes[i].Content {
			used[s.Blob] = true
		}
		if err := r.mark(ctx, nodes[i].Subtree, used); err != nil {
			return err
		}
	}
	return nil
}

// allPacks lists every pack with all its entries: from the index objects
// and from the packs found without one.
func (r *Repository) allPacks(ctx context.Context) ([]packRecord, error) {
	seen := map[ID]bool{}
	var out []packRecord
	for _, name := range r.indexObjects {
		b, err := r.store.Get(ctx, name)
		if err != nil {
			return nil, fmt.Errorf("read index: %w", err)
		}
		packs, err := decodeIndex(r.keys, b)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", name, err)
		}
		for _, p := range packs {
			if !seen[p.ID] {
				seen[p.ID] = true
				out = append(out, p)
			}
		}
	}
	for _, p := range r.recovered {
		if !seen[p.ID] {
			seen[p.ID] = true
			out = append(out, p)
		}
	}
	return out, nil
}

// repack copies the used blobs of pack p into new packs.
func (r *Repository) repack(ctx context.Context, p packRecord, used map[ID]bool) error {
	data, err := r.store.Get(ctx, packName(p.ID))
	if err != nil {
		return fmt.Errorf("read pack %s: %w", p.ID.Short(), err)
	}
	for _, e := range p.Entries {
		if !used[e.ID] || r.w.isPending(e.ID) {
			continue
		}
		end := int64(e.Offset) + int64(e.Length)
		if end > int64(len(data)) {
			return fmt.Errorf("pack %s: %w: blob beyond its end", p.ID.Short(), ErrTampered)
		}
		_, full, err := r.w.add(e.Type, e.ID, data[e.Offset:end], int(e.RawLength))
		if err != nil {
			return err
		}
		if full != nil {
			if err := r.upload(ctx, full); err != nil {
				return err
			}
		}
	}
	return nil
}

// reload reads the index again.
func (r *Repository) reload(ctx context.Context) error {
	r.idx = newIndex()
	r.recovered = nil
	return r.loadIndex(ctx)
}

// removeStaleLocks deletes locks whose holders are gone.
func (r *Repository) removeStaleLocks(ctx context.Context) {
	others, err := r.locks(ctx)
	if err != nil {
		return
	}
	for name, o := range others {
		if time.Since(o.Time) > lockStale {
			_ = r.store.Delete(ctx, name)
		}
	}
}
