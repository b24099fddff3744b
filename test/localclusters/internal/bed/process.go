package bed

import (
	"bytes"
	"encoding/base64"
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

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// proc is one long-running process of a cluster.
type proc struct {
	name   string   // e.g. "kube-apiserver"; names the log and pid files
	argv   []string // program and arguments
	inNode bool     // run inside the node's network namespace
}

// start launches p detached from this process (its own session, output to
// logs/<name>.log) and records its pid.
func (c *Cluster) start(p proc) error {
	for _, d := range []string{c.Path("logs"), c.Path("pids")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("create %s: %w", d, err)
		}
	}
	argv := p.argv
	if p.inNode {
		argv = append([]string{"nsenter", "--net=/run/netns/" + c.NetNS(), "--"}, argv...)
	}
	logf, err := os.OpenFile(c.Path("logs", p.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open log of %s: %w", p.name, err)
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	pid := cmd.Process.Pid
	_ = cmd.Process.Release()
	slog.Debug("started process", "cluster", c.Name, "process", p.name, "pid", pid)
	return os.WriteFile(c.Path("pids", p.name+".pid"), []byte(strconv.Itoa(pid)), 0o644)
}

// pid returns the recorded pid of a process, if it is still alive.
func (c *Cluster) pid(name string) (int, bool) {
	b, err := os.ReadFile(c.Path("pids", name+".pid"))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, false
	}
	return pid, alive(pid)
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z'
}

// logTail returns the last lines of a process's log, for error messages.
func (c *Cluster) logTail(name string, lines int) string {
	b, err := os.ReadFile(c.Path("logs", name+".log"))
	if err != nil {
		return ""
	}
	all := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(all) > lines {
		all = all[len(all)-lines:]
	}
	return strings.Join(all, "\n")
}

// pidsMatching lists the processes whose command line contains s.
func pidsMatching(s string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	self := os.Getpid()
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if bytes.Contains(cmdline, []byte(s)) && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// killAndWait sends sig to every pid, then SIGKILL to those still alive
// after grace, and waits until all are gone.
func killAndWait(pids []int, sig syscall.Signal, grace time.Duration) error {
	for _, p := range pids {
		_ = syscall.Kill(p, sig)
	}
	deadline := time.Now().Add(grace)
	for {
		left := pids[:0:0]
		for _, p := range pids {
			if alive(p) {
				left = append(left, p)
			}
		}
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			if sig == syscall.SIGKILL {
				return fmt.Errorf("processes %v did not exit after SIGKILL", left)
			}
			return killAndWait(left, syscall.SIGKILL, 5*time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// run runs a short command and returns its combined output in the error.
func run(argv ...string) error {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// output runs a short command and returns its standard output.
func output(argv ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w: %s", strings.Join(argv, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return string(out), nil
}
