package cli

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/util/validation"
)

// validateName checks an object name given on the command line.
func validateName(name string) error {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("%q is not a valid name: %s", name, strings.Join(errs, "; "))
	}
	return nil
}

// isNoMatch reports whether err says the API does not know a kind (the
// CRDs are not installed yet).
func isNoMatch(err error) bool {
	return meta.IsNoMatchError(err) || strings.Contains(err.Error(), "no matches for kind")
}
