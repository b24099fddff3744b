package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// podTimes is when a poll first saw a mover pod, its container running
// and its container terminated (this machine's clock, so that they
// compare with the Migration's times).
type podTimes struct {
	cluster, name           string
	created, running, ended time.Time
}

// podWatch records the mover pods of a namespace on several clusters.
type podWatch struct {
	mu   sync.Mutex
	pods map[string]*podTimes
}

// watchMovers lists the pods named ferry-mover-* in ns on each cluster
// every 100 ms until ctx ends (a poll: watches did not start reliably on
// the test bed's API servers).
func watchMovers(ctx context.Context, ns string, clusters map[string]kubernetes.Interface) *podWatch {
	w := &podWatch{pods: map[string]*podTimes{}}
	for name, cs := range clusters {
		go func() {
			for ctx.Err() == nil {
				l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
				now := time.Now()
				if err == nil {
					for i := range l.Items {
						if p := &l.Items[i]; strings.HasPrefix(p.Name, "ferry-mover-") {
							w.saw(name, p, now)
						}
					}
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	return w
}

func (w *podWatch) saw(cluster string, p *corev1.Pod, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	key := cluster + "/" + p.Name
	t := w.pods[key]
	if t == nil {
		t = &podTimes{cluster: cluster, name: p.Name, created: now}
		w.pods[key] = t
	}
	for _, c := range p.Status.ContainerStatuses {
		if c.State.Running != nil && t.running.IsZero() {
			t.running = now
		}
		if c.State.Terminated != nil && t.ended.IsZero() {
			t.ended = now
		}
	}
}

// relative lists the pods seen, with their times relative to start.
func (w *podWatch) relative(start time.Time) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var ps []*podTimes
	for _, t := range w.pods {
		ps = append(ps, t)
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].created.Before(ps[j].created) })
	rel := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return fmt.Sprintf("%+.2f s", t.Sub(start).Seconds())
	}
	var out []string
	for _, t := range ps {
		out = append(out, fmt.Sprintf("| %s %s | %s | %s | %s |", t.cluster, t.name, rel(t.created), rel(t.running), rel(t.ended)))
	}
	return out
}
