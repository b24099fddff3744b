package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// A record is one measured run.
type record struct {
	kase, tool string
	round      int
	usage
	grown int64 // bytes the bucket grew by (backups)
}

// results collect the records of a run.
type results struct {
	mu   sync.Mutex
	recs []record
	// tsv, when set, gets every record as it is made (see save).
	tsv *os.File
}

func (rs *results) add(r record) {
	rs.mu.Lock()
	rs.recs = append(rs.recs, r)
	if rs.tsv != nil {
		fmt.Fprintf(rs.tsv, "%s\t%s\t%d\t%.3f\t%.3f\t%d\t%d\t%.3f\t%.2f\t%d\t%d\n", r.kase, r.tool, r.round,
			r.wall, r.cpu, r.rssKiB, r.grown, r.sys, r.server, r.minflt, r.majflt)
	}
	rs.mu.Unlock()
	logf("%-10s %-6s round %d: wall %7.2f s, cpu %7.2f s (sys %5.2f s), server cpu %5.2f s, faults %d (%d with I/O), peak rss %6.0f MiB, bucket +%s",
		r.kase, r.tool, r.round, r.wall, r.cpu, r.sys, r.server, r.minflt, r.majflt, float64(r.rssKiB)/1024, human(float64(r.grown)))
}

// readRecords reads a RESULTS_TSV file.
func readRecords(path string) ([]record, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var recs []record
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		r, err := parseRecord(l)
		if err != nil {
			return nil, fmt.Errorf("%s: bad line %q: %w", path, l, err)
		}
		recs = append(recs, r)
	}
	return recs, nil
}

// parseRecord reads one line of a RESULTS_TSV file: seven fields, or
// eleven (with sys, server CPU and page faults) since they were added.
func parseRecord(l string) (record, error) {
	var r record
	f := strings.Split(l, "\t")
	if len(f) != 7 && len(f) != 11 {
		return r, fmt.Errorf("%d fields, want 7 or 11", len(f))
	}
	r.kase, r.tool = f[0], f[1]
	_, err := fmt.Sscanf(strings.Join(f[2:7], " "), "%d %f %f %d %d", &r.round, &r.wall, &r.cpu, &r.rssKiB, &r.grown)
	if err == nil && len(f) == 11 {
		_, err = fmt.Sscanf(strings.Join(f[7:], " "), "%f %f %d %d", &r.sys, &r.server, &r.minflt, &r.majflt)
	}
	return r, err
}

// values returns field f of every record of kase and tool.
func (rs *results) values(kase, tool string, f func(record) float64) []float64 {
	var out []float64
	for _, r := range rs.recs {
		if r.kase == kase && r.tool == tool {
			out = append(out, f(r))
		}
	}
	return out
}

func (rs *results) med(kase, tool string, f func(record) float64) float64 {
	return median(rs.values(kase, tool, f))
}

func wall(r record) float64   { return r.wall }
func cpu(r record) float64    { return r.cpu }
func rss(r record) float64    { return float64(r.rssKiB) }
func server(r record) float64 { return r.server }
func grown(r record) float64  { return float64(r.grown) }

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func human(b float64) string {
	switch {
	case math.IsNaN(b):
		return "—"
	case b >= 1<<30:
		return fmt.Sprintf("%.2f GiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.2f MiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.1f KiB", b/(1<<10))
	}
	return fmt.Sprintf("%.0f B", b)
}

func mib(kib float64) string {
	if math.IsNaN(kib) {
		return "—"
	}
	return fmt.Sprintf("%.0f MiB", kib/1024)
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**missed**"
}

// A row of the main table: a case and its speed target (restic ÷ Ferry
// at least min; 0 for none).
type row struct {
	kase, name string
	min        float64
}

var rows = []row{
	{"first-a", "(1) first backup of A (large files)", 2},
	{"first-b", "(1) first backup of B (small files)", 2},
	{"change-a", "(2) backup of A after 1% of one file changed", 0},
	{"nochange-a", "(3) backup of A, nothing changed", 3},
	{"nochange-b", "(3) backup of B, nothing changed", 3},
	{"restore-a", "(4) restore of A into an empty folder", 2},
	{"restore-b", "(4) restore of B into an empty folder", 2},
	{"first-m", "(5) first backup of the tiny files (1,000,000 in a full run)", 0},
	{"restore-m", "(5) restore of the tiny files", 0},
}

// report writes the Markdown report.
func (b *bench) report(w io.Writer, loadStart, loadEnd string) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	rs := b.results
	p("### Replication repository benchmark, %s\n\n", time.Now().UTC().Format("2006-01-02"))
	p("- machine: %d vCPU, %s, %s, Linux %s; %s\n", runtime.NumCPU(), memTotal(), osName(), cmdOut("uname", "-r"), runtime.Version())
	p("- ferry built from %s; %s; versitygw %s (posix backend) on a tmpfs, over HTTP on 127.0.0.1\n", b.rev(), cmdOut("restic", "version"), "v1.8.0")
	p("- load average (1, 5, 15 min) at start: %s; at end: %s\n", loadStart, loadEnd)
	p("- rounds: %d (tool order alternating); A: %d x %s, B: %d files of 1-8 KiB, (5): %d x %d files of 100 B; %s changed per round in (2)\n\n",
		b.rounds, b.sz.largeN, b.sz.largeSize, b.sz.smallN, b.sz.tinyDirs, b.sz.tinyPer, human(float64(b.changed)))
	p("| case | Ferry wall s, median (min–max) | restic wall s, median (min–max) | restic ÷ Ferry | target | verdict | CPU s Ferry / restic | server CPU s Ferry / restic | peak RSS Ferry / restic | bucket growth Ferry / restic |\n")
	p("|---|---:|---:|---:|---|---|---:|---:|---:|---:|\n")
	for _, x := range rows {
		fw, rw := rs.values(x.kase, "ferry", wall), rs.values(x.kase, "restic", wall)
		if len(fw) == 0 || len(rw) == 0 {
			continue
		}
		ratio := median(rw) / median(fw)
		target, v := "—", "—"
		if x.min > 0 {
			target, v = fmt.Sprintf("≥ %.0fx", x.min), verdict(ratio >= x.min)
		}
		growth := "—"
		if !strings.HasPrefix(x.kase, "restore") {
			growth = human(rs.med(x.kase, "ferry", grown)) + " / " + human(rs.med(x.kase, "restic", grown))
		}
		p("| %s | %.2f (%.2f–%.2f) | %.2f (%.2f–%.2f) | %.2fx | %s | %s | %.2f / %.2f | %.2f / %.2f | %s / %s | %s |\n", x.name,
			median(fw), slices.Min(fw), slices.Max(fw), median(rw), slices.Min(rw), slices.Max(rw), ratio, target, v,
			rs.med(x.kase, "ferry", cpu), rs.med(x.kase, "restic", cpu),
			rs.med(x.kase, "ferry", server), rs.med(x.kase, "restic", server),
			mib(rs.med(x.kase, "ferry", rss)), mib(rs.med(x.kase, "restic", rss)), growth)
	}
	p("\n")
	b.reportUpload(p)
	b.reportMemory(p)
}

// reportUpload gives the bytes stored by the backup after the 1% change
// against the bytes changed.
func (b *bench) reportUpload(p func(string, ...any)) {
	rs := b.results
	if len(rs.values("change-a", "ferry", grown)) == 0 || b.changed == 0 {
		return
	}
	ch := float64(b.changed)
	p("Uploaded bytes in (2), measured as the growth of the bucket's folder on the server (%s changed):\n\n", human(ch))
	p("| tool | bucket growth, median | ÷ changed bytes | target: < 2x | verdict |\n|---|---:|---:|---|---|\n")
	for _, t := range []string{"ferry", "restic"} {
		g := rs.med("change-a", t, grown)
		v := "—"
		if t == "ferry" {
			v = verdict(g < 2*ch)
		}
		p("| %s | %s | %.2fx | < 2x | %s |\n", t, human(g), g/ch, v)
	}
	p("\n")
}

// reportMemory compares peak RSS of first backups at 100,000 and at
// 1,000,000 files.
func (b *bench) reportMemory(p func(string, ...any)) {
	rs := b.results
	if len(rs.values("first-m", "ferry", rss)) == 0 {
		return
	}
	p("Peak RSS of a first backup as the file count grows (target: bounded; met when 10x the files cost Ferry at most 2x the memory):\n\n")
	p("| tool | B: %d files | %d files | ratio | verdict |\n|---|---:|---:|---:|---|\n", b.sz.smallN, b.sz.tinyDirs*b.sz.tinyPer)
	for _, t := range []string{"ferry", "restic"} {
		lo, hi := rs.med("first-b", t, rss), rs.med("first-m", t, rss)
		v := "—"
		if t == "ferry" {
			v = verdict(hi <= 2*lo)
		}
		p("| %s | %s | %s | %.2fx | %s |\n", t, mib(lo), mib(hi), hi/lo, v)
	}
	p("\n")
}

func (b *bench) rev() string {
	cmd := exec.Command("git", "rev-parse", "--short", "HEAD")
	cmd.Dir = b.repo
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	rev := strings.TrimSpace(string(out))
	cmd = exec.Command("git", "status", "--porcelain", "--", "internal/repository", "internal/objstore", "internal/cli", "cmd/ferry")
	cmd.Dir = b.repo
	if out, err := cmd.Output(); err == nil && len(out) > 0 {
		rev += " + uncommitted changes"
	}
	return rev
}

func cmdOut(name string, args ...string) string {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

func memTotal() string {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return "unknown memory"
	}
	var kib float64
	for _, l := range strings.Split(string(b), "\n") {
		if _, err := fmt.Sscanf(l, "MemTotal: %f kB", &kib); err == nil {
			return fmt.Sprintf("%.0f GiB", kib/(1<<20))
		}
	}
	return "unknown memory"
}

func osName() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return "unknown OS"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return "unknown OS"
}
