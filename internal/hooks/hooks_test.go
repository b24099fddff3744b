package hooks

import (
	"reflect"
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestContextEnv(t *testing.T) {
	c := Context{Plan: "shop", Migration: "shop-cutover-1", Type: ferryv1.MigrationCutover, Phase: ferryv1.HookPreBackup, Hook: "flush",
		Namespaces: NamespaceMapping([]string{"shop", "db:db-v2"}), SourceCluster: "src", DestinationCluster: "dst"}
	want := map[string]string{
		"FERRY_PLAN": "shop", "FERRY_MIGRATION": "shop-cutover-1", "FERRY_MIGRATION_TYPE": "Cutover", "FERRY_HOOK_PHASE": "PreBackup",
		"FERRY_HOOK": "flush", "FERRY_NAMESPACES": "shop:shop,db:db-v2", "FERRY_SOURCE_CLUSTER": "src", "FERRY_DESTINATION_CLUSTER": "dst",
	}
	got := map[string]string{}
	for _, e := range c.Env() {
		got[e.Name] = e.Value
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("env %v, want %v", got, want)
	}
	if a := c.Assignments(); len(a) != len(want) || a[0] != "FERRY_PLAN=shop" || a[5] != "FERRY_NAMESPACES=shop:shop,db:db-v2" {
		t.Errorf("assignments %v", a)
	}
}

func TestInPhase(t *testing.T) {
	refs := []ferryv1.PlanHook{
		{Hook: "a", Phase: ferryv1.HookPreBackup},
		{Hook: "b", Phase: ferryv1.HookPostRestore},
		{Hook: "c", Phase: ferryv1.HookPreBackup, Order: -5},
		{Hook: "d", Phase: ferryv1.HookPreBackup},
		{Hook: "e", Phase: ferryv1.HookPreBackup, Order: 3},
	}
	tests := []struct {
		phase ferryv1.HookPhase
		want  []string
	}{
		{ferryv1.HookPreBackup, []string{"c", "a", "d", "e"}},
		{ferryv1.HookPostRestore, []string{"b"}},
		{ferryv1.HookPreRollback, nil},
	}
	for _, tt := range tests {
		var got []string
		for _, r := range InPhase(refs, tt.phase) {
			got = append(got, r.Hook)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.phase, got, tt.want)
		}
	}
}

func TestPlaceOf(t *testing.T) {
	ns := []string{"shop:shop-v2", "db"}
	tests := []struct {
		name string
		ref  ferryv1.PlanHook
		hook ferryv1.HookSpec
		want Place
	}{
		{"backup on the source", ferryv1.PlanHook{Phase: ferryv1.HookPreBackup}, ferryv1.HookSpec{}, Place{ferryv1.HookSource, "shop"}},
		{"restore on the destination, renamed", ferryv1.PlanHook{Phase: ferryv1.HookPostRestore}, ferryv1.HookSpec{}, Place{ferryv1.HookDestination, "shop-v2"}},
		{"rollback on the source", ferryv1.PlanHook{Phase: ferryv1.HookPostRollback}, ferryv1.HookSpec{}, Place{ferryv1.HookSource, "shop"}},
		{"the hook says", ferryv1.PlanHook{Phase: ferryv1.HookPreBackup}, ferryv1.HookSpec{Cluster: ferryv1.HookDestination, Namespace: "ops"}, Place{ferryv1.HookDestination, "ops"}},
		{"the plan wins", ferryv1.PlanHook{Phase: ferryv1.HookPreBackup, Cluster: ferryv1.HookSource, Namespace: "db"},
			ferryv1.HookSpec{Cluster: ferryv1.HookDestination, Namespace: "ops"}, Place{ferryv1.HookSource, "db"}},
		{"side from the hook, namespace by side", ferryv1.PlanHook{Phase: ferryv1.HookPreBackup}, ferryv1.HookSpec{Cluster: ferryv1.HookDestination}, Place{ferryv1.HookDestination, "shop-v2"}},
	}
	for _, tt := range tests {
		if got := PlaceOf(tt.ref, &tt.hook, ns); got != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.name, got, tt.want)
		}
	}
}

func TestCheck(t *testing.T) {
	job := &ferryv1.JobHook{Image: "busybox"}
	sel := &metav1.LabelSelector{MatchLabels: map[string]string{"app": "db"}}
	tests := []struct {
		name string
		spec ferryv1.HookSpec
		want string
	}{
		{"job", ferryv1.HookSpec{Job: job}, ""},
		{"exec", ferryv1.HookSpec{Exec: &ferryv1.ExecHook{Selector: sel, Command: []string{"sync"}}}, ""},
		{"neither", ferryv1.HookSpec{}, "neither"},
		{"both", ferryv1.HookSpec{Job: job, Exec: &ferryv1.ExecHook{PodName: "p", Command: []string{"x"}}}, "both"},
		{"no image", ferryv1.HookSpec{Job: &ferryv1.JobHook{}}, "no image"},
		{"script and command", ferryv1.HookSpec{Job: &ferryv1.JobHook{Image: "i", Script: "s", Command: []string{"c"}}}, "script and a command"},
		{"exec without command", ferryv1.HookSpec{Exec: &ferryv1.ExecHook{PodName: "p"}}, "no command"},
		{"exec without target", ferryv1.HookSpec{Exec: &ferryv1.ExecHook{Command: []string{"x"}}}, "exactly one"},
		{"exec with two targets", ferryv1.HookSpec{Exec: &ferryv1.ExecHook{PodName: "p", Selector: sel, Command: []string{"x"}}}, "exactly one"},
	}
	for _, tt := range tests {
		got := Check(&tt.spec)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestTimeout(t *testing.T) {
	if got := Timeout(&ferryv1.HookSpec{Job: &ferryv1.JobHook{}}); got != 30*time.Minute {
		t.Errorf("job default %s", got)
	}
	if got := Timeout(&ferryv1.HookSpec{Exec: &ferryv1.ExecHook{}}); got != time.Minute {
		t.Errorf("exec default %s", got)
	}
	if got := Timeout(&ferryv1.HookSpec{Job: &ferryv1.JobHook{}, Timeout: &metav1.Duration{Duration: 5 * time.Second}}); got != 5*time.Second {
		t.Errorf("given %s", got)
	}
}

func TestNewJob(t *testing.T) {
	h := &ferryv1.HookSpec{Retries: 2, Timeout: &metav1.Duration{Duration: 90 * time.Second}, Job: &ferryv1.JobHook{
		Image: "tools", Script: "echo hi > /data/marker", Env: []corev1.EnvVar{{Name: "X", Value: "1"}}, ServiceAccountName: "backup",
		Claims: []ferryv1.HookClaim{{Name: "data", MountPath: "/data"}, {Name: "logs", MountPath: "/logs", ReadOnly: true}}}}
	labels := map[string]string{"ferry.dev/migration": "m"}
	j := NewJob(h, JobSpec{Name: "ferry-hook-x-1", Namespace: "shop", Labels: labels, Node: "node-1", Context: Context{Plan: "p"}})
	ps := j.Spec.Template.Spec
	c := ps.Containers[0]
	switch {
	case j.Name != "ferry-hook-x-1" || j.Namespace != "shop" || j.Labels["ferry.dev/migration"] != "m" || j.Spec.Template.Labels["ferry.dev/migration"] != "m":
		t.Errorf("metadata %+v", j.ObjectMeta)
	case *j.Spec.BackoffLimit != 2 || *j.Spec.ActiveDeadlineSeconds != 90:
		t.Errorf("limits: backoff %d, deadline %d", *j.Spec.BackoffLimit, *j.Spec.ActiveDeadlineSeconds)
	case ps.RestartPolicy != corev1.RestartPolicyNever || ps.ServiceAccountName != "backup":
		t.Errorf("pod spec %+v", ps)
	case !reflect.DeepEqual(c.Command, []string{"/bin/sh", "-c", "echo hi > /data/marker"}) || c.Args != nil:
		t.Errorf("command %v %v", c.Command, c.Args)
	case c.Env[0].Name != EnvPlan || c.Env[len(c.Env)-1].Name != "X":
		t.Errorf("env %v: the context first, the hook's own last", c.Env)
	case len(ps.Volumes) != 2 || ps.Volumes[1].PersistentVolumeClaim.ClaimName != "logs" || !c.VolumeMounts[1].ReadOnly || c.VolumeMounts[0].MountPath != "/data":
		t.Errorf("volumes %+v mounts %+v", ps.Volumes, c.VolumeMounts)
	case ps.Affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms[0].MatchFields[0].Values[0] != "node-1":
		t.Errorf("affinity %+v", ps.Affinity)
	}
}

func TestJudge(t *testing.T) {
	now := time.Now()
	h := &ferryv1.HookSpec{Job: &ferryv1.JobHook{Image: "i"}, Timeout: &metav1.Duration{Duration: time.Minute}}
	cond := func(t batchv1.JobConditionType, reason string) batchv1.Job {
		return batchv1.Job{Status: batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: t, Status: corev1.ConditionTrue, Reason: reason}}}}
	}
	pod := func(age time.Duration, st corev1.PodStatus) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", CreationTimestamp: metav1.NewTime(now.Add(-age))}, Status: st}
	}
	exited := corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3}}}}}
	backoff := corev1.PodStatus{ContainerStatuses: []corev1.ContainerStatus{{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "not found"}}}}}
	unsched := corev1.PodStatus{Conditions: []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: "0/1 nodes"}}}
	tests := []struct {
		name             string
		job              batchv1.Job
		pods             []corev1.Pod
		finished, failed bool
		reason           string
	}{
		{"no pod yet", batchv1.Job{}, nil, false, false, ""},
		{"no pod for long", batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "j", Namespace: "n", CreationTimestamp: metav1.NewTime(now.Add(-2 * time.Minute))}}, nil, true, true, "made no pod in 1m0s"},
		{"running", batchv1.Job{}, []corev1.Pod{pod(time.Second, corev1.PodStatus{Phase: corev1.PodRunning})}, false, false, ""},
		{"complete", cond(batchv1.JobComplete, ""), nil, true, false, ""},
		{"exit code", cond(batchv1.JobFailed, "BackoffLimitExceeded"), []corev1.Pod{pod(time.Second, exited)}, true, true, "exited with code 3 (1 run)"},
		{"timed out", cond(batchv1.JobFailed, "DeadlineExceeded"), nil, true, true, "timed out after 1m0s and was killed"},
		{"image cannot be pulled", batchv1.Job{}, []corev1.Pod{pod(time.Second, backoff)}, true, true, "ImagePullBackOff: not found"},
		{"unschedulable a moment", batchv1.Job{}, []corev1.Pod{pod(time.Second, unsched)}, false, false, ""},
		{"unschedulable for long", batchv1.Job{}, []corev1.Pod{pod(time.Minute, unsched)}, true, true, "cannot be scheduled: 0/1 nodes"},
	}
	for _, tt := range tests {
		st := Judge(h, &tt.job, tt.pods, now)
		if st.Finished != tt.finished || st.Failed != tt.failed || !strings.Contains(st.Reason, tt.reason) {
			t.Errorf("%s: %+v, want finished %v failed %v reason %q", tt.name, st, tt.finished, tt.failed, tt.reason)
		}
	}
}

func TestTail(t *testing.T) {
	if got := Tail("a\nb\n\nc\r\nd\n", 3); !reflect.DeepEqual(got, []string{"b", "c", "d"}) {
		t.Errorf("tail %q", got)
	}
	if got := Tail("", 3); got != nil {
		t.Errorf("tail of nothing %q", got)
	}
}

func TestStepName(t *testing.T) {
	if got := StepName(ferryv1.PlanHook{Hook: "flush", Phase: ferryv1.HookPreBackup}); got != "PreBackupHook/flush" {
		t.Errorf("step name %q", got)
	}
}
