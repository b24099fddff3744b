// Command localclusters starts and stops Ferry's local-cluster test bed:
// real single-node Kubernetes clusters on this machine, without Docker.
//
//	localclusters up         start the clusters src and dst (no-op when up)
//	localclusters down       stop them and remove everything they made
//	localclusters status     say what runs
//	localclusters images     build the project's images and push them
//	localclusters leftovers  list anything of the test bed left on the machine
//	localclusters build      build and cache the Kubernetes components
//	localclusters envtest    build them and print the folder for KUBEBUILDER_ASSETS
//	localclusters envtest-reap  kill envtest servers that outlived their tests
//	localclusters stop|start|restart CLUSTER COMPONENT
//	                         stop, start or restart one process of a running
//	                         cluster (e.g. restart dst kube-apiserver), for
//	                         fault-injection tests
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"ferry.dev/ferry/test/localclusters/internal/bed"
	"ferry.dev/ferry/test/localclusters/internal/images"
	"ferry.dev/ferry/test/localclusters/internal/leftovers"
)

func main() {
	repo := flag.String("repo", ".", "root of the Ferry repository")
	clusters := flag.String("clusters", strings.Join(bed.DefaultClusters, ","), "names of the clusters")
	verbose := flag.Bool("v", false, "log every step")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: localclusters [flags] up|down|status|images|leftovers|build|envtest|envtest-reap")
		fmt.Fprintln(flag.CommandLine.Output(), "       localclusters [flags] stop|start|restart CLUSTER COMPONENT   (components: "+strings.Join(bed.Components, ", ")+")")
		flag.PrintDefaults()
	}
	flag.Parse()
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	if want := argCount(flag.Arg(0)); flag.NArg() != want {
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, flag.Arg(0), flag.Args()[1:], *repo, strings.Split(*clusters, ",")); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

// componentVerbs act on one process of one cluster.
var componentVerbs = map[string]bool{"stop": true, "start": true, "restart": true}

// argCount is how many arguments a verb takes, itself included.
func argCount(verb string) int {
	if componentVerbs[verb] {
		return 3
	}
	return 1
}

func run(ctx context.Context, verb string, args []string, repo string, names []string) error {
	root, err := filepath.Abs(repo)
	if err != nil {
		return err
	}
	moduleDir := filepath.Join(root, "test", "localclusters")
	if _, err := os.Stat(filepath.Join(moduleDir, "go.mod")); err != nil {
		return fmt.Errorf("%s is not the Ferry repository (no test/localclusters/go.mod): pass --repo", root)
	}
	env, err := bed.NewEnv(filepath.Join(root, ".localclusters"), names)
	if err != nil {
		return err
	}
	if verb != "status" && verb != "leftovers" && os.Geteuid() != 0 {
		return errors.New("the test bed needs root (network namespaces, cgroups, mounts): run it as root")
	}
	if componentVerbs[verb] {
		return runComponent(ctx, env, verb, args[0], args[1])
	}
	switch verb {
	case "up":
		return env.Up(ctx, bed.UpOptions{ModuleDir: moduleDir, PushPause: func(ctx context.Context, regs []string) error {
			return images.PushPause(ctx, moduleDir, bed.PauseImage, regs)
		}})
	case "down":
		return env.Down()
	case "status":
		fmt.Print(env.Status())
		return nil
	case "images":
		return pushImages(ctx, env, root, moduleDir)
	case "leftovers":
		return checkLeftovers(env)
	case "build":
		return env.EnsureBinaries(ctx, moduleDir)
	case "envtest":
		if err := env.EnsureBinaries(ctx, moduleDir); err != nil {
			return err
		}
		dir, err := env.EnvtestAssets()
		if err != nil {
			return err
		}
		fmt.Println(dir)
		return nil
	case "envtest-reap":
		n, err := env.ReapEnvtest()
		if n > 0 {
			slog.Warn("killed envtest servers that outlived their tests", "processes", n)
		}
		return err
	}
	return fmt.Errorf("unknown command %q: use up, down, status, images, leftovers, build, envtest, envtest-reap, stop, start or restart", verb)
}

// runComponent stops, starts or restarts one process of a cluster.
func runComponent(ctx context.Context, env *bed.Env, verb, cluster, component string) error {
	c, err := env.Cluster(cluster)
	if err != nil {
		return err
	}
	switch verb {
	case "stop":
		return env.StopComponent(c, component)
	case "start":
		return env.StartComponent(ctx, c, component)
	default:
		return env.RestartComponent(ctx, c, component)
	}
}

func pushImages(ctx context.Context, env *bed.Env, root, moduleDir string) error {
	var regs []string
	for _, c := range env.Clusters {
		regs = append(regs, c.Registry())
	}
	start := time.Now()
	built, err := images.PushProject(ctx, root, moduleDir, regs)
	if err != nil {
		return fmt.Errorf("%w (are the clusters up? run make clusters-up)", err)
	}
	for _, c := range env.Clusters {
		var b strings.Builder
		for _, img := range built {
			fmt.Fprintf(&b, "%s=%s/%s@%s\n", img.Name, c.Registry(), strings.SplitN(img.Repo, ":", 2)[0], img.Digest)
		}
		if err := os.WriteFile(filepath.Join(env.OutDir, c.Name, "images"), []byte(b.String()), 0o644); err != nil {
			return fmt.Errorf("write image list of %s: %w", c.Name, err)
		}
	}
	for _, img := range built {
		slog.Info("pushed image", "image", img.Repo, "digest", img.Digest, "registries", regs)
	}
	slog.Info("images pushed", "seconds", fmt.Sprintf("%.1f", time.Since(start).Seconds()))
	return nil
}

func checkLeftovers(env *bed.Env) error {
	found := leftovers.Find(Markers(env))
	if len(found) == 0 {
		fmt.Println("nothing of the test bed is left on this machine")
		return nil
	}
	for _, f := range found {
		fmt.Println(f)
	}
	return fmt.Errorf("%d leftovers of the test bed found", len(found))
}

// Markers names what belongs to the test bed, for the leftover check.
func Markers(env *bed.Env) leftovers.Markers {
	m := leftovers.Markers{
		StateRoot: env.StateRoot,
		Binaries: []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kubelet",
			"kube-proxy", "containerd", "containerd-shim-runc-v2", "coredns", "docker-registry", "pause", "sampleapp"},
		Strings: []string{"10.200.", "ferry-", "cni0", "KUBE-", "CNI-"},
		Paths:   []string{bed.HostPathRoot},
	}
	for _, c := range env.Clusters {
		m.Strings = append(m.Strings, c.PodCIDR(), c.ServiceCIDR())
		m.CgroupRoots = append(m.CgroupRoots, c.CgroupRoot())
		m.Paths = append(m.Paths, filepath.Join(env.OutDir, c.Name))
	}
	return m
}
