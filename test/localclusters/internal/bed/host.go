package bed

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// cgroupV1Controllers are the v1 hierarchies the kubelet needs its cgroup
// root to exist in.
var cgroupV1Controllers = []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd"}

// iptablesComment marks the root-namespace rules the test bed adds.
const iptablesComment = "ferry-localclusters"

// setupNetwork creates the node's network namespace, the veth pair, the
// addresses and the routes for the pod CIDR.
func (c *Cluster) setupNetwork() error {
	ns, host := c.NetNS(), c.HostVeth()
	steps := [][]string{
		{"ip", "netns", "add", ns},
		{"ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"ip", "addr", "add", c.HostIP() + "/24", "dev", host},
		{"ip", "link", "set", host, "up"},
		{"ip", "-n", ns, "addr", "add", c.NodeIP() + "/24", "dev", "eth0"},
		{"ip", "-n", ns, "link", "set", "eth0", "up"},
		{"ip", "-n", ns, "link", "set", "lo", "up"},
		{"ip", "-n", ns, "route", "add", "default", "via", c.HostIP()},
		{"ip", "route", "add", c.PodCIDR(), "via", c.NodeIP(), "dev", host},
		{"nsenter", "--net=/run/netns/" + ns, "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.bridge.bridge-nf-call-iptables=1"},
	}
	for _, s := range steps {
		if err := run(s...); err != nil {
			return fmt.Errorf("set up network of %s: %w", c.Name, err)
		}
	}
	return c.allowForwarding()
}

// allowForwarding accepts forwarded traffic of the cluster in the root
// namespace, in case the machine's FORWARD policy drops it.
func (c *Cluster) allowForwarding() error {
	for _, cidr := range []string{c.PodCIDR(), c.NodeIP() + "/32"} {
		for _, dir := range []string{"-s", "-d"} {
			rule := []string{"FORWARD", dir, cidr, "-m", "comment", "--comment", iptablesComment, "-j", "ACCEPT"}
			if err := run(append([]string{"iptables", "-I"}, rule...)...); err != nil {
				return fmt.Errorf("allow forwarding for %s: %w", c.Name, err)
			}
		}
	}
	return nil
}

// teardownNetwork removes the namespace (and with it the veth pair and
// the routes through it). It is a no-op when nothing exists.
func (c *Cluster) teardownNetwork() error {
	var errs []error
	if _, err := os.Stat("/run/netns/" + c.NetNS()); err == nil {
		if err := run("ip", "netns", "del", c.NetNS()); err != nil {
			errs = append(errs, err)
		}
	}
	// The kernel removes the veth pair with the namespace, asynchronously.
	veth := "/sys/class/net/" + c.HostVeth()
	for i := 0; i < 40 && exists(veth); i++ {
		time.Sleep(50 * time.Millisecond)
	}
	if exists(veth) {
		if err := run("ip", "link", "del", c.HostVeth()); err != nil && exists(veth) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// removeForwardRules deletes every root-namespace iptables rule carrying
// the test bed's comment.
func removeForwardRules() error {
	out, err := output("iptables", "-S", "FORWARD")
	if err != nil {
		return nil // no iptables: nothing of ours can be there
	}
	var errs []error
	for _, line := range strings.Split(out, "\n") {
		if !strings.Contains(line, iptablesComment) || !strings.HasPrefix(line, "-A ") {
			continue
		}
		args := append([]string{"iptables", "-D"}, splitRule(strings.TrimPrefix(line, "-A "))...)
		errs = append(errs, run(args...))
	}
	return errors.Join(errs...)
}

// splitRule splits an iptables -S line into arguments, honouring quotes.
func splitRule(s string) []string {
	var args []string
	var cur strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				args = append(args, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		args = append(args, cur.String())
	}
	return args
}

// setupCgroups creates the kubelet's cgroup root in every v1 hierarchy.
func (c *Cluster) setupCgroups() error {
	for _, ctl := range cgroupV1Controllers {
		dir := filepath.Join("/sys/fs/cgroup", ctl, c.CgroupRoot())
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("create cgroup %s: %w", dir, err)
		}
		if ctl != "cpuset" {
			continue
		}
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/cpuset", f))
			if err != nil {
				return fmt.Errorf("read parent %s: %w", f, err)
			}
			if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
				return fmt.Errorf("write %s of %s: %w", f, dir, err)
			}
		}
	}
	return nil
}

// cgroupPids lists every process in the cluster's cgroup trees.
func (c *Cluster) cgroupPids() []int {
	seen := map[int]bool{}
	var pids []int
	for _, root := range c.cgroupTrees() {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
				return nil
			}
			b, _ := os.ReadFile(p)
			for _, f := range strings.Fields(string(b)) {
				var pid int
				if _, err := fmt.Sscan(f, &pid); err == nil && !seen[pid] {
					seen[pid] = true
					pids = append(pids, pid)
				}
			}
			return nil
		})
	}
	return pids
}

// removeCgroups removes the cluster's cgroup trees, deepest first, in
// every hierarchy (runc also creates them in the unified one).
func (c *Cluster) removeCgroups() error {
	var errs []error
	for _, root := range c.cgroupTrees() {
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
		for _, d := range dirs {
			if err := os.Remove(d); err != nil && !os.IsNotExist(err) {
				errs = append(errs, fmt.Errorf("remove cgroup %s: %w", d, err))
			}
		}
	}
	return errors.Join(errs...)
}

// mountsUnder lists the mount points below dir (or equal to it), deepest first.
func mountsUnder(dir string) []string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	var mps []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := unescapeMount(f[4])
		if mp == dir || strings.HasPrefix(mp, dir+"/") {
			mps = append(mps, mp)
		}
	}
	sort.Slice(mps, func(i, j int) bool { return len(mps[i]) > len(mps[j]) })
	return mps
}

func unescapeMount(s string) string {
	return strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`).Replace(s)
}

// cgroupTrees lists the cluster's cgroup root in every hierarchy where it
// exists (runc also creates it in the unified one).
func (c *Cluster) cgroupTrees() []string {
	roots, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", c.CgroupRoot()))
	return roots
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
