package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"ferry.dev/ferry/internal/objstore"
	"ferry.dev/ferry/internal/repository"
	"ferry.dev/ferry/test/harness/s3server"
)

// runTimeout bounds one backup or restore; a longer one is a hang.
const runTimeout = 30 * time.Minute

// usage is what one measured process cost: wall seconds from start to
// exit, CPU seconds (user + system) and peak RSS in KiB, from wait4.
type usage struct {
	wall, cpu float64
	// sys is the part of cpu spent in the kernel (page faults and
	// copies into the tmpfs, mostly).
	sys    float64
	rssKiB int64
	// minflt and majflt are the page faults the process took without
	// and with I/O (a first touch of memory the VM's balloon handed back
	// is a minor fault that costs the host's work).
	minflt, majflt int64
	// server is the CPU seconds the S3 server used during the run.
	server float64
}

// timed runs a command in dir with env added to this process's and
// returns its usage; on failure the error holds the tail of its output.
func timed(ctx context.Context, dir string, env []string, name string, args ...string) (usage, error) {
	ctx, cancel := context.WithTimeout(ctx, runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start).Seconds()
	if err != nil {
		tail := out.String()
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return usage{}, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, tail)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
	return usage{wall: wall, cpu: cpu, sys: time.Duration(ru.Stime.Nano()).Seconds(), rssKiB: ru.Maxrss,
		minflt: ru.Minflt, majflt: ru.Majflt}, nil
}

// A tool is a backup program under test. Buckets exist before init;
// set names the data set, which the tool keeps apart (a tag).
type tool interface {
	name() string
	setServer(srv *s3server.Server)
	// init makes a repository in bucket (not measured).
	init(ctx context.Context, bucket string) error
	backup(ctx context.Context, bucket, set, src, label string) (usage, error)
	restore(ctx context.Context, bucket, set, dst, label string) (usage, error)
}

// ferryTool runs `ferry mover backup` and `ferry mover restore`.
type ferryTool struct {
	bin, dir   string // the binary; where access files go
	profileDir string // when set, a CPU profile per run goes there
	srv        *s3server.Server
	key        repository.Key
}

func (f *ferryTool) name() string { return "ferry" }

func (f *ferryTool) setServer(srv *s3server.Server) { f.srv = srv }

func (f *ferryTool) access(bucket string) string {
	return filepath.Join(f.dir, "access-"+bucket+".json")
}

func (f *ferryTool) init(ctx context.Context, bucket string) error {
	if f.key == (repository.Key{}) {
		if _, err := rand.Read(f.key[:]); err != nil {
			return err
		}
	}
	cfg := f.srv.Config(bucket)
	store, err := objstore.NewS3(cfg)
	if err != nil {
		return err
	}
	if _, err := repository.Init(ctx, store, f.key); err != nil {
		return fmt.Errorf("init the ferry repository in %s: %w", bucket, err)
	}
	b, err := json.Marshal(repository.Access{Store: cfg, Key: f.key[:]})
	if err != nil {
		return err
	}
	return os.WriteFile(f.access(bucket), b, 0o600)
}

func (f *ferryTool) profile(label string) []string {
	if f.profileDir == "" {
		return nil
	}
	return []string{"--cpuprofile", filepath.Join(f.profileDir, "ferry-"+label+".pprof")}
}

func (f *ferryTool) backup(ctx context.Context, bucket, set, src, label string) (usage, error) {
	args := append([]string{"mover", "backup", "--access", f.access(bucket), "--root", src, "--tag", "set=" + set}, f.profile(label)...)
	return timed(ctx, "/", nil, f.bin, args...)
}

func (f *ferryTool) restore(ctx context.Context, bucket, set, dst, label string) (usage, error) {
	args := append([]string{"mover", "restore", "--access", f.access(bucket), "--root", dst, "--tag", "set=" + set}, f.profile(label)...)
	return timed(ctx, "/", nil, f.bin, args...)
}

// resticTool runs Debian's restic against the same server. Its local
// cache, on by default, stays on (in cacheDir, on the tmpfs).
type resticTool struct {
	cacheDir string
	srv      *s3server.Server
}

func (r *resticTool) name() string { return "restic" }

func (r *resticTool) setServer(srv *s3server.Server) { r.srv = srv }

// env is restic's environment: the password and the server's keys.
func (r *resticTool) env() []string {
	return []string{"RESTIC_PASSWORD=ferry-bench-password", "AWS_ACCESS_KEY_ID=" + r.srv.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + r.srv.SecretKey, "AWS_DEFAULT_REGION=us-east-1"}
}

func (r *resticTool) args(bucket string, rest ...string) []string {
	return append([]string{"-r", "s3:" + r.srv.URL + "/" + bucket, "--cache-dir", r.cacheDir}, rest...)
}

func (r *resticTool) init(ctx context.Context, bucket string) error {
	_, err := timed(ctx, "/", r.env(), "restic", r.args(bucket, "init")...)
	return err
}

// backup backs up "." from inside src, so that the snapshot holds src's
// entries at its root and a restore puts them straight into its target.
func (r *resticTool) backup(ctx context.Context, bucket, set, src, _ string) (usage, error) {
	return timed(ctx, src, r.env(), "restic", r.args(bucket, "backup", "--host", "bench", "--tag", "set="+set, ".")...)
}

func (r *resticTool) restore(ctx context.Context, bucket, set, dst, _ string) (usage, error) {
	return timed(ctx, "/", r.env(), "restic", r.args(bucket, "restore", "latest", "--host", "bench", "--tag", "set="+set, "--target", dst)...)
}
