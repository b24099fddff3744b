package mover

import (
	"slices"
	"sort"

	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// Renames: a large file new in a directory (no destination entry of its
// name) is sent against a destination file of that directory that has
// the same size (and the same mtime, when one has) and no source entry
// any more, the likely old name of a rename (PostgreSQL recycles WAL segments so, logs rotate so). The
// transfer is a delta against that file, so unchanged blocks do not
// travel, whatever the guess: a wrong one costs only the block hashes.
// The old name, which the directory's deletions would remove before the
// transfer starts, is removed only once all data is acknowledged
// (sender.finalize), or kept without Options.Delete. New large files and
// destination files left unpaired here go on to move detection across
// directories (send_move.go).

// renameBases pairs, in the directory rel, new large source files with
// destination files of the same size that the source no longer has; it
// returns the destination path of each one's basis, by source name. The
// pairs' old names leave dest, and with Options.Delete wait in
// s.laterRemoves.
func (s *sender) renameBases(rel string, entries []srcEntry, dest map[string]wire.Entry) map[string]string {
	gone := map[int64][]string{} // size -> destination names without a source entry
	names := make(map[string]bool, len(entries))
	for i := range entries {
		names[entries[i].name] = true
	}
	for name, e := range dest {
		if !names[name] && e.Meta.Kind == wire.KindRegular && e.Meta.Size >= s.opts.SmallFile {
			gone[e.Meta.Size] = append(gone[e.Meta.Size], name)
		}
	}
	if len(gone) == 0 {
		return nil
	}
	for _, l := range gone {
		sort.Strings(l)
	}
	out := map[string]string{}
	for i := range entries {
		e := &entries[i]
		m := &e.info.Meta
		if _, listed := dest[e.name]; listed || e.err != nil || m.Kind != wire.KindRegular || m.Size < s.opts.SmallFile || len(gone[m.Size]) == 0 {
			continue
		}
		old := pickBasis(gone, m, dest)
		out[e.name] = safefs.Join(rel, old)
		delete(dest, old)
		s.removeLater(safefs.Join(rel, old))
	}
	return out
}

// pickBasis takes from gone the destination file of m's size that is
// most likely m's old name: one with m's mtime (a rename keeps it), else
// the first.
func pickBasis(gone map[int64][]string, m *wire.Meta, dest map[string]wire.Entry) string {
	l := gone[m.Size]
	i := slices.IndexFunc(l, func(n string) bool { return dest[n].Meta.Mtime == m.Mtime })
	i = max(i, 0)
	old := l[i]
	gone[m.Size] = slices.Delete(l, i, i+1)
	return old
}
