package migrate

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// maxSkipped caps the skipped objects listed in a report; failures are
// capped separately so that they are never crowded out.
const maxSkipped = ferryv1.MaxObjectResults / 2

// Report collects what happened to every object. It is safe for
// concurrent use.
type Report struct {
	mu       sync.Mutex
	kinds    map[string]*ferryv1.KindResults
	failed   []ferryv1.ObjectResult
	causes   []error // of failed objects, as many as failed holds
	uncaused int     // failed objects recorded without an error
	skipped  []ferryv1.ObjectResult
	done     int64
	Warnings []string
	// Terminating lists the namespaces Remove deleted that are not gone yet.
	Terminating []string
}

// NewReport returns an empty report.
func NewReport() *Report { return &Report{kinds: map[string]*ferryv1.KindResults{}} }

// Add records one object's result.
func (r *Report) Add(o ferryv1.ObjectResult) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.add(o)
	if o.Action == ferryv1.ObjectFailed {
		r.uncaused++
	}
}

// Fail records an object that failed with err, its Reason.
func (r *Report) Fail(o ferryv1.ObjectResult, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o.Action, o.Reason = ferryv1.ObjectFailed, err.Error()
	if len(r.failed) < ferryv1.MaxObjectResults {
		r.causes = append(r.causes, err)
	}
	r.add(o)
}

// Causes returns the errors the failed objects failed with (of the first
// MaxObjectResults of them), and whether every failure was recorded with
// its error: the caller may then judge, say, whether they may pass.
func (r *Report) Causes() (errs []error, complete bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error{}, r.causes...), r.uncaused == 0
}

func (r *Report) add(o ferryv1.ObjectResult) {
	r.done++
	k := r.kinds[o.Kind]
	if k == nil {
		k = &ferryv1.KindResults{Kind: o.Kind}
		r.kinds[o.Kind] = k
	}
	switch o.Action {
	case ferryv1.ObjectCreated:
		k.Created++
	case ferryv1.ObjectUpdated:
		k.Updated++
	case ferryv1.ObjectUnchanged:
		k.Unchanged++
	case ferryv1.ObjectDeleted:
		k.Deleted++
	case ferryv1.ObjectSkipped:
		k.Skipped++
		if len(r.skipped) < maxSkipped {
			r.skipped = append(r.skipped, o)
		}
	case ferryv1.ObjectFailed:
		k.Failed++
		if len(r.failed) < ferryv1.MaxObjectResults {
			r.failed = append(r.failed, o)
		}
	}
}

// Done is the number of objects recorded.
func (r *Report) Done() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.done
}

// Failed is the number of failed objects.
func (r *Report) Failed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, k := range r.kinds {
		n += k.Failed
	}
	return n
}

// Results returns the counts per kind, sorted by kind.
func (r *Report) Results() []ferryv1.KindResults {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]ferryv1.KindResults, 0, len(r.kinds))
	for _, k := range r.kinds {
		out = append(out, *k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// Objects returns the failed objects, then the skipped ones.
func (r *Report) Objects() []ferryv1.ObjectResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append(append([]ferryv1.ObjectResult{}, r.failed...), r.skipped...)
}

// Applied is the number of objects created, updated or found unchanged on
// the destination: what a plan's Tally counts as applied.
func (r *Report) Applied() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, k := range r.kinds {
		n += k.Created + k.Updated + k.Unchanged
	}
	return n
}

// Deleted is the number of objects deleted, and their counts per kind, as
// "1 Namespace, 2 PersistentVolumeClaim, 1 StatefulSet.apps" (sorted by
// kind; "" when none was).
func (r *Report) Deleted() (int, string) {
	n := 0
	var kinds []string
	for _, k := range r.Results() {
		if k.Deleted > 0 {
			n += k.Deleted
			kinds = append(kinds, fmt.Sprintf("%d %s", k.Deleted, k.Kind))
		}
	}
	return n, strings.Join(kinds, ", ")
}

// addWarning records a warning.
func (r *Report) addWarning(w string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.Warnings = append(r.Warnings, w)
}
