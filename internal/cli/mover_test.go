package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ferry.dev/ferry/internal/mover"
)

func runCLI(ctx context.Context, args ...string) (stdout, stderr string, err error) {
	cmd := NewRootCommand()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	cmd.SetArgs(args)
	err = cmd.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestMoverCertsServeSync(t *testing.T) {
	tlsDir, src, dst := t.TempDir(), t.TempDir(), t.TempDir()
	if _, _, err := runCLI(context.Background(), "mover", "certs", "--out", tlsDir, "--hosts", "127.0.0.1,mover.example"); err != nil {
		t.Fatalf("certs: %v", err)
	}
	for _, name := range []string{"ca.crt", "server.crt", "server.key", "client.crt", "client.key"} {
		if _, err := os.Stat(filepath.Join(tlsDir, name)); err != nil {
			t.Errorf("certs did not write %s: %v", name, err)
		}
	}
	if err := os.WriteFile(filepath.Join(src, "hello.txt"), []byte("hello"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "stale.txt"), []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	served := make(chan error, 1)
	go func() {
		_, _, err := runCLI(ctx, "mover", "serve", "--listen", addr, "--root", dst, "--tls-dir", tlsDir, "--once")
		served <- err
	}()
	out := syncWhenUp(ctx, t, "mover", "sync", "--to", addr, "--root", src, "--tls-dir", tlsDir,
		"--delete", "--verify", "--progress=json", "--parallel", "2")
	if err := <-served; err != nil {
		t.Errorf("serve --once: %v", err)
	}
	last := lastProgress(t, out)
	if last.Phase != mover.PhaseDone || last.FilesDone != 1 || last.Deleted != 1 {
		t.Errorf("last progress line = %+v, want done with 1 file and 1 deletion", last)
	}
	if b, err := os.ReadFile(filepath.Join(dst, "hello.txt")); err != nil || string(b) != "hello" {
		t.Errorf("hello.txt on destination = %q, %v", b, err)
	}
	if _, err := os.Stat(filepath.Join(dst, "stale.txt")); err == nil {
		t.Error("stale.txt survived --delete")
	}
}

// syncWhenUp retries the sync until the receiver listens.
func syncWhenUp(ctx context.Context, t *testing.T, args ...string) string {
	t.Helper()
	for {
		out, stderr, err := runCLI(ctx, args...)
		if err == nil {
			return out
		}
		if !strings.Contains(err.Error(), "connection refused") || ctx.Err() != nil {
			t.Fatalf("sync: %v\n%s", err, stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func lastProgress(t *testing.T, out string) mover.Progress {
	t.Helper()
	var last mover.Progress
	sc := bufio.NewScanner(strings.NewReader(out))
	n := 0
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatalf("progress line %q: %v", sc.Text(), err)
		}
		n++
	}
	if n == 0 {
		t.Fatal("no progress lines on stdout")
	}
	return last
}

func TestMoverFlagValidation(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"certs without out", []string{"mover", "certs"}, "--out"},
		{"serve without root", []string{"mover", "serve", "--tls-dir", "x"}, "--root"},
		{"sync without to", []string{"mover", "sync", "--root", "x", "--tls-dir", "y"}, "--to"},
		{"sync bad progress", []string{"mover", "sync", "--to", "h:1", "--root", "x", "--tls-dir", "y", "--progress=xml"}, "progress"},
		{"sync bad parallel", []string{"mover", "sync", "--to", "h:1", "--root", "x", "--tls-dir", "y", "--parallel", "0"}, "parallel"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := runCLI(context.Background(), tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one mentioning %s", err, tt.want)
			}
		})
	}
}

// TestMoverPeerName: certs --identity names the identity both sides'
// --peer-name require; serve refuses a client certificate of the same CA
// when it expects another identity.
func TestMoverPeerName(t *testing.T) {
	const id = "ferry://migration/m/transfer/aaaaaaaaaa"
	tlsDir, src := t.TempDir(), t.TempDir()
	if _, _, err := runCLI(context.Background(), "mover", "certs", "--out", tlsDir, "--identity", id); err != nil {
		t.Fatalf("certs: %v", err)
	}
	if err := os.WriteFile(filepath.Join(src, "hello.txt"), []byte("hello"), 0o640); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, servePeer, wantErr string
	}{
		{"own identity", id, ""},
		{"another identity", "ferry://migration/m/transfer/bbbbbbbbbb", "bad certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst, addr := t.TempDir(), freeAddr(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			served := make(chan error, 1)
			go func() {
				_, _, err := runCLI(ctx, "mover", "serve", "--listen", addr, "--root", dst, "--tls-dir", tlsDir, "--once", "--peer-name", tt.servePeer)
				served <- err
			}()
			args := []string{"mover", "sync", "--to", addr, "--root", src, "--tls-dir", tlsDir, "--peer-name", id, "--progress=json"}
			if tt.wantErr == "" {
				syncWhenUp(ctx, t, args...)
				if err := <-served; err != nil {
					t.Errorf("serve --once: %v", err)
				}
				return
			}
			var err error
			for {
				if _, _, err = runCLI(ctx, args...); err == nil || !strings.Contains(err.Error(), "connection refused") || ctx.Err() != nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("sync = %v, want an error containing %q", err, tt.wantErr)
			}
			cancel()
			<-served
		})
	}
	if _, _, err := runCLI(context.Background(), "mover", "serve", "--root", t.TempDir(), "--tls-dir", tlsDir, "--peer-name", "no uri"); err == nil || !strings.Contains(err.Error(), "--peer-name") {
		t.Errorf("serve with a bad --peer-name = %v", err)
	}
}

func TestMoverUsage(t *testing.T) {
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "f"), bytes.Repeat([]byte{1}, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	result := filepath.Join(t.TempDir(), "termination-log")
	out, _, err := runCLI(context.Background(), "mover", "usage", root, "--result-file", result)
	if err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(result)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out) != string(file) {
		t.Errorf("stdout %q and result file %q differ", out, file)
	}
	var u mover.Usage
	if err := json.Unmarshal(file, &u); err != nil {
		t.Fatalf("result %q: %v", file, err)
	}
	if u.Inodes != 2 || u.ApparentBytes != 1<<20 || u.Bytes < 1<<20 {
		t.Errorf("usage = %+v, want 2 inodes, 1 MiB apparent and at least 1 MiB allocated", u)
	}
}

func TestAwaitStart(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	file := filepath.Join(t.TempDir(), "go")
	if err := awaitStart(context.Background(), "", time.Millisecond, log); err != nil {
		t.Errorf("no start file: %v", err)
	}
	if err := awaitStart(context.Background(), file, 50*time.Millisecond, log); err == nil || !strings.Contains(err.Error(), "no start signal") {
		t.Errorf("without the file: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- awaitStart(context.Background(), file, time.Minute, log) }()
	time.Sleep(30 * time.Millisecond)
	if _, _, err := runCLI(context.Background(), "mover", "release", file); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("released: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the release did not end the wait")
	}
}

// TestMoverServerName: a receiver whose certificate names only a DNS name
// (a namespace admin's receiver, dialed at its node's address) is
// accepted with --server-name that name, and refused without it.
func TestMoverServerName(t *testing.T) {
	tlsDir, src := t.TempDir(), t.TempDir()
	if _, _, err := runCLI(context.Background(), "mover", "certs", "--out", tlsDir, "--hosts", "receiver.team-a.svc"); err != nil {
		t.Fatalf("certs: %v", err)
	}
	if err := os.WriteFile(filepath.Join(src, "hello.txt"), []byte("hello"), 0o640); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, serverName, wantErr string
	}{
		{"the certificate's name", "receiver.team-a.svc", ""},
		{"the address dialed", "", "certificate"},
		{"another name", "other.team-a.svc", "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// 127.0.0.2, a loopback address the certificate does not
			// name (it names 127.0.0.1 by default).
			dst, addr := t.TempDir(), strings.Replace(freeAddr(t), "127.0.0.1", "127.0.0.2", 1)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			served := make(chan error, 1)
			go func() {
				_, _, err := runCLI(ctx, "mover", "serve", "--listen", addr, "--root", dst, "--tls-dir", tlsDir, "--once")
				served <- err
			}()
			args := []string{"mover", "sync", "--to", addr, "--root", src, "--tls-dir", tlsDir, "--progress=json"}
			if tt.serverName != "" {
				args = append(args, "--server-name", tt.serverName)
			}
			if tt.wantErr == "" {
				syncWhenUp(ctx, t, args...)
				if err := <-served; err != nil {
					t.Errorf("serve --once: %v", err)
				}
				if b, err := os.ReadFile(filepath.Join(dst, "hello.txt")); err != nil || string(b) != "hello" {
					t.Errorf("hello.txt on destination = %q, %v", b, err)
				}
				return
			}
			var err error
			for {
				if _, _, err = runCLI(ctx, args...); err == nil || !strings.Contains(err.Error(), "connection refused") || ctx.Err() != nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("sync = %v, want an error containing %q", err, tt.wantErr)
			}
			cancel()
			<-served
		})
	}
}
