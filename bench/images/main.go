// Command images benchmarks Ferry's image copy (internal/images, what the
// CopyImages step runs) between the test bed's two registries against
// `skopeo copy --all` on the same images in the same run: a 1 GiB image
// of 10 layers and a 3-platform index, each copied once (nothing on the
// destination) and a second time (everything there already).
//
//	go run ./bench/images [-rounds 2]
//
// Every round pushes new random images under new repository names
// (bench-img-<suffix>/...) to the source registry, and deletes their
// manifests from both registries afterwards; the registries' blobs stay
// until their garbage collection. Rounds alternate who copies first.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
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
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"ferry.dev/ferry/internal/images"
)

const mib = 1 << 20

func main() {
	rounds := flag.Int("rounds", 2, "rounds, each with new images; they alternate who copies first")
	layerMiB := flag.Int("layer-mib", 100, "size of each of the 10 layers of the big image")
	flag.Parse()
	src, dst, err := registries()
	if err != nil {
		fail(err)
	}
	if _, err := exec.LookPath("skopeo"); err != nil {
		fail(fmt.Errorf("skopeo is not installed: apt-get install skopeo"))
	}
	fmt.Printf("registries: %s → %s; %d rounds\n", src, dst, *rounds)
	for r := 0; r < *rounds; r++ {
		if err := round(src, dst, r, int64(*layerMiB)*mib); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "Error:", err)
	os.Exit(1)
}

// registries reads the test bed's registry addresses.
func registries() (string, string, error) {
	var out [2]string
	for i, c := range []string{"src", "dst"} {
		b, err := os.ReadFile(filepath.Join(".localclusters", c, "registry"))
		if err != nil {
			return "", "", fmt.Errorf("registry of %s (run from the repository root, with the test bed up): %w", c, err)
		}
		out[i] = strings.TrimSpace(string(b))
	}
	return out[0], out[1], nil
}

func suffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// randomImage is an image of n layers of size bytes of random data (the
// registries store blobs as given; nothing unpacks them).
func randomImage(n int, size int64, arch string) (v1.Image, error) {
	img, err := mutate.ConfigFile(empty.Image, &v1.ConfigFile{OS: "linux", Architecture: arch})
	if err != nil {
		return nil, err
	}
	for i := 0; i < n; i++ {
		b := make([]byte, size)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		if img, err = mutate.AppendLayers(img, static.NewLayer(b, types.DockerLayer)); err != nil {
			return nil, err
		}
	}
	return img, nil
}

func index() (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, arch := range []string{"amd64", "arm64", "s390x"} {
		img, err := randomImage(3, 32*mib, arch)
		if err != nil {
			return nil, err
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	return idx, nil
}

type subject struct {
	name  string
	repo  string // source path
	bytes int64
}

func round(src, dst string, r int, layer int64) error {
	base := "bench-img-" + suffix()
	big, err := randomImage(10, layer, "amd64")
	if err != nil {
		return err
	}
	idx, err := index()
	if err != nil {
		return err
	}
	push := map[string]remote.Taggable{base + "/big:v1": big, base + "/multi:v1": idx}
	for path, t := range push {
		ref, err := name.ParseReference(src+"/"+path, name.Insecure)
		if err != nil {
			return err
		}
		if err := remote.Push(ref, t); err != nil {
			return fmt.Errorf("push %s: %w", ref, err)
		}
	}
	var created []string
	defer func() { cleanup(append(created, src+"/"+base+"/big:v1", src+"/"+base+"/multi:v1")) }()
	subjects := []subject{{"1 GiB image, 10 layers", base + "/big:v1", 10 * layer}, {"3-platform index, 9 layers", base + "/multi:v1", 9 * 32 * mib}}
	ferryFirst := r%2 == 0
	fmt.Printf("\nround %d (%s first):\n", r+1, map[bool]string{true: "ferry", false: "skopeo"}[ferryFirst])
	for _, s := range subjects {
		fTo, sTo := strings.Replace(s.repo, "/", "/ferry-", 1), strings.Replace(s.repo, "/", "/skopeo-", 1)
		created = append(created, dst+"/"+fTo, dst+"/"+sTo)
		var f1, f2, s1, s2 time.Duration
		var sent1, sent2 int64
		runFerry := func() error {
			if f1, sent1, err = ferryCopy(src, dst, s.repo, fTo); err != nil {
				return err
			}
			f2, sent2, err = ferryCopy(src, dst, s.repo, fTo)
			return err
		}
		runSkopeo := func() error {
			if s1, err = skopeoCopy(src, dst, s.repo, sTo); err != nil {
				return err
			}
			s2, err = skopeoCopy(src, dst, s.repo, sTo)
			return err
		}
		order := []func() error{runFerry, runSkopeo}
		if !ferryFirst {
			order = []func() error{runSkopeo, runFerry}
		}
		for _, f := range order {
			if err := f(); err != nil {
				return err
			}
		}
		fmt.Printf("  %-28s first copy: ferry %6.2fs (%4.0f MiB/s, %d MiB sent)  skopeo %6.2fs  → %.2fx\n",
			s.name, f1.Seconds(), float64(s.bytes)/mib/f1.Seconds(), sent1/mib, s1.Seconds(), s1.Seconds()/f1.Seconds())
		fmt.Printf("  %-28s second copy: ferry %6.3fs (%d B sent)  skopeo %6.3fs  → %.1fx\n",
			"", f2.Seconds(), sent2, s2.Seconds(), s2.Seconds()/f2.Seconds())
	}
	return nil
}

// ferryCopy copies as the CopyImages step does: a new Copier (a new step
// run), the default parallelism.
func ferryCopy(src, dst, from, to string) (time.Duration, int64, error) {
	fr, err := images.Parse(src + "/" + from)
	if err != nil {
		return 0, 0, err
	}
	tr, err := images.Parse(dst + "/" + to)
	if err != nil {
		return 0, 0, err
	}
	c := &images.Copier{Source: &images.Endpoint{Address: src, Insecure: true}, Destination: &images.Endpoint{Address: dst, Insecure: true}}
	start := time.Now()
	p, err := c.Copy(context.Background(), fr, tr, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("ferry copy %s: %w", from, err)
	}
	return time.Since(start), p.BytesSent, nil
}

func skopeoCopy(src, dst, from, to string) (time.Duration, error) {
	cmd := exec.Command("skopeo", "copy", "--all", "--quiet", "--src-tls-verify=false", "--dest-tls-verify=false",
		"docker://"+src+"/"+from, "docker://"+dst+"/"+to)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("skopeo copy %s: %v: %s", from, err, out)
	}
	return time.Since(start), nil
}

// cleanup deletes the manifests of the references (their blobs stay
// until the registries' garbage collection).
func cleanup(refs []string) {
	for _, r := range refs {
		ref, err := name.ParseReference(r, name.Insecure)
		if err != nil {
			continue
		}
		if d, err := remote.Head(ref); err == nil {
			if err := remote.Delete(ref.Context().Digest(d.Digest.String())); err != nil {
				fmt.Fprintf(os.Stderr, "delete %s: %v\n", r, err)
			}
		}
	}
}
