package mover

import (
	"cmp"
	"fmt"
	"slices"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/wire"
)

// Identity is a numeric user and group, as a non-root mover runs.
type Identity struct {
	UID uint32 `json:"uid"`
	GID uint32 `json:"gid"`
}

// String is "uid:gid".
func (id Identity) String() string { return fmt.Sprintf("%d:%d", id.UID, id.GID) }

// DefaultNonRoot is the identity of a non-root mover when the data's
// main owner is root or unknown.
var DefaultNonRoot = Identity{UID: 1000, GID: 1000}

// Owner is a user and group that own entries of a tree, with what they
// own: the allocated bytes and the number of entries (hard-linked files
// once).
type Owner struct {
	UID   uint32 `json:"uid"`
	GID   uint32 `json:"gid"`
	Bytes int64  `json:"bytes"`
	Files int64  `json:"files"`
}

// Identity is the owner's user and group.
func (o Owner) Identity() Identity { return Identity{UID: o.UID, GID: o.GID} }

// MaxOwners is how many owners a usage report lists, the largest first;
// the others are counted (Usage.OtherOwners).
const MaxOwners = 5

// NonRootIdentity is the identity a mover that may not run as root
// takes for a tree with these owners: the owner of most bytes (then of
// most entries, then the lowest user), when that owner's user is not
// root; else DefaultNonRoot. Files of that owner keep their owner; the
// mover cannot give any file another one.
func NonRootIdentity(owners []Owner) Identity {
	if len(owners) == 0 {
		return DefaultNonRoot
	}
	top := slices.MinFunc(owners, compareOwners)
	if top.UID == 0 {
		return DefaultNonRoot
	}
	return top.Identity()
}

// compareOwners orders owners largest first: bytes, then entries, then
// by user and group.
func compareOwners(a, b Owner) int {
	return cmp.Or(cmp.Compare(b.Bytes, a.Bytes), cmp.Compare(b.Files, a.Files), cmp.Compare(a.UID, b.UID), cmp.Compare(a.GID, b.GID))
}

// Readability classes of an entry: what a mover that is neither root
// nor the entry's owner needs to read it. A regular file needs the read
// bit, a directory read and search; other kinds need nothing.
type access struct {
	dir                 bool
	owner, group, other bool // the class may read (and search a directory)
}

// accessOf is the readability of an entry with mode bits mode.
func accessOf(info *fsmeta.Info) (access, bool) {
	m := info.Meta.Mode
	switch info.Meta.Kind {
	case wire.KindRegular:
		return access{owner: m&0o400 != 0, group: m&0o040 != 0, other: m&0o004 != 0}, true
	case wire.KindDir:
		return access{dir: true, owner: m&0o500 == 0o500, group: m&0o050 == 0o050, other: m&0o005 == 0o005}, true
	}
	return access{}, false
}

// readableBy reports whether id (not root, no other groups) can read an
// entry of this class owned by owner.
func (a access) readableBy(owner, id Identity) bool {
	switch {
	case owner.UID == id.UID:
		return a.owner
	case owner.GID == id.GID:
		return a.group
	}
	return a.other
}

// ownerTally sums a tree's entries per owner, and per owner the entries
// of each readability class (with the first path seen), so that the
// files a non-root identity cannot read are known once the walk has
// found the owners.
type ownerTally struct {
	owners map[Identity]*Owner
	access map[Identity]map[access]*classCount
}

type classCount struct {
	n       int64
	example string
}

func newOwnerTally() *ownerTally {
	return &ownerTally{owners: map[Identity]*Owner{}, access: map[Identity]map[access]*classCount{}}
}

// add counts an entry at rel; owned says whether it counts among the
// owners (the root does not: a copy never changes the destination
// root's owner).
func (t *ownerTally) add(info *fsmeta.Info, rel string, owned bool) {
	id := Identity{UID: info.Meta.UID, GID: info.Meta.GID}
	if owned {
		o := t.owners[id]
		if o == nil {
			o = &Owner{UID: id.UID, GID: id.GID}
			t.owners[id] = o
		}
		o.Files++
		o.Bytes += info.Blocks * 512
	}
	a, ok := accessOf(info)
	if !ok || (a.owner && a.group && a.other) {
		return // readable by anyone, or nothing to read
	}
	classes := t.access[id]
	if classes == nil {
		classes = map[access]*classCount{}
		t.access[id] = classes
	}
	c := classes[a]
	if c == nil {
		c = &classCount{example: rel}
		classes[a] = c
	}
	c.n++
}

// top returns the largest MaxOwners owners, and how many owners and
// entries are left out.
func (t *ownerTally) top() (listed []Owner, others int, otherFiles int64) {
	all := make([]Owner, 0, len(t.owners))
	for _, o := range t.owners {
		all = append(all, *o)
	}
	slices.SortFunc(all, compareOwners)
	if len(all) <= MaxOwners {
		return all, 0, 0
	}
	for _, o := range all[MaxOwners:] {
		otherFiles += o.Files
	}
	return all[:MaxOwners], len(all) - MaxOwners, otherFiles
}

// unreadable counts the entries id cannot read, with the first by path
// order of the walk among the classes (any one of them as the example).
func (t *ownerTally) unreadable(id Identity) (n int64, example string) {
	owners := make([]Identity, 0, len(t.access))
	for o := range t.access {
		owners = append(owners, o)
	}
	slices.SortFunc(owners, func(a, b Identity) int { return cmp.Or(cmp.Compare(a.UID, b.UID), cmp.Compare(a.GID, b.GID)) })
	for _, o := range owners {
		for a, c := range t.access[o] {
			if a.readableBy(o, id) {
				continue
			}
			n += c.n
			if example == "" || c.example < example {
				example = c.example
			}
		}
	}
	return n, example
}
