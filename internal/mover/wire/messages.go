package wire

// Type identifies a message; it is the first byte of every frame.
type Type uint8

// Message types. Requests and their replies are listed together.
const (
	TypeHello       Type = iota + 1 // -> HelloOK | Error
	TypeHelloOK                     // reply to Hello
	TypeError                       // failure reply to any request
	TypeOK                          // empty success reply
	TypeOpenDir                     // -> DirList... | Error
	TypeDirList                     // one chunk of a listing
	TypeOps                         // -> OK | Error
	TypeDone                        // -> OK | Error
	TypeBatch                       // -> OK | Error
	TypeFileBegin                   // -> BeginOK | Error
	TypeBeginOK                     // reply to FileBegin
	TypeRangeHashes                 // -> Hashes | Error
	TypeHashes                      // reply to RangeHashes and HashFiles
	TypeData                        // no reply; part of a range
	TypeZero                        // no reply; part of a range
	TypeRangeDone                   // -> OK | Error, ends a range
	TypeCommit                      // -> OK | Error
	TypeAbort                       // -> OK | Error
	TypeHashFiles                   // -> Hashes | Error
	typeLast
)

// Message is implemented by every frame payload type of this package.
type Message interface {
	Type() Type
	encode(e *Encoder)
	decode(d *Decoder)
}

// Version is the protocol version sent in Hello. Version 2 added the
// sync state (HelloOK.Last, Done.State, Done.Final), link facts and xattr
// digests in listings (OpenDir.Xattrs), the basis map (BeginOK.Mapped,
// Extents), partial files (Abort.Keep) and renames (FileBegin.Basis).
const Version = 2

// Role says what a connection is for.
type Role uint8

// Connection roles.
const (
	RoleControl Role = 1 // walk, listings, directory operations
	RoleData    Role = 2 // file contents and hashes
)

// Hello opens every connection. Data connections name the session their
// control connection started.
type Hello struct {
	Version uint32
	Session []byte // 16 random bytes chosen by the sender
	Role    Role
}

// HelloOK accepts a connection. Chown says the receiver runs as root and
// will apply owners. Last, on a control connection, is the state the
// last completed sync into this destination left (zero when none).
type HelloOK struct {
	Version uint32
	Chown   bool
	Last    SyncState
}

// SyncState describes a completed sync: which source it came from and
// when it started by the sender's clock. A sender trusts ctimes older
// than Start to mean "unchanged since" only for the same Source.
type SyncState struct {
	Source []byte // the sender's identity of its source file system and root
	Start  int64  // nanoseconds since the Unix epoch
}

// ErrCode classifies an Error reply.
type ErrCode uint8

// Error codes.
const (
	CodeInternal ErrCode = iota + 1 // any other failure
	CodeNoSpace                     // the destination volume is full
	CodeUnsafe                      // a path escapes the root or crosses a symlink
	CodeProtocol                    // a message was unexpected or malformed
	CodeBusy                        // another session is running
	CodeNotFound                    // a hardlink target is missing
)

// Error is the failure reply to any request.
type Error struct {
	Code    ErrCode
	Message string
	Path    string
}

// OK is the empty success reply.
type OK struct{}

// OpenDir asks for the listing of Path. With Create the receiver first
// makes sure Path is a directory (creating it or replacing a
// non-directory). With Xattrs every regular file and directory in the
// listing carries the digest of its compared extended attributes.
type OpenDir struct {
	Path   string
	Create bool
	Xattrs bool
}

// DirList is one chunk of a listing; the last chunk has More == false.
type DirList struct {
	Entries []Entry
	More    bool
}

// OpKind is the kind of a directory-level operation.
type OpKind uint8

// Operation kinds.
const (
	OpRemove  OpKind = iota + 1 // remove Path recursively
	OpSymlink                   // create symlink Path -> Meta.Target
	OpSpecial                   // create FIFO, device or socket Path
	OpAttrs                     // apply Meta to the existing entry Path
	OpLink                      // hardlink Path to the existing Target
)

// Op is one directory-level operation. Paths are relative to the root.
type Op struct {
	Kind   OpKind
	Path   string
	Target string
	Meta   Meta
}

// Ops carries a batch of operations, applied in order.
type Ops struct {
	Ops []Op
}

// Done ends a session after all work; the receiver flushes to disk and
// records State, which the next session's HelloOK returns. With Final it
// removes its reserved directory instead: no later sync is expected, and
// the destination holds the source's data alone.
type Done struct {
	State SyncState
	Final bool
}

// Segment is a run of file data at Off. Bytes not covered by any segment
// are holes.
type Segment struct {
	Off  int64
	Data []byte
}

// File is one small file sent whole inside a Batch.
type File struct {
	Path     string
	Meta     Meta
	Segments []Segment
}

// Batch carries several small files in one message.
type Batch struct {
	Files []File
}

// FileBegin opens the transfer of a large file under ID. With Delta the
// receiver keeps the current file as the basis for RangeHashes.
type FileBegin struct {
	ID    uint64
	Path  string
	Size  int64
	Delta bool
	// Basis, when set, names another destination file to use as the
	// basis: one the source renamed to Path (or copied); with Delete, the
	// sender removes it only after all data is acknowledged.
	Basis string
}

// Extent is a run [Off, Off+Len) of a file that holds data.
type Extent struct {
	Off int64
	Len int64
}

// MaxBasisExtents bounds BeginOK.Extents: a basis more fragmented than
// this is not mapped.
const MaxBasisExtents = 4096

// BeginOK answers FileBegin; OldSize is -1 when there is no basis file.
// With Mapped, Extents lists every data run of the basis (sorted, apart,
// within OldSize; at most MaxBasisExtents) and the rest of it is holes:
// the sender need not ask for the hashes of a range that is a hole on
// both sides.
type BeginOK struct {
	OldSize int64
	Mapped  bool
	Extents []Extent
}

// RangeHashes asks for the block hashes of the basis file in
// [Off, Off+Len); the receiver also copies those blocks into the new file.
// The sum of a block of zeros, read or a hole, is empty.
type RangeHashes struct {
	ID        uint64
	Off       int64
	Len       int64
	BlockSize int64
}

// Hashes answers RangeHashes (one sum per basis block, empty for a block
// of zeros) and HashFiles (one sum per path, empty when the path is not a
// regular file).
type Hashes struct {
	Sums [][]byte
}

// Data writes bytes at Off into the file ID.
type Data struct {
	ID   uint64
	Off  int64
	Data []byte
}

// Zero turns [Off, Off+Len) of file ID into a hole.
type Zero struct {
	ID  uint64
	Off int64
	Len int64
}

// RangeDone ends a run of Data and Zero messages and asks for the result.
type RangeDone struct {
	ID uint64
}

// Commit applies Meta to file ID and renames it into place.
type Commit struct {
	ID   uint64
	Meta Meta
}

// Abort discards file ID. With Keep the receiver keeps what it holds of
// the file, out of sight, as the basis of the next transfer of the same
// path (the source changed while it was read: most of it is likely
// current), never under the file's name.
type Abort struct {
	ID   uint64
	Keep bool
}

// HashFiles asks for the content sums of regular files: BLAKE3-256 over
// their size and non-zero blocks, so that holes and zeros compare equal.
type HashFiles struct {
	Paths []string
}

// Type implements Message.
func (*Hello) Type() Type { return TypeHello }

// Type implements Message.
func (*HelloOK) Type() Type { return TypeHelloOK }

// Type implements Message.
func (*Error) Type() Type { return TypeError }

// Type implements Message.
func (*OK) Type() Type { return TypeOK }

// Type implements Message.
func (*OpenDir) Type() Type { return TypeOpenDir }

// Type implements Message.
func (*DirList) Type() Type { return TypeDirList }

// Type implements Message.
func (*Ops) Type() Type { return TypeOps }

// Type implements Message.
func (*Done) Type() Type { return TypeDone }

// Type implements Message.
func (*Batch) Type() Type { return TypeBatch }

// Type implements Message.
func (*FileBegin) Type() Type { return TypeFileBegin }

// Type implements Message.
func (*BeginOK) Type() Type { return TypeBeginOK }

// Type implements Message.
func (*RangeHashes) Type() Type { return TypeRangeHashes }

// Type implements Message.
func (*Hashes) Type() Type { return TypeHashes }

// Type implements Message.
func (*Data) Type() Type { return TypeData }

// Type implements Message.
func (*Zero) Type() Type { return TypeZero }

// Type implements Message.
func (*RangeDone) Type() Type { return TypeRangeDone }

// Type implements Message.
func (*Commit) Type() Type { return TypeCommit }

// Type implements Message.
func (*Abort) Type() Type { return TypeAbort }

// Type implements Message.
func (*HashFiles) Type() Type { return TypeHashFiles }

func newMessage(t Type) Message {
	switch t {
	case TypeHello:
		return &Hello{}
	case TypeHelloOK:
		return &HelloOK{}
	case TypeError:
		return &Error{}
	case TypeOK:
		return &OK{}
	case TypeOpenDir:
		return &OpenDir{}
	case TypeDirList:
		return &DirList{}
	case TypeOps:
		return &Ops{}
	case TypeDone:
		return &Done{}
	case TypeBatch:
		return &Batch{}
	case TypeFileBegin:
		return &FileBegin{}
	case TypeBeginOK:
		return &BeginOK{}
	case TypeRangeHashes:
		return &RangeHashes{}
	case TypeHashes:
		return &Hashes{}
	case TypeData:
		return &Data{}
	case TypeZero:
		return &Zero{}
	case TypeRangeDone:
		return &RangeDone{}
	case TypeCommit:
		return &Commit{}
	case TypeAbort:
		return &Abort{}
	case TypeHashFiles:
		return &HashFiles{}
	}
	return nil
}
