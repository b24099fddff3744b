package images

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Built is an image pushed to the registries.
type Built struct {
	// Name is the short name, e.g. "ferry".
	Name string
	// Repo is repository:tag, e.g. "ferry:dev".
	Repo string
	// Digest is the manifest digest, the same in every registry.
	Digest string
}

// PushPause builds the sandbox image from ./cmd/pause of the test bed's
// module and pushes it to the registries.
func PushPause(ctx context.Context, moduleDir, repo string, registries []string) error {
	tmp, err := os.MkdirTemp("", "ferry-pause-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := GoBuild(ctx, moduleDir, "./cmd/pause", tmp)
	if err != nil {
		return err
	}
	img, err := Build(Spec{Repo: repo, Files: []File{{Path: "/pause", Src: bin, Mode: 0o755}}, Entrypoint: []string{"/pause"}})
	if err != nil {
		return err
	}
	return Push(ctx, img, repo, registries)
}

// PushProject builds the project's images — ferry, the sample app and the
// busybox-based tools image — and pushes them to every registry.
func PushProject(ctx context.Context, repoRoot, moduleDir string, registries []string) ([]Built, error) {
	tmp, err := os.MkdirTemp("", "ferry-images-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	specs, err := projectSpecs(ctx, repoRoot, moduleDir, tmp)
	if err != nil {
		return nil, err
	}
	var built []Built
	for _, s := range specs {
		img, err := Build(s)
		if err != nil {
			return nil, err
		}
		if err := Push(ctx, img, s.Repo, registries); err != nil {
			return nil, err
		}
		d, err := img.Digest()
		if err != nil {
			return nil, err
		}
		built = append(built, Built{Name: strings.SplitN(s.Repo, ":", 2)[0], Repo: s.Repo, Digest: d.String()})
	}
	return built, nil
}

func projectSpecs(ctx context.Context, repoRoot, moduleDir, tmp string) ([]Spec, error) {
	ferry, err := GoBuild(ctx, repoRoot, "./cmd/ferry", tmp)
	if err != nil {
		return nil, err
	}
	app, err := GoBuild(ctx, moduleDir, "./cmd/sampleapp", tmp)
	if err != nil {
		return nil, err
	}
	netcheck, err := GoBuild(ctx, moduleDir, "./cmd/netcheck", tmp)
	if err != nil {
		return nil, err
	}
	tools, err := toolsSpec(netcheck)
	if err != nil {
		return nil, err
	}
	return []Spec{
		{Repo: "ferry:dev", Files: []File{{Path: "/usr/local/bin/ferry", Src: ferry, Mode: 0o755}}, Entrypoint: []string{"/usr/local/bin/ferry"}},
		{Repo: "sampleapp:dev", Files: []File{{Path: "/usr/local/bin/sampleapp", Src: app, Mode: 0o755}}, Entrypoint: []string{"/usr/local/bin/sampleapp"}},
		tools,
	}, nil
}

// toolsSpec is busybox (from Debian's busybox-static) with a link per
// applet, plus netcheck for network checks busybox cannot do here.
func toolsSpec(netcheck string) (Spec, error) {
	busybox, err := exec.LookPath("busybox")
	if err != nil {
		return Spec{}, fmt.Errorf("busybox not found: install Debian's busybox-static: %w", err)
	}
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return Spec{}, fmt.Errorf("list busybox applets: %w", err)
	}
	links := map[string]string{}
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" {
			links[filepath.Join("/bin", a)] = "busybox"
		}
	}
	return Spec{
		Repo: "tools:dev",
		Files: []File{
			{Path: "/bin/busybox", Src: busybox, Mode: 0o755},
			{Path: "/usr/local/bin/netcheck", Src: netcheck, Mode: 0o755},
		},
		Symlinks: links,
		Cmd:      []string{"/bin/sh"},
	}, nil
}
