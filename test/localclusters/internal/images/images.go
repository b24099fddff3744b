// Package images builds the test bed's container images from local files
// (no base image is ever pulled) and pushes them to the clusters'
// registries over plain HTTP.
package images

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// File is one file of an image, copied from the local machine.
type File struct {
	// Path is the absolute path in the image.
	Path string
	// Src is the local file to copy.
	Src string
	// Mode is the file mode in the image.
	Mode int64
}

// Spec describes an image built from scratch.
type Spec struct {
	// Repo is the repository and tag, e.g. "sampleapp:dev".
	Repo string
	// Files are copied into the single layer.
	Files []File
	// Symlinks maps a path in the image to its target.
	Symlinks map[string]string
	// Entrypoint and Cmd set the image config.
	Entrypoint, Cmd []string
}

// epoch is the fixed timestamp of every layer entry, so equal inputs give
// equal digests.
var epoch = time.Unix(0, 0)

// Build assembles the image for linux/amd64.
func Build(s Spec) (v1.Image, error) {
	layerTar, err := s.tar()
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("make layer of %s: %w", s.Repo, err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, fmt.Errorf("append layer of %s: %w", s.Repo, err)
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config.Entrypoint, cfg.Config.Cmd = s.Entrypoint, s.Cmd
	cfg.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	return mutate.ConfigFile(img, cfg)
}

func (s Spec) tar() ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	addDirs := func(p string) error {
		for d := path.Dir(p); d != "/" && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
		return nil
	}
	for _, f := range s.Files {
		_ = addDirs(f.Path)
	}
	for p := range s.Symlinks {
		_ = addDirs(p)
	}
	dirs["/tmp"] = true
	var sorted []string
	for d := range dirs {
		sorted = append(sorted, d)
	}
	sort.Strings(sorted)
	for _, d := range sorted {
		mode := int64(0o755)
		if d == "/tmp" {
			mode = 0o1777
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d[1:] + "/", Mode: mode, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	for _, f := range s.Files {
		if err := writeFile(tw, f); err != nil {
			return nil, err
		}
	}
	var links []string
	for p := range s.Symlinks {
		links = append(links, p)
	}
	sort.Strings(links)
	for _, p := range links {
		h := &tar.Header{Typeflag: tar.TypeSymlink, Name: p[1:], Linkname: s.Symlinks[p], Mode: 0o777, ModTime: epoch}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func writeFile(tw *tar.Writer, f File) error {
	b, err := os.ReadFile(f.Src)
	if err != nil {
		return fmt.Errorf("read %s for the image: %w", f.Src, err)
	}
	h := &tar.Header{Typeflag: tar.TypeReg, Name: f.Path[1:], Mode: f.Mode, Size: int64(len(b)), ModTime: epoch}
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	_, err = tw.Write(b)
	return err
}

// Push writes img as repo to every registry (host:port, plain HTTP).
func Push(ctx context.Context, img v1.Image, repo string, registries []string) error {
	for _, r := range registries {
		ref, err := name.ParseReference(r+"/"+repo, name.Insecure)
		if err != nil {
			return fmt.Errorf("parse image name %s/%s: %w", r, repo, err)
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
			return fmt.Errorf("push %s: %w", ref, err)
		}
	}
	return nil
}

// GoBuild builds a static binary of pkg (run in dir) into outDir and
// returns its path.
func GoBuild(ctx context.Context, dir, pkg, outDir string) (string, error) {
	out := filepath.Join(outDir, path.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s in %s: %w: %s", pkg, dir, err, b)
	}
	return out, nil
}
