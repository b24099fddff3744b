package bed

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// HostPathRoot is where kube-controller-manager's hostPath provisioner
// creates volumes (fixed in Kubernetes).
const HostPathRoot = "/tmp/hostpath_pv"

// Down stops every cluster and removes everything the test bed made: its
// processes, pods, mounts, network namespaces, links, routes, iptables
// rules, cgroups and files. It works on half-dead earlier runs too.
func (e *Env) Down() error {
	var errs []error
	for _, c := range e.Clusters {
		if err := e.downCluster(c); err != nil {
			errs = append(errs, fmt.Errorf("clean up %s: %w", c.Name, err))
		}
	}
	errs = append(errs, e.cleanHost())
	return errors.Join(errs...)
}

func (e *Env) downCluster(c *Cluster) error {
	if e.health(c) == healthDown {
		slog.Info("cluster is already down", "cluster", c.Name)
		return os.RemoveAll(filepath.Join(e.OutDir, c.Name))
	}
	t := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pvDirs := c.hostPathVolumes(ctx)
	var errs []error
	errs = append(errs, c.stopProcesses())
	errs = append(errs, unmountAll(c.StateDir))
	errs = append(errs, removeUnusedPodNetns())
	errs = append(errs, c.teardownNetwork())
	errs = append(errs, c.removeCgroups())
	for _, d := range pvDirs {
		errs = append(errs, os.RemoveAll(d))
	}
	errs = append(errs, os.RemoveAll(c.StateDir), os.RemoveAll(filepath.Join(e.OutDir, c.Name)))
	if err := errors.Join(errs...); err != nil {
		return err
	}
	slog.Info("cluster is down", "cluster", c.Name, "seconds", fmt.Sprintf("%.1f", time.Since(t).Seconds()))
	return nil
}

// stopProcesses stops the kubelet first (so it restarts nothing), then
// kills the containers (whose PID 1 may ignore SIGTERM), the shims, every
// process in the node namespace, and finally the control plane.
func (c *Cluster) stopProcesses() error {
	var errs []error
	if pid, ok := c.pid(procKubelet); ok {
		errs = append(errs, killAndWait([]int{pid}, syscall.SIGTERM, 5*time.Second))
	}
	errs = append(errs, killAndWait(c.cgroupPids(), syscall.SIGKILL, 5*time.Second))
	errs = append(errs, killAndWait(pidsMatching(c.ContainerdSocket()), syscall.SIGKILL, 5*time.Second))
	errs = append(errs, killAndWait(netnsPids(c.NetNS()), syscall.SIGTERM, 5*time.Second))
	for i := len(allProcs) - 1; i >= 0; i-- {
		if pid, ok := c.pid(allProcs[i]); ok {
			errs = append(errs, killAndWait([]int{pid}, syscall.SIGTERM, 10*time.Second))
		}
	}
	// Anything else still naming the state folder (a process whose pid
	// file was lost) goes too.
	errs = append(errs, killAndWait(pidsMatching(c.StateDir+"/"), syscall.SIGKILL, 5*time.Second))
	errs = append(errs, killAndWait(c.cgroupPids(), syscall.SIGKILL, 5*time.Second))
	return errors.Join(errs...)
}

// netnsPids lists the processes in a named network namespace.
func netnsPids(ns string) []int {
	if _, err := os.Stat("/run/netns/" + ns); err != nil {
		return nil
	}
	out, err := output("ip", "netns", "pids", ns)
	if err != nil {
		return nil
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if p, err := strconv.Atoi(f); err == nil {
			pids = append(pids, p)
		}
	}
	return pids
}

// unmountAll detaches every mount below dir, deepest first.
func unmountAll(dir string) error {
	var errs []error
	for _, mp := range mountsUnder(dir) {
		if err := syscall.Unmount(mp, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", mp, err))
		}
	}
	return errors.Join(errs...)
}

// removeUnusedPodNetns deletes containerd's pod network namespaces
// (/run/netns/cni-*) that no process uses any more.
func removeUnusedPodNetns() error {
	entries, _ := os.ReadDir("/run/netns")
	var errs []error
	for _, en := range entries {
		if !strings.HasPrefix(en.Name(), "cni-") || len(netnsPids(en.Name())) > 0 {
			continue
		}
		p := filepath.Join("/run/netns", en.Name())
		if err := syscall.Unmount(p, syscall.MNT_DETACH); err != nil && !errors.Is(err, syscall.EINVAL) {
			errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
		}
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// cleanHost undoes the machine-wide changes once no cluster is left: the
// forward rules, ip_forward, the hostPath folder and the /run/netns mount.
func (e *Env) cleanHost() error {
	for _, c := range e.Clusters {
		if e.leftoverState(c) {
			return nil
		}
	}
	if others, _ := os.ReadDir(e.StateRoot); len(others) > 1 {
		return nil // clusters of another set are still here
	}
	var errs []error
	errs = append(errs, removeForwardRules())
	saved := filepath.Join(e.StateRoot, "ip_forward.orig")
	if b, err := os.ReadFile(saved); err == nil {
		errs = append(errs, os.WriteFile("/proc/sys/net/ipv4/ip_forward", b, 0o644))
	}
	errs = append(errs, os.RemoveAll(HostPathRoot), os.RemoveAll(e.StateRoot))
	if entries, err := os.ReadDir("/run/netns"); err == nil && len(entries) == 0 {
		for len(mountsUnder("/run/netns")) > 0 {
			if err := syscall.Unmount("/run/netns", syscall.MNT_DETACH); err != nil {
				errs = append(errs, fmt.Errorf("unmount /run/netns: %w", err))
				break
			}
		}
	}
	return errors.Join(errs...)
}
