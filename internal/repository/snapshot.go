package repository

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"ferry.dev/ferry/internal/mover/wire"
)

// Snapshot is one backup of a directory tree.
type Snapshot struct {
	// ID names the snapshot; set when it is saved or loaded.
	ID ID `json:"-"`
	// Time is when the backup started.
	Time time.Time `json:"time"`
	// Host names who made it (the mover pod).
	Host string `json:"host,omitempty"`
	// Tags say what it is a snapshot of (plan, claim, migration).
	Tags map[string]string `json:"tags,omitempty"`
	// Parent is the snapshot whose unchanged files this one reused.
	Parent string `json:"parent,omitempty"`
	// Root is the metadata of the tree's root; Tree its tree blobs.
	Root wire.Meta `json:"root"`
	Tree []ID      `json:"tree"`
	// Summary counts what the backup found and did.
	Summary Summary `json:"summary"`
}

// Summary counts a backup.
type Summary struct {
	Files, Dirs, Bytes int64
	// BytesRead were read from files (the rest was reused unchanged from
	// the parent); BytesNew were new to the repository; BytesUploaded
	// were sent, packed, compressed and sealed.
	BytesRead, BytesNew, BytesUploaded int64
	// Warnings counts entries that changed or vanished while read.
	Warnings int64
	Duration time.Duration
}

// Matches reports whether the snapshot carries every tag in tags.
func (s *Snapshot) Matches(tags map[string]string) bool {
	for k, v := range tags {
		if s.Tags[k] != v {
			return false
		}
	}
	return true
}

// snapshotAAD binds a snapshot object to its name.
func snapshotAAD(id ID) []byte { return []byte("ferry snapshot " + id.String()) }

// saveSnapshot writes the snapshot object, the last write of a backup.
func (r *Repository) saveSnapshot(ctx context.Context, s *Snapshot) error {
	s.ID = randomID()
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	if err := r.store.Put(ctx, snapshotPrefix+s.ID.String(), r.keys.seal(nil, b, snapshotAAD(s.ID))); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return nil
}

// LoadSnapshot reads one snapshot.
func (r *Repository) LoadSnapshot(ctx context.Context, id ID) (*Snapshot, error) {
	b, err := r.store.Get(ctx, snapshotPrefix+id.String())
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", id.Short(), err)
	}
	plain, err := r.keys.open(nil, b, snapshotAAD(id))
	if err != nil {
		return nil, fmt.Errorf("snapshot %s: %w", id.Short(), err)
	}
	s := &Snapshot{}
	if err := json.Unmarshal(plain, s); err != nil {
		return nil, fmt.Errorf("snapshot %s: %w: %w", id.Short(), ErrTampered, err)
	}
	s.ID = id
	return s, nil
}

// Snapshots returns the snapshots carrying every tag in tags (all when
// tags is empty), oldest first.
func (r *Repository) Snapshots(ctx context.Context, tags map[string]string) ([]*Snapshot, error) {
	objs, err := r.store.List(ctx, snapshotPrefix)
	if err != nil {
		return nil, fmt.Errorf("list snapshots: %w", err)
	}
	all := make([]*Snapshot, len(objs))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, o := range objs {
		id, err := ParseID(strings.TrimPrefix(o.Name, snapshotPrefix))
		if err != nil {
			continue
		}
		g.Go(func() error {
			s, err := r.LoadSnapshot(gctx, id)
			if err != nil {
				return err
			}
			all[i] = s
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []*Snapshot
	for _, s := range all {
		if s != nil && s.Matches(tags) {
			out = append(out, s)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time.Before(out[j].Time) })
	return out, nil
}

// ErrNoSnapshot is wrapped by Latest's error when no snapshot matches.
var ErrNoSnapshot = errors.New("no snapshot")

// Latest returns the newest snapshot carrying tags.
func (r *Repository) Latest(ctx context.Context, tags map[string]string) (*Snapshot, error) {
	all, err := r.Snapshots(ctx, tags)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("%w with tags %v in %s", ErrNoSnapshot, tags, r.store)
	}
	return all[len(all)-1], nil
}

// DeleteSnapshot removes a snapshot object; prune then removes what only
// it used.
func (r *Repository) DeleteSnapshot(ctx context.Context, id ID) error {
	if err := r.store.Delete(ctx, snapshotPrefix+id.String()); err != nil {
		return fmt.Errorf("delete snapshot %s: %w", id.Short(), err)
	}
	return nil
}

// Forget deletes the snapshots carrying every tag in tags (at least
// one tag) and returns how many; prune then removes what only they used.
func (r *Repository) Forget(ctx context.Context, tags map[string]string) (int, error) {
	if len(tags) == 0 {
		return 0, errors.New("forget snapshots: give at least one tag")
	}
	snaps, err := r.Snapshots(ctx, tags)
	if err != nil {
		return 0, err
	}
	for _, s := range snaps {
		if err := r.DeleteSnapshot(ctx, s.ID); err != nil {
			return 0, err
		}
	}
	return len(snaps), nil
}
