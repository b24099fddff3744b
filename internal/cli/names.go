package cli

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"

	"ferry.dev/ferry/internal/ops"
)

// validateName checks an object name given on the command line.
func validateName(name string) error { return ops.ValidateName(name) }

// isNoMatch reports whether err says the API does not know a kind (the
// CRDs are not installed yet).
func isNoMatch(err error) bool {
	return meta.IsNoMatchError(err) || strings.Contains(err.Error(), "no matches for kind")
}
