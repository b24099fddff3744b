package quiesce

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Fixture builders: every object has resourceVersion "7" so that patches
// carry an optimistic lock.

func objectMeta(name string, annotations map[string]string) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "app", ResourceVersion: "7", Annotations: annotations}
}

func deployment(replicas *int32, annotations map[string]string) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: objectMeta("web", annotations), Spec: appsv1.DeploymentSpec{Replicas: replicas}}
}

func statefulSet(replicas *int32, annotations map[string]string) *appsv1.StatefulSet {
	return &appsv1.StatefulSet{ObjectMeta: objectMeta("db", annotations), Spec: appsv1.StatefulSetSpec{Replicas: replicas}}
}

// deletingStatefulSet is a StatefulSet with a claim retention policy:
// whenScaled as given, whenDeleted Delete.
func deletingStatefulSet(replicas *int32, whenScaled appsv1.PersistentVolumeClaimRetentionPolicyType, annotations map[string]string) *appsv1.StatefulSet {
	s := statefulSet(replicas, annotations)
	s.Spec.PersistentVolumeClaimRetentionPolicy = &appsv1.StatefulSetPersistentVolumeClaimRetentionPolicy{
		WhenScaled: whenScaled, WhenDeleted: appsv1.DeletePersistentVolumeClaimRetentionPolicyType}
	return s
}

func replicaSet(replicas *int32, annotations map[string]string, owners ...metav1.OwnerReference) *appsv1.ReplicaSet {
	rs := &appsv1.ReplicaSet{ObjectMeta: objectMeta("rs", annotations), Spec: appsv1.ReplicaSetSpec{Replicas: replicas}}
	rs.OwnerReferences = owners
	return rs
}

func cronJob(suspend *bool, annotations map[string]string) *batchv1.CronJob {
	return &batchv1.CronJob{ObjectMeta: objectMeta("nightly", annotations), Spec: batchv1.CronJobSpec{Suspend: suspend}}
}

func job(suspend *bool, annotations map[string]string, conditions ...batchv1.JobCondition) *batchv1.Job {
	return &batchv1.Job{
		ObjectMeta: objectMeta("once", annotations),
		Spec:       batchv1.JobSpec{Suspend: suspend},
		Status:     batchv1.JobStatus{Conditions: conditions},
	}
}

func daemonSet(nodeSelector map[string]string, annotations map[string]string) *appsv1.DaemonSet {
	ds := &appsv1.DaemonSet{ObjectMeta: objectMeta("agent", annotations)}
	ds.Spec.Template.Spec.NodeSelector = nodeSelector
	return ds
}

func controllerRef(apiVersion, kind, name string) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: types.UID("uid-" + name), Controller: ptr.To(true)}
}

// quiesced returns the annotations of a workload quiesced by "m1".
func quiesced(key, original string) map[string]string {
	return map[string]string{ferryv1.AnnotationQuiescedBy: "m1", key: original}
}

const (
	replicasKey = ferryv1.AnnotationOriginalReplicas
	suspendKey  = ferryv1.AnnotationOriginalSuspend
	selectorKey = ferryv1.AnnotationOriginalNodeSelector
)

// patchData returns the merge patch that patch would send for before → after.
func patchData(t *testing.T, before, after client.Object) string {
	t.Helper()
	data, err := client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}).Data(after)
	if err != nil {
		t.Fatalf("patch data: %v", err)
	}
	return string(data)
}

// assertJSON compares two JSON documents by value.
func assertJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("bad JSON %s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad wanted JSON %s: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Fatalf("patch\n got %s\nwant %s", got, want)
	}
}

func TestQuiesceObject(t *testing.T) {
	tests := []struct {
		name    string
		kind    kind
		in      client.Object
		want    client.Object // nil: unchanged
		out     outcome
		patch   string // when out is changed
		wantErr string
	}{
		{
			name:  "deployment with replicas",
			kind:  deploymentKind,
			in:    deployment(ptr.To[int32](2), nil),
			want:  deployment(ptr.To[int32](0), quiesced(replicasKey, "2")),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":{"ferry.dev/quiesced-by":"m1","ferry.dev/original-replicas":"2"}},"spec":{"replicas":0}}`,
		},
		{
			name:  "deployment keeps other annotations",
			kind:  deploymentKind,
			in:    deployment(ptr.To[int32](3), map[string]string{"team": "a"}),
			want:  deployment(ptr.To[int32](0), map[string]string{"team": "a", ferryv1.AnnotationQuiescedBy: "m1", replicasKey: "3"}),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":{"ferry.dev/quiesced-by":"m1","ferry.dev/original-replicas":"3"}},"spec":{"replicas":0}}`,
		},
		{
			name:  "statefulset with replicas unset",
			kind:  statefulSetKind,
			in:    statefulSet(nil, nil),
			want:  statefulSet(ptr.To[int32](0), quiesced(replicasKey, "")),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":{"ferry.dev/quiesced-by":"m1","ferry.dev/original-replicas":""}},"spec":{"replicas":0}}`,
		},
		{
			name: "statefulset that deletes claims when scaled keeps them",
			kind: statefulSetKind,
			in:   deletingStatefulSet(ptr.To[int32](2), appsv1.DeletePersistentVolumeClaimRetentionPolicyType, nil),
			want: deletingStatefulSet(ptr.To[int32](0), appsv1.RetainPersistentVolumeClaimRetentionPolicyType,
				map[string]string{ferryv1.AnnotationQuiescedBy: "m1", replicasKey: "2", ferryv1.AnnotationOriginalWhenScaled: "Delete"}),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":{"ferry.dev/quiesced-by":"m1","ferry.dev/original-replicas":"2","ferry.dev/original-when-scaled":"Delete"}},"spec":{"persistentVolumeClaimRetentionPolicy":{"whenScaled":"Retain"},"replicas":0}}`,
		},
		{
			name:  "statefulset already at 0 is still recorded",
			kind:  statefulSetKind,
			in:    statefulSet(ptr.To[int32](0), nil),
			want:  statefulSet(ptr.To[int32](0), quiesced(replicasKey, "0")),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":{"ferry.dev/quiesced-by":"m1","ferry.dev/original-replicas":"0"}}}`,
		},
		{
			name: "already quiesced keeps its originals",
			kind: deploymentKind,
			in:   deployment(ptr.To[int32](0), quiesced(replicasKey, "2")),
			out:  unchanged,
		},
		{
			name:  "already quiesced but scaled up again is scaled down, originals kept",
			kind:  deploymentKind,
			in:    deployment(ptr.To[int32](5), quiesced(replicasKey, "2")),
			want:  deployment(ptr.To[int32](0), quiesced(replicasKey, "2")),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7"},"spec":{"replicas":0}}`,
		},
		{
			name:    "quiesced-by without the original is an error",
			kind:    deploymentKind,
			in:      deployment(ptr.To[int32](0), map[string]string{ferryv1.AnnotationQuiescedBy: "m1"}),
			out:     unchanged,
			wantErr: "original value is lost",
		},
		{
			name:  "standalone replicaset",
			kind:  replicaSetKind,
			in:    replicaSet(ptr.To[int32](1), nil),
			want:  replicaSet(ptr.To[int32](0), quiesced(replicasKey, "1")),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":{"ferry.dev/quiesced-by":"m1","ferry.dev/original-replicas":"1"}},"spec":{"replicas":0}}`,
		},
		{
			name: "replicaset of a deployment is skipped",
			kind: replicaSetKind,
			in:   replicaSet(ptr.To[int32](2), nil, controllerRef("apps/v1", "Deployment", "web")),
			out:  skipped,
		},
		{
			name: "replicaset of a deployment with annotations copied from it is skipped",
			kind: replicaSetKind,
			in:   replicaSet(ptr.To[int32](2), quiesced(replicasKey, "2"), controllerRef("apps/v1", "Deployment", "web")),
			out:  skipped,
		},
		{
			name:  "replicaset of another controller is quiesced",
			kind:  replicaSetKind,
			in:    replicaSet(ptr.To[int32](2), nil, controllerRef("example.com/v1", "Deployment", "x")),
			want:  replicaSet(ptr.To[int32](0), quiesced(replicasKey, "2"), controllerRef("example.com/v1", "Deployment", "x")),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":{"ferry.dev/quiesced-by":"m1","ferry.dev/original-replicas":"2"}},"spec":{"replicas":0}}`,
		},
		{
			name:  "cronjob with suspend unset",
			kind:  cronJobKind,
			in:    cronJob(nil, nil),
			want:  cronJob(ptr.To(true), quiesced(suspendKey, "")),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":{"ferry.dev/quiesced-by":"m1","ferry.dev/original-suspend":""}},"spec":{"suspend":true}}`,
		},
		{
			name:  "cronjob with suspend false",
			kind:  cronJobKind,
			in:    cronJob(ptr.To(false), nil),
			want:  cronJob(ptr.To(true), quiesced(suspendKey, "false")),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":{"ferry.dev/quiesced-by":"m1","ferry.dev/original-suspend":"false"}},"spec":{"suspend":true}}`,
		},
		{
			name:  "running job",
			kind:  jobKind,
			in:    job(ptr.To(false), nil),
			want:  job(ptr.To(true), quiesced(suspendKey, "false")),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":{"ferry.dev/quiesced-by":"m1","ferry.dev/original-suspend":"false"}},"spec":{"suspend":true}}`,
		},
		{
			name: "complete job is skipped",
			kind: jobKind,
			in:   job(ptr.To(false), nil, batchv1.JobCondition{Type: batchv1.JobComplete, Status: corev1.ConditionTrue}),
			out:  skipped,
		},
		{
			name: "failed job is skipped",
			kind: jobKind,
			in:   job(ptr.To(false), nil, batchv1.JobCondition{Type: batchv1.JobFailed, Status: corev1.ConditionTrue}),
			out:  skipped,
		},
		{
			name:  "daemonset without node selector",
			kind:  daemonSetKind,
			in:    daemonSet(nil, nil),
			want:  daemonSet(map[string]string{ferryv1.QuiesceNodeSelectorKey: "true"}, quiesced(selectorKey, "")),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":{"ferry.dev/quiesced-by":"m1","ferry.dev/original-node-selector":""}},"spec":{"template":{"spec":{"nodeSelector":{"ferry.dev/quiesced":"true"}}}}}`,
		},
		{
			name:  "daemonset with node selector",
			kind:  daemonSetKind,
			in:    daemonSet(map[string]string{"kubernetes.io/os": "linux"}, nil),
			want:  daemonSet(map[string]string{"kubernetes.io/os": "linux", ferryv1.QuiesceNodeSelectorKey: "true"}, quiesced(selectorKey, `{"kubernetes.io/os":"linux"}`)),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":{"ferry.dev/quiesced-by":"m1","ferry.dev/original-node-selector":"{\"kubernetes.io/os\":\"linux\"}"}},"spec":{"template":{"spec":{"nodeSelector":{"ferry.dev/quiesced":"true"}}}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.in.DeepCopyObject().(client.Object)
			obj := tt.in.DeepCopyObject().(client.Object)
			out, _, err := quiesceObject(obj, tt.kind, "m1")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("quiesceObject: %v", err)
			}
			if out != tt.out {
				t.Fatalf("outcome = %v, want %v", out, tt.out)
			}
			want := tt.want
			if want == nil {
				want = tt.in
			}
			if !reflect.DeepEqual(obj, want) {
				t.Fatalf("object\n got %+v\nwant %+v", obj, want)
			}
			if !reflect.DeepEqual(before, tt.in) {
				t.Fatalf("input modified through a shared map or pointer")
			}
			if out == changed {
				assertJSON(t, patchData(t, before, obj), tt.patch)
			}
		})
	}
}

func TestUnquiesceObject(t *testing.T) {
	tests := []struct {
		name    string
		kind    kind
		in      client.Object
		want    client.Object // nil: unchanged
		out     outcome
		patch   string
		wantErr string
	}{
		{
			name:  "deployment",
			kind:  deploymentKind,
			in:    deployment(ptr.To[int32](0), quiesced(replicasKey, "2")),
			want:  deployment(ptr.To[int32](2), map[string]string{}),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":null},"spec":{"replicas":2}}`,
		},
		{
			name:  "other annotations stay",
			kind:  deploymentKind,
			in:    deployment(ptr.To[int32](0), map[string]string{"team": "a", ferryv1.AnnotationQuiescedBy: "m1", replicasKey: "3"}),
			want:  deployment(ptr.To[int32](3), map[string]string{"team": "a"}),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":{"ferry.dev/quiesced-by":null,"ferry.dev/original-replicas":null}},"spec":{"replicas":3}}`,
		},
		{
			name:  "statefulset with replicas unset",
			kind:  statefulSetKind,
			in:    statefulSet(ptr.To[int32](0), quiesced(replicasKey, "")),
			want:  statefulSet(nil, map[string]string{}),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":null},"spec":{"replicas":null}}`,
		},
		{
			name:  "replicaset of a deployment only loses the copied annotations",
			kind:  replicaSetKind,
			in:    replicaSet(ptr.To[int32](0), map[string]string{"team": "a", ferryv1.AnnotationQuiescedBy: "m1", replicasKey: "2"}, controllerRef("apps/v1", "Deployment", "web")),
			want:  replicaSet(ptr.To[int32](0), map[string]string{"team": "a"}, controllerRef("apps/v1", "Deployment", "web")),
			out:   cleaned,
			patch: `{"metadata":{"resourceVersion":"7","annotations":{"ferry.dev/quiesced-by":null,"ferry.dev/original-replicas":null}}}`,
		},
		{
			name: "replicaset of a deployment without annotations is skipped",
			kind: replicaSetKind,
			in:   replicaSet(ptr.To[int32](3), nil, controllerRef("apps/v1", "Deployment", "web")),
			out:  skipped,
		},
		{
			name:  "standalone replicaset",
			kind:  replicaSetKind,
			in:    replicaSet(ptr.To[int32](0), quiesced(replicasKey, "1")),
			want:  replicaSet(ptr.To[int32](1), map[string]string{}),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":null},"spec":{"replicas":1}}`,
		},
		{
			name: "not quiesced is unchanged",
			kind: statefulSetKind,
			in:   statefulSet(ptr.To[int32](0), nil),
			out:  unchanged,
		},
		{
			name:  "cronjob with suspend unset",
			kind:  cronJobKind,
			in:    cronJob(ptr.To(true), quiesced(suspendKey, "")),
			want:  cronJob(nil, map[string]string{}),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":null},"spec":{"suspend":null}}`,
		},
		{
			name:  "job",
			kind:  jobKind,
			in:    job(ptr.To(true), quiesced(suspendKey, "false")),
			want:  job(ptr.To(false), map[string]string{}),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":null},"spec":{"suspend":false}}`,
		},
		{
			name:  "daemonset without node selector",
			kind:  daemonSetKind,
			in:    daemonSet(map[string]string{ferryv1.QuiesceNodeSelectorKey: "true"}, quiesced(selectorKey, "")),
			want:  daemonSet(nil, map[string]string{}),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":null},"spec":{"template":{"spec":{"nodeSelector":null}}}}`,
		},
		{
			name:  "daemonset with node selector",
			kind:  daemonSetKind,
			in:    daemonSet(map[string]string{"kubernetes.io/os": "linux", ferryv1.QuiesceNodeSelectorKey: "true"}, quiesced(selectorKey, `{"kubernetes.io/os":"linux"}`)),
			want:  daemonSet(map[string]string{"kubernetes.io/os": "linux"}, map[string]string{}),
			out:   changed,
			patch: `{"metadata":{"resourceVersion":"7","annotations":null},"spec":{"template":{"spec":{"nodeSelector":{"ferry.dev/quiesced":null}}}}}`,
		},
		{
			name:    "bad original is an error and changes nothing",
			kind:    deploymentKind,
			in:      deployment(ptr.To[int32](0), quiesced(replicasKey, "two")),
			out:     unchanged,
			wantErr: "parse replicas",
		},
		{
			name:    "missing original is an error",
			kind:    jobKind,
			in:      job(ptr.To(true), map[string]string{ferryv1.AnnotationQuiescedBy: "m1"}),
			out:     unchanged,
			wantErr: "original value is lost",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := tt.in.DeepCopyObject().(client.Object)
			obj := tt.in.DeepCopyObject().(client.Object)
			out, err := unquiesceObject(obj, tt.kind)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
			} else if err != nil {
				t.Fatalf("unquiesceObject: %v", err)
			}
			if out != tt.out {
				t.Fatalf("outcome = %v, want %v", out, tt.out)
			}
			want := tt.want
			if want == nil {
				want = tt.in
			}
			if !reflect.DeepEqual(obj, want) {
				t.Fatalf("object\n got %+v\nwant %+v", obj, want)
			}
			if out == changed || out == cleaned {
				assertJSON(t, patchData(t, before, obj), tt.patch)
			}
		})
	}
}

// TestRoundTrip checks that Unquiesce after Quiesce (twice) gives back the
// object Quiesce started from.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		kind kind
		in   client.Object
	}{
		{name: "deployment", kind: deploymentKind, in: deployment(ptr.To[int32](4), map[string]string{"team": "a"})},
		{name: "statefulset unset", kind: statefulSetKind, in: statefulSet(nil, nil)},
		{name: "statefulset deleting claims when scaled", kind: statefulSetKind,
			in: deletingStatefulSet(ptr.To[int32](3), appsv1.DeletePersistentVolumeClaimRetentionPolicyType, map[string]string{"team": "a"})},
		{name: "cronjob suspended", kind: cronJobKind, in: cronJob(ptr.To(true), nil)},
		{name: "job unset", kind: jobKind, in: job(nil, nil)},
		{name: "daemonset", kind: daemonSetKind, in: daemonSet(map[string]string{"a": "b"}, nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			obj := tt.in.DeepCopyObject().(client.Object)
			for range 2 {
				if _, _, err := quiesceObject(obj, tt.kind, "m1"); err != nil {
					t.Fatalf("quiesceObject: %v", err)
				}
			}
			if _, err := unquiesceObject(obj, tt.kind); err != nil {
				t.Fatalf("unquiesceObject: %v", err)
			}
			if len(obj.GetAnnotations()) == 0 {
				obj.SetAnnotations(tt.in.GetAnnotations())
			}
			if !reflect.DeepEqual(obj, tt.in) {
				t.Fatalf("after round trip\n got %+v\nwant %+v", obj, tt.in)
			}
		})
	}
}

func TestUnquiesceOrderIsReverse(t *testing.T) {
	got := unquiesceOrder()
	var names []string
	for _, k := range got {
		names = append(names, k.name)
	}
	want := []string{"DaemonSet", "StatefulSet", "DeploymentConfig", "Deployment", "ReplicaSet", "Job", "CronJob"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("unquiesce order = %v, want %v", names, want)
	}
}
