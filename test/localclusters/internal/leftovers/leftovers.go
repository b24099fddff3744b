// Package leftovers inspects the machine for anything the test bed may
// have left behind. It looks at the machine itself (processes, mounts,
// network namespaces, links, routes, iptables rules, cgroups, files), not
// at the test bed's own records, so that it can catch what Down forgot.
package leftovers

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Markers name what belongs to the test bed.
type Markers struct {
	// StateRoot is the test bed's state folder.
	StateRoot string
	// Binaries are the file names of the test bed's programs.
	Binaries []string
	// Strings found in a route, link or iptables rule mark it as ours
	// (address ranges, interface and chain names).
	Strings []string
	// CgroupRoots are the kubelets' cgroup roots, e.g. "/ferry-src".
	CgroupRoots []string
	// Paths are files and folders that must be gone.
	Paths []string
}

// Find returns one line per leftover; an empty result means the machine
// is clean.
func Find(m Markers) []string {
	var found []string
	found = append(found, processes(m)...)
	found = append(found, mounts(m)...)
	found = append(found, netns()...)
	found = append(found, commandLines(m, "link", "ip", "-o", "link")...)
	found = append(found, commandLines(m, "route", "ip", "route")...)
	found = append(found, commandLines(m, "iptables rule", "iptables-save")...)
	found = append(found, cgroups(m)...)
	for _, p := range append(m.Paths, m.StateRoot) {
		if _, err := os.Lstat(p); err == nil {
			found = append(found, "file: "+p)
		}
	}
	return found
}

func processes(m Markers) []string {
	entries, _ := os.ReadDir("/proc")
	var found []string
	for _, e := range entries {
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		args := strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " ")
		base := filepath.Base(strings.TrimSuffix(exe, " (deleted)"))
		if contains(m.Binaries, base) || strings.Contains(args, m.StateRoot+"/") {
			found = append(found, fmt.Sprintf("process: %s %s", e.Name(), args))
		}
	}
	return found
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func mounts(m Markers) []string {
	b, _ := os.ReadFile("/proc/self/mountinfo")
	var found []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		mp := f[4]
		if strings.HasPrefix(mp, m.StateRoot) || strings.HasPrefix(mp, "/run/netns") ||
			strings.HasPrefix(mp, "/tmp/hostpath_pv") || strings.Contains(mp, "containerd") {
			found = append(found, "mount: "+mp)
		}
	}
	return found
}

func netns() []string {
	entries, _ := os.ReadDir("/run/netns")
	var found []string
	for _, e := range entries {
		found = append(found, "network namespace: "+e.Name())
	}
	return found
}

// commandLines runs a listing command and reports the lines holding a marker.
func commandLines(m Markers, what string, argv ...string) []string {
	out, err := exec.Command(argv[0], argv[1:]...).Output()
	if err != nil {
		return nil
	}
	var found []string
	for _, line := range bytes.Split(out, []byte("\n")) {
		for _, s := range m.Strings {
			if bytes.Contains(line, []byte(s)) {
				found = append(found, what+": "+string(bytes.TrimSpace(line)))
				break
			}
		}
	}
	return found
}

func cgroups(m Markers) []string {
	var found []string
	for _, root := range m.CgroupRoots {
		matches, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", root))
		for _, d := range matches {
			found = append(found, "cgroup: "+d)
		}
	}
	return found
}
