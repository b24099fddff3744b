package planning

import (
	"context"
	"fmt"
	"sort"
	"strings"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/migrate"
)

// checkMapping rejects a storage-class mapping with an empty source or
// destination class: it would map nothing, or map claims to no class.
func checkMapping(_ context.Context, p *ferryv1.Plan, _ migrate.Scope, _, _ *cluster.Clients, res *Result) error {
	if problems := mappingProblems(p.Spec.StorageClassMapping); len(problems) > 0 {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonInvalidSpec, Message: "storage-class mapping: " + strings.Join(problems, "; ")}
	}
	return nil
}

// mappingProblems lists what is wrong with a storage-class mapping.
func mappingProblems(m map[string]string) []string {
	var out []string
	for from, to := range m {
		switch {
		case strings.TrimSpace(from) == "":
			out = append(out, fmt.Sprintf("%q=%q has no source class: give it as OLD=NEW", from, to))
		case strings.TrimSpace(to) == "":
			out = append(out, fmt.Sprintf("%q=%q has no destination class: give it as OLD=NEW", from, to))
		}
	}
	sort.Strings(out)
	return out
}
