// Command repository benchmarks Ferry's replication repository (the
// `ferry mover backup` and `ferry mover restore` processes) against
// restic, what MTC uses, both against the same local versitygw whose
// data directory is on a tmpfs the benchmark mounts, on the same data in
// the same run, in interleaved rounds (the tool order alternates step by
// step and round by round). Run as root from the repository's root:
//
//	go run ./bench/repository > results.md   # progress on stderr, Markdown on stdout
//
// Each round, each tool gets fresh buckets (one per data set) and runs:
// (1) a first backup of set A (2 GiB in 4 files of random bytes) and of
// set B (100,000 files of 1-8 KiB, bench/mover's sets, made by its
// benchtool); (2) a backup of A after 1% of one large file changed (the
// bucket's growth on disk is the uploaded bytes, measured alike for
// both); (3) a backup of A and of B with nothing changed; (4) a restore
// of A and of B into an empty directory, each checked against its source
// (names, metadata and every byte) by benchtool verify. Then, once, (5)
// the peak RSS of a first backup of 1,000,000 files of 100 bytes.
// Wall time, CPU time and peak RSS are those of the tool's process, from
// wait4's rusage. restic keeps its default local cache, on the tmpfs
// (the cache helps its incremental backups; Ferry has none).
//
// Knobs (environment): ROUNDS (3), QUICK (1: tiny data sets, to check the
// harness), MILLION (1: run case 5; 0 skips it), MNT (/mnt/ferry-repo-bench),
// TMPFS_SIZE (GiB, 12), RESULTS_TSV (a file to keep the raw measurements
// in, written as they are made), FERRY_CPUPROFILE (a directory: every Ferry run writes a CPU
// profile there, named after the case and round), REPORT_FROM (a
// RESULTS_TSV file: print its report and measure nothing), SETS ("ab":
// the data sets of cases 1 to 4 to run, "a" or "b" for one) and TOOLS
// ("ferry,restic": one of them alone, to iterate; a report with one
// tool has no ratios).
package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"ferry.dev/ferry/test/harness/s3server"
)

// sizes of the data sets.
type sizes struct {
	largeN            int
	largeSize         string
	smallN            int
	tinyDirs, tinyPer int
}

var (
	fullSizes  = sizes{largeN: 4, largeSize: "512M", smallN: 100000, tinyDirs: 1000, tinyPer: 1000}
	quickSizes = sizes{largeN: 2, largeSize: "64M", smallN: 3000, tinyDirs: 20, tinyPer: 100}
)

// changeFile is the file of set A that case 2 changes, 1% of it in 1 MiB
// pieces.
const changeFile = "large-01.bin"

// bench is one run of the benchmark.
type bench struct {
	repo, scratch, mnt string
	rounds             int
	quick, million     bool
	sz                 sizes
	bt                 string // the benchtool binary
	srv                *s3server.Server
	tools              []tool
	results            *results
	profileDir         string
	changed            int64  // bytes changed per round in case 2
	sets               string // the data sets of cases 1-4: "a", "b" or both
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	run := run
	if p := os.Getenv("REPORT_FROM"); p != "" {
		run = func(context.Context) error { return reportFrom(p) }
	}
	if err := run(ctx); err != nil {
		logf("FAIL: %v", err)
		stop()
		os.Exit(1)
	}
}

func logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, a...))
}

func envInt(name string, def int) (int, error) {
	v := os.Getenv(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s=%q: want a whole number", name, v)
	}
	return n, nil
}

func envStr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// run sets up, measures, reports and cleans up, even on failure.
func run(ctx context.Context) (err error) {
	b := &bench{results: &results{}}
	if b.rounds, err = envInt("ROUNDS", 3); err != nil {
		return err
	}
	quick, err := envInt("QUICK", 0)
	if err != nil {
		return err
	}
	million, err := envInt("MILLION", 1)
	if err != nil {
		return err
	}
	tmpfsGiB, err := envInt("TMPFS_SIZE", 12)
	if err != nil {
		return err
	}
	b.quick, b.million, b.sz = quick == 1, million == 1, fullSizes
	if b.quick {
		b.sz, tmpfsGiB = quickSizes, min(tmpfsGiB, 2)
	}
	b.mnt = envStr("MNT", "/mnt/ferry-repo-bench")
	if b.sets = envStr("SETS", "ab"); strings.Trim(b.sets, "ab") != "" || b.sets == "" {
		return fmt.Errorf("SETS=%q: use a, b or ab", b.sets)
	}
	if b.profileDir = os.Getenv("FERRY_CPUPROFILE"); b.profileDir != "" {
		if err := os.MkdirAll(b.profileDir, 0o755); err != nil {
			return fmt.Errorf("FERRY_CPUPROFILE: %w", err)
		}
	}
	if os.Geteuid() != 0 {
		return errors.New("run as root: the benchmark mounts a tmpfs and restores owners")
	}
	if _, err := exec.LookPath("restic"); err != nil {
		return errors.New("restic is not installed: apt-get install -y restic (or hack/deps.sh)")
	}
	if err := checkMemory(tmpfsGiB); err != nil {
		return err
	}
	if p := os.Getenv("RESULTS_TSV"); p != "" {
		// one line per run as it is made, tab-separated: case tool round
		// wall cpu rssKiB bucketGrowthBytes sys serverCPU minflt majflt
		if b.results.tsv, err = os.Create(p); err != nil {
			return err
		}
		defer b.results.tsv.Close()
	}
	if b.repo, err = filepath.Abs("."); err != nil {
		return err
	}
	if b.scratch, err = os.MkdirTemp("", "ferry-repo-bench-"); err != nil {
		return err
	}
	defer os.RemoveAll(b.scratch)
	if err := b.build(ctx); err != nil {
		return err
	}
	unmount, err := mountTmpfs(b.mnt, tmpfsGiB)
	if err != nil {
		return err
	}
	defer func() {
		if uerr := unmount(); uerr != nil && err == nil {
			err = uerr
		}
	}()
	if err := b.startServer(ctx); err != nil {
		return err
	}
	defer func() {
		if serr := b.srv.Stop(); serr != nil && err == nil {
			err = serr
		}
	}()
	loadStart := loadavg()
	start := time.Now()
	if err := b.measure(ctx); err != nil {
		// what was measured is still worth its table
		b.report(os.Stdout, loadStart, loadavg())
		fmt.Printf("**INCOMPLETE RUN**: %v\n", err)
		return err
	}
	logf("done in %s", time.Since(start).Round(time.Second))
	b.report(os.Stdout, loadStart, loadavg())
	return nil
}

// reportFrom prints the report of a RESULTS_TSV file written by an
// earlier run (with the same QUICK and ROUNDS), without measuring.
func reportFrom(path string) error {
	b := &bench{results: &results{}, sz: fullSizes}
	var err error
	if b.rounds, err = envInt("ROUNDS", 3); err != nil {
		return err
	}
	if os.Getenv("QUICK") == "1" {
		b.sz = quickSizes
	}
	if b.repo, err = filepath.Abs("."); err != nil {
		return err
	}
	if b.results.recs, err = readRecords(path); err != nil {
		return err
	}
	b.changed = changedBytes(b.sz.largeSize)
	b.report(os.Stdout, "unknown (from "+path+")", "unknown")
	return nil
}

// changedBytes is what benchtool mutate changes in a file of size (K, M
// or G suffix): 1% in whole pieces of 1 MiB, at least one.
func changedBytes(size string) int64 {
	n, _ := strconv.ParseInt(strings.TrimRight(size, "KMG"), 10, 64)
	switch size[len(size)-1] {
	case 'K':
		n <<= 10
	case 'M':
		n <<= 20
	case 'G':
		n <<= 30
	}
	return max(int64(math.Round(float64(n)*0.01/(1<<20))), 1) << 20
}

// checkMemory fails unless the tmpfs and the processes fit in the free
// memory, with 2 GiB to spare.
func checkMemory(tmpfsGiB int) error {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == "MemAvailable:" {
			kib, _ := strconv.ParseInt(f[1], 10, 64)
			if avail := kib >> 20; avail < int64(tmpfsGiB)+2 {
				return fmt.Errorf("the benchmark needs %d GiB of free memory (a tmpfs of %d GiB, and the processes), %d GiB are available; lower TMPFS_SIZE, set MILLION=0, or wait", tmpfsGiB+2, tmpfsGiB, avail)
			}
			return nil
		}
	}
	return errors.New("no MemAvailable in /proc/meminfo")
}

// mountTmpfs mounts a tmpfs of gib GiB on dir (made if missing) and
// returns what unmounts it and removes what it made.
func mountTmpfs(dir string, gib int) (func() error, error) {
	if isMountPoint(dir) {
		return nil, fmt.Errorf("%s is already a mount point; set MNT to another directory", dir)
	}
	made := false
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		made = true
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%dg,mode=0755", gib)); err != nil {
		return nil, fmt.Errorf("mount a tmpfs on %s: %w", dir, err)
	}
	logf("mounted a tmpfs of %d GiB on %s", gib, dir)
	return func() error {
		err := unix.Unmount(dir, 0)
		if err != nil {
			time.Sleep(time.Second)
			if err = unix.Unmount(dir, 0); err != nil {
				err = unix.Unmount(dir, unix.MNT_DETACH)
			}
		}
		if err != nil {
			return fmt.Errorf("unmount %s: %w", dir, err)
		}
		if made {
			_ = os.Remove(dir)
		}
		logf("unmounted %s", dir)
		return nil
	}, nil
}

// isMountPoint reports whether dir is on another device than its parent.
func isMountPoint(dir string) bool {
	var a, p unix.Stat_t
	if unix.Stat(dir, &a) != nil || unix.Stat(filepath.Dir(dir), &p) != nil {
		return false
	}
	return a.Dev != p.Dev
}

// build makes private copies of ferry and benchtool (others may rebuild
// bin/ferry while this runs).
func (b *bench) build(ctx context.Context) error {
	logf("building ferry and bench/mover's benchtool")
	ferry, bt := filepath.Join(b.scratch, "ferry"), filepath.Join(b.scratch, "benchtool")
	for _, c := range [][]string{{"-o", ferry, "./cmd/ferry"}, {"-o", bt, "./bench/mover/benchtool"}} {
		cmd := exec.CommandContext(ctx, "go", append([]string{"build"}, c...)...)
		cmd.Dir = b.repo
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w\n%s", c[2], err, out)
		}
	}
	b.bt = bt
	all := []tool{&ferryTool{bin: ferry, dir: b.scratch, profileDir: b.profileDir},
		&resticTool{cacheDir: filepath.Join(b.mnt, "restic-cache")}}
	want := envStr("TOOLS", "ferry,restic")
	for _, t := range all {
		if slices.Contains(strings.Split(want, ","), t.name()) {
			b.tools = append(b.tools, t)
		}
	}
	if len(b.tools) == 0 {
		return fmt.Errorf("TOOLS=%q names no tool: use ferry, restic or both", want)
	}
	return nil
}

// startServer runs versitygw over a folder of the tmpfs.
func (b *bench) startServer(ctx context.Context) error {
	dir := filepath.Join(b.mnt, "s3")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return err
	}
	srv, err := s3server.New(ctx, s3server.Options{Dir: dir})
	if err != nil {
		return err
	}
	b.srv = srv
	for _, t := range b.tools {
		t.setServer(srv)
	}
	logf("versitygw %s at %s over %s", s3server.Version, srv.URL, dir)
	return nil
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
