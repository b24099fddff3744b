package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// pgBin is where Debian's postgresql-15 keeps its programs.
const pgBin = "/usr/lib/postgresql/15/bin"

// postgresUID is the uid of the postgres user that debootstrap creates in
// the rootfs (the first system user the package adds).
const postgresUID = 100

// postgresGID is the postgres group's gid in the rootfs.
const postgresGID = 102

// rootfsTarball returns the cached PostgreSQL 15 rootfs (gzip-compressed
// tar), building it with debootstrap on first use.
func rootfsTarball(ctx context.Context, cache string) (string, error) {
	out := filepath.Join(cache, "postgres-rootfs.tar.gz")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	if _, err := exec.LookPath("debootstrap"); err != nil {
		if err := sh(ctx, "apt-get install -y -qq debootstrap", "DEBIAN_FRONTEND=noninteractive"); err != nil {
			return "", fmt.Errorf("install debootstrap: %w", err)
		}
	}
	mirror, err := aptMirror()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "pgb-rootfs-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	root := filepath.Join(dir, "rootfs")
	start := time.Now()
	fmt.Fprintln(os.Stderr, "building the PostgreSQL 15 rootfs with debootstrap (a few minutes, once)")
	if err := run(ctx, "debootstrap", "--variant=minbase", "--include=postgresql-15", "bookworm", root, mirror); err != nil {
		return "", fmt.Errorf("debootstrap: %w", err)
	}
	// Package caches and lists are not needed in the image.
	for _, d := range []string{"var/cache/apt/archives", "var/lib/apt/lists"} {
		if err := removeContents(filepath.Join(root, d)); err != nil {
			return "", err
		}
	}
	tmp := out + ".tmp"
	if err := run(ctx, "tar", "--numeric-owner", "-C", root, "-czf", tmp, "."); err != nil {
		return "", fmt.Errorf("tar the rootfs: %w", err)
	}
	fmt.Fprintf(os.Stderr, "rootfs built in %.0f s\n", time.Since(start).Seconds())
	return out, os.Rename(tmp, out)
}

// aptMirror reads the Debian mirror from the machine's apt sources, so
// that no mirror is written into the repository.
func aptMirror() (string, error) {
	files, _ := filepath.Glob("/etc/apt/sources.list.d/*.sources")
	files = append(files, "/etc/apt/sources.list")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(strings.NewReader(string(data)))
		for sc.Scan() {
			fs := strings.Fields(sc.Text())
			switch {
			case len(fs) >= 2 && fs[0] == "URIs:" && !strings.Contains(fs[1], "security"):
				return fs[1], nil
			case len(fs) >= 3 && fs[0] == "deb" && !strings.Contains(sc.Text(), "security"):
				for _, w := range fs[1:] {
					if strings.Contains(w, "://") {
						return w, nil
					}
				}
			}
		}
	}
	return "", fmt.Errorf("no Debian mirror found in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list: debootstrap needs one")
}

func removeContents(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil //nolint:nilerr // nothing to remove
	}
	for _, e := range ents {
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// postgresImage appends the rootfs as the one layer of an image for
// linux/amd64 that runs as the postgres user.
func postgresImage(rootfs string) (v1.Image, error) {
	layer, err := tarball.LayerFromFile(rootfs)
	if err != nil {
		return nil, fmt.Errorf("layer from %s: %w", rootfs, err)
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config.User = fmt.Sprint(postgresUID)
	cfg.Config.Entrypoint = []string{pgBin + "/postgres"}
	cfg.Config.Env = []string{"PATH=" + pgBin + ":/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8"}
	return mutate.ConfigFile(img, cfg)
}

// ferryImage builds the data movers' image from this tree: a static
// ferry binary as the entrypoint, as the test bed builds its own.
func ferryImage(ctx context.Context, dir string) (v1.Image, error) {
	bin := filepath.Join(dir, "ferry-static")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin, "./cmd/ferry")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the static ferry: %w: %s", err, out)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"tmp/", "usr/", "usr/local/", "usr/local/bin/"} {
		mode := int64(0o755)
		if d == "tmp/" {
			mode = 0o1777 // the mover's spool files
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: mode}); err != nil {
			return nil, err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "usr/local/bin/ferry", Mode: 0o755, Size: int64(len(data))}); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(buf.Bytes())), nil })
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", "amd64"
	cfg.Config.Entrypoint = []string{"/usr/local/bin/ferry"}
	cfg.Config.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin"}
	return mutate.ConfigFile(img, cfg)
}

// pushImage pushes img as repo to every registry and returns the
// reference by digest in the first (the source cluster's).
func pushImage(ctx context.Context, img v1.Image, repo string, registries ...string) (string, error) {
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	for _, r := range registries {
		ref, err := name.ParseReference(r+"/"+repo, name.Insecure)
		if err != nil {
			return "", err
		}
		if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
			return "", fmt.Errorf("push %s: %w", ref, err)
		}
	}
	return registries[0] + "/" + strings.SplitN(repo, ":", 2)[0] + "@" + d.String(), nil
}

// deleteImage removes the manifest ref (registry/repo@digest) from every
// registry, so that a run leaves no image behind (the blobs go at the
// registry's next garbage collection).
func deleteImage(ref string, registries ...string) {
	repoDigest := ref[strings.Index(ref, "/")+1:]
	for _, r := range registries {
		d, err := name.NewDigest(r+"/"+repoDigest, name.Insecure)
		if err == nil {
			err = remote.Delete(d)
		}
		if err != nil {
			logf("delete image %s/%s: %v", r, repoDigest, err)
		}
	}
}

func run(ctx context.Context, prog string, args ...string) error {
	cmd := exec.CommandContext(ctx, prog, args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tail := string(out)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return fmt.Errorf("%s %s: %w: %s", prog, strings.Join(args, " "), err, tail)
	}
	return nil
}

func sh(ctx context.Context, script string, env ...string) error {
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s: %w: %s", script, err, out)
	}
	return nil
}
