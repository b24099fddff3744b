package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// rsyncFlags are MTC's rsync flags (bench/mover/run.sh, docs/benchmarks.md).
var rsyncFlags = []string{"-a", "--delete", "--hard-links", "--partial",
	"--info=COPY2,DEL2,REMOVE2,SKIP2,FLIST2,PROGRESS2,STATS2", "--human-readable"}

// deltaBench runs the final sync from state B onto a fresh copy of state
// A, with Ferry's mover (serve and sync over mutual TLS) and with rsync
// through stunnel, on loopback, in a scratch directory on a tmpfs.
type deltaBench struct {
	ferry, benchtool string
	dir              string // scratch: certificates, configs, logs
	a, b             string // the two states
	target           string // where each run writes
}

// deltaRun is one timed final sync.
type deltaRun struct {
	tool      string
	wall      time.Duration
	sent      int64 // file data (Ferry) or total bytes sent (rsync)
	matched   int64
	partial   int64
	reused    int64
	deleted   int64
	skipped   int64
	bytesDone int64
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func waitPort(port int) error {
	for range 200 {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port)); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on 127.0.0.1:%d after 10 s", port)
}

// background starts a process whose output goes to dir/name.log; stop
// ends it (SIGTERM, then waits).
func (d *deltaBench) background(name string, prog string, args ...string) (stop func(), err error) {
	log, err := os.Create(filepath.Join(d.dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(prog, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", prog, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); log.Close(); close(done) }()
	return func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}, nil
}

func (d *deltaBench) setup(ctx context.Context) error {
	if err := run(ctx, d.ferry, "mover", "certs", "--out", filepath.Join(d.dir, "certs")); err != nil {
		return err
	}
	return run(ctx, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
		"-keyout", filepath.Join(d.dir, "stunnel.key"), "-out", filepath.Join(d.dir, "stunnel.crt"))
}

// reset makes the target an exact copy of state A.
func (d *deltaBench) reset(ctx context.Context) error {
	if err := os.RemoveAll(d.target); err != nil {
		return err
	}
	return run(ctx, "cp", "-a", "--reflink=auto", d.a, d.target)
}

// check fails unless the target equals state B (names, modes, owners,
// times, bytes).
func (d *deltaBench) check(ctx context.Context, tool string) error {
	if err := run(ctx, d.benchtool, "verify", d.b, d.target); err != nil {
		return fmt.Errorf("WRONG COPY by %s: %w", tool, err)
	}
	return nil
}

// ferrySync is the final sync with `ferry mover serve` and `ferry mover
// sync --delete --final`, as a cutover's final copy runs them.
func (d *deltaBench) ferrySync(ctx context.Context) (deltaRun, error) {
	port, err := freePort()
	if err != nil {
		return deltaRun{}, err
	}
	certs := filepath.Join(d.dir, "certs")
	stop, err := d.background("ferry-serve", d.ferry, "mover", "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port),
		"--root", d.target, "--tls-dir", certs, "--once")
	if err != nil {
		return deltaRun{}, err
	}
	defer stop()
	if err := waitPort(port); err != nil {
		return deltaRun{}, err
	}
	start := time.Now()
	out, err := exec.CommandContext(ctx, d.ferry, "mover", "sync", "--to", fmt.Sprintf("127.0.0.1:%d", port), "--root", d.b,
		"--tls-dir", certs, "--delete", "--final", "--progress=json").Output()
	r := deltaRun{tool: "ferry", wall: time.Since(start)}
	if err != nil {
		return r, fmt.Errorf("ferry mover sync: %w: %s", err, tail(string(out)))
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var p struct {
		Phase                              string
		BytesSent, BytesMatched, BytesDone int64
		Partial, Reused, Deleted, Skipped  int64
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &p); err != nil || p.Phase != "done" {
		return r, fmt.Errorf("ferry mover sync: last progress line %q is not phase done (%v)", lines[len(lines)-1], err)
	}
	r.sent, r.matched, r.partial, r.reused, r.deleted, r.skipped, r.bytesDone =
		p.BytesSent, p.BytesMatched, p.Partial, p.Reused, p.Deleted, p.Skipped, p.BytesDone
	return r, nil
}

// rsyncSync is the final sync with MTC's method: an rsync daemon behind a
// stunnel server, a stunnel client, rsync with MTC's flags.
func (d *deltaBench) rsyncSync(ctx context.Context) (deltaRun, error) {
	var ports [3]int // rsync daemon, stunnel server, stunnel client
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return deltaRun{}, err
		}
		ports[i] = p
	}
	files := map[string]string{
		"rsyncd.conf": fmt.Sprintf("use chroot = no\n[bench]\npath = %s\nread only = no\nuid = root\ngid = root\n", d.target),
		"stunnel-server.conf": fmt.Sprintf("foreground = yes\npid =\ndebug = warning\nsocket = l:TCP_NODELAY=1\nsocket = r:TCP_NODELAY=1\n"+
			"[rsync]\naccept = 127.0.0.1:%d\nconnect = 127.0.0.1:%d\ncert = %s\nkey = %s\n",
			ports[1], ports[0], filepath.Join(d.dir, "stunnel.crt"), filepath.Join(d.dir, "stunnel.key")),
		"stunnel-client.conf": fmt.Sprintf("foreground = yes\npid =\ndebug = warning\nsocket = l:TCP_NODELAY=1\nsocket = r:TCP_NODELAY=1\n"+
			"[rsync]\nclient = yes\naccept = 127.0.0.1:%d\nconnect = 127.0.0.1:%d\n", ports[2], ports[1]),
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(d.dir, name), []byte(text), 0o600); err != nil {
			return deltaRun{}, err
		}
	}
	for _, p := range []struct {
		name string
		args []string
	}{
		{"rsyncd", []string{"rsync", "--daemon", "--no-detach", "--config=" + filepath.Join(d.dir, "rsyncd.conf"), "--address=127.0.0.1", fmt.Sprintf("--port=%d", ports[0])}},
		{"stunnel-server", []string{"stunnel4", filepath.Join(d.dir, "stunnel-server.conf")}},
		{"stunnel-client", []string{"stunnel4", filepath.Join(d.dir, "stunnel-client.conf")}},
	} {
		stop, err := d.background(p.name, p.args[0], p.args[1:]...)
		if err != nil {
			return deltaRun{}, err
		}
		defer stop()
	}
	for _, p := range ports {
		if err := waitPort(p); err != nil {
			return deltaRun{}, err
		}
	}
	start := time.Now()
	args := append(append([]string{}, rsyncFlags...), d.b+"/", fmt.Sprintf("rsync://root@127.0.0.1:%d/bench/", ports[2]))
	out, err := exec.CommandContext(ctx, "rsync", args...).CombinedOutput()
	r := deltaRun{tool: "rsync", wall: time.Since(start)}
	if err != nil {
		return r, fmt.Errorf("rsync: %w: %s", err, tail(string(out)))
	}
	if r.sent, err = rsyncStat(string(out), "Total bytes sent"); err != nil {
		return r, err
	}
	if r.matched, err = rsyncStat(string(out), "Matched data"); err != nil {
		return r, err
	}
	r.deleted = int64(strings.Count(string(out), "\ndeleting "))
	return r, nil
}

var humanNumber = regexp.MustCompile(`^([0-9.,]+)([KMGT]?)`)

// rsyncStat reads a figure of rsync's --stats output (--human-readable
// prints units of 1000: 5.45M).
func rsyncStat(out, label string) (int64, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), label+": ")
		if !ok {
			continue
		}
		m := humanNumber.FindStringSubmatch(v)
		if m == nil {
			break
		}
		f, err := strconv.ParseFloat(strings.ReplaceAll(m[1], ",", ""), 64)
		if err != nil {
			break
		}
		mult := map[string]float64{"": 1, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}[m[2]]
		return int64(f * mult), nil
	}
	return 0, fmt.Errorf("rsync --stats printed no %q", label)
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}
