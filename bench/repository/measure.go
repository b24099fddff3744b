package main

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// dataSet is one source tree and its key (a, b or m).
type dataSet struct{ key, dir string }

// gen runs benchtool with args (generation, mutation).
func (b *bench) gen(ctx context.Context, args ...string) (string, error) {
	out, err := exec.CommandContext(ctx, b.bt, args...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("benchtool %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// verify fails unless dst equals src: names, types, modes, owners,
// sizes, mtimes and, with content, every byte.
func (b *bench) verify(ctx context.Context, src, dst, what string, content bool) error {
	args := []string{"verify"}
	if !content {
		args = append(args, "-content=false")
	}
	out, err := exec.CommandContext(ctx, b.bt, append(args, src, dst)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("WRONG RESTORE (%s): %s differs from %s: %w\n%s", what, dst, src, err, out)
	}
	return nil
}

// bucketBytes is the size of every regular file under the bucket's
// folder on the server: what the tool has stored.
func (b *bench) bucketBytes(bucket string) (int64, error) {
	var n int64
	err := filepath.WalkDir(filepath.Join(b.srv.Dir, bucket), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err == nil {
			n += fi.Size()
		}
		return err
	})
	return n, err
}

// order is the tools in the order of step s of round r: rotated by one
// each step and each round.
func (b *bench) order(r, s int) []tool {
	out := make([]tool, len(b.tools))
	for i := range b.tools {
		out[i] = b.tools[(r+s+i)%len(b.tools)]
	}
	return out
}

func bucketName(t tool, set string, round int) string {
	return fmt.Sprintf("%s-%s-r%d", t.name(), set, round)
}

// backupStep backs set up with every tool, in turn, recording case kase
// and the bucket's growth.
func (b *bench) backupStep(ctx context.Context, kase string, set dataSet, round, step int) error {
	for _, t := range b.order(round, step) {
		bucket := bucketName(t, set.key, round)
		before, err := b.bucketBytes(bucket)
		if err != nil {
			return err
		}
		u, err := b.withServer(func() (usage, error) {
			return t.backup(ctx, bucket, set.key, set.dir, fmt.Sprintf("%s-r%d", kase, round))
		})
		if err != nil {
			return fmt.Errorf("%s, case %s, round %d: %w", t.name(), kase, round, err)
		}
		after, err := b.bucketBytes(bucket)
		if err != nil {
			return err
		}
		b.results.add(record{kase: kase, tool: t.name(), round: round, usage: u, grown: after - before})
	}
	return nil
}

// withServer runs one measured process and adds the S3 server's CPU
// seconds during it to its usage.
func (b *bench) withServer(run func() (usage, error)) (usage, error) {
	u0, s0, err := b.srv.CPU()
	if err != nil {
		return usage{}, err
	}
	u, err := run()
	if err != nil {
		return u, err
	}
	u1, s1, err := b.srv.CPU()
	if err != nil {
		return u, err
	}
	u.server = (u1 + s1 - u0 - s0).Seconds()
	return u, nil
}

// warm writes as many bytes as the set holds into a file of the tmpfs
// and removes it, so that the restore that follows writes into memory
// the guest has touched recently. On a VM whose balloon reports free
// pages to the host (virtio-balloon free page reporting, on in the
// machines of docs/benchmarks.md), the first write to a page handed back
// faults on the host and costs several times a warm write; without this,
// whichever tool restores first in a round pays for it and the second
// one reuses the pages the first one's files held.
func (b *bench) warm(dir string) error {
	var size int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		size += info.Size()
		return nil
	})
	if err != nil {
		return fmt.Errorf("size of %s: %w", dir, err)
	}
	path := filepath.Join(b.mnt, "warm")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	buf := bytes.Repeat([]byte{0xa5}, 1<<20)
	for n := int64(0); n < size; n += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			f.Close()
			return fmt.Errorf("warm the tmpfs: %w", err)
		}
	}
	return f.Close()
}

// restoreStep restores set with every tool into an empty folder, checks
// it and removes it.
func (b *bench) restoreStep(ctx context.Context, set dataSet, round, step int) error {
	kase := "restore-" + set.key
	for _, t := range b.order(round, step) {
		dst := filepath.Join(b.mnt, "restore-"+t.name())
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
		if err := os.Mkdir(dst, 0o755); err != nil {
			return err
		}
		if err := b.warm(set.dir); err != nil {
			return err
		}
		u, err := b.withServer(func() (usage, error) {
			return t.restore(ctx, bucketName(t, set.key, round), set.key, dst, fmt.Sprintf("%s-r%d", kase, round))
		})
		if err != nil {
			return fmt.Errorf("%s, case %s, round %d: %w", t.name(), kase, round, err)
		}
		b.results.add(record{kase: kase, tool: t.name(), round: round, usage: u})
		if err := b.verify(ctx, set.dir, dst, fmt.Sprintf("%s, %s, round %d", t.name(), kase, round), true); err != nil {
			return err
		}
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
	}
	return nil
}

// makeBuckets creates and initialises every tool's bucket of set for a
// round.
func (b *bench) makeBuckets(ctx context.Context, set string, round int) error {
	for _, t := range b.tools {
		bucket := bucketName(t, set, round)
		if err := b.srv.CreateBucket(ctx, bucket); err != nil {
			return err
		}
		if err := t.init(ctx, bucket); err != nil {
			return err
		}
	}
	return nil
}

// dropBuckets removes a round's buckets from the server's folder, and
// restic's cache.
func (b *bench) dropBuckets(sets []string, round int) error {
	for _, t := range b.tools {
		for _, s := range sets {
			if err := os.RemoveAll(filepath.Join(b.srv.Dir, bucketName(t, s, round))); err != nil {
				return err
			}
		}
	}
	return os.RemoveAll(filepath.Join(b.mnt, "restic-cache"))
}

// measure generates the data and runs every round, then case 5.
func (b *bench) measure(ctx context.Context) error {
	a, sb := dataSet{"a", filepath.Join(b.mnt, "src-a")}, dataSet{"b", filepath.Join(b.mnt, "src-b")}
	if strings.Contains(b.sets, "a") {
		logf("generating set A, %d x %s", b.sz.largeN, b.sz.largeSize)
		if _, err := b.gen(ctx, "gen-large", a.dir, strconv.Itoa(b.sz.largeN), b.sz.largeSize, "1"); err != nil {
			return err
		}
	}
	if strings.Contains(b.sets, "b") {
		logf("generating set B, %d files of 1-8 KiB", b.sz.smallN)
		if _, err := b.gen(ctx, "gen-small", sb.dir, strconv.Itoa(b.sz.smallN), "1K", "8K", "2"); err != nil {
			return err
		}
	}
	for r := 1; r <= b.rounds; r++ {
		if err := b.round(ctx, a, sb, r); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(a.dir); err != nil {
		return err
	}
	if err := os.RemoveAll(sb.dir); err != nil {
		return err
	}
	if b.million {
		return b.millionFiles(ctx)
	}
	return nil
}

// round is one round of cases 1 to 4 for every tool, on the sets chosen.
func (b *bench) round(ctx context.Context, a, sb dataSet, r int) error {
	logf("round %d of %d", r, b.rounds)
	withA, withB := strings.Contains(b.sets, "a"), strings.Contains(b.sets, "b")
	var sets []string
	if withA {
		sets = append(sets, "a")
	}
	if withB {
		sets = append(sets, "b")
	}
	for _, s := range sets {
		if err := b.makeBuckets(ctx, s, r); err != nil {
			return err
		}
	}
	steps := []struct {
		on  bool
		run func(step int) error
	}{
		{withA, func(step int) error { return b.backupStep(ctx, "first-a", a, r, step) }},
		{withB, func(step int) error { return b.backupStep(ctx, "first-b", sb, r, step) }},
		{withA, func(step int) error { return b.changeStep(ctx, a, r, step) }},
		{withA, func(step int) error { return b.backupStep(ctx, "nochange-a", a, r, step) }},
		{withB, func(step int) error { return b.backupStep(ctx, "nochange-b", sb, r, step) }},
		{withA, func(step int) error { return b.restoreStep(ctx, a, r, step) }},
		{withB, func(step int) error { return b.restoreStep(ctx, sb, r, step) }},
	}
	for i, s := range steps {
		if !s.on {
			continue
		}
		if err := s.run(i); err != nil {
			return err
		}
	}
	return b.dropBuckets(sets, r)
}

// changeStep is case 2: 1% of one large file of A changes, then every
// tool backs A up.
func (b *bench) changeStep(ctx context.Context, a dataSet, r, step int) error {
	out, err := b.gen(ctx, "mutate", filepath.Join(a.dir, changeFile), "0.01", "1M", strconv.Itoa(100+r))
	if err != nil {
		return err
	}
	if b.changed, err = strconv.ParseInt(out, 10, 64); err != nil {
		return fmt.Errorf("benchtool mutate printed %q, not a byte count", out)
	}
	return b.backupStep(ctx, "change-a", a, r, step)
}

// millionFiles is case 5: a first backup of 1,000,000 files of 100
// bytes, once per tool, for its peak RSS; then a restore by listing and
// a spot check of one directory's bytes, so a backup that skipped files
// cannot pass.
func (b *bench) millionFiles(ctx context.Context) error {
	m := dataSet{"m", filepath.Join(b.mnt, "src-m")}
	logf("case 5: generating %d x %d files of 100 bytes", b.sz.tinyDirs, b.sz.tinyPer)
	if _, err := b.gen(ctx, "gen-tiny", m.dir, strconv.Itoa(b.sz.tinyDirs), strconv.Itoa(b.sz.tinyPer), "100", "3"); err != nil {
		return err
	}
	if err := b.makeBuckets(ctx, "m", 1); err != nil {
		return err
	}
	if err := b.backupStep(ctx, "first-m", m, 1, 0); err != nil {
		return err
	}
	for _, t := range b.tools {
		dst := filepath.Join(b.mnt, "restore-"+t.name())
		if err := os.Mkdir(dst, 0o755); err != nil {
			return err
		}
		u, err := b.withServer(func() (usage, error) { return t.restore(ctx, bucketName(t, "m", 1), "m", dst, "restore-m-r1") })
		if err != nil {
			return fmt.Errorf("%s, restore of case 5: %w", t.name(), err)
		}
		b.results.add(record{kase: "restore-m", tool: t.name(), round: 1, usage: u})
		if err := b.verify(ctx, m.dir, dst, t.name()+", 1,000,000 files", false); err != nil {
			return err
		}
		if err := b.verify(ctx, filepath.Join(m.dir, "d0000"), filepath.Join(dst, "d0000"), t.name()+", 1,000,000 files, d0000", true); err != nil {
			return err
		}
		if err := os.RemoveAll(dst); err != nil {
			return err
		}
	}
	if err := b.dropBuckets([]string{"m"}, 1); err != nil {
		return err
	}
	return os.RemoveAll(m.dir)
}
