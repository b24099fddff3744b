package bed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"
)

// UpOptions tunes Up.
type UpOptions struct {
	// ModuleDir is the folder of this tool's Go module (to build Kubernetes).
	ModuleDir string
	// PushPause pushes the sandbox image to every registry; Up calls it
	// once the registries run.
	PushPause func(ctx context.Context, registries []string) error
}

// Up starts every cluster that is not already running. A cluster whose
// state is present but whose processes are gone (an interrupted run) is
// cleaned up first. Running clusters are left alone.
func (e *Env) Up(ctx context.Context, o UpOptions) error {
	if err := e.EnsureBinaries(ctx, o.ModuleDir); err != nil {
		return err
	}
	var todo []*Cluster
	for _, c := range e.Clusters {
		switch e.health(c) {
		case healthUp:
			slog.Info("cluster is already up", "cluster", c.Name, "server", c.APIServer())
		case healthPartial:
			slog.Warn("cleaning up an earlier run of the cluster that is no longer healthy", "cluster", c.Name)
			if err := e.downCluster(c); err != nil {
				return fmt.Errorf("clean up earlier run of %s: %w", c.Name, err)
			}
			todo = append(todo, c)
		default:
			todo = append(todo, c)
		}
	}
	if len(todo) > 0 {
		if err := e.prepareHost(); err != nil {
			return err
		}
		if err := e.startClusters(ctx, todo, o); err != nil {
			return err
		}
	}
	return e.WriteOut()
}

func (e *Env) startClusters(ctx context.Context, todo []*Cluster, o UpOptions) error {
	start := time.Now()
	var registries []string
	for _, c := range e.Clusters {
		registries = append(registries, c.Registry())
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, c := range todo {
		g.Go(func() error {
			if err := e.startCluster(gctx, c, registries, o); err != nil {
				return fmt.Errorf("start cluster %s (logs in %s): %w", c.Name, c.Path("logs"), err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	slog.Info("clusters are up", "clusters", len(todo), "seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
	return nil
}

// prepareHost turns on IP forwarding in the root namespace, remembering
// the original value so the last Down restores it.
func (e *Env) prepareHost() error {
	if err := os.MkdirAll(e.StateRoot, 0o755); err != nil {
		return fmt.Errorf("create state folder: %w", err)
	}
	saved := filepath.Join(e.StateRoot, "ip_forward.orig")
	if _, err := os.Stat(saved); err != nil {
		cur, err := os.ReadFile("/proc/sys/net/ipv4/ip_forward")
		if err != nil {
			return fmt.Errorf("read ip_forward: %w", err)
		}
		if err := os.WriteFile(saved, cur, 0o644); err != nil {
			return fmt.Errorf("save ip_forward: %w", err)
		}
	}
	if err := os.WriteFile("/proc/sys/net/ipv4/ip_forward", []byte("1\n"), 0o644); err != nil {
		return fmt.Errorf("turn on ip_forward: %w", err)
	}
	return nil
}

func (e *Env) startCluster(ctx context.Context, c *Cluster, registries []string, o UpOptions) error {
	t0 := time.Now()
	if err := os.MkdirAll(c.StateDir, 0o755); err != nil {
		return fmt.Errorf("create state folder: %w", err)
	}
	steps := []struct {
		name string
		fn   func() error
	}{
		{"certificates", func() error { return c.pki().generate(c) }},
		{"configuration", func() error { return c.writeConfigs(registries) }},
		{"network", c.setupNetwork},
		{"cgroups", c.setupCgroups},
		{"control plane", func() error { return e.startControlPlane(ctx, c) }},
		{"sandbox image", func() error { return o.PushPause(ctx, []string{c.Registry()}) }},
		{"node", func() error { return e.startNode(ctx, c) }},
		{"cluster objects", func() error { return e.bootstrap(ctx, c) }},
	}
	for _, s := range steps {
		t := time.Now()
		if err := s.fn(); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		slog.Info("cluster step done", "cluster", c.Name, "step", s.name, "seconds", fmt.Sprintf("%.1f", time.Since(t).Seconds()))
	}
	slog.Info("cluster is up", "cluster", c.Name, "server", c.APIServer(), "seconds", fmt.Sprintf("%.1f", time.Since(t0).Seconds()))
	return nil
}

func (e *Env) startControlPlane(ctx context.Context, c *Cluster) error {
	for _, p := range []proc{e.registryProc(c), e.etcdProc(c)} {
		if err := c.start(p); err != nil {
			return err
		}
	}
	if err := c.waitHTTP(ctx, procEtcd, c.EtcdClientURL()+"/health", 30*time.Second); err != nil {
		return err
	}
	if err := c.start(e.apiServerProc(c)); err != nil {
		return err
	}
	// containerd needs no API server: start it while the API server boots.
	if err := c.start(e.containerdProc(c)); err != nil {
		return err
	}
	if err := c.waitAPI(ctx, 60*time.Second); err != nil {
		return err
	}
	for _, p := range []proc{e.kcmProc(c), e.schedulerProc(c)} {
		if err := c.start(p); err != nil {
			return err
		}
	}
	return c.waitHTTP(ctx, procRegistry, "http://"+c.Registry()+"/v2/", 20*time.Second)
}

func (e *Env) startNode(ctx context.Context, c *Cluster) error {
	for _, p := range []proc{e.kubeletProc(c), e.kubeProxyProc(c), e.coreDNSProc(c)} {
		if err := c.start(p); err != nil {
			return err
		}
	}
	return c.waitHTTP(ctx, procCoreDNS, "http://"+c.NodeIP()+":8080/health", 30*time.Second)
}

// waitHTTP polls url until it answers 200, failing early if the process
// name died.
func (c *Cluster) waitHTTP(ctx context.Context, name, url string, timeout time.Duration) error {
	return c.waitReady(ctx, name, timeout, func() error { return httpOK(ctx, url) })
}

// waitReady polls check until it succeeds, failing early if the process
// name died; the error ends with the last lines of the process's log.
func (c *Cluster) waitReady(ctx context.Context, name string, timeout time.Duration, check func() error) error {
	err := poll(ctx, timeout, func() (bool, string, error) {
		if _, ok := c.pid(name); !ok {
			return false, "", fmt.Errorf("%s exited", name)
		}
		if err := check(); err != nil {
			return false, err.Error(), nil
		}
		return true, "", nil
	})
	if err != nil {
		return fmt.Errorf("%s not ready: %w; last lines of its log:\n%s", name, err, c.logTail(name, 15))
	}
	return nil
}

type health int

const (
	healthDown health = iota
	healthPartial
	healthUp
)

// health tells whether a cluster is fully up, absent, or half there.
func (e *Env) health(c *Cluster) health {
	alive, dead := 0, 0
	for _, n := range allProcs {
		if _, ok := c.pid(n); ok {
			alive++
		} else {
			dead++
		}
	}
	if dead == 0 && apiReady(c) == nil {
		return healthUp
	}
	if alive > 0 || e.leftoverState(c) {
		return healthPartial
	}
	return healthDown
}

// leftoverState reports whether anything of the cluster is on the machine.
func (e *Env) leftoverState(c *Cluster) bool {
	if len(c.cgroupTrees()) > 0 {
		return true
	}
	for _, p := range []string{c.StateDir, "/run/netns/" + c.NetNS(), "/sys/class/net/" + c.HostVeth()} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return len(pidsMatching(c.StateDir+"/")) > 0
}

// WriteOut writes the user-facing files of every running cluster into the
// output folder: kubeconfig, registry, node-ip and netns (the node's
// network namespace, for tests that cut the network), and links kubectl.
func (e *Env) WriteOut() error {
	var errs []error
	for _, c := range e.Clusters {
		dir := filepath.Join(e.OutDir, c.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		kc, err := os.ReadFile(c.Path("kubeconfig"))
		if err != nil {
			errs = append(errs, fmt.Errorf("read kubeconfig of %s: %w", c.Name, err))
			continue
		}
		files := map[string]string{"kubeconfig": string(kc), "registry": c.Registry() + "\n", "node-ip": c.NodeIP() + "\n",
			"netns": c.NetNS() + "\n"}
		for n, content := range files {
			if err := os.WriteFile(filepath.Join(dir, n), []byte(content), 0o600); err != nil {
				errs = append(errs, fmt.Errorf("write %s: %w", n, err))
			}
		}
	}
	bin := filepath.Join(e.OutDir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", bin, err)
	}
	link := filepath.Join(bin, "kubectl")
	_ = os.Remove(link)
	if err := os.Symlink(e.Bin("kubectl"), link); err != nil {
		errs = append(errs, fmt.Errorf("link kubectl: %w", err))
	}
	return errors.Join(errs...)
}

// Status describes every cluster in a few lines.
func (e *Env) Status() string {
	var b strings.Builder
	for _, c := range e.Clusters {
		state := map[health]string{healthDown: "down", healthPartial: "broken (run clusters-down, then clusters-up)", healthUp: "up"}[e.health(c)]
		fmt.Fprintf(&b, "%s: %s  server=%s registry=%s node-ip=%s kubeconfig=%s\n", c.Name, state,
			c.APIServer(), c.Registry(), c.NodeIP(), filepath.Join(e.OutDir, c.Name, "kubeconfig"))
	}
	return b.String()
}
