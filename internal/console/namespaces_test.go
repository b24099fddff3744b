package console

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

// manyNamespaces returns n sorted namespaces: team-00000-app, ...
func manyNamespaces(n int) []namespaceInfo {
	out := make([]namespaceInfo, n)
	for i := range out {
		out[i] = namespaceInfo{Name: fmt.Sprintf("team-%05d-app", i), Phase: "Active", Claims: i % 3}
	}
	return out
}

func TestPageNamespaces(t *testing.T) {
	all := manyNamespaces(10000)
	tests := []struct {
		name                string
		search              string
		offset, limit       int
		wantTotal           int
		wantFirst, wantLast string
		wantLen             int
	}{
		{name: "first page", limit: 50, wantTotal: 10000, wantLen: 50, wantFirst: "team-00000-app", wantLast: "team-00049-app"},
		{name: "last page is short", offset: 9980, limit: 50, wantTotal: 10000, wantLen: 20, wantFirst: "team-09980-app", wantLast: "team-09999-app"},
		{name: "past the end", offset: 10000, limit: 50, wantTotal: 10000, wantLen: 0},
		{name: "substring", search: "0999", limit: 500, wantTotal: 11, wantLen: 11, wantFirst: "team-00999-app", wantLast: "team-09999-app"},
		{name: "case insensitive", search: "TEAM-0999", limit: 5, wantTotal: 10, wantLen: 5, wantFirst: "team-09990-app", wantLast: "team-09994-app"},
		{name: "second page of a search", search: "-012", offset: 50, limit: 25, wantTotal: 100, wantLen: 25, wantFirst: "team-01250-app", wantLast: "team-01274-app"},
		{name: "no match", search: "shop", limit: 50, wantTotal: 0, wantLen: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			got := pageNamespaces(all, tt.search, tt.offset, tt.limit)
			t.Logf("paged 10,000 namespaces in %s", time.Since(start))
			if got.Total != tt.wantTotal || len(got.Items) != tt.wantLen {
				t.Fatalf("total %d, %d items; want %d, %d", got.Total, len(got.Items), tt.wantTotal, tt.wantLen)
			}
			if got.Items == nil {
				t.Error("items is nil: the answer must be a JSON list")
			}
			if tt.wantLen > 0 && (got.Items[0].Name != tt.wantFirst || got.Items[len(got.Items)-1].Name != tt.wantLast) {
				t.Errorf("page %s..%s, want %s..%s", got.Items[0].Name, got.Items[len(got.Items)-1].Name, tt.wantFirst, tt.wantLast)
			}
		})
	}
}

func TestPageParams(t *testing.T) {
	tests := []struct {
		query               string
		wantOffset, wantLim int
		wantErr             bool
	}{
		{query: "", wantOffset: 0, wantLim: defaultNamespaceLimit},
		{query: "search=a&offset=100&limit=500", wantOffset: 100, wantLim: 500},
		{query: "limit=501", wantErr: true},
		{query: "limit=0", wantErr: true},
		{query: "offset=-1", wantErr: true},
		{query: "offset=x", wantErr: true},
	}
	for _, tt := range tests {
		_, off, lim, err := pageParams(httptest.NewRequest("GET", "/api/clusters/c/namespaces?"+tt.query, nil))
		if (err != nil) != tt.wantErr || (!tt.wantErr && (off != tt.wantOffset || lim != tt.wantLim)) {
			t.Errorf("%q: offset %d limit %d err %v; want %d %d err %v", tt.query, off, lim, err, tt.wantOffset, tt.wantLim, tt.wantErr)
		}
	}
}
