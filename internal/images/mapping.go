package images

import (
	"strings"
)

// Mapping maps the source registry's images to the destination's.
type Mapping struct {
	// SourceHosts are the HOST[:PORT] prefixes under which the source's
	// workloads reference its registry (its address and internal address).
	SourceHosts []string
	// SourceAddress is where the copy reads the source registry.
	SourceAddress string
	// DestinationAddress is where the copy writes the destination registry.
	DestinationAddress string
	// DestinationInternal is how the destination's pods reference its
	// registry; empty means DestinationAddress.
	DestinationInternal string
	// Namespaces maps source namespaces to destination namespaces; a
	// repository path whose first component is a mapped namespace is
	// renamed with it.
	Namespaces map[string]string
}

// Internal parses ref and reports whether it names the source registry.
// A reference that does not parse is not internal.
func (m *Mapping) Internal(ref string) (Ref, bool) {
	if m == nil {
		return Ref{}, false
	}
	r, err := Parse(ref)
	if err != nil || r.Registry == "" {
		return Ref{}, false
	}
	for _, h := range m.SourceHosts {
		if h != "" && strings.EqualFold(h, r.Registry) {
			return r, true
		}
	}
	return Ref{}, false
}

// path renames the first path component when it is a renamed namespace.
func (m *Mapping) path(p string) string {
	first, rest, ok := strings.Cut(p, "/")
	if !ok {
		return p
	}
	if to, found := m.Namespaces[first]; found && to != "" {
		return to + "/" + rest
	}
	return p
}

// Rewrite returns ref as the migrated workloads reference it, and whether
// it is internal (only internal references change).
func (m *Mapping) Rewrite(ref string) (string, bool) {
	r, ok := m.Internal(ref)
	if !ok {
		return ref, false
	}
	r.Registry = m.DestinationInternal
	if r.Registry == "" {
		r.Registry = m.DestinationAddress
	}
	r.Path = m.path(r.Path)
	return r.String(), true
}

// Copy is one image to copy: where it is read and where it is written.
type Copy struct {
	// Image is the reference as the source's workloads use it.
	Image string
	// Destination is the reference as the destination's workloads use it.
	Destination string
	// From and To are the references the copy reads and writes.
	From, To Ref
}

// Copies returns the copies of the internal references among refs, one
// per distinct reference, in the order given.
func (m *Mapping) Copies(refs []string) []Copy {
	var out []Copy
	seen := map[string]bool{}
	for _, ref := range refs {
		r, ok := m.Internal(ref)
		if !ok || seen[ref] {
			continue
		}
		seen[ref] = true
		from, to := r, r
		from.Registry = m.SourceAddress
		to.Registry, to.Path = m.DestinationAddress, m.path(r.Path)
		dst, _ := m.Rewrite(ref)
		out = append(out, Copy{Image: ref, Destination: dst, From: from, To: to})
	}
	return out
}
