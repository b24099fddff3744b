//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// The helpers below are the test bed's own view of its clusters, for the
// tests of this folder: this module cannot import Ferry's test harness
// (ferry.dev/ferry/test/harness), which Ferry's e2e tests use.

// cluster is one local cluster of the test bed, as the tests see it.
type cluster struct {
	name       string
	kubeconfig string
	nodeIP     string
	images     map[string]string // short name -> pinned reference
	cs         *kubernetes.Clientset
}

// repoRoot is the repository whose .localclusters folder holds the
// clusters' files: LOCALCLUSTERS_REPO (make sets it), or three levels
// above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	if repo := os.Getenv("LOCALCLUSTERS_REPO"); repo != "" {
		return repo
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// localCluster loads a running cluster of the test bed; it fails with the
// command to run when the cluster is not up.
func localCluster(t *testing.T, name string) *cluster {
	t.Helper()
	dir := filepath.Join(repoRoot(t), ".localclusters", name)
	read := func(f string) string {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatalf("cluster %s is not set up (%v): run make clusters-up images", name, err)
		}
		return strings.TrimSpace(string(b))
	}
	c := &cluster{name: name, kubeconfig: filepath.Join(dir, "kubeconfig"), nodeIP: read("node-ip"),
		images: map[string]string{}}
	sc := bufio.NewScanner(strings.NewReader(read("images")))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			c.images[k] = v
		}
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", c.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg.QPS, cfg.Burst = 500, 1000
	c.cs, err = kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *cluster) image(t *testing.T, name string) string {
	t.Helper()
	ref, ok := c.images[name]
	if !ok {
		t.Fatalf("no image %q pushed to %s: run make images", name, c.name)
	}
	return ref
}

// namespace creates a namespace with a random suffix, deleted at the end.
func (c *cluster) namespace(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	ns := prefix + "-" + hex.EncodeToString(b)
	ctx := context.Background()
	_, err := c.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create namespace %s on %s: %v", ns, c.name, err)
	}
	t.Cleanup(func() {
		_ = c.cs.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{})
	})
	// Pods need the namespace's default service account, which the
	// controller manager adds a moment later (longer just after the API
	// server restarted, while its informers catch up).
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		_, err := c.cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("namespace %s on %s has no default service account: %v", ns, c.name, err)
	}
	return ns
}

// kubectl runs the test bed's kubectl against the cluster.
func (c *cluster) kubectl(ctx context.Context, args ...string) (string, error) {
	bin := filepath.Join(filepath.Dir(filepath.Dir(c.kubeconfig)), "bin", "kubectl")
	cmd := exec.CommandContext(ctx, bin, append([]string{"--kubeconfig", c.kubeconfig}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out), nil
}

// waitPod waits until the pod is in one of the phases, and reports the
// pod's state on timeout.
func (c *cluster) waitPod(t *testing.T, ns, name string, phases ...corev1.PodPhase) *corev1.Pod {
	t.Helper()
	var pod *corev1.Pod
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, 2*time.Minute, true,
		func(ctx context.Context) (bool, error) {
			p, err := c.cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			pod = p
			for _, ph := range phases {
				if p.Status.Phase == ph && (ph != corev1.PodRunning || podReady(p)) {
					return true, nil
				}
			}
			return false, nil
		})
	if err != nil {
		t.Fatalf("pod %s/%s on %s did not reach %v: %v\nstatus: %+v", ns, name, c.name, phases, err, podStatus(pod))
	}
	return pod
}

func podReady(p *corev1.Pod) bool {
	for _, cond := range p.Status.Conditions {
		if cond.Type == corev1.PodReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podStatus(p *corev1.Pod) string {
	if p == nil {
		return "pod not found"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "phase=%s", p.Status.Phase)
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil {
			fmt.Fprintf(&b, " %s waiting: %s %s", cs.Name, w.Reason, w.Message)
		}
		if term := cs.State.Terminated; term != nil {
			fmt.Fprintf(&b, " %s terminated: %s exit %d", cs.Name, term.Reason, term.ExitCode)
		}
	}
	for _, cond := range p.Status.Conditions {
		if cond.Status != corev1.ConditionTrue {
			fmt.Fprintf(&b, " %s=%s %s", cond.Type, cond.Reason, cond.Message)
		}
	}
	return b.String()
}

// podBuilder builds test pods.
type podBuilder struct{ pod *corev1.Pod }

func newPod(ns, name, image string, command ...string) *podBuilder {
	zero := int64(0)
	return &podBuilder{pod: &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": name}},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: &zero,
			Containers:                    []corev1.Container{{Name: "main", Image: image, Command: command}},
		},
	}}
}

func (b *podBuilder) restartNever() *podBuilder {
	b.pod.Spec.RestartPolicy = corev1.RestartPolicyNever
	return b
}

func (b *podBuilder) labels(l map[string]string) *podBuilder {
	b.pod.Labels = l
	return b
}

func (b *podBuilder) volume(claim, mountPath string) *podBuilder {
	b.pod.Spec.Volumes = append(b.pod.Spec.Volumes, corev1.Volume{Name: claim,
		VolumeSource: corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claim}}})
	c := &b.pod.Spec.Containers[0]
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: claim, MountPath: mountPath})
	return b
}

func (b *podBuilder) port(p int32) *podBuilder {
	c := &b.pod.Spec.Containers[0]
	c.Ports = append(c.Ports, corev1.ContainerPort{ContainerPort: p})
	c.ReadinessProbe = &corev1.Probe{ProbeHandler: corev1.ProbeHandler{TCPSocket: &corev1.TCPSocketAction{Port: intOrPort(p)}},
		PeriodSeconds: 1}
	return b
}

func (c *cluster) create(t *testing.T, b *podBuilder) *corev1.Pod {
	t.Helper()
	p, err := c.cs.CoreV1().Pods(b.pod.Namespace).Create(context.Background(), b.pod, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create pod %s on %s: %v", b.pod.Name, c.name, err)
	}
	return p
}

// logs returns a pod's log through kubectl.
func (c *cluster) logs(t *testing.T, ns, pod string) string {
	t.Helper()
	out, err := c.kubectl(context.Background(), "-n", ns, "logs", pod)
	if err != nil {
		t.Fatalf("logs of %s/%s: %v", ns, pod, err)
	}
	return out
}
