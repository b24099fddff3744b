package moverpod

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"ferry.dev/ferry/internal/volumes"
)

// NamePrefix starts the name of every mover object.
const NamePrefix = "ferry-mover-"

// shortHash is 10 hex digits of the SHA-256 of parts, NUL-separated so
// that ("ab","c") and ("a","bc") differ.
func shortHash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])[:10]
}

// TransferName is the stem of the names of a transfer's objects (for the
// direct path also its Service's name): ferry-mover-<hash of the
// migration and both claims>, 22 characters, a valid DNS-1123 label.
func TransferName(migration string, t volumes.Transfer) string {
	return NamePrefix + shortHash(migration, t.SourceNamespace, t.SourceClaim, t.DestinationNamespace, t.DestinationClaim)
}

// PodLabels are the labels of a transfer's pod of the given role.
func PodLabels(migration string, t volumes.Transfer, role string) map[string]string {
	l := CommonLabels(migration)
	l[LabelTransfer] = TransferName(migration, t)
	l[LabelRole] = role
	return l
}

// MigrationName is the name of an object a migration's movers share in
// a namespace (kind names what it is: "repo"): ferry-mover-KIND-<hash of
// the migration>.
func MigrationName(kind, migration string) string {
	return NamePrefix + kind + "-" + shortHash(migration)
}
