package wire

import "unsafe"

// Kind is the type of a file system entry.
type Kind uint8

// Entry kinds.
const (
	KindRegular Kind = iota + 1
	KindDir
	KindSymlink
	KindFIFO
	KindCharDev
	KindBlockDev
	KindSocket
)

// String returns a short name for the kind.
func (k Kind) String() string {
	switch k {
	case KindRegular:
		return "file"
	case KindDir:
		return "dir"
	case KindSymlink:
		return "symlink"
	case KindFIFO:
		return "fifo"
	case KindCharDev:
		return "chardev"
	case KindBlockDev:
		return "blockdev"
	case KindSocket:
		return "socket"
	}
	return "unknown"
}

// Xattr is one extended attribute.
type Xattr struct {
	Name  string
	Value []byte
}

// Meta is the metadata of one entry as sent on the wire. Mode holds the
// permission bits plus setuid, setgid and sticky (mode & 07777). A zero
// Kind means no metadata (as in a hardlink operation).
type Meta struct {
	Kind   Kind
	Mode   uint32
	UID    uint32
	GID    uint32
	Size   int64
	Mtime  int64 // nanoseconds since the Unix epoch
	Atime  int64 // nanoseconds since the Unix epoch
	Rdev   uint64
	Target string // symlink target, verbatim
	Xattrs []Xattr
}

func (m *Meta) encode(e *Encoder) {
	e.Uint(uint64(m.Kind))
	e.Uint(uint64(m.Mode))
	e.Uint(uint64(m.UID))
	e.Uint(uint64(m.GID))
	e.Int(m.Size)
	e.Int(m.Mtime)
	e.Int(m.Atime)
	e.Uint(m.Rdev)
	e.String(m.Target)
	e.Uint(uint64(len(m.Xattrs)))
	for _, x := range m.Xattrs {
		e.String(x.Name)
		e.Blob(x.Value)
	}
}

func (m *Meta) decode(d *Decoder) {
	m.Kind = Kind(d.Uint())
	m.Mode = d.Uint32()
	m.UID = d.Uint32()
	m.GID = d.Uint32()
	m.Size = d.Int()
	m.Mtime = d.Int()
	m.Atime = d.Int()
	m.Rdev = d.Uint()
	m.Target = d.String()
	n := d.Count(2, int(unsafe.Sizeof(Xattr{})))
	m.Xattrs = nil
	if n > 0 {
		m.Xattrs = make([]Xattr, n)
	}
	for i := range m.Xattrs {
		m.Xattrs[i] = Xattr{Name: d.String(), Value: clone(d.Blob())}
	}
	if m.Kind > KindSocket || m.Size < 0 {
		d.fail("bad metadata")
	}
}

// MaxXattrSum is the longest xattr digest a listing entry may carry.
const MaxXattrSum = 32

// Entry is one name in a directory listing with its metadata. Listings
// carry no extended attributes, only, when asked, their digest. Ino and
// Nlink are the destination's inode number and link count of a regular
// file, so that the sender can tell which destination files share an
// inode.
type Entry struct {
	Name     string
	Meta     Meta
	Ino      uint64
	Nlink    uint64
	XattrSum []byte
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// EncodeMeta appends m as messages carry it, for formats that keep
// metadata outside a message (a replication repository's trees).
func EncodeMeta(e *Encoder, m *Meta) { m.encode(e) }

// DecodeMeta reads what EncodeMeta wrote.
func DecodeMeta(d *Decoder, m *Meta) { m.decode(d) }
