package bed

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	// KubernetesVersion is the version of the Kubernetes components built
	// from the module proxy; keep it in step with go.mod.
	KubernetesVersion = "v1.37.2"
	// CoreDNSVersion is the version of CoreDNS installed with go install.
	CoreDNSVersion = "v1.15.0"
)

// K8sComponents are the Kubernetes binaries the test bed needs.
var K8sComponents = []string{"kube-apiserver", "kubelet", "kube-controller-manager", "kube-scheduler", "kube-proxy", "kubectl"}

// EnsureBinaries builds whatever is missing from the cache: the Kubernetes
// components (about 11 minutes cold on 2 cores) and CoreDNS (2-3 minutes).
// moduleDir is this tool's module folder, whose go.mod pins Kubernetes.
func (e *Env) EnsureBinaries(ctx context.Context, moduleDir string) error {
	if err := e.ensureK8s(ctx, moduleDir); err != nil {
		return err
	}
	return e.ensureCoreDNS(ctx)
}

func (e *Env) missingK8s() []string {
	var missing []string
	for _, c := range K8sComponents {
		if _, err := os.Stat(e.Bin(c)); err != nil {
			missing = append(missing, c)
		}
	}
	return missing
}

func (e *Env) ensureK8s(ctx context.Context, moduleDir string) error {
	missing := e.missingK8s()
	if len(missing) == 0 {
		return nil
	}
	slog.Info("building Kubernetes components, about 11 minutes the first time", "version", KubernetesVersion, "components", missing, "cache", e.K8sBinDir())
	start := time.Now()
	tmp := filepath.Join(e.K8sBinDir(), ".tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("create build folder: %w", err)
	}
	v := "k8s.io/component-base/version"
	ldflags := fmt.Sprintf("-s -w -X %[1]s.gitVersion=%[2]s -X %[1]s.gitMajor=1 -X %[1]s.gitMinor=37 -X %[1]s.gitTreeState=clean", v, KubernetesVersion)
	args := []string{"build", "-trimpath", "-ldflags", ldflags, "-o", tmp + "/"}
	for _, c := range missing {
		args = append(args, "k8s.io/kubernetes/cmd/"+c)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("build Kubernetes components in %s: %w", moduleDir, err)
	}
	for _, c := range missing {
		if err := os.Rename(filepath.Join(tmp, c), e.Bin(c)); err != nil {
			return fmt.Errorf("move %s into the cache: %w", c, err)
		}
	}
	slog.Info("built Kubernetes components", "seconds", int(time.Since(start).Seconds()))
	return nil
}

func (e *Env) ensureCoreDNS(ctx context.Context) error {
	if _, err := os.Stat(e.CoreDNSBin()); err == nil {
		return nil
	}
	slog.Info("building CoreDNS, 2-3 minutes the first time", "version", CoreDNSVersion)
	start := time.Now()
	dir := filepath.Dir(e.CoreDNSBin())
	tmp := filepath.Join(dir, ".tmp")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		return fmt.Errorf("create build folder: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "install", "-trimpath", "-ldflags", "-s -w", "github.com/coredns/coredns@"+CoreDNSVersion)
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "CGO_ENABLED=0", "GOFLAGS=-mod=mod")
	cmd.Dir = os.TempDir()
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go install coredns %s: %w", CoreDNSVersion, err)
	}
	if err := os.Rename(filepath.Join(tmp, "coredns"), e.CoreDNSBin()); err != nil {
		return fmt.Errorf("move coredns into the cache: %w", err)
	}
	slog.Info("built CoreDNS", "seconds", int(time.Since(start).Seconds()))
	return nil
}

// EnvtestAssets links the cached kube-apiserver and kubectl and the
// system's etcd into one folder, the KUBEBUILDER_ASSETS of
// controller-runtime's envtest, and returns the folder.
func (e *Env) EnvtestAssets() (string, error) {
	dir := filepath.Join(e.CacheDir, "envtest-"+KubernetesVersion)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("create envtest folder: %w", err)
	}
	etcd, err := exec.LookPath("etcd")
	if err != nil {
		return "", fmt.Errorf("etcd is not installed (Debian package etcd-server): %w", err)
	}
	links := map[string]string{"kube-apiserver": e.Bin("kube-apiserver"), "kubectl": e.Bin("kubectl"), "etcd": etcd}
	for name, target := range links {
		link := filepath.Join(dir, name)
		if cur, err := os.Readlink(link); err == nil && cur == target {
			continue
		}
		_ = os.Remove(link)
		if err := os.Symlink(target, link); err != nil {
			return "", fmt.Errorf("link %s: %w", name, err)
		}
	}
	return dir, nil
}

// ReapEnvtest kills the API servers and etcds that envtest started from
// EnvtestAssets and that outlived their test process (a test that
// panicked skips envtest's stop), and removes their temporary folders.
// Only orphans (whose parent is init) are touched, so tests running now
// keep theirs. It returns how many processes it killed.
func (e *Env) ReapEnvtest() (int, error) {
	targets := map[string]bool{e.Bin("kube-apiserver"): true}
	if etcd, err := exec.LookPath("etcd"); err == nil {
		if real, err := filepath.EvalSymlinks(etcd); err == nil {
			targets[real] = true
		}
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, fmt.Errorf("list processes: %w", err)
	}
	killed := 0
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		exe, _ := os.Readlink(filepath.Join("/proc", ent.Name(), "exe"))
		cmdline, _ := os.ReadFile(filepath.Join("/proc", ent.Name(), "cmdline"))
		if !targets[exe] || !strings.Contains(string(cmdline), "k8s_test_framework_") || parentPID(pid) != 1 {
			continue
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
			killed++
		}
	}
	if killed > 0 {
		leftover, _ := filepath.Glob(filepath.Join(os.TempDir(), "k8s_test_framework_*"))
		for _, d := range leftover {
			_ = os.RemoveAll(d)
		}
	}
	return killed, nil
}

// parentPID reads a process's parent from /proc; -1 when unknown.
func parentPID(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name, in parentheses, may hold spaces: read after it.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return -1
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return ppid
}
