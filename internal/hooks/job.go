package hooks

import (
	"fmt"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// JobTTL removes a hook's Job that Ferry could not delete (its controller
// gone for good); Ferry deletes every hook Job itself when the step ends.
const JobTTL = 24 * time.Hour

// UnschedulableGrace is how long a hook's pod may stay unschedulable
// before the hook fails.
const UnschedulableGrace = 30 * time.Second

// NoPodGrace is how long a hook's Job may go without a pod (the Job
// controller cannot create one: a missing service account, a quota)
// before the hook fails.
const NoPodGrace = time.Minute

// JobSpec is what NewJob needs besides the Hook.
type JobSpec struct {
	Name, Namespace string
	// Labels of the Job and its pod (the migration's marks and the step's).
	Labels map[string]string
	// Node, when set, is the node the pod must run on (where the first
	// claim is mounted).
	Node    string
	Context Context
}

// NewJob builds the Job of a Job hook.
func NewJob(h *ferryv1.HookSpec, js JobSpec) *batchv1.Job {
	jh := h.Job
	c := corev1.Container{
		Name: "hook", Image: jh.Image, Command: jh.Command, Args: jh.Args,
		Env:       append(js.Context.Env(), jh.Env...),
		Resources: jh.Resources,
	}
	if jh.Script != "" {
		c.Command, c.Args = []string{"/bin/sh", "-c", jh.Script}, nil
	}
	pod := corev1.PodSpec{
		RestartPolicy:                 corev1.RestartPolicyNever,
		ServiceAccountName:            jh.ServiceAccountName,
		TerminationGracePeriodSeconds: ptr.To[int64](5),
	}
	for i, cl := range jh.Claims {
		vol := "claim-" + strconv.Itoa(i)
		c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: vol, MountPath: cl.MountPath, ReadOnly: cl.ReadOnly})
		pod.Volumes = append(pod.Volumes, corev1.Volume{Name: vol, VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: cl.Name, ReadOnly: cl.ReadOnly}}})
	}
	if js.Node != "" {
		pod.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{
			RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
				MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{js.Node}}},
			}}}}}
	}
	pod.Containers = []corev1.Container{c}
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: js.Name, Namespace: js.Namespace, Labels: js.Labels},
		Spec: batchv1.JobSpec{
			BackoffLimit:            ptr.To(h.Retries),
			ActiveDeadlineSeconds:   ptr.To(int64(Timeout(h).Seconds())),
			TTLSecondsAfterFinished: ptr.To(int32(JobTTL.Seconds())),
			Template:                corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: js.Labels}, Spec: pod},
		},
	}
}

// State is how a hook's Job stands.
type State struct {
	// Finished is true once the Job succeeded or failed for good.
	Finished bool
	// Failed says it failed; Reason says why, for the user.
	Failed bool
	Reason string
	// Pod is the pod whose log tells most: the last one started.
	Pod string
}

// cannotStart are the container waiting reasons that will not pass by
// themselves.
var cannotStart = map[string]bool{
	"ImagePullBackOff": true, "InvalidImageName": true, "ErrImageNeverPull": true,
	"CreateContainerConfigError": true, "CreateContainerError": true,
}

// Judge tells how a hook's Job stands from the Job and its pods.
func Judge(h *ferryv1.HookSpec, job *batchv1.Job, pods []corev1.Pod, now time.Time) State {
	st := State{}
	var last *corev1.Pod
	for i := range pods {
		if last == nil || pods[i].CreationTimestamp.After(last.CreationTimestamp.Time) {
			last = &pods[i]
		}
	}
	if last != nil {
		st.Pod = last.Name
	}
	for _, c := range job.Status.Conditions {
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			st.Finished = true
			return st
		case batchv1.JobFailed:
			st.Finished, st.Failed = true, true
			st.Reason = failure(h, c, last)
			return st
		}
	}
	if last == nil {
		if !job.CreationTimestamp.IsZero() && now.Sub(job.CreationTimestamp.Time) > NoPodGrace {
			st.Finished, st.Failed = true, true
			st.Reason = fmt.Sprintf("its Job %s made no pod in %s (a missing service account or a quota?); its events say why: kubectl describe job %s -n %s",
				job.Name, NoPodGrace, job.Name, job.Namespace)
		}
		return st
	}
	for _, cs := range last.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && cannotStart[w.Reason] {
			st.Finished, st.Failed = true, true
			st.Reason = fmt.Sprintf("its container cannot start: %s: %s", w.Reason, w.Message)
			return st
		}
	}
	for _, c := range last.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable &&
			now.Sub(last.CreationTimestamp.Time) > UnschedulableGrace {
			st.Finished, st.Failed = true, true
			st.Reason = fmt.Sprintf("its pod cannot be scheduled: %s", c.Message)
			return st
		}
	}
	return st
}

// failure says why a failed Job failed.
func failure(h *ferryv1.HookSpec, c batchv1.JobCondition, last *corev1.Pod) string {
	if c.Reason == "DeadlineExceeded" {
		return fmt.Sprintf("timed out after %s and was killed", Timeout(h))
	}
	runs := fmt.Sprintf("%d runs", h.Retries+1)
	if h.Retries == 0 {
		runs = "1 run"
	}
	if last != nil {
		for _, cs := range last.Status.ContainerStatuses {
			if t := cs.State.Terminated; t != nil {
				return fmt.Sprintf("exited with code %d (%s)", t.ExitCode, runs)
			}
		}
	}
	return fmt.Sprintf("failed: %s: %s (%s)", c.Reason, c.Message, runs)
}
