// Package s3server runs versitygw, an S3 gateway over a local directory,
// as the S3 service of Ferry's tests and benchmarks.
//
// # Basics
//
// [Binary] builds versitygw once with `go install` into the cache folder
// ($FERRY_CACHE, default ~/.cache/ferry: versitygw-VERSION/versitygw)
// and reuses it afterwards; `make s3-server` does the same before the
// tests run. [New] starts a server on a free port of an address,
// serving a directory; [Start] does so for a test and stops it when the
// test ends:
//
//	srv := s3server.Start(t, s3server.Options{})
//	srv.MakeBucket(t, "repo")
//	store, err := objstore.NewS3(srv.Config("repo"))
//
// With Options.IAMDir the server keeps users besides the root user;
// [Server.CreateUser] adds one, e.g. of role "user", which may not touch
// the root user's buckets (a Permission failure to test).
//
// Pods of both local clusters reach the test bed's root network
// namespace at [PodReachableHost] (10.200.1.1); unit and envtest tests
// use 127.0.0.1, the default.
//
// # Caveats
//
// Stop and Restart keep the port and the directory, so a test can take
// the service away in the middle of an upload and bring it back with
// what it stored. The port is found free just before the first start;
// another process could take it in between (New tries three ports).
package s3server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"ferry.dev/ferry/internal/objstore"
)

// Version of versitygw the tests run.
const Version = "v1.8.0"

// Module is what `go install` builds.
const Module = "github.com/versity/versitygw/cmd/versitygw@" + Version

// PodReachableHost is the address of the test bed's root network
// namespace that pods of both local clusters reach (the root side of
// the src node's veth).
const PodReachableHost = "10.200.1.1"

// Default keys of the server's root user.
const (
	DefaultAccessKey = "ferrytest"
	DefaultSecretKey = "ferrytest-secret-key"
)

// CacheDir is the cache folder of built tools: $FERRY_CACHE, else
// ~/.cache/ferry.
func CacheDir() (string, error) {
	if c := os.Getenv("FERRY_CACHE"); c != "" {
		return c, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cache folder: %w", err)
	}
	return filepath.Join(home, ".cache", "ferry"), nil
}

// Binary returns the path of versitygw, building it first when it is not
// in the cache (about a minute and a half). Concurrent callers, in this
// process or others, build it once: a lock file serialises them.
func Binary(ctx context.Context) (string, error) {
	cache, err := CacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "versitygw-"+Version)
	bin := filepath.Join(dir, "versitygw")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", fmt.Errorf("create cache folder: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(cache, "versitygw-"+Version+".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("lock versitygw build: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock versitygw build: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing unlocks too
	if _, err := os.Stat(bin); err == nil {
		return bin, nil // built by whoever held the lock
	}
	tmp, err := os.MkdirTemp(cache, ".versitygw-build-")
	if err != nil {
		return "", fmt.Errorf("build versitygw: %w", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", "install", Module)
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=", "CGO_ENABLED=0")
	cmd.Dir = tmp // outside any module
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w\n%s", Module, err, out)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return "", fmt.Errorf("build versitygw: %w", err)
	}
	return bin, nil
}

// Options configure a server.
type Options struct {
	// Host is the address to listen on; 127.0.0.1 when empty.
	Host string
	// Dir holds the buckets, one folder each; a new temporary folder
	// when empty (removed by Stop's caller, or the test, not by Stop).
	Dir string
	// AccessKey and SecretKey of the root user; the defaults when empty.
	AccessKey, SecretKey string
	// IAMDir, when set, keeps users besides the root user there
	// (versitygw's internal IAM), which CreateUser adds.
	IAMDir string
}

// Server is a running (or stopped) versitygw.
type Server struct {
	// Addr is HOST:PORT, URL http://HOST:PORT.
	Addr, URL string
	// Dir holds the buckets.
	Dir string
	// AccessKey and SecretKey of the root user.
	AccessKey, SecretKey string

	iamDir string
	bin    string
	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan error // receives the running process's exit
	log    bytes.Buffer
}

// New builds versitygw when needed and starts it on a free port of
// o.Host.
func New(ctx context.Context, o Options) (*Server, error) {
	bin, err := Binary(ctx)
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: o.Dir, AccessKey: o.AccessKey, SecretKey: o.SecretKey, iamDir: o.IAMDir, bin: bin}
	if s.Dir == "" {
		if s.Dir, err = os.MkdirTemp("", "ferry-s3-"); err != nil {
			return nil, fmt.Errorf("s3 server folder: %w", err)
		}
	}
	if s.AccessKey == "" {
		s.AccessKey, s.SecretKey = DefaultAccessKey, DefaultSecretKey
	}
	host := o.Host
	if host == "" {
		host = "127.0.0.1"
	}
	for try := 0; ; try++ {
		port, err := freePort(host)
		if err != nil {
			return nil, err
		}
		s.Addr = net.JoinHostPort(host, strconv.Itoa(port))
		s.URL = "http://" + s.Addr
		if err = s.start(); err == nil || try == 2 {
			return s, err
		}
	}
}

// Start starts a server for the test, stopped (and its temporary
// folder removed) when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	if o.Dir == "" {
		o.Dir = t.TempDir()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s, err := New(ctx, o)
	if err != nil {
		t.Fatalf("start S3 server: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stop S3 server: %v", err)
		}
	})
	return s
}

func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("find a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs versitygw and waits until it accepts connections.
func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return fmt.Errorf("S3 server at %s runs already", s.Addr)
	}
	args := []string{"--quiet", "--port", s.Addr}
	if s.iamDir != "" {
		args = append(args, "--iam-dir", s.iamDir)
	}
	cmd := exec.Command(s.bin, append(args, "posix", s.Dir)...)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	s.log.Reset()
	cmd.Stdout, cmd.Stderr = &s.log, &s.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start versitygw: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-exited:
			return fmt.Errorf("versitygw on %s exited: %v\n%s", s.Addr, err, s.log.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", s.Addr, 200*time.Millisecond); err == nil {
			c.Close()
			s.cmd, s.exited = cmd, exited
			return nil
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			return fmt.Errorf("versitygw on %s did not listen within 20s\n%s", s.Addr, s.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends the server (SIGTERM, then SIGKILL after 5 s); the port and
// the folder stay for Restart. Stopping a stopped server does nothing.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	cmd, exited := s.cmd, s.exited
	s.cmd, s.exited = nil, nil
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		if err := cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
			return fmt.Errorf("kill versitygw: %w", err)
		}
		<-exited
	}
	return nil
}

// Restart starts the stopped server again, on the same port and folder.
func (s *Server) Restart() error {
	if err := s.Stop(); err != nil {
		return err
	}
	return s.start()
}

// CPU is the CPU time the running server has used so far, in user mode
// and in the kernel, from /proc/PID/stat (in clock ticks of 10 ms), for
// benchmarks that count the server's share of the work.
func (s *Server) CPU() (user, sys time.Duration, err error) {
	s.mu.Lock()
	cmd := s.cmd
	s.mu.Unlock()
	if cmd == nil {
		return 0, 0, fmt.Errorf("S3 server at %s is not running", s.Addr)
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid))
	if err != nil {
		return 0, 0, fmt.Errorf("CPU time of versitygw: %w", err)
	}
	// The command name, in parentheses, may hold spaces; fields 14 and
	// 15 (utime, stime) count from the closing one.
	i := bytes.LastIndexByte(b, ')')
	var fields []string
	if i >= 0 {
		fields = strings.Fields(string(b[i+1:]))
	}
	if len(fields) < 13 {
		return 0, 0, fmt.Errorf("CPU time of versitygw: unexpected /proc stat %q", b)
	}
	const tick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	ut, err1 := strconv.ParseInt(fields[11], 10, 64)
	st, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, 0, fmt.Errorf("CPU time of versitygw: %w", err)
	}
	return time.Duration(ut) * tick, time.Duration(st) * tick, nil
}

// Config is the objstore configuration of bucket on this server (path
// style, plain HTTP, the root user's keys).
func (s *Server) Config(bucket string) objstore.Config {
	return objstore.Config{Endpoint: s.URL, Bucket: bucket, PathStyle: true, AccessKey: s.AccessKey, SecretKey: s.SecretKey}
}

// Client returns a minio-go client of the server as its root user, for
// what tests do beside a Store (presigned URLs, raw listings).
func (s *Server) Client() (*minio.Client, error) {
	c, err := minio.New(s.Addr, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Region: "us-east-1", BucketLookup: minio.BucketLookupPath})
	if err != nil {
		return nil, fmt.Errorf("s3 client: %w", err)
	}
	return c, nil
}

// CreateBucket creates a bucket.
func (s *Server) CreateBucket(ctx context.Context, name string) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	if err := c.MakeBucket(ctx, name, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
		return fmt.Errorf("create bucket %s at %s: %w", name, s.URL, err)
	}
	return nil
}

// CreateUser adds a user with its keys and a role: "user" may use only
// the buckets it owns (others answer AccessDenied), "admin" all. The
// server needs Options.IAMDir.
func (s *Server) CreateUser(ctx context.Context, accessKey, secretKey, role string) error {
	if s.iamDir == "" {
		return fmt.Errorf("S3 server at %s has no IAM folder: start it with Options.IAMDir", s.Addr)
	}
	cmd := exec.CommandContext(ctx, s.bin, "admin", "--access", s.AccessKey, "--secret", s.SecretKey, "--endpoint-url", s.URL,
		"create-user", "--access", accessKey, "--secret", secretKey, "--role", role)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("create S3 user at %s: %w: %s", s.URL, err, out)
	}
	return nil
}

// MakeBucket creates a bucket for the test, failing it on an error.
func (s *Server) MakeBucket(t testing.TB, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.CreateBucket(ctx, name); err != nil {
		t.Fatal(err)
	}
}
