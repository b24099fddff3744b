package migrate

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseNamespaces(t *testing.T) {
	tests := []struct {
		in      []string
		want    []NamespaceMapping
		wantErr string
	}{
		{in: []string{"shop"}, want: []NamespaceMapping{{"shop", "shop"}}},
		{in: []string{"shop:shop-moved", "db"}, want: []NamespaceMapping{{"shop", "shop-moved"}, {"db", "db"}}},
		{in: nil, wantErr: "no namespaces"},
		{in: []string{"Shop"}, wantErr: "not a valid name"},
		{in: []string{"shop:"}, wantErr: "not a valid name"},
		{in: []string{"a", "a:b"}, wantErr: "listed twice"},
		{in: []string{"a:c", "b:c"}, wantErr: "mapped to \"c\""},
	}
	for _, tt := range tests {
		got, err := ParseNamespaces(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("ParseNamespaces(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseNamespaces(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}
