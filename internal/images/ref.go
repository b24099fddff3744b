package images

import (
	"fmt"
	"regexp"
	"strings"
)

// Ref is an image reference split into its parts, as written: an image
// of Docker Hub written "nginx" has an empty Registry and Path "nginx".
type Ref struct {
	// Registry is HOST[:PORT], empty when the reference names none.
	Registry string
	// Path is the repository path within the registry.
	Path string
	// Tag is empty when the reference has none (or only a digest).
	Tag string
	// Digest is "algorithm:hex", empty for a tag reference.
	Digest string
}

var (
	pathRE   = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)
	tagRE    = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)
	digestRE = regexp.MustCompile(`^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$`)
	hostRE   = regexp.MustCompile(`^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?$|^\[[0-9a-fA-F:]+\](?::[0-9]+)?$`)
)

// Parse splits an image reference. The first path component is the
// registry when it has a dot or a port or is "localhost" (the rule of
// container runtimes); otherwise the image is on Docker Hub.
func Parse(s string) (Ref, error) {
	var r Ref
	rest := s
	if i := strings.Index(rest, "@"); i >= 0 {
		r.Digest, rest = rest[i+1:], rest[:i]
		if !digestRE.MatchString(r.Digest) {
			return Ref{}, fmt.Errorf("image %q: digest %q is not sha256:<64 hex> (or sha512)", s, r.Digest)
		}
	}
	if i := strings.LastIndex(rest, ":"); i >= 0 && !strings.Contains(rest[i+1:], "/") {
		r.Tag, rest = rest[i+1:], rest[:i]
		if !tagRE.MatchString(r.Tag) {
			return Ref{}, fmt.Errorf("image %q: tag %q is not valid", s, r.Tag)
		}
	}
	if i := strings.Index(rest, "/"); i >= 0 {
		first := rest[:i]
		if strings.ContainsAny(first, ".:[") || first == "localhost" {
			r.Registry, rest = first, rest[i+1:]
			if !hostRE.MatchString(r.Registry) {
				return Ref{}, fmt.Errorf("image %q: registry %q is not HOST[:PORT]", s, r.Registry)
			}
		}
	}
	r.Path = rest
	if !pathRE.MatchString(r.Path) {
		return Ref{}, fmt.Errorf("image %q: repository %q is not a valid path (lower-case components separated by /)", s, r.Path)
	}
	return r, nil
}

// String writes the reference back in the form Parse reads.
func (r Ref) String() string {
	s := r.Path
	if r.Registry != "" {
		s = r.Registry + "/" + s
	}
	if r.Tag != "" {
		s += ":" + r.Tag
	}
	if r.Digest != "" {
		s += "@" + r.Digest
	}
	return s
}

// Canonical is the reference with Docker Hub's implicit parts written
// out: registry docker.io, "library/" for single-component paths, tag
// "latest" when neither tag nor digest is given.
func (r Ref) Canonical() Ref {
	if r.Registry == "" || r.Registry == "index.docker.io" {
		r.Registry = "docker.io"
	}
	if r.Registry == "docker.io" && !strings.Contains(r.Path, "/") {
		r.Path = "library/" + r.Path
	}
	if r.Tag == "" && r.Digest == "" {
		r.Tag = "latest"
	}
	return r
}

// Repository is REGISTRY/PATH of the canonical reference.
func (r Ref) Repository() string {
	c := r.Canonical()
	return c.Registry + "/" + c.Path
}
