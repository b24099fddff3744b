package mover_test

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zeebo/blake3"
	"golang.org/x/sys/unix"

	"ferry.dev/ferry/internal/mover"
)

// Replaying and lengthening TestSyncRandomEdits:
//
//	go test ./internal/mover/ -run TestSyncRandomEdits -fuzz-seed=N
//	go test ./internal/mover/ -run TestSyncRandomEdits -fuzz-rounds=500 -fuzz-seed=0
//
// MOVER_FUZZ_SEED and MOVER_FUZZ_ROUNDS do the same as the flags; a seed
// of 0 takes one from the clock, logged. FuzzSync drives the same edits
// from a fuzz input: go test ./internal/mover/ -run '^$' -fuzz FuzzSync.
var (
	fuzzSeed   = flag.Uint64("fuzz-seed", 0, "seed of TestSyncRandomEdits (default $MOVER_FUZZ_SEED, else a fixed one; 0 picks one from the clock)")
	fuzzRounds = flag.Int("fuzz-rounds", 0, "rounds of edits and syncs of TestSyncRandomEdits (default $MOVER_FUZZ_ROUNDS, else 10)")
)

const (
	defaultFuzzSeed   = 20261201
	defaultFuzzRounds = 10
	// fuzzLarge is the syncs' large-file threshold: low, so that a tree
	// of a few MiB has many large files, each of several ranges.
	fuzzLarge = 64 << 10
)

// fuzzSettings returns the seed and rounds the flags, the environment or
// the defaults ask for.
func fuzzSettings(t *testing.T) (seed uint64, rounds int) {
	seed, rounds = defaultFuzzSeed, defaultFuzzRounds
	if v := os.Getenv("MOVER_FUZZ_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("MOVER_FUZZ_SEED=%q: want an unsigned integer", v)
		}
		seed = n
	}
	if v := os.Getenv("MOVER_FUZZ_ROUNDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("MOVER_FUZZ_ROUNDS=%q: want a positive integer", v)
		}
		rounds = n
	}
	flag.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "fuzz-seed":
			seed = *fuzzSeed
		case "fuzz-rounds":
			rounds = max(*fuzzRounds, 1)
		}
	})
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	return seed, rounds
}

// TestSyncRandomEdits is an rsync-style fuzz test: a random tree, then
// rounds of random edits (editor), each followed by a sync with Delete
// (and at times Verify) after which the destination must equal the
// source exactly; at times a further sync of the unchanged tree must
// send and delete nothing.
func TestSyncRandomEdits(t *testing.T) {
	seed, rounds := fuzzSettings(t)
	t.Logf("seed %d, %d rounds", seed, rounds)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("replay with: go test ./internal/mover/ -run 'TestSyncRandomEdits$' -fuzz-seed=%d -fuzz-rounds=%d", seed, rounds)
		}
	})
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	env := newFuzzEnv(t, fuzzBase(t), newPKI(t))
	e := newEditor(t, env.src, rng.IntN, rng, fuzzLarge)
	e.build(40 + rng.IntN(40))
	env.sync(t, e, 0, rng.IntN)
	for round := 1; round <= rounds; round++ {
		for range 1 + rng.IntN(12) {
			e.apply()
		}
		env.sync(t, e, round, rng.IntN)
	}
	t.Logf("%+v", env.total)
}

// FuzzSync drives the editor from the fuzz input: its bytes pick the
// first tree, the edits and when to sync; contents come from a generator
// seeded by the input's hash.
func FuzzSync(f *testing.F) {
	f.Add([]byte("\x10\x05ab\x00cd\x07\x00ef\x03\x00"))
	f.Add([]byte("move large files across directories: \x06\x06\x06\x00\x06\x06\x00"))
	f.Add([]byte{30, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 11, 12, 13, 14, 15, 0, 16, 17, 18, 19, 20, 0})
	base, pki := fuzzBase(f), newPKI(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		sum := blake3.Sum256(in)
		rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:]), binary.LittleEndian.Uint64(sum[8:])))
		choices := &byteChoices{in: in}
		root, err := os.MkdirTemp(base, "fuzz-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.RemoveAll(root) })
		env := newFuzzEnv(t, root, pki)
		e := newEditor(t, env.src, choices.pick, rng, fuzzLarge)
		e.build(1 + choices.pick(24))
		env.sync(t, e, 0, choices.pick)
		for round := 1; round <= 4 && len(choices.in) > 0; round++ {
			for len(choices.in) > 0 && choices.pick(5) != 0 {
				e.apply()
			}
			env.sync(t, e, round, choices.pick)
		}
	})
}

// byteChoices makes choices from a fuzz input, one byte each; past its
// end every choice is 0.
type byteChoices struct{ in []byte }

func (c *byteChoices) pick(n int) int {
	if len(c.in) == 0 || n <= 1 {
		return 0
	}
	b := int(c.in[0])
	c.in = c.in[1:]
	if n > 256 && len(c.in) > 0 {
		b = b<<8 | int(c.in[0])
		c.in = c.in[1:]
	}
	return b % n
}

// fuzzBase returns a directory for the random trees: a fresh tmpfs when
// the test runs as root, else a temporary directory. On tmpfs a file's
// block count is its data pages only; on ext4 an extent-tree block, which
// depends on the file's history, may differ between equal files.
func fuzzBase(tb testing.TB) string {
	dir := tb.TempDir()
	if os.Geteuid() != 0 {
		return dir
	}
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1g"); err != nil {
		tb.Logf("no tmpfs (%v): trees on the temporary directory's file system", err)
		return dir
	}
	tb.Cleanup(func() { _ = unix.Unmount(dir, unix.MNT_DETACH) })
	return dir
}

// fuzzEnv is a source, a destination and a receiver serving it.
type fuzzEnv struct {
	src, dst string
	addr     string
	client   *tls.Config
	// total sums the syncs' progress, for the log.
	total struct{ syncs, sent, reused, deleted, skipped int64 }
}

func newFuzzEnv(t *testing.T, base, pki string) *fuzzEnv {
	env := &fuzzEnv{src: filepath.Join(base, "src"), dst: filepath.Join(base, "dst")}
	for _, d := range []string{env.src, env.dst} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env.addr = startReceiver(t, env.dst, serverTLS(t, pki), false).addr
	env.client = clientTLS(t, pki)
	return env
}

// sync syncs with Delete and options chosen by pick, then fails the test
// on any difference between the trees, any warning, and any temporary or
// partial file left; at times it syncs again and wants nothing sent.
func (env *fuzzEnv) sync(t *testing.T, e *editor, round int, pick func(int) int) {
	t.Helper()
	edits := e.takeLog()
	opts := []syncOpt{withDelete, func(o *mover.Options) {
		o.Parallel = 1 + pick(4)
		o.SmallFile, o.BlockSize, o.RangeSize = fuzzLarge, 4<<10, 16<<10
		switch pick(4) {
		case 0:
			o.SmallFile, o.BlockSize, o.RangeSize = 0, 0, 0 // the defaults
		case 1:
			o.BlockSize, o.RangeSize = 8<<10, 64<<10
		}
	}}
	if pick(3) == 0 {
		opts = append(opts, withVerify)
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Errorf(format, args...)
		t.Fatalf("round %d, after the edits:\n  %s", round, strings.Join(edits, "\n  "))
	}
	p, err := runSync(context.Background(), t, env.src, env.addr, env.client, opts...)
	if err != nil {
		fail("sync of round %d: %v", round, err)
	}
	env.check(t, fail, p)
	env.total.syncs++
	env.total.sent += p.BytesSent
	env.total.reused += p.Reused
	env.total.deleted += p.Deleted
	env.total.skipped += p.Skipped
	if pick(4) == 0 {
		p, err := runSync(context.Background(), t, env.src, env.addr, env.client, withDelete)
		if err != nil {
			fail("sync of the unchanged tree: %v", err)
		}
		env.check(t, fail, p)
		if p.BytesSent != 0 || p.Deleted != 0 {
			fail("sync of the unchanged tree sent %d bytes and deleted %d entries, want none", p.BytesSent, p.Deleted)
		}
	}
}

// check compares the trees and the receiver's reserved directory after a
// sync whose progress is p.
func (env *fuzzEnv) check(t *testing.T, fail func(string, ...any), p mover.Progress) {
	t.Helper()
	compareTrees(t, env.src, env.dst)
	if t.Failed() {
		fail("destination differs from the source")
	}
	if p.Warnings != 0 {
		fail("sync warned %d times (first: %s) of an unchanging source", p.Warnings, p.FirstWarning)
	}
	if tmp := tempFiles(t, env.dst); len(tmp) != 0 {
		fail("temporary files left: %v", tmp)
	}
	if part := partials(t, env.dst); len(part) != 0 {
		fail("partial files left: %v", part)
	}
}
