// Package migrate runs the resource part of a migration: it takes the
// inventory of the source namespaces, transforms every object for the
// destination and applies them there in dependency order, page by page so
// that memory stays bounded; it also removes what a plan created (for
// rollback and cancel) and judges the health of the migrated workloads.
package migrate

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// NamespaceMapping pairs a source namespace with its destination name.
type NamespaceMapping struct {
	Source, Destination string
}

// ParseNamespaces parses a plan's namespaces, each "name" or
// "source:destination", and rejects invalid names, duplicates and two
// sources mapped to one destination.
func ParseNamespaces(specs []string) ([]NamespaceMapping, error) {
	if len(specs) == 0 {
		return nil, fmt.Errorf("no namespaces: name at least one, as NAME or SOURCE:DESTINATION")
	}
	var out []NamespaceMapping
	srcSeen, dstSeen := map[string]bool{}, map[string]bool{}
	for _, s := range specs {
		src, dst, renamed := strings.Cut(s, ":")
		if !renamed {
			dst = src
		}
		for _, n := range []string{src, dst} {
			if errs := validation.IsDNS1123Label(n); len(errs) > 0 {
				return nil, fmt.Errorf("namespace %q in %q is not a valid name: %s", n, s, strings.Join(errs, "; "))
			}
		}
		if srcSeen[src] {
			return nil, fmt.Errorf("namespace %q is listed twice", src)
		}
		if dstSeen[dst] {
			return nil, fmt.Errorf("two namespaces are mapped to %q on the destination", dst)
		}
		srcSeen[src], dstSeen[dst] = true, true
		out = append(out, NamespaceMapping{Source: src, Destination: dst})
	}
	return out, nil
}

// Map returns the source-to-destination map of the mappings.
func Map(ms []NamespaceMapping) map[string]string {
	m := map[string]string{}
	for _, x := range ms {
		m[x.Source] = x.Destination
	}
	return m
}
