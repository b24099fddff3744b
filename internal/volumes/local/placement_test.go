package local

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"ferry.dev/ferry/internal/volumes"
)

var testTransfer = volumes.Transfer{SourceNamespace: "shop", SourceClaim: "data", DestinationNamespace: "shop", DestinationClaim: "data-fast"}

func node(name string, labels map[string]string) corev1.Node {
	l := map[string]string{"kubernetes.io/hostname": name}
	for k, v := range labels {
		l[k] = v
	}
	return corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}
}

// pv is a bound volume, limited to the nodes matching terms when given.
func pv(name string, terms ...corev1.NodeSelectorTerm) *corev1.PersistentVolume {
	v := &corev1.PersistentVolume{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if len(terms) > 0 {
		v.Spec.NodeAffinity = &corev1.VolumeNodeAffinity{Required: &corev1.NodeSelector{NodeSelectorTerms: terms}}
	}
	return v
}

func onHost(host string) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
		{Key: "kubernetes.io/hostname", Operator: corev1.NodeSelectorOpIn, Values: []string{host}}}}
}

func inZone(zone string) corev1.NodeSelectorTerm {
	return corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
		{Key: "topology.kubernetes.io/zone", Operator: corev1.NodeSelectorOpIn, Values: []string{zone}}}}
}

func class(mode storagev1.VolumeBindingMode, zones ...string) *storagev1.StorageClass {
	sc := &storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "fast"}, VolumeBindingMode: ptr.To(mode)}
	if len(zones) > 0 {
		sc.AllowedTopologies = []corev1.TopologySelectorTerm{{MatchLabelExpressions: []corev1.TopologySelectorLabelRequirement{
			{Key: "topology.kubernetes.io/zone", Values: zones}}}}
	}
	return sc
}

func TestDecide(t *testing.T) {
	nodes := []corev1.Node{
		node("n1", map[string]string{"topology.kubernetes.io/zone": "a"}),
		node("n2", map[string]string{"topology.kubernetes.io/zone": "b"}),
	}
	wffc, immediate := storagev1.VolumeBindingWaitForFirstConsumer, storagev1.VolumeBindingImmediate
	otherNS := testTransfer
	otherNS.DestinationNamespace = "shop-new"
	tests := []struct {
		name     string
		t        volumes.Transfer
		src, dst claimState
		want     Verdict
	}{
		{"network volumes, no affinity", testTransfer, claimState{volume: pv("a")}, claimState{volume: pv("b")}, Local},
		{"different namespaces", otherNS, claimState{volume: pv("a")}, claimState{volume: pv("b")}, Direct},
		{"source not bound", testTransfer, claimState{}, claimState{volume: pv("b")}, Direct},
		{"node-local volumes on one node", testTransfer, claimState{volume: pv("a", onHost("n1"))}, claimState{volume: pv("b", onHost("n1"))}, Local},
		{"node-local volumes on two nodes", testTransfer, claimState{volume: pv("a", onHost("n1"))}, claimState{volume: pv("b", onHost("n2"))}, Direct},
		{"source in use where the destination may go", testTransfer, claimState{volume: pv("a"), usedOn: "n2"}, claimState{volume: pv("b", inZone("b"))}, Local},
		{"source in use outside the destination's zone", testTransfer, claimState{volume: pv("a"), usedOn: "n1"}, claimState{volume: pv("b", inZone("b"))}, Direct},
		{"destination in use elsewhere", testTransfer, claimState{volume: pv("a"), usedOn: "n1"}, claimState{volume: pv("b"), usedOn: "n2"}, Direct},
		{"affinity term ORed", testTransfer, claimState{volume: pv("a", onHost("n2"))}, claimState{volume: pv("b", onHost("n1"), inZone("b"))}, Local},
		{"destination waits for its first consumer", testTransfer, claimState{volume: pv("a", onHost("n1"))}, claimState{class: class(wffc)}, Local},
		{"first consumer, allowed where the source is", testTransfer, claimState{volume: pv("a", onHost("n2"))}, claimState{class: class(wffc, "b")}, Local},
		{"first consumer, not allowed where the source is", testTransfer, claimState{volume: pv("a", onHost("n1"))}, claimState{class: class(wffc, "b")}, Direct},
		{"destination binding at once, not bound yet", testTransfer, claimState{volume: pv("a")}, claimState{class: class(immediate)}, Undecided},
		{"destination class unknown", testTransfer, claimState{volume: pv("a")}, claimState{}, Direct},
		{"malformed affinity matches no node", testTransfer, claimState{volume: pv("a", corev1.NodeSelectorTerm{MatchExpressions: []corev1.NodeSelectorRequirement{
			{Key: "kubernetes.io/hostname", Operator: "Near", Values: []string{"n1"}}}})}, claimState{volume: pv("b")}, Direct},
		{"node name field", testTransfer, claimState{volume: pv("a", corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{
			{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"n2"}}}})}, claimState{volume: pv("b", inZone("b"))}, Local},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tt.t, tt.src, tt.dst, nodes)
			if got.Verdict != tt.want || got.Reason == "" {
				t.Errorf("decide = %+v, want %s with a reason", got, tt.want)
			}
		})
	}
}
