package bed

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"time"
)

// Components are the processes of a cluster that StopComponent and
// StartComponent act on, by name.
var Components = allProcs

// component is how to start one process of a cluster and tell that it is
// ready.
type component struct {
	proc  func(*Cluster) proc
	ready func(ctx context.Context, c *Cluster) error
	// grace is how long a stop waits after SIGTERM before SIGKILL.
	grace time.Duration
}

// component returns the component named name.
func (e *Env) component(name string) (component, error) {
	alive := func(name string) func(context.Context, *Cluster) error {
		return func(ctx context.Context, c *Cluster) error { return c.staysUp(ctx, name, 3*time.Second) }
	}
	byName := map[string]component{
		procRegistry: {proc: e.registryProc, grace: 5 * time.Second, ready: func(ctx context.Context, c *Cluster) error {
			return c.waitHTTP(ctx, procRegistry, "http://"+c.Registry()+"/v2/", 20*time.Second)
		}},
		procEtcd: {proc: e.etcdProc, grace: 10 * time.Second, ready: func(ctx context.Context, c *Cluster) error {
			return c.waitHTTP(ctx, procEtcd, c.EtcdClientURL()+"/health", 30*time.Second)
		}},
		// kube-apiserver stops listening at once on SIGTERM, then drains
		// its watches for longer than a test wants to wait.
		procAPIServer: {proc: e.apiServerProc, grace: 5 * time.Second, ready: func(ctx context.Context, c *Cluster) error {
			return c.waitAPI(ctx, 60*time.Second)
		}},
		procContainerd: {proc: e.containerdProc, grace: 10 * time.Second, ready: alive(procContainerd)},
		procKCM:        {proc: e.kcmProc, grace: 10 * time.Second, ready: alive(procKCM)},
		procScheduler:  {proc: e.schedulerProc, grace: 10 * time.Second, ready: alive(procScheduler)},
		procKubelet:    {proc: e.kubeletProc, grace: 10 * time.Second, ready: alive(procKubelet)},
		procKubeProxy:  {proc: e.kubeProxyProc, grace: 10 * time.Second, ready: alive(procKubeProxy)},
		procCoreDNS: {proc: e.coreDNSProc, grace: 5 * time.Second, ready: func(ctx context.Context, c *Cluster) error {
			return c.waitHTTP(ctx, procCoreDNS, "http://"+c.NodeIP()+":8080/health", 30*time.Second)
		}},
	}
	comp, ok := byName[name]
	if !ok {
		return component{}, fmt.Errorf("no component %q: use one of %s", name, strings.Join(Components, ", "))
	}
	return comp, nil
}

// staysUp is the readiness of a process without a health endpoint: it
// did not exit within d.
func (c *Cluster) staysUp(ctx context.Context, name string, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
	}
	if _, ok := c.pid(name); !ok {
		return fmt.Errorf("%s exited; last lines of its log:\n%s", name, c.logTail(name, 15))
	}
	return nil
}

// StopComponent stops one process of a running cluster (SIGTERM, then
// SIGKILL after a grace period) and waits until it is gone; the rest of
// the cluster keeps running. A stopped component is a no-op. Until
// StartComponent brings it back, the cluster counts as broken: `up`
// would clean it up and start it afresh.
func (e *Env) StopComponent(c *Cluster, name string) error {
	comp, err := e.component(name)
	if err != nil {
		return err
	}
	pid, ok := c.pid(name)
	if !ok {
		slog.Info("component is not running", "cluster", c.Name, "component", name)
		return nil
	}
	if err := killAndWait([]int{pid}, syscall.SIGTERM, comp.grace); err != nil {
		return fmt.Errorf("stop %s of %s: %w", name, c.Name, err)
	}
	slog.Info("component stopped", "cluster", c.Name, "component", name, "pid", pid)
	return nil
}

// StartComponent starts one process of a cluster again, with the
// arguments Up gave it, and waits until it is ready (for the API server:
// /readyz answers). A running component is a no-op.
func (e *Env) StartComponent(ctx context.Context, c *Cluster, name string) error {
	comp, err := e.component(name)
	if err != nil {
		return err
	}
	if _, ok := c.pid(name); ok {
		slog.Info("component is already running", "cluster", c.Name, "component", name)
		return nil
	}
	t := time.Now()
	if err := c.start(comp.proc(c)); err != nil {
		return err
	}
	if err := comp.ready(ctx, c); err != nil {
		return fmt.Errorf("start %s of %s: %w", name, c.Name, err)
	}
	slog.Info("component started", "cluster", c.Name, "component", name, "seconds", fmt.Sprintf("%.1f", time.Since(t).Seconds()))
	return nil
}

// RestartComponent stops one process of a cluster and starts it again.
func (e *Env) RestartComponent(ctx context.Context, c *Cluster, name string) error {
	if err := e.StopComponent(c, name); err != nil {
		return err
	}
	return e.StartComponent(ctx, c, name)
}
