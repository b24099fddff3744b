package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
)

// A record is one measured run, one line of the results file:
//
//	setting case tool round wall cpuSend cpuRecv rssSend rssRecv bytesSent bytesRecv
//
// tab-separated; CPU and wall in seconds, RSS in KiB, "-" when unknown.
type record struct {
	setting, kase, tool, round string
	vals                       [7]float64 // wall, cpuSend, cpuRecv, rssSend, rssRecv, bytesSent, bytesRecv
}

const (
	fWall = iota
	fCPUSend
	fCPURecv
	fRSSSend
	fRSSRecv
	fBytesSent
	fBytesRecv
	fCPU // not a column: fCPUSend + fCPURecv
)

var (
	caseOrder = []string{"a", "b", "c-a", "c-b", "d", "s", "s-d", "s-v", "r", "r-dir", "1M"}
	caseNames = map[string]string{
		"a":     "(a) 2 GiB, 4 large files",
		"b":     "(b) 100,000 small files",
		"c-a":   "(c) re-sync of (a), no change",
		"c-b":   "(c) re-sync of (b), no change",
		"d":     "(d) re-sync, 1% of one file changed",
		"s":     "(s) sparse file, fresh",
		"s-d":   "(s) re-sync, 1 MiB of it changed",
		"s-v":   "(s) re-sync with --verify, no change",
		"r":     "(r) re-sync after renames (512 MiB moved, 4 x 16 MiB recycled)",
		"r-dir": "(r) re-sync after the 512 MiB file's directory was renamed",
		"1M":    "1,000,000 files of 100 B",
	}
	toolOrder = []string{"ferry", "base", "local", "rsync", "fuzzy", "cp"}
	toolNames = map[string]string{"ferry": "Ferry mover", "base": "Ferry mover, baseline",
		"local": "Ferry local copy (`mover local`)", "rsync": "rsync + stunnel", "fuzzy": "rsync --fuzzy --delete-delay + stunnel", "cp": "cp -a"}
)

func cmdReport(args []string) error {
	fset := flag.NewFlagSet("report", flag.ContinueOnError)
	changed := fset.Int64("changed", 0, "bytes changed per round in case (d)")
	baseline := fset.String("baseline", "", "the revision the tool \"base\" was built from")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if fset.NArg() != 1 {
		return errors.New("want RESULTS.tsv")
	}
	recs, err := readRecords(fset.Arg(0))
	if err != nil {
		return err
	}
	if *baseline != "" {
		toolNames["base"] = "Ferry mover at " + *baseline + " (baseline)"
	}
	rep := &report{recs: recs, changed: *changed}
	rep.write(os.Stdout)
	return nil
}

func readRecords(path string) ([]record, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var recs []record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) != 11 {
			return nil, fmt.Errorf("bad line %q", sc.Text())
		}
		r := record{setting: fs[0], kase: fs[1], tool: fs[2], round: fs[3]}
		for i, s := range fs[4:] {
			r.vals[i] = math.NaN()
			if s != "-" && s != "" {
				if r.vals[i], err = strconv.ParseFloat(s, 64); err != nil {
					return nil, fmt.Errorf("bad number %q in %q", s, sc.Text())
				}
			}
		}
		recs = append(recs, r)
	}
	return recs, sc.Err()
}

type report struct {
	recs    []record
	changed int64
}

// values returns the known values of field f for one setting, case and tool.
func (r *report) values(setting, kase, tool string, f int) []float64 {
	var out []float64
	for _, x := range r.recs {
		if x.setting == setting && x.kase == kase && x.tool == tool {
			var v float64
			if f == fCPU {
				v = x.vals[fCPUSend]
				if !math.IsNaN(x.vals[fCPURecv]) {
					v += x.vals[fCPURecv]
				}
			} else {
				v = x.vals[f]
			}
			if !math.IsNaN(v) {
				out = append(out, v)
			}
		}
	}
	return out
}

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

func (r *report) med(setting, kase, tool string, f int) float64 {
	return median(r.values(setting, kase, tool, f))
}

func mib(kib float64) string {
	if math.IsNaN(kib) {
		return "—"
	}
	return fmt.Sprintf("%.0f MiB", kib/1024)
}

func num(v float64, prec int) string {
	if math.IsNaN(v) {
		return "—"
	}
	return strconv.FormatFloat(v, 'f', prec, 64)
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

func (r *report) has(setting string) bool {
	for _, x := range r.recs {
		if x.setting == setting {
			return true
		}
	}
	return false
}

func (r *report) write(w *os.File) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	for _, setting := range []string{"tmpfs", "disk"} {
		if !r.has(setting) {
			continue
		}
		if setting == "tmpfs" {
			p("#### Medians on tmpfs\n\n")
		} else {
			p("#### Medians on disk (ext4 under /var/tmp; the disk's speed swings 3-9x, so these are indicative only)\n\n")
		}
		p("| case | tool | runs | wall s, median (min–max) | wall ÷ Ferry’s | CPU s, both sides (sender + receiver) | peak RSS sender | peak RSS receiver |\n")
		p("|---|---|---:|---:|---:|---:|---:|---:|\n")
		for _, k := range caseOrder {
			fw := r.med(setting, k, "ferry", fWall)
			for _, t := range toolOrder {
				walls := r.values(setting, k, t, fWall)
				if len(walls) == 0 {
					continue
				}
				vs := "1.00x"
				if t != "ferry" {
					vs = num(median(walls)/fw, 2) + "x"
				}
				recv := mib(r.med(setting, k, t, fRSSRecv))
				cpu := fmt.Sprintf("%s (%s + %s)", num(r.med(setting, k, t, fCPU), 2),
					num(r.med(setting, k, t, fCPUSend), 2), num(r.med(setting, k, t, fCPURecv), 2))
				if t == "cp" || t == "local" {
					recv = "(one process)"
					cpu = num(r.med(setting, k, t, fCPU), 2)
				}
				p("| %s | %s | %d | %s (%s–%s) | %s | %s | %s | %s |\n", caseNames[k], toolNames[t], len(walls),
					num(median(walls), 2), num(slices.Min(walls), 2), num(slices.Max(walls), 2), vs,
					cpu, mib(r.med(setting, k, t, fRSSSend)), recv)
			}
		}
		p("\n")
	}
	r.writeBytes(p)
	r.writeRenames(p)
	r.writeMemory(p)
	r.writeVerdicts(p)
	r.writeLocalTargets(p)
}

// writeMemory compares peak RSS at 100,000 files (b) and 1,000,000 files.
func (r *report) writeMemory(p func(string, ...any)) {
	if len(r.values("tmpfs", "1M", "ferry", fWall)) == 0 {
		return
	}
	p("#### Memory as the file count grows (peak RSS, tmpfs)\n\n")
	p("| tool | sender, 100,000 files (b) | sender, 1,000,000 files | receiver, 100,000 files (b) | receiver, 1,000,000 files |\n")
	p("|---|---:|---:|---:|---:|\n")
	for _, t := range []string{"ferry", "rsync"} {
		if len(r.values("tmpfs", "1M", t, fWall)) == 0 {
			continue
		}
		p("| %s | %s | %s | %s | %s |\n", toolNames[t],
			mib(r.med("tmpfs", "b", t, fRSSSend)), mib(r.med("tmpfs", "1M", t, fRSSSend)),
			mib(r.med("tmpfs", "b", t, fRSSRecv)), mib(r.med("tmpfs", "1M", t, fRSSRecv)))
	}
	p("\n")
}

func (r *report) writeBytes(p func(string, ...any)) {
	if len(r.values("tmpfs", "d", "ferry", fWall)) == 0 {
		return
	}
	ch := float64(r.changed)
	p("#### Bytes sent in (d) (%s changed per round)\n\n", human(ch))
	p("| tool | reported by the tool: sent (received) | sent / changed | TLS bytes on the wire, sender → receiver (←) | wire / changed |\n")
	p("|---|---:|---:|---:|---:|\n")
	for _, t := range []string{"ferry", "rsync"} {
		if len(r.values("tmpfs", "d", t, fWall)) == 0 {
			continue // not in this run (TOOLS)
		}
		s, rc := r.med("tmpfs", "d", t, fBytesSent), r.med("tmpfs", "d", t, fBytesRecv)
		ws, wr := r.med("tmpfs", "d-wire", t, fBytesSent), r.med("tmpfs", "d-wire", t, fBytesRecv)
		p("| %s | %s (%s) | %sx | %s (%s) | %sx |\n", toolNames[t], human(s), human(rc), num(s/ch, 2),
			human(ws), human(wr), num(ws/ch, 2))
	}
	p("\n")
}

// writeRenames reports the bytes sent in (r), where only names changed:
// 576 MiB of files were renamed or moved per round.
func (r *report) writeRenames(p func(string, ...any)) {
	if len(r.values("tmpfs", "r", "ferry", fWall)) == 0 {
		return
	}
	p("#### Bytes sent in (r) (no content changed: 576 MiB renamed or moved per round; then 512 MiB in a renamed directory)\n\n")
	p("| tool | (r) sent (received), median | (r) wall s, median | (r-dir) sent (received), median | (r-dir) wall s, median |\n")
	p("|---|---:|---:|---:|---:|\n")
	for _, t := range []string{"ferry", "base", "local", "rsync", "fuzzy"} {
		if len(r.values("tmpfs", "r", t, fWall)) == 0 {
			continue
		}
		p("| %s | %s (%s) | %s | %s (%s) | %s |\n", toolNames[t], human(r.med("tmpfs", "r", t, fBytesSent)),
			human(r.med("tmpfs", "r", t, fBytesRecv)), num(r.med("tmpfs", "r", t, fWall), 2),
			human(r.med("tmpfs", "r-dir", t, fBytesSent)), human(r.med("tmpfs", "r-dir", t, fBytesRecv)),
			num(r.med("tmpfs", "r-dir", t, fWall), 2))
	}
	p("\n")
}

// paired returns, for every round in which both tools ran case k on
// tmpfs, the wall time of tool a divided by that of tool b: neighbours in
// time, so less disturbed by load that changes during a run.
func (r *report) paired(setting, k, a, b string) []float64 {
	walls := map[string]map[string]float64{}
	for _, x := range r.recs {
		if x.setting == setting && x.kase == k && (x.tool == a || x.tool == b) {
			if walls[x.round] == nil {
				walls[x.round] = map[string]float64{}
			}
			walls[x.round][x.tool] = x.vals[fWall]
		}
	}
	var out []float64
	for _, w := range walls {
		if wa, ok := w[a]; ok {
			if wb, ok := w[b]; ok {
				out = append(out, wa/wb)
			}
		}
	}
	return out
}

func (r *report) writeVerdicts(p func(string, ...any)) {
	verdict := func(ok bool) string {
		if ok {
			return "**met**"
		}
		return "**missed**"
	}
	// speed prints one speed target: the ratio a/b of the median wall
	// times (the verdict), the median and range of the per-round ratios,
	// and the ratio of the median CPU seconds.
	speed := func(target, k, a, b string, ok func(float64) bool) {
		x := r.med("tmpfs", k, a, fWall) / r.med("tmpfs", k, b, fWall)
		if math.IsNaN(x) {
			return
		}
		pr := r.paired("tmpfs", k, a, b)
		cpu := r.med("tmpfs", k, a, fCPU) / r.med("tmpfs", k, b, fCPU)
		p("| %s | %.2fx | %.2fx (%.2f–%.2f) | %.2fx | %s |\n", target, x, median(pr), slices.Min(pr), slices.Max(pr), cpu, verdict(ok(x)))
	}
	if len(r.values("tmpfs", "a", "ferry", fWall)) == 0 && len(r.values("tmpfs", "b", "ferry", fWall)) == 0 {
		return // no data set with targets was run
	}
	p("#### Targets (tmpfs)\n\n")
	p("Ratios are rsync / Ferry (above 1: Ferry is faster), or Ferry / cp -a.\n\n")
	p("| target | ratio of median wall times | median of per-round ratios (min–max) | ratio of median CPU s | verdict |\n|---|---:|---:|---:|---|\n")
	speed("(a) ≥ 1.6x faster than rsync + stunnel", "a", "rsync", "ferry", func(x float64) bool { return x >= 1.6 })
	speed("(a) within 1.25x of cp -a", "a", "ferry", "cp", func(x float64) bool { return x <= 1.25 })
	speed("(b) ≥ 1.3x faster than rsync + stunnel", "b", "rsync", "ferry", func(x float64) bool { return x >= 1.3 })
	speed("(c) re-sync of (b), ≥ 2x faster than rsync + stunnel", "c-b", "rsync", "ferry", func(x float64) bool { return x >= 2 })
	speed("(c) re-sync of (a), ≥ 2x faster than rsync + stunnel", "c-a", "rsync", "ferry", func(x float64) bool { return x >= 2 })
	speed("(d) no slower than rsync + stunnel", "d", "rsync", "ferry", func(x float64) bool { return x >= 1 })
	p("\n")
	r.writeRegression(p, verdict)
	if s := r.med("tmpfs", "d", "ferry", fBytesSent); !math.IsNaN(s) && r.changed > 0 {
		p("| (d) target: < 2x the changed bytes sent | Ferry / changed | verdict |\n|---|---:|---|\n")
		p("| file data sent, as Ferry reports it | %.2fx | %s |\n", s/float64(r.changed), verdict(s < 2*float64(r.changed)))
		if ws := r.med("tmpfs", "d-wire", "ferry", fBytesSent); !math.IsNaN(ws) {
			p("| all TLS bytes sender → receiver | %.2fx | %s |\n", ws/float64(r.changed), verdict(ws < 2*float64(r.changed)))
		}
		p("\n")
	}
}

// localBound is how much slower than cp -a the local copy may be on (a)
// and (b).
const localBound = 1.25

// writeLocalTargets compares the local copy with cp -a, and with the
// mover over TLS, in each setting the run had them.
func (r *report) writeLocalTargets(p func(string, ...any)) {
	verdict := func(ok bool) string {
		if ok {
			return "**met**"
		}
		return "**missed**"
	}
	header := false
	for _, setting := range []string{"tmpfs", "disk"} {
		for _, k := range []string{"a", "b"} {
			x := r.med(setting, k, "local", fWall) / r.med(setting, k, "cp", fWall)
			if math.IsNaN(x) {
				continue
			}
			if !header {
				p("#### Targets of the local copy\n\n")
				p("Ratios are local copy / cp -a (below %.2f: the target is met); the last column is the mover over TLS / cp -a in the same run.\n\n", localBound)
				p("| setting | case | ratio of median wall times | median of per-round ratios (min–max) | ratio of median CPU s | verdict | Ferry mover over TLS / cp -a |\n|---|---|---:|---:|---:|---|---:|\n")
				header = true
			}
			pr := r.paired(setting, k, "local", "cp")
			cpu := r.med(setting, k, "local", fCPU) / r.med(setting, k, "cp", fCPU)
			tls := r.med(setting, k, "ferry", fWall) / r.med(setting, k, "cp", fWall)
			p("| %s | %s | %.2fx | %.2fx (%.2f–%.2f) | %.2fx | %s | %sx |\n", setting, caseNames[k], x, median(pr),
				slices.Min(pr), slices.Max(pr), cpu, verdict(x <= localBound), num(tls, 2))
		}
	}
	if header {
		p("\n")
	}
}

// regressionBound is how much slower than the baseline a case's median
// wall time may be and still count as noise: the spread of repeated runs
// of one binary on this machine kind (see docs/benchmarks.md).
const regressionBound = 1.10

// writeRegression compares this tree's mover with the baseline's, case by
// case, when the run had one.
func (r *report) writeRegression(p func(string, ...any), verdict func(bool) string) {
	if len(r.values("tmpfs", "a", "base", fWall)) == 0 && len(r.values("tmpfs", "b", "base", fWall)) == 0 {
		return
	}
	p("#### No regression against the baseline (tmpfs)\n\n")
	p("Ratios are Ferry / baseline (below 1: this tree is faster); the target is at most %.2fx in every case.\n\n", regressionBound)
	p("| case | ratio of median wall times | median of per-round ratios (min–max) | ratio of median CPU s | ratio of peak RSS, sender / receiver | verdict |\n|---|---:|---:|---:|---:|---|\n")
	for _, k := range caseOrder {
		x := r.med("tmpfs", k, "ferry", fWall) / r.med("tmpfs", k, "base", fWall)
		if math.IsNaN(x) {
			continue
		}
		pr := r.paired("tmpfs", k, "ferry", "base")
		lo, mid, hi := math.NaN(), math.NaN(), math.NaN()
		if len(pr) > 0 {
			lo, mid, hi = slices.Min(pr), median(pr), slices.Max(pr)
		}
		cpu := r.med("tmpfs", k, "ferry", fCPU) / r.med("tmpfs", k, "base", fCPU)
		rss := fmt.Sprintf("%.2fx / %.2fx", r.med("tmpfs", k, "ferry", fRSSSend)/r.med("tmpfs", k, "base", fRSSSend),
			r.med("tmpfs", k, "ferry", fRSSRecv)/r.med("tmpfs", k, "base", fRSSRecv))
		p("| %s | %.2fx | %.2fx (%.2f–%.2f) | %.2fx | %s | %s |\n", caseNames[k], x, mid, lo, hi, cpu, rss, verdict(x <= regressionBound))
	}
	p("\n")
}
