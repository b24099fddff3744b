package bed

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
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
