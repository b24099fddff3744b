package repository

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// ErrLocked is wrapped by the error of an operation that another one's
// lock keeps from running (a prune while backups run, or the reverse).
var ErrLocked = errors.New("the repository is locked")

// Lock timing: a holder rewrites its lock every lockRefresh; a lock not
// rewritten for lockStale belongs to a process that is gone.
const (
	lockRefresh = 2 * time.Minute
	lockStale   = 10 * time.Minute
)

var lockAAD = []byte("ferry lock v1")

// lockRecord is the content of a lock object.
type lockRecord struct {
	Time      time.Time `json:"time"`
	Exclusive bool      `json:"exclusive"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
}

// lock is a held lock.
type lock struct {
	r    *Repository
	name string
	rec  lockRecord
	stop chan struct{}
	wg   sync.WaitGroup
}

// lock takes a shared lock (backups, restores: many at once) or an
// exclusive one (prune: alone). It writes its own lock first and then
// looks at the others, so two processes racing both see each other.
func (r *Repository) lock(ctx context.Context, exclusive bool) (*lock, error) {
	host, _ := os.Hostname()
	l := &lock{r: r, name: lockPrefix + randomID().String(), rec: lockRecord{Time: time.Now(), Exclusive: exclusive, Host: host, PID: os.Getpid()}, stop: make(chan struct{})}
	if err := l.write(ctx); err != nil {
		return nil, err
	}
	if err := l.check(ctx); err != nil {
		_ = r.store.Delete(context.WithoutCancel(ctx), l.name)
		return nil, err
	}
	l.wg.Add(1)
	go l.refresh(ctx)
	return l, nil
}

func (l *lock) write(ctx context.Context) error {
	b, err := json.Marshal(l.rec)
	if err != nil {
		return fmt.Errorf("encode lock: %w", err)
	}
	if err := l.r.store.Put(ctx, l.name, l.r.keys.seal(nil, b, lockAAD)); err != nil {
		return fmt.Errorf("write lock: %w", err)
	}
	return nil
}

// check fails when a live lock of another process conflicts.
func (l *lock) check(ctx context.Context) error {
	others, err := l.r.locks(ctx)
	if err != nil {
		return err
	}
	for name, o := range others {
		if name == l.name || time.Since(o.Time) > lockStale {
			continue
		}
		if l.rec.Exclusive || o.Exclusive {
			what := "a backup or restore"
			if o.Exclusive {
				what = "a prune"
			}
			return fmt.Errorf("%w: %s runs (%s, pid %d, since %s); try again when it has ended", ErrLocked, what, o.Host, o.PID, o.Time.Format(time.RFC3339))
		}
	}
	return nil
}

// refresh rewrites the lock until release.
func (l *lock) refresh(ctx context.Context) {
	defer l.wg.Done()
	t := time.NewTicker(lockRefresh)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			l.rec.Time = time.Now()
			_ = l.write(ctx)
		}
	}
}

// release removes the lock.
func (l *lock) release(ctx context.Context) error {
	close(l.stop)
	l.wg.Wait()
	return l.r.store.Delete(context.WithoutCancel(ctx), l.name)
}

// locks reads every lock object; ones that do not open are left out.
func (r *Repository) locks(ctx context.Context) (map[string]lockRecord, error) {
	objs, err := r.store.List(ctx, lockPrefix)
	if err != nil {
		return nil, fmt.Errorf("list locks: %w", err)
	}
	out := map[string]lockRecord{}
	for _, o := range objs {
		b, err := r.store.Get(ctx, o.Name)
		if err != nil {
			continue // released meanwhile
		}
		plain, err := r.keys.open(nil, b, lockAAD)
		if err != nil {
			continue
		}
		var rec lockRecord
		if json.Unmarshal(plain, &rec) == nil && strings.HasPrefix(o.Name, lockPrefix) {
			out[o.Name] = rec
		}
	}
	return out, nil
}
