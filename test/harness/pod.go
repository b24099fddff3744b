package harness

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// PodBuilder builds a test pod with one container, named "main".
type PodBuilder struct{ pod corev1.Pod }

// NewPod starts a pod ns/name, labelled app=name, that runs command in
// image and is killed at once on deletion (grace period 0). The restart
// policy is the server's default (Always) until Restart sets it.
func NewPod(ns, name, image string, command ...string) *PodBuilder {
	return &PodBuilder{pod: corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](0),
			Containers:                    []corev1.Container{{Name: "main", Image: image, Command: command}},
		},
	}}
}

// RestartNever makes the pod run once.
func (b *PodBuilder) RestartNever() *PodBuilder { return b.Restart(corev1.RestartPolicyNever) }

// Restart sets the restart policy.
func (b *PodBuilder) Restart(p corev1.RestartPolicy) *PodBuilder {
	b.pod.Spec.RestartPolicy = p
	return b
}

// Grace sets the termination grace period in seconds; the tools image's
// sleep, as PID 1, ignores SIGTERM and stays for all of it.
func (b *PodBuilder) Grace(seconds int64) *PodBuilder {
	b.pod.Spec.TerminationGracePeriodSeconds = ptr.To(seconds)
	return b
}

// Labels replaces the pod's labels.
func (b *PodBuilder) Labels(l map[string]string) *PodBuilder {
	b.pod.Labels = l
	return b
}

// Claim mounts the claim at mountPath, in a volume named after it.
func (b *PodBuilder) Claim(claim, mountPath string) *PodBuilder {
	return b.Mount(claim, mountPath, &corev1.VolumeSource{
		PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}})
}

// Mount mounts the volume name at path; a nil source adds no volume, for
// one a StatefulSet's volumeClaimTemplate of that name provides.
func (b *PodBuilder) Mount(name, path string, source *corev1.VolumeSource) *PodBuilder {
	if source != nil {
		b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: name, VolumeSource: *source})
	}
	c := &b.pod.Spec.Containers[0]
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: name, MountPath: path})
	return b
}

// Port declares a container port and a TCP readiness probe on it.
func (b *PodBuilder) Port(p int32) *PodBuilder {
	c := &b.pod.Spec.Containers[0]
	c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: p})
	c.ReadinessProbe = &corev1.Probe{PeriodSeconds: 1,
		ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intstr.FromInt32(p)}}}
	return b
}

// PullIfNotPresent pulls the image only when the node lacks it.
func (b *PodBuilder) PullIfNotPresent() *PodBuilder {
	b.pod.Spec.Containers[0].ImagePullPolicy = corev1.PullIfNotPresent
	return b
}

// AsRoot runs the pod as user 0, to write files of any owner.
func (b *PodBuilder) AsRoot() *PodBuilder {
	b.pod.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](0)}
	return b
}

// Pod returns the pod built so far.
func (b *PodBuilder) Pod() *corev1.Pod { return b.pod.DeepCopy() }

// Spec returns the pod's spec, for a workload's template.
func (b *PodBuilder) Spec() corev1.PodSpec { return *b.pod.Spec.DeepCopy() }

// Template returns a pod template with the pod's labels and spec.
func (b *PodBuilder) Template() corev1.PodTemplateSpec {
	p := b.Pod()
	return corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: p.Labels}, Spec: p.Spec}
}
