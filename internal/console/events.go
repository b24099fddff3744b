package console

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
)

// Informers give the watches of Ferry's kinds on the host: a
// controller-runtime cache (the controller's own, or one of the console's).
type Informers interface {
	GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error)
}

var _ Informers = cache.Cache(nil)

// syncTimeout bounds the wait for the watches' first lists: a kind the
// identity may not list never syncs, and the others still stream.
const syncTimeout = 30 * time.Second

// subscriberBuffer is how many events a slow browser may lag behind
// before its stream is closed (its EventSource reconnects and it loads
// the lists again).
const subscriberBuffer = 512

// watchedKind is a kind /api/events streams.
type watchedKind struct {
	kind, resource string
	obj            client.Object
}

// watchedKinds are Ferry's kinds on the host.
func watchedKinds() []watchedKind {
	return []watchedKind{
		{"Cluster", "clusters", &ferryv1.Cluster{}},
		{"Repository", "repositories", &ferryv1.Repository{}},
		{"Hook", "hooks", &ferryv1.Hook{}},
		{"Plan", "plans", &ferryv1.Plan{}},
		{"Migration", "migrations", &ferryv1.Migration{}},
	}
}

// newCache builds a cache of Ferry's namespace on the host, for a
// console that has no controller's cache to share.
func newCache(cfg *rest.Config, namespace string) (cache.Cache, error) {
	c, err := cache.New(cfg, cache.Options{Scheme: cluster.Scheme(), DefaultNamespaces: map[string]cache.Config{namespace: {}}})
	if err != nil {
		return nil, fmt.Errorf("console watches of the host: %w", err)
	}
	return c, nil
}

// event is one encoded server-sent event.
type event struct {
	kind string
	data []byte
}

// hub fans the watches' events out to the streams.
type hub struct {
	log  logr.Logger
	mu   sync.Mutex
	subs map[*subscriber]struct{}
}

type subscriber struct {
	ch     chan event
	closed bool
}

func newHub(log logr.Logger) *hub { return &hub{log: log, subs: map[*subscriber]struct{}{}} }

// watch registers the hub's handlers on each kind's informer and waits
// (up to syncTimeout) for their first lists.
func (h *hub) watch(ctx context.Context, inf Informers) error {
	var synced []toolscache.InformerSynced
	for _, k := range watchedKinds() {
		i, err := inf.GetInformer(ctx, k.obj, cache.BlockUntilSynced(false))
		if err != nil {
			return fmt.Errorf("watch %s on the host: %w", k.resource, err)
		}
		reg, err := i.AddEventHandler(h.handler(k.kind))
		if err != nil {
			return fmt.Errorf("watch %s on the host: %w", k.resource, err)
		}
		synced = append(synced, reg.HasSynced)
	}
	sctx, cancel := context.WithTimeout(ctx, syncTimeout)
	defer cancel()
	if !toolscache.WaitForCacheSync(sctx.Done(), synced...) {
		h.log.Info("some console watches have not synced; the kinds this identity may not list send no events")
	}
	return nil
}

// handler turns a kind's informer notifications into events.
func (h *hub) handler(kind string) toolscache.ResourceEventHandlerFuncs {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { h.publish(kind, "ADDED", obj) },
		UpdateFunc: func(_, obj any) { h.publish(kind, "MODIFIED", obj) },
		DeleteFunc: func(obj any) {
			if t, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = t.Obj
			}
			h.publish(kind, "DELETED", obj)
		},
	}
}

// publish encodes one change and queues it for every stream.
func (h *hub) publish(kind, typ string, obj any) {
	ro, ok := obj.(runtime.Object)
	if !ok {
		return
	}
	cp := ro.DeepCopyObject() // the cache's objects are shared
	cp.GetObjectKind().SetGroupVersionKind(ferryv1.GroupVersion.WithKind(kind))
	data, err := json.Marshal(struct {
		Type   string         `json:"type"`
		Object runtime.Object `json:"object"`
	}{typ, cp})
	if err != nil {
		h.log.Error(err, "cannot encode a console event", "kind", kind)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for sub := range h.subs {
		select {
		case sub.ch <- event{kind: kind, data: data}:
		default: // too far behind: end its stream, it reconnects
			h.dropLocked(sub)
		}
	}
}

func (h *hub) subscribe() *subscriber {
	sub := &subscriber{ch: make(chan event, subscriberBuffer)}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.subs[sub] = struct{}{}
	return sub
}

func (h *hub) unsubscribe(sub *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dropLocked(sub)
}

func (h *hub) dropLocked(sub *subscriber) {
	delete(h.subs, sub)
	if !sub.closed {
		sub.closed = true
		close(sub.ch)
	}
}

// listable returns the kinds the session may list, by kind.
func (s *Server) listable(ctx context.Context, ss *session) (map[string]bool, error) {
	out := map[string]bool{}
	for _, k := range watchedKinds() {
		if s.opts.Mode != ModeToken {
			out[k.kind] = true
			continue
		}
		ok, _, err := s.allowed(ctx, ss, access{verb: "list", resource: k.resource})
		if err != nil {
			return nil, err
		}
		out[k.kind] = ok
	}
	return out, nil
}

// streamEvents is GET /api/events: the watches' changes of the kinds the
// session may list, as server-sent events, with a comment line every
// KeepAlive. What the session may list is asked again at each comment.
func (s *Server) streamEvents(c *call) error {
	ctx := c.ctx()
	kinds, err := s.listable(ctx, c.ss)
	if err != nil {
		return err
	}
	if !anyTrue(kinds) {
		return &httpError{code: http.StatusForbidden, err: fmt.Errorf("%s may list none of Ferry's kinds (clusters, repositories, hooks, plans, migrations) in namespace %s",
			c.ss.user.Username, s.opts.Namespace)}
	}
	rc := http.NewResponseController(c.w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := c.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	c.w.WriteHeader(http.StatusOK)
	sub := s.events.subscribe()
	defer s.events.unsubscribe(sub)
	if err := writeFlush(c.w, rc, "retry: 3000\n: connected\n\n"); err != nil {
		return nil
	}
	tick := time.NewTicker(s.opts.KeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-sub.ch:
			if !ok {
				return nil
			}
			if !kinds[ev.kind] {
				continue
			}
			if err := writeFlush(c.w, rc, "event: "+ev.kind+"\ndata: "+string(ev.data)+"\n\n"); err != nil {
				return nil
			}
		case <-tick.C:
			if err := writeFlush(c.w, rc, ": keep-alive\n\n"); err != nil {
				return nil
			}
			if k, err := s.listable(ctx, c.ss); err == nil {
				kinds = k
			}
		}
	}
}

func writeFlush(w http.ResponseWriter, rc *http.ResponseController, s string) error {
	if _, err := w.Write([]byte(s)); err != nil {
		return err
	}
	if err := rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

func anyTrue(m map[string]bool) bool {
	for _, v := range m {
		if v {
			return true
		}
	}
	return false
}
