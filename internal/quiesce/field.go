package quiesce

import (
	"maps"

	appsv1 "k8s.io/api/apps/v1"

	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// quiescedNodeSelectorValue is the value of ferryv1.QuiesceNodeSelectorKey
// in a quiesced DaemonSet's pod template.
const quiescedNodeSelectorValue = "true"

// field is the one spec field that quiescing a kind changes: how its
// original value is kept in an annotation, how it is quiesced and how it is
// restored. Its functions only touch the object they are given.
type field struct {
	// annotation keeps the field's value from before quiesce.
	annotation string
	// encode returns the field's current value as kept in annotation.
	encode func(client.Object) (string, error)
	// isQuiesced reports whether the field holds its quiesced value.
	isQuiesced func(client.Object) bool
	// quiesce sets the quiesced value.
	quiesce func(client.Object)
	// restore sets the field to the value that encode returned as s.
	restore func(obj client.Object, s string) error
}

// replicasField is spec.replicas of a Deployment, StatefulSet or ReplicaSet,
// quiesced as 0 and kept as the number, or "" when unset.
func replicasField(replicas func(client.Object) **int32) field {
	return field{
		annotation: ferryv1.AnnotationOriginalReplicas,
		encode: func(obj client.Object) (string, error) {
			return EncodeReplicas(*replicas(obj)), nil
		},
		isQuiesced: func(obj client.Object) bool {
			r := *replicas(obj)
			return r != nil && *r == 0
		},
		quiesce: func(obj client.Object) {
			zero := int32(0)
			*replicas(obj) = &zero
		},
		restore: func(obj client.Object, s string) error {
			r, err := DecodeReplicas(s)
			if err != nil {
				return err
			}
			*replicas(obj) = r
			return nil
		},
	}
}

// suspendField is spec.suspend of a CronJob or Job, quiesced as true and
// kept as "true", "false", or "" when unset.
func suspendField(suspend func(client.Object) **bool) field {
	return field{
		annotation: ferryv1.AnnotationOriginalSuspend,
		encode: func(obj client.Object) (string, error) {
			return EncodeSuspend(*suspend(obj)), nil
		},
		isQuiesced: func(obj client.Object) bool {
			s := *suspend(obj)
			return s != nil && *s
		},
		quiesce: func(obj client.Object) {
			t := true
			*suspend(obj) = &t
		},
		restore: func(obj client.Object, s string) error {
			b, err := DecodeSuspend(s)
			if err != nil {
				return err
			}
			*suspend(obj) = b
			return nil
		},
	}
}

// nodeSelectorField is a DaemonSet's spec.template.spec.nodeSelector,
// quiesced by adding ferryv1.QuiesceNodeSelectorKey (which no node carries)
// and kept as JSON, or "" when unset.
func nodeSelectorField(selector func(client.Object) *map[string]string) field {
	return field{
		annotation: ferryv1.AnnotationOriginalNodeSelector,
		encode: func(obj client.Object) (string, error) {
			return EncodeNodeSelector(*selector(obj))
		},
		isQuiesced: func(obj client.Object) bool {
			return (*selector(obj))[ferryv1.QuiesceNodeSelectorKey] == quiescedNodeSelectorValue
		},
		quiesce: func(obj client.Object) {
			// A new map: the old one may be shared with the copy the patch
			// is computed from.
			m := maps.Clone(*selector(obj))
			if m == nil {
				m = map[string]string{}
			}
			m[ferryv1.QuiesceNodeSelectorKey] = quiescedNodeSelectorValue
			*selector(obj) = m
		},
		restore: func(obj client.Object, s string) error {
			m, err := DecodeNodeSelector(s)
			if err != nil {
				return err
			}
			*selector(obj) = m
			return nil
		},
	}
}

// whenScaledField is a StatefulSet's
// spec.persistentVolumeClaimRetentionPolicy.whenScaled, quiesced as
// Retain (never Delete: scaling to 0 would delete its claims) and kept as
// the policy's value, or "" when unset.
var whenScaledField = field{
	annotation: ferryv1.AnnotationOriginalWhenScaled,
	encode: func(obj client.Object) (string, error) {
		if p := obj.(*appsv1.StatefulSet).Spec.PersistentVolumeClaimRetentionPolicy; p != nil {
			return string(p.WhenScaled), nil
		}
		return "", nil
	},
	isQuiesced: func(obj client.Object) bool {
		p := obj.(*appsv1.StatefulSet).Spec.PersistentVolumeClaimRetentionPolicy
		return p == nil || p.WhenScaled != appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	},
	quiesce: func(obj client.Object) {
		setWhenScaled(obj.(*appsv1.StatefulSet), appsv1.RetainPersistentVolumeClaimRetentionPolicyType)
	},
	restore: func(obj client.Object, s string) error {
		setWhenScaled(obj.(*appsv1.StatefulSet), appsv1.PersistentVolumeClaimRetentionPolicyType(s))
		return nil
	},
}

// setWhenScaled sets the retention policy's whenScaled in a new policy
// (the old one may be shared with the copy a patch is computed from).
func setWhenScaled(s *appsv1.StatefulSet, v appsv1.PersistentVolumeClaimRetentionPolicyType) {
	p := &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{}
	if s.Spec.PersistentVolumeClaimRetentionPolicy != nil {
		*p = *s.Spec.PersistentVolumeClaimRetentionPolicy
	}
	p.WhenScaled = v
	s.Spec.PersistentVolumeClaimRetentionPolicy = p
}
