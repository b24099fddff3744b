package main

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// chacha returns a deterministic random stream for (seed, stream).
func chacha(seed, stream int64) *rand.ChaCha8 {
	var key [32]byte
	for i := range 8 {
		key[i] = byte(seed >> (8 * i))
		key[8+i] = byte(stream >> (8 * i))
	}
	key[16] = 'f'
	return rand.NewChaCha8(key)
}

// parallel runs fn(0..n-1) on up to GOMAXPROCS goroutines and returns
// the first error.
func parallel(n int, fn func(i int) error) error {
	var (
		mu   sync.Mutex
		next int
		ferr error
		wg   sync.WaitGroup
	)
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			for {
				mu.Lock()
				i := next
				next++
				stop := ferr != nil
				mu.Unlock()
				if i >= n || stop {
					return
				}
				if err := fn(i); err != nil {
					mu.Lock()
					if ferr == nil {
						ferr = err
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return ferr
}

// cmdGenLarge writes FILES files of SIZE incompressible random bytes.
func cmdGenLarge(args []string) error {
	v, err := parseInts(args[min(1, len(args)):], "FILES", "SIZE", "SEED")
	if err != nil || len(args) < 1 {
		return fmt.Errorf("DIR FILES SIZE SEED: %v", err)
	}
	dir, files, size, seed := args[0], int(v[0]), v[1], v[2]
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return parallel(files, func(i int) error {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("large-%02d.bin", i)))
		if err != nil {
			return err
		}
		rng := chacha(seed, int64(i))
		buf := make([]byte, 4<<20)
		for left := size; left > 0; {
			b := buf[:min(int64(len(buf)), left)]
			_, _ = rng.Read(b)
			if _, err := f.Write(b); err != nil {
				f.Close()
				return err
			}
			left -= int64(len(b))
		}
		return f.Close()
	})
}

// changedBytes parses mutate's FRACTION|BYTES argument for a file of size
// bytes.
func changedBytes(arg string, size int64) (float64, error) {
	if strings.HasSuffix(arg, "K") || strings.HasSuffix(arg, "M") || strings.HasSuffix(arg, "G") {
		n, err := parseSize(arg)
		if err != nil || n <= 0 || n > size {
			return 0, fmt.Errorf("bad BYTES %q for a file of %d bytes", arg, size)
		}
		return float64(n), nil
	}
	frac, err := strconv.ParseFloat(arg, 64)
	if err != nil || frac <= 0 || frac > 1 {
		return 0, fmt.Errorf("bad FRACTION %q", arg)
	}
	return frac * float64(size), nil
}

// cmdGenSparse writes FILE of SIZE apparent bytes holding DATA random
// bytes in 64 KiB chunks spread evenly over it (4 KiB-aligned); the rest
// is holes.
func cmdGenSparse(args []string) error {
	v, err := parseInts(args[min(1, len(args)):], "SIZE", "DATA", "SEED")
	if err != nil || len(args) < 1 {
		return fmt.Errorf("FILE SIZE DATA SEED: %v", err)
	}
	size, data, seed := v[0], v[1], v[2]
	const chunk = 64 << 10
	n := max(data/chunk, 1)
	if n*chunk > size {
		return fmt.Errorf("%d bytes of data do not fit in %d bytes", data, size)
	}
	if err := os.MkdirAll(filepath.Dir(args[0]), 0o755); err != nil {
		return err
	}
	f, err := os.Create(args[0])
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	rng := chacha(seed, 0)
	buf := make([]byte, chunk)
	for k := range n {
		_, _ = rng.Read(buf)
		off := min(k*(size/n)&^4095, size-chunk)
		if _, err := f.WriteAt(buf, off); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// pool is a block of random bytes that small files are cut from: cheap
// to produce and incompressible within a file.
func pool(seed int64, size int) []byte {
	b := make([]byte, size)
	_, _ = chacha(seed, -1).Read(b)
	return b
}

// cmdGenSmall writes FILES files of MINSIZE..MAXSIZE random bytes into
// 6 x 7 x 7 leaf directories three levels deep (343 directories in all).
func cmdGenSmall(args []string) error {
	v, err := parseInts(args[min(1, len(args)):], "FILES", "MINSIZE", "MAXSIZE", "SEED")
	if err != nil || len(args) < 1 {
		return fmt.Errorf("DIR FILES MINSIZE MAXSIZE SEED: %v", err)
	}
	dir, files, lo, hi, seed := args[0], int(v[0]), v[1], v[2], v[3]
	if hi < lo {
		return fmt.Errorf("MAXSIZE %d < MINSIZE %d", hi, lo)
	}
	var leaves []string
	for a := range 6 {
		for b := range 7 {
			for c := range 7 {
				leaves = append(leaves, filepath.Join(dir, fmt.Sprintf("d%d", a), fmt.Sprintf("e%d", b), fmt.Sprintf("f%d", c)))
			}
		}
	}
	data := pool(seed, 64<<20)
	return parallel(len(leaves), func(l int) error {
		if err := os.MkdirAll(leaves[l], 0o755); err != nil {
			return err
		}
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(l)))
		for i := l; i < files; i += len(leaves) {
			size := lo + rng.Int64N(hi-lo+1)
			off := rng.Int64N(int64(len(data)) - size)
			name := filepath.Join(leaves[l], fmt.Sprintf("file-%06d", i))
			if err := os.WriteFile(name, data[off:off+size], 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}

// cmdGenTiny writes DIRS directories of FILESPERDIR files of SIZE bytes.
func cmdGenTiny(args []string) error {
	v, err := parseInts(args[min(1, len(args)):], "DIRS", "FILESPERDIR", "SIZE", "SEED")
	if err != nil || len(args) < 1 {
		return fmt.Errorf("DIR DIRS FILESPERDIR SIZE SEED: %v", err)
	}
	dir, dirs, per, size, seed := args[0], int(v[0]), int(v[1]), v[2], v[3]
	data := pool(seed, 16<<20)
	return parallel(dirs, func(d int) error {
		sub := filepath.Join(dir, fmt.Sprintf("d%04d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			return err
		}
		rng := rand.New(rand.NewPCG(uint64(seed), uint64(d)))
		for i := range per {
			off := rng.Int64N(int64(len(data)) - size)
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%04d", i)), data[off:off+size], 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}

// cmdMutate overwrites FRACTION of FILE (or, given with a K, M or G
// suffix, that many bytes) in place with new random data, in scattered
// CHUNK-sized pieces at unaligned offsets (one per equal slice of the
// file), keeps its size and sets its mtime to now. It prints the number
// of bytes changed.
func cmdMutate(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("want FILE FRACTION|BYTES CHUNK SEED")
	}
	v, err := parseInts(args[2:], "CHUNK", "SEED")
	if err != nil {
		return err
	}
	chunk, seed := v[0], v[1]
	f, err := os.OpenFile(args[0], os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	size := fi.Size()
	change, err := changedBytes(args[1], size)
	if err != nil {
		return err
	}
	n := max(int64(math.Round(change/float64(chunk))), 1)
	region := size / n
	if region < chunk {
		return fmt.Errorf("%d chunks of %d bytes do not fit in %d bytes", n, chunk, size)
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 7))
	src := chacha(seed, 1<<40)
	buf := make([]byte, chunk)
	for k := range n {
		off := k*region + rng.Int64N(region-chunk+1)
		_, _ = src.Read(buf)
		if _, err := f.WriteAt(buf, off); err != nil {
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	now := time.Now()
	if err := os.Chtimes(args[0], now, now); err != nil {
		return err
	}
	fmt.Println(n * chunk)
	return nil
}
