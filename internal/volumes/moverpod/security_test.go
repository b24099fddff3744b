package moverpod

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestNamespaceSecurity(t *testing.T) {
	ns := func(labels map[string]string) *corev1.Namespace {
		return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop", Labels: labels}}
	}
	tests := []struct {
		name       string
		ns         *corev1.Namespace
		want       Security
		restricted bool
	}{
		{"no namespace", nil, Security{}, false},
		{"unlabelled", ns(nil), Security{}, false},
		{"privileged", ns(map[string]string{LabelEnforce: "privileged"}), Security{Level: LevelPrivileged}, false},
		{"baseline", ns(map[string]string{LabelEnforce: "baseline", LabelEnforceVersion: "v1.30"}), Security{Level: LevelBaseline, Version: "v1.30"}, false},
		{"restricted", ns(map[string]string{LabelEnforce: "restricted", LabelEnforceVersion: "latest"}), Security{Level: LevelRestricted, Version: "latest"}, true},
		{"warn only", ns(map[string]string{"pod-security.kubernetes.io/warn": "restricted"}), Security{}, false},
		{"unknown level", ns(map[string]string{LabelEnforce: "strict"}), Security{Level: LevelRestricted}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := NamespaceSecurity(tt.ns)
			if got != tt.want || got.Restricted() != tt.restricted {
				t.Errorf("NamespaceSecurity = %+v (restricted %v), want %+v (%v)", got, got.Restricted(), tt.want, tt.restricted)
			}
		})
	}
}

// TestPodSecurity checks the security contexts of mover pods: root
// without privilege escalation unless the namespace enforces the
// restricted standard; there non-root as the run-as identity, every
// capability dropped, RuntimeDefault seccomp, fsGroup only on a pod that
// writes a claim, and Secrets readable by the identity.
func TestPodSecurity(t *testing.T) {
	restricted := Env{Security: Security{Level: LevelRestricted}}
	data := func(readOnly bool) Mount { return Mount{Name: "data", Path: DataDir, Claim: "c", ReadOnly: readOnly} }
	tls := Mount{Name: "tls", Path: "/tls", Secret: "s"}
	tests := []struct {
		name       string
		env        Env
		mounts     []Mount
		uid, gid   int64
		fsGroup    int64 // 0: none
		secretMode int32
	}{
		{"unlabelled writer", Env{}, []Mount{data(false), tls}, 0, 0, 0, 0o400},
		{"baseline reader", Env{Security: Security{Level: LevelBaseline}}, []Mount{data(true), tls}, 0, 0, 0, 0o400},
		{"restricted writer, default identity", restricted, []Mount{data(false), tls}, 1000, 1000, 1000, 0o440},
		{"restricted reader", restricted.WithRunAs(Identity{UID: 999, GID: 998}), []Mount{data(true), tls}, 999, 998, 0, 0o444},
		{"restricted writer as the data's owner", restricted.WithRunAs(Identity{UID: 33, GID: 33}), []Mount{data(true), data(false), tls}, 33, 33, 33, 0o440},
		{"restricted, root run-as taken as the default", restricted.WithRunAs(Identity{}), []Mount{data(false)}, 1000, 1000, 1000, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Pod("ferry:test", "p", "shop", nil, tt.env, tt.mounts...)
			ps, cs := p.Spec.SecurityContext, p.Spec.Containers[0].SecurityContext
			if *ps.RunAsUser != tt.uid || *ps.RunAsGroup != tt.gid || *cs.RunAsUser != tt.uid {
				t.Errorf("runs as %d:%d (container %d), want %d:%d", *ps.RunAsUser, *ps.RunAsGroup, *cs.RunAsUser, tt.uid, tt.gid)
			}
			if cs.AllowPrivilegeEscalation == nil || *cs.AllowPrivilegeEscalation {
				t.Error("privilege escalation is not disallowed")
			}
			nonRoot := tt.uid != 0
			if got := ps.RunAsNonRoot != nil && *ps.RunAsNonRoot && cs.RunAsNonRoot != nil && *cs.RunAsNonRoot; got != nonRoot {
				t.Errorf("runAsNonRoot %v, want %v", got, nonRoot)
			}
			dropsAll := cs.Capabilities != nil && len(cs.Capabilities.Drop) == 1 && cs.Capabilities.Drop[0] == "ALL" && len(cs.Capabilities.Add) == 0
			seccomp := ps.SeccompProfile != nil && ps.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault
			if nonRoot && (!dropsAll || !seccomp) {
				t.Errorf("capabilities %+v, seccomp %+v: want ALL dropped and RuntimeDefault", cs.Capabilities, ps.SeccompProfile)
			}
			switch {
			case tt.fsGroup == 0 && ps.FSGroup != nil:
				t.Errorf("fsGroup %d set on a pod that writes nothing or runs as root", *ps.FSGroup)
			case tt.fsGroup != 0 && (ps.FSGroup == nil || *ps.FSGroup != tt.fsGroup):
				t.Errorf("fsGroup %v, want %d", ps.FSGroup, tt.fsGroup)
			case tt.fsGroup != 0 && (ps.FSGroupChangePolicy == nil || *ps.FSGroupChangePolicy != corev1.FSGroupChangeOnRootMismatch):
				t.Errorf("fsGroupChangePolicy %v, want OnRootMismatch", ps.FSGroupChangePolicy)
			}
			for _, v := range p.Spec.Volumes {
				if v.Secret != nil && *v.Secret.DefaultMode != tt.secretMode {
					t.Errorf("secret mode %o, want %o", *v.Secret.DefaultMode, tt.secretMode)
				}
			}
		})
	}
}

func TestRunAs(t *testing.T) {
	owners := func(o ...ferryv1.VolumeOwner) *ferryv1.VolumeUsage { return &ferryv1.VolumeUsage{Owners: o} }
	tests := []struct {
		name string
		u    *ferryv1.VolumeUsage
		want Identity
	}{
		{"no figures", nil, DefaultRunAs},
		{"kubelet figures, no owners", &ferryv1.VolumeUsage{}, DefaultRunAs},
		{"root's data", owners(ferryv1.VolumeOwner{UID: 0, GID: 0, Bytes: 10 << 20}, ferryv1.VolumeOwner{UID: 33, GID: 33, Bytes: 1 << 20}), DefaultRunAs},
		{"a database's data", owners(ferryv1.VolumeOwner{UID: 0, GID: 0, Bytes: 4096, Files: 3}, ferryv1.VolumeOwner{UID: 999, GID: 999, Bytes: 1 << 30, Files: 900}), Identity{UID: 999, GID: 999}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RunAs(tt.u); got != tt.want {
				t.Errorf("RunAs = %s, want %s", got, tt.want)
			}
		})
	}
}
