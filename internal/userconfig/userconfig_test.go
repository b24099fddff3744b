package userconfig

import (
	"os"
	"path/filepath"
	"testing"
)

func TestRememberAndLookup(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(DirEnv, dir)
	t.Chdir(dir)
	key := Key("https://host:6443", "ferry-system", "src")
	if _, ok, err := Lookup(key); err != nil || ok {
		t.Fatalf("lookup before any record: ok %v, err %v", ok, err)
	}
	if err := Remember(key, "src.yaml", "ctx"); err != nil {
		t.Fatal(err)
	}
	if err := Remember(Key("https://host:6443", "ferry-system", "dst"), "", ""); err != nil {
		t.Fatal(err)
	}
	got, ok, err := Lookup(key)
	if err != nil || !ok {
		t.Fatalf("lookup: ok %v, err %v", ok, err)
	}
	if want := (Known{Kubeconfig: filepath.Join(dir, "src.yaml"), Context: "ctx"}); got != want {
		t.Errorf("recorded %+v, want %+v (an absolute path)", got, want)
	}
	info, err := os.Stat(filepath.Join(dir, "kubeconfigs.json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("record file: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
	if err := os.WriteFile(filepath.Join(dir, "kubeconfigs.json"), []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Lookup(key); err == nil {
		t.Error("a broken record file reads without an error")
	}
}
