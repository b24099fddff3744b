package images

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestBuild(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "app")
	if err := os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := Spec{
		Repo:       "app:dev",
		Files:      []File{{Path: "/usr/local/bin/app", Src: bin, Mode: 0o755}},
		Symlinks:   map[string]string{"/bin/app": "/usr/local/bin/app"},
		Entrypoint: []string{"/usr/local/bin/app"},
	}
	img, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.OS != "linux" || cfg.Architecture != "amd64" {
		t.Errorf("platform %s/%s, want linux/amd64 (containerd will not select it otherwise)", cfg.OS, cfg.Architecture)
	}
	if len(cfg.Config.Entrypoint) != 1 || cfg.Config.Entrypoint[0] != "/usr/local/bin/app" {
		t.Errorf("entrypoint %v", cfg.Config.Entrypoint)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("layers %d, err %v", len(layers), err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		entries[h.Name] = h
	}
	for name, typ := range map[string]byte{"usr/": tar.TypeDir, "usr/local/bin/": tar.TypeDir, "tmp/": tar.TypeDir,
		"usr/local/bin/app": tar.TypeReg, "bin/app": tar.TypeSymlink} {
		h, ok := entries[name]
		if !ok || h.Typeflag != typ {
			t.Errorf("entry %q missing or of the wrong type in %v", name, entries)
		}
	}
	// Equal inputs give equal digests, so pushes are idempotent.
	img2, _ := Build(spec)
	d1, _ := img.Digest()
	d2, _ := img2.Digest()
	if d1 != d2 {
		t.Errorf("digests differ for the same input: %s %s", d1, d2)
	}
}
