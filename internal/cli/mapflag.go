package cli

import (
	"fmt"
	"sort"
	"strings"
)

// mappingFlag is a flag of OLD=NEW pairs, comma-separated or repeated,
// like pflag's StringToString, but it refuses an empty side and a key
// given twice instead of keeping the last value.
type mappingFlag struct {
	m *map[string]string
}

// String implements pflag.Value.
func (f mappingFlag) String() string {
	if f.m == nil || *f.m == nil {
		return ""
	}
	var pairs []string
	for k, v := range *f.m {
		pairs = append(pairs, k+"="+v)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}

// Set implements pflag.Value.
func (f mappingFlag) Set(v string) error {
	if *f.m == nil {
		*f.m = map[string]string{}
	}
	for _, pair := range strings.Split(v, ",") {
		from, to, ok := strings.Cut(pair, "=")
		from, to = strings.TrimSpace(from), strings.TrimSpace(to)
		switch {
		case !ok || from == "" || to == "":
			return fmt.Errorf("%q: give OLD=NEW, both names set", pair)
		case (*f.m)[from] != "" && (*f.m)[from] != to:
			return fmt.Errorf("%s is mapped twice (to %s and to %s): give it once", from, (*f.m)[from], to)
		}
		(*f.m)[from] = to
	}
	return nil
}

// Type implements pflag.Value.
func (f mappingFlag) Type() string { return "OLD=NEW" }
