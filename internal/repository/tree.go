package repository

import (
	"context"
	"fmt"
	"sort"

	"ferry.dev/ferry/internal/mover/wire"
)

// Node is one entry of a snapshot's tree.
type Node struct {
	// Name is the entry's name in its directory.
	Name string
	// Meta is its metadata as the direct mover keeps it.
	Meta wire.Meta
	// Ino and Ctime are the source's inode and change time: a later
	// backup reuses the content of a file whose size, times and inode
	// are unchanged without reading it.
	Ino   uint64
	Ctime int64
	// Link, for the second and later names of a hard-linked file, is the
	// path (from the snapshot's root) of its first name; such a node has
	// no content of its own.
	Link string
	// Extents are the data runs of a sparse file (nil for a dense one):
	// its content is their bytes one after another, the rest is holes.
	Extents []wire.Extent
	// Content is the file's content as spans of blobs, in order.
	Content []Span
	// Subtree, for a directory, are the tree blobs listing its entries.
	Subtree []ID
}

// Span is a piece of a blob.
type Span struct {
	Blob           ID
	Offset, Length uint32
}

// treeVersion is the encoding of tree blobs.
const treeVersion = 1

// nodesPerTreeBlob splits large directories into several tree blobs, so
// that each decodes within the wire format's bounds.
const nodesPerTreeBlob = 8192

// encodeTree encodes nodes (sorted by name) as one tree blob.
func encodeTree(nodes []Node) []byte {
	var e wire.Encoder
	e.Uint(treeVersion)
	e.Uint(uint64(len(nodes)))
	for i := range nodes {
		n := &nodes[i]
		e.String(n.Name)
		wire.EncodeMeta(&e, &n.Meta)
		e.Uint(n.Ino)
		e.Int(n.Ctime)
		e.String(n.Link)
		e.Uint(uint64(len(n.Extents)))
		for _, x := range n.Extents {
			e.Int(x.Off)
			e.Int(x.Len)
		}
		e.Uint(uint64(len(n.Content)))
		for _, s := range n.Content {
			e.Blob(s.Blob[:])
			e.Uint(uint64(s.Offset))
			e.Uint(uint64(s.Length))
		}
		e.Uint(uint64(len(n.Subtree)))
		for _, id := range n.Subtree {
			e.Blob(id[:])
		}
	}
	return e.Bytes()
}

// decodeTree decodes a tree blob.
func decodeTree(b []byte) ([]Node, error) {
	d := wire.NewDecoder(b)
	if v := d.Uint(); v != treeVersion && d.Err() == nil {
		return nil, fmt.Errorf("tree blob of version %d; this Ferry reads %d", v, treeVersion)
	}
	n := d.Count(8, 256)
	out := make([]Node, 0, n)
	for range n {
		var x Node
		x.Name = d.String()
		wire.DecodeMeta(d, &x.Meta)
		x.Ino = d.Uint()
		x.Ctime = d.Int()
		x.Link = d.String()
		if k := d.Count(2, 16); k > 0 {
			x.Extents = make([]wire.Extent, k)
			for i := range x.Extents {
				x.Extents[i] = wire.Extent{Off: d.Int(), Len: d.Int()}
			}
		}
		if k := d.Count(35, 40); k > 0 {
			x.Content = make([]Span, k)
			for i := range x.Content {
				x.Content[i].Blob = readID(d)
				x.Content[i].Offset, x.Content[i].Length = d.Uint32(), d.Uint32()
			}
		}
		if k := d.Count(33, 32); k > 0 {
			x.Subtree = make([]ID, k)
			for i := range x.Subtree {
				x.Subtree[i] = readID(d)
			}
		}
		out = append(out, x)
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("tree blob: %w", err)
	}
	return out, nil
}

// readID reads a 32-byte blob as an ID.
func readID(d *wire.Decoder) ID {
	var id ID
	b := d.Blob()
	if len(b) != len(id) && d.Err() == nil {
		d.Fail("bad ID")
	}
	copy(id[:], b)
	return id
}

// saveTree stores a directory's nodes as tree blobs.
func (r *Repository) saveTree(ctx context.Context, nodes []Node) ([]ID, error) {
	ids := make([]ID, 0, len(nodes)/nodesPerTreeBlob+1)
	for start := 0; start < len(nodes) || start == 0; start += nodesPerTreeBlob {
		id, err := r.SaveBlob(ctx, TreeBlob, encodeTree(nodes[start:min(start+nodesPerTreeBlob, len(nodes))]))
		if err != nil {
			return nil, fmt.Errorf("save tree: %w", err)
		}
		ids = append(ids, id)
		if len(nodes) == 0 {
			break
		}
	}
	return ids, nil
}

// LoadTree returns a directory's nodes from its tree blobs, sorted by
// name.
func (r *Repository) LoadTree(ctx context.Context, ids []ID) ([]Node, error) {
	var out []Node
	for _, id := range ids {
		b, err := r.LoadBlob(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("load tree: %w", err)
		}
		nodes, err := decodeTree(b)
		if err != nil {
			return nil, fmt.Errorf("tree %s: %w", id.Short(), err)
		}
		out = append(out, nodes...)
	}
	if !sort.SliceIsSorted(out, func(i, j int) bool { return out[i].Name < out[j].Name }) {
		return nil, fmt.Errorf("tree %s: %w: entries out of order", ids[0].Short(), ErrTampered)
	}
	return out, nil
}

// findNode returns the node named name in nodes (sorted), or nil.
func findNode(nodes []Node, name string) *Node {
	i := sort.Search(len(nodes), func(i int) bool { return nodes[i].Name >= name })
	if i < len(nodes) && nodes[i].Name == name {
		return &nodes[i]
	}
	return nil
}
