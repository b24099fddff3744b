package migrate

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/resources/discover"
	"ferry.dev/ferry/internal/resources/transform"
)

// Tally is what a migration would apply now and what it would leave out.
type Tally struct {
	// Applied counts the objects applied on the destination per kind,
	// sorted by kind, the destination namespaces included.
	Applied []ferryv1.KindCount
	// Skipped counts the objects left out per kind and reason, most first,
	// at most ferryv1.MaxSkippedCounts entries.
	Skipped []ferryv1.SkippedCount
}

// Total is the number of objects applied.
func (t *Tally) Total() int64 {
	var n int64
	for _, k := range t.Applied {
		n += int64(k.Count)
	}
	return n
}

// Tally lists every object of the inventory and decides about it as [Run]
// does (the same transforms with tc), so that what a plan says it will
// apply and skip is what a migration applies and skips. It leaves out only
// what depends on the destination's state (objects another owner holds
// there).
func (inv *Inventory) Tally(ctx context.Context, src Source, scope Scope, tc *transform.Context) (*Tally, error) {
	c := newCounter()
	c.apply(discover.KindName(discover.NamespaceResource.GroupKind()), len(scope.Namespaces))
	for _, deps := range [][]*unstructured.Unstructured{inv.Deps.CRDs, inv.Deps.ClusterRoles, inv.Deps.ClusterRoleBindings} {
		for _, obj := range deps {
			c.add(discover.KindName(obj.GroupVersionKind().GroupKind()), decide(tc, obj.DeepCopy()))
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for _, u := range inv.Units {
		g.Go(func() error {
			kind := discover.KindName(u.Resource.GroupKind())
			err := discover.List(gctx, src.Dynamic, u.Resource, u.Namespace, scope.Selector, func(obj *unstructured.Unstructured) error {
				c.add(kind, decide(tc, obj))
				return nil
			})
			if err != nil {
				return fmt.Errorf("tally objects: %w", err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return c.tally(), nil
}

// decide runs the transforms on obj, editing it in place, and returns why
// the migration leaves it out, or "" when it is applied. An object the
// transforms fail on is left out with the error as its reason.
func decide(tc *transform.Context, obj *unstructured.Unstructured) string {
	out, err := transform.Run(tc, transform.Default(), obj)
	if err != nil {
		return fmt.Sprintf("transform failed: %v", err)
	}
	return out.Reason
}

// skipKey is one entry of Tally.Skipped.
type skipKey struct{ kind, reason string }

// counter adds up decisions; it is safe for concurrent use.
type counter struct {
	mu      sync.Mutex
	applied map[string]int
	skipped map[skipKey]int
}

func newCounter() *counter {
	return &counter{applied: map[string]int{}, skipped: map[skipKey]int{}}
}

// add counts one object of kind: applied when reason is empty, else
// skipped for reason.
func (c *counter) add(kind, reason string) {
	if reason == "" {
		c.apply(kind, 1)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skipped[skipKey{kind, reason}]++
}

// apply counts n applied objects of kind.
func (c *counter) apply(kind string, n int) {
	if n == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applied[kind] += n
}

// tally returns the counts, sorted; skipped counts beyond
// ferryv1.MaxSkippedCounts are summed up in the last entry.
func (c *counter) tally() *Tally {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &Tally{}
	for k, n := range c.applied {
		t.Applied = append(t.Applied, ferryv1.KindCount{Kind: k, Count: n})
	}
	sort.Slice(t.Applied, func(i, j int) bool { return t.Applied[i].Kind < t.Applied[j].Kind })
	for k, n := range c.skipped {
		t.Skipped = append(t.Skipped, ferryv1.SkippedCount{Kind: k.kind, Reason: k.reason, Count: n})
	}
	sort.Slice(t.Skipped, func(i, j int) bool {
		a, b := t.Skipped[i], t.Skipped[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		return a.Reason < b.Reason
	})
	t.Skipped = capSkipped(t.Skipped, ferryv1.MaxSkippedCounts)
	return t
}

// capSkipped keeps the first limit-1 entries and sums up the rest in one.
func capSkipped(s []ferryv1.SkippedCount, limit int) []ferryv1.SkippedCount {
	if len(s) <= limit {
		return s
	}
	rest := ferryv1.SkippedCount{Kind: "*", Reason: "other kinds and reasons"}
	for _, e := range s[limit-1:] {
		rest.Count += e.Count
	}
	return append(s[:limit-1:limit-1], rest)
}
