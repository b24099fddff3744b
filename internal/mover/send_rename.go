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
	// Files with a candidate of their mtime are paired first, so that a
	// new file of no one's mtime (a WAL segment just created, beside the
	// recycled ones) does not take another file's old name and leave that
	// file to travel whole.
	out := map[string]string{}
	var rest []*srcEntry
	for i := range entries {
		e := &entries[i]
		m := &e.info.Meta
		if _, listed := dest[e.name]; listed || e.err != nil || m.Kind != wire.KindRegular || m.Size < s.opts.SmallFile || len(gone[m.Size]) == 0 {
			continue
		}
		if old := pickBasis(gone, m, dest, true); old != "" {
			s.pairRename(rel, e.name, old, out, dest)
		} else {
			rest = append(rest, e)
		}
	}
	for _, e := range rest {
		if old := pickBasis(gone, &e.info.Meta, dest, false); old != "" {
			s.pairRename(rel, e.name, old, out, dest)
		}
	}
	return out
}

// pairRename records old as the basis of the new file name in rel.
func (s *sender) pairRename(rel, name, old string, out map[string]string, dest map[string]wire.Entry) {
	out[name] = safefs.Join(rel, old)
	delete(dest, old)
	s.removeLater(safefs.Join(rel, old))
}

// pickBasis takes from gone the destination file of m's size that is
// most likely m's old name: one with m's mtime (a rename keeps it), else,
// unless sameMtime, the first; "" when there is none.
func pickBasis(gone map[int64][]string, m *wire.Meta, dest map[string]wire.Entry, sameMtime bool) string {
	l := gone[m.Size]
	i := slices.IndexFunc(l, func(n string) bool { return dest[n].Meta.Mtime == m.Mtime })
	if i < 0 && !sameMtime && len(l) > 0 {
		i = 0
	}
	if i < 0 {
		return ""
	}
	old := l[i]
	gone[m.Size] = slices.Delete(l, i, i+1)
	return old
}
