// Command benchtool is the helper of bench/mover/run.sh, the data mover
// benchmark. It generates the data sets deterministically, changes a file
// in place for the delta case, checks that a destination tree equals its
// source, relays TCP while counting the bytes each way, and turns the
// recorded measurements into a Markdown table of medians.
//
//	benchtool gen-large DIR FILES SIZE SEED
//	benchtool gen-small DIR FILES MINSIZE MAXSIZE SEED
//	benchtool gen-tiny DIR DIRS FILESPERDIR SIZE SEED
//	benchtool gen-sparse FILE SIZE DATA SEED
//	benchtool mutate FILE FRACTION|BYTES CHUNK SEED
//	benchtool verify [-content=false] SRC DST
//	benchtool proxy LISTEN CONNECT OUTFILE
//	benchtool report [-changed BYTES] RESULTS.tsv
//
// Sizes accept the suffixes K, M and G (powers of 1024).
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	args := os.Args[2:]
	var err error
	switch os.Args[1] {
	case "gen-large":
		err = cmdGenLarge(args)
	case "gen-small":
		err = cmdGenSmall(args)
	case "gen-tiny":
		err = cmdGenTiny(args)
	case "gen-sparse":
		err = cmdGenSparse(args)
	case "mutate":
		err = cmdMutate(args)
	case "verify":
		err = cmdVerify(args)
	case "proxy":
		err = cmdProxy(args)
	case "report":
		err = cmdReport(args)
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchtool %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: benchtool gen-large|gen-small|gen-tiny|gen-sparse|mutate|verify|proxy|report ARGS (see the package comment)")
	os.Exit(2)
}

// parseSize parses a byte count with an optional K, M or G suffix.
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch {
	case strings.HasSuffix(s, "K"):
		mult, s = 1<<10, strings.TrimSuffix(s, "K")
	case strings.HasSuffix(s, "M"):
		mult, s = 1<<20, strings.TrimSuffix(s, "M")
	case strings.HasSuffix(s, "G"):
		mult, s = 1<<30, strings.TrimSuffix(s, "G")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

func parseInts(args []string, names ...string) ([]int64, error) {
	if len(args) != len(names) {
		return nil, fmt.Errorf("want %d arguments (%s), got %d", len(names), strings.Join(names, " "), len(args))
	}
	out := make([]int64, len(args))
	for i, a := range args {
		n, err := parseSize(a)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", names[i], err)
		}
		out[i] = n
	}
	return out, nil
}
