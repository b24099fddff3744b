package repository

import (
	"context"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"ferry.dev/ferry/internal/objstore"
)

// restoreEnv, when set ("STORE KEY DST" with the key in hex), makes the
// test binary restore the latest snapshot and exit: the tests run it as
// a non-root user in a child process (a restore pod in a namespace
// enforcing the restricted Pod Security Standard).
const restoreEnv = "FERRY_REPOSITORY_TEST_RESTORE"

func TestMain(m *testing.M) {
	if args := os.Getenv(restoreEnv); args != "" {
		if err := childRestore(strings.Fields(args)); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func childRestore(args []string) error {
	ctx := context.Background()
	store, err := objstore.NewDir(args[0])
	if err != nil {
		return err
	}
	raw, err := hex.DecodeString(args[1])
	if err != nil {
		return err
	}
	key, err := ParseKey(raw)
	if err != nil {
		return err
	}
	r, err := Open(ctx, store, key)
	if err != nil {
		return err
	}
	snap, err := r.Latest(ctx, nil)
	if err != nil {
		return err
	}
	return r.Restore(ctx, snap, args[2], RestoreOptions{Chown: os.Geteuid() == 0}, nil)
}

// TestNonRootRestore restores a snapshot as uid 1000 into a volume root
// as fsGroup leaves it (root's, group 1000, group-writable): it succeeds
// without chown, every file is the restorer's, the root keeps its own
// owner and mode, and the contents match.
func TestNonRootRestore(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a child as another user")
	}
	ctx := context.Background()
	world, err := os.MkdirTemp("", "ferry-nonroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(world) })
	if err := os.Chmod(world, 0o755); err != nil {
		t.Fatal(err)
	}
	storeDir, dst := filepath.Join(world, "store"), filepath.Join(world, "dst")
	for _, d := range []string{world, storeDir, dst} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	store, err := objstore.NewDir(storeDir)
	if err != nil {
		t.Fatal(err)
	}
	key, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Init(ctx, store, key); err != nil {
		t.Fatal(err)
	}
	src := t.TempDir()
	write(t, filepath.Join(src, "db", "base"), randomBytes(7, 2<<20))
	write(t, filepath.Join(src, "www", "index.html"), []byte("<html>"))
	if err := os.Lchown(filepath.Join(src, "www", "index.html"), 33, 33); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(src, "db"), 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(filepath.Join(src, "db"), 0o755) })
	if _, err := open(t, store, key).Backup(ctx, src, BackupOptions{}, nil); err != nil {
		t.Fatal(err)
	}
	// The child reads the store and may write its locks there.
	_ = filepath.WalkDir(storeDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			mode := os.FileMode(0o666)
			if d.IsDir() {
				mode = 0o777
			}
			_ = os.Chmod(p, mode)
		}
		return nil
	})
	if err := os.Chown(dst, 0, 1000); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dst, 0o2775|os.ModeSetgid); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(world, "repository.test")
	b, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), restoreEnv+"="+storeDir+" "+hex.EncodeToString(key[:])+" "+dst)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 1000, Gid: 1000, Groups: []uint32{1000}}}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("non-root restore: %v: %s", err, out)
	}
	for _, rel := range []string{"db", "db/base", "www", "www/index.html"} {
		st, err := os.Lstat(filepath.Join(dst, rel))
		if err != nil {
			t.Fatal(err)
		}
		sys := st.Sys().(*syscall.Stat_t)
		if sys.Uid != 1000 || sys.Gid != 1000 {
			t.Errorf("%s owned by %d:%d, want the restorer's 1000:1000", rel, sys.Uid, sys.Gid)
		}
	}
	if st, _ := os.Stat(filepath.Join(dst, "db")); st.Mode().Perm() != 0o555 {
		t.Errorf("db mode %v, want the snapshot's 0555", st.Mode())
	}
	if st, _ := os.Stat(dst); st.Mode().Perm() != 0o775 || st.Sys().(*syscall.Stat_t).Uid != 0 {
		t.Errorf("the root is %v, owned by %d: want it left as it was (0775, root's)", st.Mode(), st.Sys().(*syscall.Stat_t).Uid)
	}
	got, _ := os.ReadFile(filepath.Join(dst, "db", "base"))
	if want, _ := os.ReadFile(filepath.Join(src, "db", "base")); string(got) != string(want) {
		t.Error("db/base differs from the source")
	}
	_ = os.Chmod(filepath.Join(dst, "db"), 0o755)
}
