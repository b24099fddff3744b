package moverpod

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/mover"
)

// The labels of a namespace through which Pod Security admission
// enforces a Pod Security Standard on its pods.
const (
	// LabelEnforce names the level enforced: privileged, baseline or
	// restricted.
	LabelEnforce = "pod-security.kubernetes.io/enforce"
	// LabelEnforceVersion names the version of the standard enforced
	// ("latest" or a Kubernetes minor version such as "v1.30").
	LabelEnforceVersion = "pod-security.kubernetes.io/enforce-version"
)

// Level is a level of the Pod Security Standards.
type Level string

// The levels of the Pod Security Standards.
const (
	// LevelPrivileged allows everything; a namespace without the
	// enforce label is in effect privileged unless the API server's
	// admission configuration sets another default.
	LevelPrivileged Level = "privileged"
	// LevelBaseline forbids known privilege escalations; a root
	// container without added capabilities passes it.
	LevelBaseline Level = "baseline"
	// LevelRestricted requires non-root containers that drop every
	// capability and use a RuntimeDefault or Localhost seccomp profile.
	LevelRestricted Level = "restricted"
)

// Security is the Pod Security Standard a namespace enforces, read from
// its labels.
type Security struct {
	// Level enforced; empty when the namespace has no enforce label.
	Level Level
	// Version of the standard enforced, "" for the label's absence
	// (latest).
	Version string
}

// Restricted reports whether the namespace enforces the restricted
// standard, under which mover pods run as non-root.
func (s Security) Restricted() bool { return s.Level == LevelRestricted }

// String describes the standard for messages.
func (s Security) String() string {
	if s.Level == "" {
		return "no Pod Security Standard enforced"
	}
	if s.Version == "" {
		return fmt.Sprintf("the %s Pod Security Standard", s.Level)
	}
	return fmt.Sprintf("the %s Pod Security Standard (%s)", s.Level, s.Version)
}

// NamespaceSecurity is the standard the namespace enforces. An unknown
// level counts as restricted: Pod Security admission refuses such a
// label, so it can only come from another admission controller, and the
// non-root pod passes more policies than the root one.
func NamespaceSecurity(ns *corev1.Namespace) Security {
	if ns == nil {
		return Security{}
	}
	level := Level(ns.Labels[LabelEnforce])
	switch level {
	case "", LevelPrivileged, LevelBaseline, LevelRestricted:
	default:
		level = LevelRestricted
	}
	return Security{Level: level, Version: ns.Labels[LabelEnforceVersion]}
}

// Identity is the numeric user and group a non-root mover runs as.
type Identity = mover.Identity

// DefaultRunAs is the identity of a non-root mover when the volume's
// owners are not known or its data is owned by root.
var DefaultRunAs = mover.DefaultNonRoot

// RunAs is the identity a non-root mover of a volume runs as: the owner
// (user and group) of most of its data, as the usage scan found it, when
// that owner is not root; else DefaultRunAs. A non-root mover cannot
// change owners: every file it writes is owned by this identity.
func RunAs(u *ferryv1.VolumeUsage) Identity {
	if u == nil {
		return DefaultRunAs
	}
	owners := make([]mover.Owner, 0, len(u.Owners))
	for _, o := range u.Owners {
		owners = append(owners, mover.Owner{UID: uint32(o.UID), GID: uint32(o.GID), Bytes: o.Bytes, Files: o.Files})
	}
	return mover.NonRootIdentity(owners)
}

// Env is what a namespace allows a mover pod: the resources that fit its
// LimitRanges, the Pod Security Standard it enforces, and under the
// restricted one the identity the pod runs as. It is the one home of
// "what this namespace allows"; the paths build it per namespace and
// hand it to Pod.
type Env struct {
	// Resources of the mover container (Resources).
	Resources corev1.ResourceRequirements
	// Security is the standard the namespace enforces.
	Security Security
	// RunAs is the identity of the mover under the restricted standard;
	// the zero value means DefaultRunAs. Other namespaces get root
	// movers, which keep owners exactly.
	RunAs Identity
}

// WithRunAs returns e with the identity of a non-root mover set.
func (e Env) WithRunAs(id Identity) Env {
	e.RunAs = id
	return e
}

// NonRoot reports whether pods of this environment run as non-root.
func (e Env) NonRoot() bool { return e.Security.Restricted() }

// identity is the non-root identity of the environment.
func (e Env) identity() Identity {
	if e.RunAs.UID == 0 {
		return DefaultRunAs
	}
	return e.RunAs
}

// NamespaceEnv reads the environment of mover pods in a namespace: its
// LimitRanges and its Pod Security labels. What cannot be read takes
// the defaults (no LimitRanges, no standard enforced); RunAs is left to
// the caller (WithRunAs), which knows the volume.
func NamespaceEnv(ctx context.Context, kube kubernetes.Interface, namespace string) Env {
	env := Env{Resources: Resources(nil)}
	if lrs, err := kube.CoreV1().LimitRanges(namespace).List(ctx, metav1.ListOptions{}); err == nil {
		env.Resources = Resources(lrs.Items)
	}
	ns, err := kube.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{})
	if err == nil {
		env.Security = NamespaceSecurity(ns)
	}
	return env
}

// LookupSecurity reads the standard a namespace enforces; found is false
// when the namespace does not exist.
func LookupSecurity(ctx context.Context, kube kubernetes.Interface, namespace string) (s Security, found bool, err error) {
	ns, err := kube.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return Security{}, false, nil
	case err != nil:
		return Security{}, false, fmt.Errorf("get namespace %s: %w", namespace, err)
	}
	return NamespaceSecurity(ns), true, nil
}

// secure sets the pod's and its container's security contexts for env:
// root without privilege escalation by default (owners kept exactly);
// under the restricted standard non-root as env's identity, every
// capability dropped, the runtime's default seccomp profile, and on a
// pod that writes a volume (writes) the identity's group as fsGroup,
// applied only when the volume root's group differs, so that the mover
// may write into a new volume.
func secure(p *corev1.Pod, env Env, writes bool) {
	c := &p.Spec.Containers[0]
	if !env.NonRoot() {
		p.Spec.SecurityContext = &corev1.PodSecurityContext{RunAsUser: ptr.To[int64](0), RunAsGroup: ptr.To[int64](0)}
		c.SecurityContext = &corev1.SecurityContext{RunAsUser: ptr.To[int64](0), AllowPrivilegeEscalation: ptr.To(false)}
		return
	}
	id := env.identity()
	uid, gid := int64(id.UID), int64(id.GID)
	p.Spec.SecurityContext = &corev1.PodSecurityContext{
		RunAsUser:      ptr.To(uid),
		RunAsGroup:     ptr.To(gid),
		RunAsNonRoot:   ptr.To(true),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
	if writes {
		p.Spec.SecurityContext.FSGroup = ptr.To(gid)
		p.Spec.SecurityContext.FSGroupChangePolicy = ptr.To(corev1.FSGroupChangeOnRootMismatch)
	}
	c.SecurityContext = &corev1.SecurityContext{
		RunAsUser:                ptr.To(uid),
		RunAsGroup:               ptr.To(gid),
		RunAsNonRoot:             ptr.To(true),
		AllowPrivilegeEscalation: ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}
}

// secretMode is the mode of the files of a mounted Secret: 0400 for a
// root mover; for a non-root one 0440 when the files' group is the
// mover's (fsGroup), else 0444, so that the mover's identity reads them.
func secretMode(env Env, writes bool) int32 {
	switch {
	case !env.NonRoot():
		return 0o400
	case writes:
		return 0o440
	}
	return 0o444
}
