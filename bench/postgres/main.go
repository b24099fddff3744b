// Command postgres migrates a real PostgreSQL on the local clusters and
// compares its final sync with rsync over stunnel (MTC's method) on the
// same delta.
//
// It builds a PostgreSQL 15 image from Debian's packages (debootstrap,
// cached under $FERRY_CACHE), pushes it to both test-bed registries, runs
// it on src as a StatefulSet filled by `pgbench -i -s SCALE` with a writer
// committing a row every 0.1 s, and moves it to dst with a Full plan
// through a real `ferry controller`: one stage, some seconds of writes,
// the cutover. It reports the downtime and the steps from the Migration's
// status, the final sync's figures from status.volumes, the bytes that
// really changed between the stage and the quiesce (the destination
// volume right after the stage against the source volume after the
// quiesce, compared in 4 KiB blocks), and the same final sync from the
// first state to the second done by `ferry mover` and by rsync through
// stunnel, side by side on a tmpfs.
//
//	go run ./bench/postgres -scale 20
//
// Its controller and CLI use their own namespace (-ferry-namespace) and
// leave the CRDs as installed, so that it can run beside other tests on
// the same clusters; the controller's log is left in
// $TMPDIR/pgb-controller.log. It runs as root (tmpfs, rsync daemon) and
// removes its namespaces, Ferry objects, images, tmpfs and processes at
// the end, also when interrupted.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/bench/internal/testbed"
)

type options struct {
	scale          int
	writes, before time.Duration
	ns, ferryNS    string
	cache, mnt     string
	rounds         int
	keep           bool
	keepStates     bool
	bedMover       bool
}

type env struct {
	options
	repo, ferry, benchtool string
	scratch                string
	src, dst               kubernetes.Interface
	host                   client.Client
	registry               map[string]string
	moverImage             string
}

func main() {
	var o options
	flag.IntVar(&o.scale, "scale", 20, "pgbench scale factor (20: about 300 MiB of tables, with WAL about 600 MiB on disk)")
	flag.DurationVar(&o.before, "before", 5*time.Second, "writes before the stage")
	flag.DurationVar(&o.writes, "writes", 10*time.Second, "writes between the stage and the cutover")
	flag.StringVar(&o.ns, "namespace", "pgb-full", "namespace of the database (on both clusters)")
	flag.StringVar(&o.ferryNS, "ferry-namespace", "pgb-ferry", "namespace of this benchmark's controller and Ferry objects on the host (dst)")
	flag.StringVar(&o.cache, "cache", cacheDir(), "where the PostgreSQL rootfs tarball is cached")
	flag.StringVar(&o.mnt, "mnt", "/mnt/pgb-bench", "mount point of the tmpfs for the two volume states and the side-by-side syncs")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of the side-by-side final sync per tool")
	flag.BoolVar(&o.keep, "keep", false, "leave the namespaces and Ferry objects (for debugging)")
	flag.BoolVar(&o.bedMover, "bed-mover", false, "run the test bed's ferry image (make images) as the data movers, not one built from this tree")
	flag.BoolVar(&o.keepStates, "keep-states", false, "leave the tmpfs with the two volume states A and B mounted (for debugging; umount it afterwards)")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	// An interrupt cancels the run; the clean-up still runs.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := bench(ctx, o)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
}

func cacheDir() string {
	if c := os.Getenv("FERRY_CACHE"); c != "" {
		return c
	}
	home, _ := os.UserHomeDir()
	return filepath.Join(home, ".cache", "ferry")
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func bench(ctx context.Context, o options) error {
	e, err := setup(ctx, o)
	if err != nil {
		return err
	}
	defer os.RemoveAll(e.scratch)
	loadStart := loadAvg()
	rootfs, err := rootfsTarball(ctx, o.cache)
	if err != nil {
		return err
	}
	img, err := postgresImage(rootfs)
	if err != nil {
		return err
	}
	image, err := pushImage(ctx, img, "postgres:15", e.registry["src"], e.registry["dst"])
	if err != nil {
		return err
	}
	logf("pushed %s to both registries", image)
	regs := []string{e.registry["src"], e.registry["dst"]}
	if !o.keep {
		defer deleteImage(image, regs...)
	}
	if !o.bedMover {
		// The movers run this tree's code, under a name of its own, so
		// that the test bed's ferry image stays as others use it.
		fimg, err := ferryImage(ctx, e.scratch)
		if err != nil {
			return err
		}
		if e.moverImage, err = pushImage(ctx, fimg, "pgb-ferry:dev", regs...); err != nil {
			return err
		}
		if !o.keep {
			defer deleteImage(e.moverImage, regs...)
		}
		logf("data movers run %s (this tree)", e.moverImage)
	}
	stop, err := e.controller(ctx)
	if err != nil {
		return err
	}
	// The plan and the application go while the controller runs (their
	// finalizers), the registrations and the namespace after it stopped.
	defer func() {
		if !o.keep {
			e.cleanup()
		}
		stop()
		if !o.keep {
			e.dropFerryNamespace()
		}
	}()
	defer e.unmount()
	e.cleanup() // what an earlier run left
	m, err := e.migrate(ctx, image)
	if err != nil {
		return err
	}
	loadEnd := loadAvg()
	e.report(m, loadStart, loadEnd)
	return nil
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func setup(ctx context.Context, o options) (*env, error) {
	repo, err := filepath.Abs(".")
	if err != nil {
		return nil, err
	}
	e := &env{options: o, repo: repo, registry: map[string]string{}}
	if e.scratch, err = os.MkdirTemp("", "pgb-"); err != nil {
		return nil, err
	}
	// Private binaries: others may rebuild bin/ferry while this runs.
	e.ferry, e.benchtool = filepath.Join(e.scratch, "ferry"), filepath.Join(e.scratch, "benchtool")
	for pkg, out := range map[string]string{"./cmd/ferry": e.ferry, "./bench/mover/benchtool": e.benchtool} {
		if err := run(ctx, "go", "build", "-o", out, pkg); err != nil {
			return nil, err
		}
	}
	b, err := testbed.Connect(repo)
	if err != nil {
		return nil, err
	}
	e.src, e.dst, e.host, e.registry = b.Src, b.Dst, b.Host, b.Registry
	if e.moverImage, err = b.Image("ferry"); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *env) file(cluster, name string) string {
	return testbed.File(e.repo, cluster, name)
}

// controller starts `ferry controller` on the host (dst) in the
// benchmark's own namespace, without touching the installed CRDs,
// registers both clusters, and returns how to stop it.
func (e *env) controller(ctx context.Context) (func(), error) {
	_, err := e.dst.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: e.ferryNS}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("create namespace %s on dst: %w", e.ferryNS, err)
	}
	ctrl := exec.Command(e.ferry, "controller", "--kubeconfig", e.file("dst", "kubeconfig"), "--ferry-namespace", e.ferryNS,
		"--install-crds=false", "--mover-image", e.moverImage)
	var log bytes.Buffer
	ctrl.Stdout, ctrl.Stderr = &log, &log
	if err := ctrl.Start(); err != nil {
		return nil, err
	}
	stop := func() {
		_ = ctrl.Process.Signal(os.Interrupt)
		_ = ctrl.Wait()
		_ = os.WriteFile(filepath.Join(os.TempDir(), "pgb-controller.log"), log.Bytes(), 0o644)
	}
	for i := 0; i < 120 && !strings.Contains(strings.ToLower(log.String()), "successfully acquired lease"); i++ {
		time.Sleep(500 * time.Millisecond)
	}
	if !strings.Contains(strings.ToLower(log.String()), "successfully acquired lease") {
		stop()
		return nil, fmt.Errorf("the controller did not become the leader in 60 s: %s", tail(log.String()))
	}
	for _, c := range []string{"src", "dst"} {
		if _, err := e.run("cluster", "add", c, "--kubeconfig", e.file(c, "kubeconfig"), "--host-kubeconfig", e.file("dst", "kubeconfig"),
			"--ferry-namespace", e.ferryNS); err != nil {
			stop()
			return nil, err
		}
	}
	return stop, nil
}

func (e *env) run(args ...string) (string, error) {
	if args[0] != "cluster" {
		args = append(args, "--kubeconfig", e.file("dst", "kubeconfig"), "--ferry-namespace", e.ferryNS)
	}
	out, err := exec.Command(e.ferry, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ferry %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// result is what one migration measured.
type result struct {
	stage, cutover *ferryv1.Migration
	stageTime      time.Duration
	changes        changes // strict: 4 KiB blocks
	coarse         changes // at Ferry's granularity
	sizeA, sizeB   int64
	delta          []deltaRun
	pods           *podWatch
}

// migrate runs the database, stages, takes state A, cuts over, takes
// state B, compares them and syncs A to B with both tools.
func (e *env) migrate(ctx context.Context, image string) (*result, error) {
	r := &result{}
	if err := database(ctx, e.src, e.ns, image, e.scale); err != nil {
		return nil, err
	}
	time.Sleep(e.before)
	if _, err := e.run("plan", "create", e.ns, "--from", "src", "--to", "dst", "-n", e.ns,
		"--registry-rewrite", e.registry["src"]+"/="+e.registry["dst"]+"/"); err != nil {
		return nil, err
	}
	logf("staging")
	start := time.Now()
	out, err := e.run("stage", e.ns, "--wait")
	if err != nil {
		return nil, err
	}
	r.stageTime = time.Since(start)
	if r.stage, err = e.migration(ctx, out); err != nil {
		return nil, err
	}
	if err := e.mount(ctx); err != nil {
		return nil, err
	}
	// The destination volume right after the stage is exactly what the
	// stage left; the application writes on, on the source.
	dstPath, err := hostPath(ctx, e.dst, e.ns, claimName)
	if err != nil {
		return nil, err
	}
	a, b := filepath.Join(e.mnt, "A"), filepath.Join(e.mnt, "B")
	copyStart := time.Now()
	if err := run(ctx, "cp", "-a", "--reflink=auto", dstPath, a); err != nil {
		return nil, err
	}
	logf("state A (the destination after the stage) copied in %.1f s; writes go on", time.Since(copyStart).Seconds())
	time.Sleep(max(0, e.writes-time.Since(copyStart)))
	logf("cutting over")
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	r.pods = watchMovers(wctx, e.ns, map[string]kubernetes.Interface{"src": e.src, "dst": e.dst})
	if out, err = e.run("cutover", e.ns, "--wait"); err != nil {
		return nil, err
	}
	if r.cutover, err = e.migration(ctx, out); err != nil {
		return nil, err
	}
	// The source volume after the quiesce no longer changes.
	srcPath, err := hostPath(ctx, e.src, e.ns, claimName)
	if err != nil {
		return nil, err
	}
	if err := run(ctx, "cp", "-a", "--reflink=auto", srcPath, b); err != nil {
		return nil, err
	}
	logf("state B (the source after the quiesce) copied; comparing")
	if r.changes, err = compareStates(a, b, strict); err != nil {
		return nil, err
	}
	if r.coarse, err = compareStates(a, b, ferryLike); err != nil {
		return nil, err
	}
	r.sizeB = r.changes.Bytes
	if fa, err := regularFiles(a); err == nil {
		for _, s := range fa {
			r.sizeA += s
		}
	}
	if r.delta, err = e.sideBySide(ctx, a, b); err != nil {
		return nil, err
	}
	return r, nil
}

// sideBySide syncs A to B with each tool, rounds times, alternating the
// order, each run on a fresh copy of A, checked against B.
func (e *env) sideBySide(ctx context.Context, a, b string) ([]deltaRun, error) {
	d := &deltaBench{ferry: e.ferry, benchtool: e.benchtool, dir: filepath.Join(e.scratch, "delta"), a: a, b: b,
		target: filepath.Join(e.mnt, "T")}
	if err := os.MkdirAll(d.dir, 0o700); err != nil {
		return nil, err
	}
	if err := d.setup(ctx); err != nil {
		return nil, err
	}
	tools := map[string]func(context.Context) (deltaRun, error){"ferry": d.ferrySync, "rsync": d.rsyncSync}
	order := []string{"ferry", "rsync"}
	var runs []deltaRun
	for i := range e.rounds {
		for j := range order {
			t := order[(i+j)%len(order)]
			if err := d.reset(ctx); err != nil {
				return nil, err
			}
			r, err := tools[t](ctx)
			if err != nil {
				return nil, err
			}
			if err := d.check(ctx, t); err != nil {
				return nil, err
			}
			logf("final sync A->B by %s, round %d: %.2f s, %s sent", t, i+1, r.wall.Seconds(), mib(r.sent))
			runs = append(runs, r)
		}
	}
	return runs, os.RemoveAll(d.target)
}

// unmount removes the tmpfs, when mounted (and not kept).
func (e *env) unmount() {
	if e.keepStates {
		logf("the volume states are kept in %s/A and %s/B: umount %s when done", e.mnt, e.mnt, e.mnt)
		return
	}
	if run(context.Background(), "mountpoint", "-q", e.mnt) != nil {
		return
	}
	if err := run(context.Background(), "umount", e.mnt); err != nil {
		logf("umount %s: %v", e.mnt, err)
		return
	}
	_ = os.Remove(e.mnt)
}

// mount mounts a tmpfs for the states and the side-by-side syncs.
func (e *env) mount(ctx context.Context) error {
	if err := os.MkdirAll(e.mnt, 0o755); err != nil {
		return err
	}
	if err := run(ctx, "mountpoint", "-q", e.mnt); err == nil {
		return fmt.Errorf("%s is already a mount point: set -mnt to another directory", e.mnt)
	}
	return run(ctx, "mount", "-t", "tmpfs", "-o", "size=6g,mode=0755", "tmpfs", e.mnt)
}

func (e *env) migration(ctx context.Context, out string) (*ferryv1.Migration, error) {
	name := ""
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "migration" && f[2] == "created" {
			name = f[1]
		}
	}
	var m ferryv1.Migration
	if err := e.host.Get(ctx, client.ObjectKey{Namespace: e.ferryNS, Name: name}, &m); err != nil {
		return nil, fmt.Errorf("migration %q: %w", name, err)
	}
	return &m, nil
}

// cleanup deletes the plan (its migrations) and the application's
// namespace on both clusters, and waits until they are gone.
func (e *env) cleanup() {
	_, _ = e.run("plan", "delete", e.ns, "--wait")
	deleteNamespace(e.src, e.ns)
	deleteNamespace(e.dst, e.ns)
}

// dropFerryNamespace deletes the clusters' registrations and the
// benchmark's Ferry namespace on the host.
func (e *env) dropFerryNamespace() {
	for _, c := range []string{"src", "dst"} {
		_ = e.host.Delete(context.Background(), &ferryv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: e.ferryNS, Name: c}})
	}
	deleteNamespace(e.dst, e.ferryNS)
}

// deleteNamespace deletes ns and waits up to 2 minutes until it is gone.
func deleteNamespace(cs kubernetes.Interface, ns string) {
	ctx := context.Background()
	_ = cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	for range 240 {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	logf("namespace %s still there after 2 minutes", ns)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// report prints the results as Markdown.
func (e *env) report(r *result, loadStart, loadEnd string) {
	m := r.cutover
	fmt.Printf("### PostgreSQL 15, pgbench -i -s %d, one stage, %s of writes, cutover (%s)\n\n", e.scale, e.writes, time.Now().UTC().Format("2006-01-02"))
	fmt.Printf("- load average (1, 5, 15 min) at start: %s; at end: %s\n", loadStart, loadEnd)
	fmt.Printf("- data movers: %s\n", e.moverImage)
	fmt.Printf("- volume: %s in state A (after the stage), %s in state B (at quiesce), regular files\n", mib(r.sizeA), mib(r.sizeB))
	fmt.Printf("- stage: %.1f s (ferry stage --wait)\n", r.stageTime.Seconds())
	for _, v := range r.stage.Status.Volumes {
		fmt.Printf("- stage's copy of %s: sent %s, matched %s, skipped %d files, partial %d, reused %d, deleted %d\n",
			v.Claim, mib(v.BytesSent), mib(v.BytesMatched), v.FilesSkipped, v.Partial, v.Reused, v.Deleted)
	}
	var downtime time.Duration
	if m.Status.SourceStopped != nil && m.Status.DestinationAvailable != nil {
		downtime = m.Status.DestinationAvailable.Sub(m.Status.SourceStopped.Time)
	}
	fmt.Printf("\n**Downtime: %.2f s** (status.sourceStopped to status.destinationAvailable)\n\n", downtime.Seconds())
	fmt.Println("| cutover step | time | inside the downtime |")
	fmt.Println("|---|---|---|")
	for _, s := range m.Status.Itinerary {
		if s.Started == nil || s.Completed == nil {
			continue
		}
		inside := "no"
		if m.Status.SourceStopped != nil && m.Status.DestinationAvailable != nil &&
			!s.Completed.Time.Before(m.Status.SourceStopped.Time) && !s.Started.Time.After(m.Status.DestinationAvailable.Time) {
			inside = "yes"
		}
		fmt.Printf("| %s | %.2f s | %s |\n", s.Name, s.Completed.Sub(s.Started.Time).Seconds(), inside)
	}
	for _, s := range m.Status.Itinerary {
		if s.Name == "CopyVolumes" && s.Started != nil {
			fmt.Println("\n| mover pod (polled every 100 ms) | created | container running | container ended |")
			fmt.Println("|---|---|---|---|")
			fmt.Printf("| (CopyVolumes started: +0.00 s, ended: +%.2f s) | | | |\n", s.Completed.Sub(s.Started.Time).Seconds())
			for _, l := range r.pods.relative(s.Started.Time) {
				fmt.Println(l)
			}
		}
	}
	fmt.Println()
	fmt.Println("| final sync in the cutover (status.volumes) | bytes sent | bytes matched | files skipped | partial | reused | deleted |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, v := range m.Status.Volumes {
		fmt.Printf("| %s/%s | %s | %s | %d | %d | %d | %d |\n", v.Namespace, v.Claim, mib(v.BytesSent), mib(v.BytesMatched),
			v.FilesSkipped, v.Partial, v.Reused, v.Deleted)
	}
	c := r.changes
	fmt.Printf("\nChanged between A and B (%d KiB blocks): %s in %d files changed in place; %d new files (%s), %d of them matched to a "+
		"file gone from A (renamed) or, %d, to a partial file the stage kept (%s of differing blocks in those); %d files of A gone. "+
		"**Changed, renames and partial files matched: %s**; every new file whole: %s.\n\n", changeBlock/1024, mib(c.InPlace),
		c.InPlaceFiles, c.New, mib(c.NewBytes), c.Renamed, c.FromPartial, mib(c.RenamedChanged), c.Gone, mib(c.Matched()), mib(c.ByPath()))
	fmt.Printf("At the granularity of Ferry's block comparison (128 KiB blocks, files under 1 MiB whole), renames matched: %s "+
		"(%s in place in %d files, %s in renamed and partial files).\n\n", mib(r.coarse.Matched()), mib(r.coarse.InPlace), r.coarse.InPlaceFiles,
		mib(r.coarse.RenamedChanged))
	fmt.Println("| final sync A→B on tmpfs | wall, median (min-max) | bytes sent | matched | deleted |")
	fmt.Println("|---|---|---|---|---|")
	med := map[string]deltaRun{}
	for _, t := range []string{"ferry", "rsync"} {
		var rs []deltaRun
		for _, d := range r.delta {
			if d.tool == t {
				rs = append(rs, d)
			}
		}
		if len(rs) == 0 {
			continue
		}
		sort.Slice(rs, func(i, j int) bool { return rs[i].wall < rs[j].wall })
		med[t] = rs[len(rs)/2]
		label := "`ferry mover sync --delete --final` (file data sent)"
		if t == "rsync" {
			label = "rsync + stunnel, MTC's flags (Total bytes sent)"
		}
		fmt.Printf("| %s | %.2f s (%.2f-%.2f) | %s | %s | %d |\n", label, med[t].wall.Seconds(), rs[0].wall.Seconds(),
			rs[len(rs)-1].wall.Seconds(), mib(med[t].sent), mib(med[t].matched), med[t].deleted)
	}
	fmt.Println("\n| target | figure | verdict |")
	fmt.Println("|---|---|---|")
	fmt.Printf("| downtime < 5 s | %.2f s | %s |\n", downtime.Seconds(), verdict(downtime < 5*time.Second))
	var sent int64
	for _, v := range m.Status.Volumes {
		sent += v.BytesSent
	}
	ratio := float64(sent) / float64(max(1, c.Matched()))
	fmt.Printf("| final-sync bytes < 2x changed | %s / %s = %.2fx | %s |\n", mib(sent), mib(c.Matched()), ratio, verdict(ratio < 2))
	if f, ok := med["ferry"]; ok {
		if rs, ok := med["rsync"]; ok {
			speed := rs.wall.Seconds() / f.wall.Seconds()
			fmt.Printf("| final sync ≥ 2x faster than rsync (same delta) | %.2f s vs %.2f s = %.2fx | %s |\n",
				f.wall.Seconds(), rs.wall.Seconds(), speed, verdict(speed >= 2))
		}
	}
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}
