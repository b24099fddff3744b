package repository

import (
	"sort"

	"ferry.dev/ferry/internal/mover/wire"
)

// treeAheadDirs is how many of a parent directory's subdirectories have
// their trees loaded ahead of the walk; treeLoads bounds the loads of a
// whole backup at once.
const (
	treeAheadDirs = 8
	treeLoads     = 8
)

// treeAhead loads the parent snapshot's trees of a directory's
// subdirectories a few ahead of the walk, so that a backup of unchanged
// directories does not wait for one bucket read after another.
type treeAhead struct {
	b       *backup
	dirs    []*Node // the parent's subdirectories, by name
	next    int     // the first not started
	loading map[*Node]*treeLoad
	all     []*treeLoad
}

// treeLoad is one tree being loaded.
type treeLoad struct {
	index int // in dirs
	done  chan struct{}
	nodes []Node
	err   error
}

func (b *backup) newTreeAhead(parentNodes []Node) *treeAhead {
	a := &treeAhead{b: b, loading: map[*Node]*treeLoad{}}
	for i := range parentNodes {
		if parentNodes[i].Meta.Kind == wire.KindDir {
			a.dirs = append(a.dirs, &parentNodes[i])
		}
	}
	return a
}

// get returns the nodes of prev, a subdirectory in the parent, and starts
// loading the next ones.
func (a *treeAhead) get(prev *Node) ([]Node, error) {
	at := sort.Search(len(a.dirs), func(i int) bool { return a.dirs[i].Name >= prev.Name })
	// Directories passed on the way are gone since the parent: their
	// loads are dropped from the window (stop still waits for them).
	for n, l := range a.loading {
		if l.index < at {
			delete(a.loading, n)
		}
	}
	a.next = max(a.next, at)
	for a.next < len(a.dirs) && len(a.loading) < treeAheadDirs {
		a.start(a.next)
		a.next++
	}
	l, ok := a.loading[prev]
	if !ok {
		return a.b.r.LoadTree(a.b.ctx, prev.Subtree)
	}
	delete(a.loading, prev)
	<-l.done
	return l.nodes, l.err
}

// start loads the tree of dirs[i] in the background.
func (a *treeAhead) start(i int) {
	n := a.dirs[i]
	l := &treeLoad{index: i, done: make(chan struct{})}
	a.loading[n] = l
	a.all = append(a.all, l)
	b := a.b
	go func() {
		defer close(l.done)
		select {
		case b.treeSlots <- struct{}{}:
		case <-b.ctx.Done():
			l.err = b.ctx.Err()
			return
		}
		defer func() { <-b.treeSlots }()
		l.nodes, l.err = b.r.LoadTree(b.ctx, n.Subtree)
	}()
}

// stop waits for every load it started, taken or not.
func (a *treeAhead) stop() {
	for _, l := range a.all {
		<-l.done
	}
}
