package direct

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// MoverPort is the port the receiver listens on.
const MoverPort = 8443

// namePrefix starts every object name.
const namePrefix = "ferry-mover-"

// shortHash is 10 hex digits of the SHA-256 of parts, NUL-separated so
// that ("ab","c") and ("a","bc") differ.
func shortHash(parts ...string) string {
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(sum[:])[:10]
}

// transferName is the name of a transfer's Service and the stem of its pod
// names: ferry-mover-<hash of the migration and both claims>, 22
// characters, a valid DNS-1123 label.
func transferName(migration string, t volumes.Transfer) string {
	return namePrefix + shortHash(migration, t.SourceNamespace, t.SourceClaim, t.DestinationNamespace, t.DestinationClaim)
}

// receiverName is the name of a transfer's receiver pod.
func receiverName(migration string, t volumes.Transfer) string {
	return transferName(migration, t) + "-recv"
}

// senderName is the name of a transfer's sender pod.
func senderName(migration string, t volumes.Transfer) string {
	return transferName(migration, t) + "-send"
}

// serviceName is the name of a transfer's Service.
func serviceName(migration string, t volumes.Transfer) string { return transferName(migration, t) }

// serverSecretName is a transfer's Secret with the CA and its server
// certificate, in the destination namespace; only its receiver mounts it.
func serverSecretName(migration string, t volumes.Transfer) string {
	return transferName(migration, t) + "-server"
}

// clientSecretName is a transfer's Secret with the CA and its client
// certificate, in the source namespace; only its sender mounts it.
func clientSecretName(migration string, t volumes.Transfer) string {
	return transferName(migration, t) + "-client"
}

// identityPrefix starts every transfer identity.
const identityPrefix = "ferry://migration/"

// transferIdentity is the identity both certificates of a transfer name
// (a URI subject alternative name) and both of its pods require of their
// peer: ferry://migration/<migration>/transfer/<the hash of its name>. A
// migration name is a label value, which needs no escaping in a URI path.
func transferIdentity(migration string, t volumes.Transfer) string {
	return identityPrefix + migration + "/transfer/" + strings.TrimPrefix(transferName(migration, t), namePrefix)
}

// serviceHosts are the DNS names of a transfer's Service, both put in the
// server certificate; the first is what a same-cluster sender dials.
func serviceHosts(migration string, t volumes.Transfer) []string {
	short := fmt.Sprintf("%s.%s.svc", serviceName(migration, t), t.DestinationNamespace)
	return []string{short, short + ".cluster.local"}
}

// podLabels are the labels of a transfer's pod of the given role.
func podLabels(migration string, t volumes.Transfer, role string) map[string]string {
	l := moverpod.CommonLabels(migration)
	l[moverpod.LabelTransfer] = transferName(migration, t)
	l[moverpod.LabelRole] = role
	return l
}

// receiverSelector selects a transfer's receiver pod.
func receiverSelector(migration string, t volumes.Transfer) map[string]string {
	return map[string]string{moverpod.LabelTransfer: transferName(migration, t), moverpod.LabelRole: moverpod.RoleReceiver}
}
