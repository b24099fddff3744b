package moverpod

import (
	"k8s.io/apimachinery/pkg/labels"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Labels and annotations of the mover objects of every path, besides
// ferryv1.LabelMigration and ferryv1.LabelManagedBy.
const (
	// LabelComponent is set to ComponentMover on every object made here.
	LabelComponent = "app.kubernetes.io/component"
	// ComponentMover is the value of LabelComponent.
	ComponentMover = "mover"
	// LabelTransfer names the transfer of a pod (for the direct path,
	// its Service name; the Service selects its receiver with it and
	// LabelRole).
	LabelTransfer = "ferry.dev/mover-transfer"
	// LabelRole is RoleReceiver, RoleSender or RoleLocal.
	LabelRole = "ferry.dev/mover-role"
	// RoleReceiver is the direct path's pod on the destination, running
	// "mover serve".
	RoleReceiver = "receiver"
	// RoleSender is the direct path's pod on the source, running "mover
	// sync".
	RoleSender = "sender"
	// RoleLocal is the local path's one pod, running "mover local".
	RoleLocal = "local"

	// AnnotationClaim on a pod names the claim it copies, as namespace/name.
	AnnotationClaim = "ferry.dev/mover-claim"
)

// CommonLabels are on every mover object of the migration.
func CommonLabels(migration string) map[string]string {
	return map[string]string{
		ferryv1.LabelMigration: migration,
		ferryv1.LabelManagedBy: ferryv1.ManagedByValue,
		LabelComponent:         ComponentMover,
	}
}

// MigrationSelector selects every mover object of the migration.
func MigrationSelector(migration string) string {
	return labels.SelectorFromSet(CommonLabels(migration)).String()
}

// IsMoverPod tells whether a pod is a mover pod (of any path and migration).
func IsMoverPod(l map[string]string) bool {
	return l[LabelComponent] == ComponentMover && l[ferryv1.LabelManagedBy] == ferryv1.ManagedByValue
}
