package console

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/internal/cluster"
)

// Paging of GET /api/clusters/{name}/namespaces.
const (
	defaultNamespaceLimit = 50
	maxNamespaceLimit     = 500
	// namespaceTTL is how long a cluster's namespace list is reused: a
	// search typed letter by letter lists the cluster once.
	namespaceTTL = 15 * time.Second
	// listChunk is the page size of the list calls to the cluster.
	listChunk = 500
)

// namespaceInfo is one namespace of the answer.
type namespaceInfo struct {
	Name string `json:"name"`
	// Phase is Active or Terminating.
	Phase corev1.NamespacePhase `json:"phase"`
	// Claims counts its PersistentVolumeClaims.
	Claims int `json:"claims"`
}

// namespacePage is the answer: one page of the matching namespaces and
// how many match.
type namespacePage struct {
	Items []namespaceInfo `json:"items"`
	Total int             `json:"total"`
	// Forbidden says why the cluster's namespaces could not be listed
	// (a namespace admin's own token): the page then holds only the
	// namespace that search names exactly, when it exists and may be
	// read.
	Forbidden string `json:"forbidden,omitempty"`
}

// pageNamespaces returns the page [offset, offset+limit) of the
// namespaces of all (sorted by name) whose name holds search (case
// insensitive), and how many do.
func pageNamespaces(all []namespaceInfo, search string, offset, limit int) namespacePage {
	search = strings.ToLower(search)
	matched := all
	if search != "" {
		matched = make([]namespaceInfo, 0, 64)
		for _, ns := range all {
			if strings.Contains(strings.ToLower(ns.Name), search) {
				matched = append(matched, ns)
			}
		}
	}
	page := namespacePage{Items: []namespaceInfo{}, Total: len(matched)}
	if offset >= len(matched) {
		return page
	}
	end := min(offset+limit, len(matched))
	page.Items = append(page.Items, matched[offset:end]...)
	return page
}

// pageParams reads search, offset and limit of the query.
func pageParams(r *http.Request) (search string, offset, limit int, err error) {
	q := r.URL.Query()
	offset, limit = 0, defaultNamespaceLimit
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			return "", 0, 0, fmt.Errorf("offset %q: give a whole number from 0", v)
		}
	}
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > maxNamespaceLimit {
			return "", 0, 0, fmt.Errorf("limit %q: give a whole number from 1 to %d", v, maxNamespaceLimit)
		}
	}
	return q.Get("search"), offset, limit, nil
}

// namespaceCache keeps each cluster's sorted namespace list for
// namespaceTTL.
type namespaceCache struct {
	now func() time.Time
	mu  sync.Mutex
	m   map[string]*namespaceEntry
}

type namespaceEntry struct {
	mu      sync.Mutex // one list of the cluster at a time
	fetched time.Time
	items   []namespaceInfo
}

func newNamespaceCache(now func() time.Time) *namespaceCache {
	return &namespaceCache{now: now, m: map[string]*namespaceEntry{}}
}

// get returns the cluster's namespaces, listing them when the cached
// list is older than namespaceTTL.
func (c *namespaceCache) get(ctx context.Context, key string, fetch func(context.Context) ([]namespaceInfo, error)) ([]namespaceInfo, error) {
	c.mu.Lock()
	e := c.m[key]
	if e == nil {
		e = &namespaceEntry{}
		c.m[key] = e
	}
	c.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.items != nil && c.now().Sub(e.fetched) < namespaceTTL {
		return e.items, nil
	}
	items, err := fetch(ctx)
	if err != nil {
		return nil, err
	}
	e.items, e.fetched = items, c.now()
	return items, nil
}

// listNamespaces lists a cluster's namespaces and counts their claims,
// in chunks of listChunk, sorted by name.
func listNamespaces(ctx context.Context, cl *cluster.Clients) ([]namespaceInfo, error) {
	var out []namespaceInfo
	opts := metav1.ListOptions{Limit: listChunk}
	for {
		l, err := cl.Kube.CoreV1().Namespaces().List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list namespaces of cluster %s: %w", cl.Name, err)
		}
		for _, ns := range l.Items {
			out = append(out, namespaceInfo{Name: ns.Name, Phase: ns.Status.Phase})
		}
		if opts.Continue = l.Continue; opts.Continue == "" {
			break
		}
	}
	claims, err := countClaims(ctx, cl)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Claims = claims[out[i].Name]
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// countClaims counts the cluster's claims by namespace, reading only
// their metadata.
func countClaims(ctx context.Context, cl *cluster.Clients) (map[string]int, error) {
	counts := map[string]int{}
	res := corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims")
	opts := metav1.ListOptions{Limit: listChunk}
	for {
		l, err := cl.Metadata.Resource(res).List(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("list claims of cluster %s: %w", cl.Name, err)
		}
		for _, pvc := range l.Items {
			counts[pvc.Namespace]++
		}
		if opts.Continue = l.Continue; opts.Continue == "" {
			return counts, nil
		}
	}
}

// clusterNamespaces is GET /api/clusters/{name}/namespaces: read with
// Ferry's own credentials of the cluster (its reader role).
func (s *Server) clusterNamespaces(c *call) error {
	search, offset, limit, err := pageParams(c.r)
	if err != nil {
		return badRequest(err)
	}
	cl, err := s.ops.GetCluster(c.ctx(), c.r.PathValue("name"))
	if err != nil {
		return err
	}
	clients, err := s.registry.Clients(c.ctx(), cl)
	if err != nil {
		return withStatus(http.StatusConflict, fmt.Errorf("cluster %s cannot be reached with Ferry's token (register it again with `ferry cluster add`): %w", cl.Name, err))
	}
	all, err := s.nsCache.get(c.ctx(), fmt.Sprintf("%s/%s/%d", cl.Namespace, cl.Name, cl.Generation), func(ctx context.Context) ([]namespaceInfo, error) {
		return listNamespaces(ctx, clients)
	})
	if apierrors.IsForbidden(err) {
		page, err := namedNamespace(c.ctx(), clients, strings.TrimSpace(search))
		if err != nil {
			return err
		}
		writeJSON(c.w, http.StatusOK, page)
		return nil
	}
	if err != nil {
		return err
	}
	writeJSON(c.w, http.StatusOK, pageNamespaces(all, search, offset, limit))
	return nil
}

// namedNamespace is the answer for a token that may not list the
// cluster's namespaces: the one named name, found by a get (which a
// namespace admin may do for their own), with its claims.
func namedNamespace(ctx context.Context, cl *cluster.Clients, name string) (namespacePage, error) {
	page := namespacePage{Items: []namespaceInfo{}, Forbidden: fmt.Sprintf(
		"Ferry's token of cluster %s may not list its namespaces (a namespace admin's own): type the exact name of a namespace of yours", cl.Name)}
	if name == "" {
		return page, nil
	}
	ns, err := cl.Kube.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err) || apierrors.IsForbidden(err):
		return page, nil
	case err != nil:
		return page, fmt.Errorf("get namespace %s of cluster %s: %w", name, cl.Name, err)
	}
	info := namespaceInfo{Name: ns.Name, Phase: ns.Status.Phase}
	res := corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims")
	claims, err := cl.Metadata.Resource(res).Namespace(name).List(ctx, metav1.ListOptions{})
	if err != nil && !apierrors.IsForbidden(err) {
		return page, fmt.Errorf("list claims of namespace %s of cluster %s: %w", name, cl.Name, err)
	}
	if claims != nil {
		info.Claims = len(claims.Items)
	}
	page.Items, page.Total = append(page.Items, info), 1
	return page, nil
}
