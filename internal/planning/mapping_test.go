package planning

import (
	"strings"
	"testing"
)

func TestMappingProblems(t *testing.T) {
	tests := []struct {
		name    string
		mapping map[string]string
		want    []string // substrings, one per problem
	}{
		{"none", nil, nil},
		{"valid", map[string]string{"standard": "fast", "slow": "standard"}, nil},
		{"empty source", map[string]string{"": "fast"}, []string{`""="fast" has no source class`}},
		{"blank source", map[string]string{" ": "fast"}, []string{"has no source class"}},
		{"empty destination", map[string]string{"standard": ""}, []string{`"standard"="" has no destination class`}},
		{"both", map[string]string{"": "fast", "a": ""}, []string{"no source class", "no destination class"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mappingProblems(tt.mapping)
			if len(got) != len(tt.want) {
				t.Fatalf("mappingProblems = %q, want %d like %q", got, len(tt.want), tt.want)
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %d = %q, want %q in it", i, got[i], tt.want[i])
				}
			}
		})
	}
}
