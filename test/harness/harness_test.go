package harness

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestParseImages(t *testing.T) {
	tests := []struct {
		name, in string
		want     map[string]string
	}{
		{"empty", "", map[string]string{}},
		{"pinned refs", "ferry=10.200.1.1:5000/ferry@sha256:ab\n tools=r/tools@sha256:cd \n",
			map[string]string{"ferry": "10.200.1.1:5000/ferry@sha256:ab", "tools": "r/tools@sha256:cd"}},
		{"lines without = are ignored", "garbage\nsampleapp=r/s=x\n", map[string]string{"sampleapp": "r/s=x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseImages(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("parseImages(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestIsMainModule(t *testing.T) {
	dir := t.TempDir()
	tests := []struct{ name, gomod string }{
		{"main", "module ferry.dev/ferry\n\ngo 1.26.0\n"},
		{"quoted", "// comment\nmodule \"ferry.dev/ferry\"\n"},
		{"test bed", "module ferry.dev/ferry/test/localclusters\n"},
		{"other", "module example.com/x\n"},
	}
	want := map[string]bool{"main": true, "quoted": true}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".mod")
			if err := os.WriteFile(p, []byte(tt.gomod), 0o644); err != nil {
				t.Fatal(err)
			}
			if got := isMainModule(p); got != want[tt.name] {
				t.Errorf("isMainModule(%q) = %v, want %v", tt.gomod, got, want[tt.name])
			}
		})
	}
	if isMainModule(filepath.Join(dir, "missing")) {
		t.Error("a missing go.mod is the main module")
	}
}

func TestRepoRoot(t *testing.T) {
	want, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if got := RepoRoot(t); got != want {
		t.Errorf("RepoRoot = %s, want %s", got, want)
	}
	if got := Kubeconfig(t, "dst"); got != filepath.Join(want, ".localclusters", "dst", "kubeconfig") {
		t.Errorf("Kubeconfig(dst) = %s", got)
	}
}

func TestPodBuilder(t *testing.T) {
	b := NewPod("ns", "web", "img", "sleep", "1").RestartNever().Claim("data", "/data").Port(8080)
	p := b.Pod()
	if p.Namespace != "ns" || p.Name != "web" || p.Labels["app"] != "web" || *p.Spec.TerminationGracePeriodSeconds != 0 {
		t.Errorf("pod meta or grace: %+v", p)
	}
	c := p.Spec.Containers[0]
	if c.Name != "main" || c.Image != "img" || !reflect.DeepEqual(c.Command, []string{"sleep", "1"}) {
		t.Errorf("container: %+v", c)
	}
	if p.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restart policy %q", p.Spec.RestartPolicy)
	}
	if len(p.Spec.Volumes) != 1 || p.Spec.Volumes[0].Name != "data" || p.Spec.Volumes[0].PersistentVolumeClaim.ClaimName != "data" ||
		len(c.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != "/data" {
		t.Errorf("claim mount: %+v %+v", p.Spec.Volumes, c.VolumeMounts)
	}
	if c.ReadinessProbe == nil || c.ReadinessProbe.TCPSocket.Port.IntValue() != 8080 || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("port: %+v %+v", c.Ports, c.ReadinessProbe)
	}

	// A template mount without a volume, a grace period, root: and what
	// was returned before does not change.
	tpl := b.Mount("state", "/state", nil).Grace(1).AsRoot().PullIfNotPresent().Labels(map[string]string{"app": "db"}).Template()
	if len(tpl.Spec.Volumes) != 1 || len(tpl.Spec.Containers[0].VolumeMounts) != 2 || *tpl.Spec.TerminationGracePeriodSeconds != 1 ||
		*tpl.Spec.SecurityContext.RunAsUser != 0 || tpl.Spec.Containers[0].ImagePullPolicy != corev1.PullIfNotPresent {
		t.Errorf("template spec: %+v", tpl.Spec)
	}
	if tpl.Name != "" || tpl.Namespace != "" || !reflect.DeepEqual(tpl.Labels, map[string]string{"app": "db"}) {
		t.Errorf("template meta: %+v", tpl.ObjectMeta)
	}
	if len(p.Spec.Containers[0].VolumeMounts) != 1 || *p.Spec.TerminationGracePeriodSeconds != 0 {
		t.Errorf("the builder changed a pod it returned earlier: %+v", p.Spec)
	}
}

func TestPodStatus(t *testing.T) {
	tests := []struct {
		name      string
		pod       *corev1.Pod
		want      string
		wantReady bool
	}{
		{"missing", nil, "pod not found", false},
		{"ready", &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning,
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}, "phase=Running", true},
		{"pulling", &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "main", State: corev1.ContainerState{
				Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "no such image"}}}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", Message: "x"}}}},
			"phase=Pending main waiting: ErrImagePull no such image Ready=ContainersNotReady x", false},
		{"failed", &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed,
			ContainerStatuses: []corev1.ContainerStatus{{Name: "main", State: corev1.ContainerState{
				Terminated: &corev1.ContainerStateTerminated{Reason: "Error", ExitCode: 2}}}}}},
			"phase=Failed main terminated: Error exit 2", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PodStatus(tt.pod); got != tt.want {
				t.Errorf("PodStatus = %q, want %q", got, tt.want)
			}
			if tt.pod != nil && PodReady(tt.pod) != tt.wantReady {
				t.Errorf("PodReady = %v, want %v", !tt.wantReady, tt.wantReady)
			}
		})
	}
}
