package direct

import (
	"fmt"
	"strings"

	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// MoverPort is the port the receiver listens on.
const MoverPort = 8443

// receiverName is the name of a transfer's receiver pod.
func receiverName(migration string, t volumes.Transfer) string {
	return moverpod.TransferName(migration, t) + "-recv"
}

// senderName is the name of a transfer's sender pod.
func senderName(migration string, t volumes.Transfer) string {
	return moverpod.TransferName(migration, t) + "-send"
}

// serviceName is the name of a transfer's Service.
func serviceName(migration string, t volumes.Transfer) string {
	return moverpod.TransferName(migration, t)
}

// serverSecretName is a transfer's Secret with the CA and its server
// certificate, in the destination namespace; only its receiver mounts it.
func serverSecretName(migration string, t volumes.Transfer) string {
	return moverpod.TransferName(migration, t) + "-server"
}

// clientSecretName is a transfer's Secret with the CA and its client
// certificate, in the source namespace; only its sender mounts it.
func clientSecretName(migration string, t volumes.Transfer) string {
	return moverpod.TransferName(migration, t) + "-client"
}

// identityPrefix starts every transfer identity.
const identityPrefix = "ferry://migration/"

// transferIdentity is the identity both certificates of a transfer name
// (a URI subject alternative name) and both of its pods require of their
// peer: ferry://migration/<migration>/transfer/<the hash of its name>. A
// migration name is a label value, which needs no escaping in a URI path.
func transferIdentity(migration string, t volumes.Transfer) string {
	return identityPrefix + migration + "/transfer/" + strings.TrimPrefix(moverpod.TransferName(migration, t), moverpod.NamePrefix)
}

// serviceHosts are the DNS names of a transfer's Service, both put in the
// server certificate; the first is what a same-cluster sender dials.
func serviceHosts(migration string, t volumes.Transfer) []string {
	short := fmt.Sprintf("%s.%s.svc", serviceName(migration, t), t.DestinationNamespace)
	return []string{short, short + ".cluster.local"}
}

// receiverSelector selects a transfer's receiver pod.
func receiverSelector(migration string, t volumes.Transfer) map[string]string {
	return map[string]string{moverpod.LabelTransfer: moverpod.TransferName(migration, t), moverpod.LabelRole: moverpod.RoleReceiver}
}
