// Package mover is Ferry's data mover: it copies a directory tree (the
// contents of a persistent volume) from a sender to a receiver over the
// network, replacing rsync over stunnel.
//
// # Basics
//
// The receiver is a [Server] writing into a destination root; the sender
// is [Sync], reading a source root. Both sides speak the protocol of
// package wire over any net.Conn; production uses mutual TLS 1.3 with a
// per-migration CA and, per transfer, certificates naming its identity that
// each side requires of its peer (package certs, [TLSDialer],
// [TLSListener]); tests use loopback TLS or net.Pipe through
// [Server.ServeConn]. [Local] runs both sides in one process, over Unix
// socket pairs without TLS (`ferry mover local`, the local data path's
// pod, both volumes mounted on one node): the same protocol, so the same
// fidelity, delta, sync state, partial files, progress and Final
// semantics, and a destination filled by one is synced incrementally by
// the other. It opens 8 data connections by default (LocalDefaultParallel):
// in one trial on a 2-vCPU machine's ext4 disk, 100,000 small files copied
// about 15% faster with 8 than with 4, and 2 GiB in 4 files about 10%.
//
// A sync is incremental: files whose size and mtime match the destination
// are skipped; changed files of at least Options.SmallFile bytes (1 MiB)
// are compared in 128 KiB blocks by BLAKE3 sum and only differing blocks
// travel. A skipped file's attributes are sent again when the listing
// shows a difference (mode, owner) or when its ctime moved since the
// start of the last completed sync from the same source, which the
// destination records: that is how changes of extended attributes or
// ACLs alone travel. Without such a record (a first sync, or one into a
// destination filled some other way) every skipped file's attributes are
// sent. A skipped file is sent again when its destination copy shares an
// inode with files that are not its links on the source, so hardlink
// groups split on the source are split on the destination. With
// Options.Delete, destination entries missing on the source are removed.
// With Options.Verify, a second pass compares metadata, hardlink groups,
// extended attributes (user.*, POSIX ACLs and file capabilities) and the
// content sum of every regular file on both sides and fails with a
// [VerifyError] naming every path that differs. The content sum is
// BLAKE3 over the file size and the index and bytes of every 64 KiB
// block that holds a non-zero byte: it depends on the bytes only, so a
// hole and zeros written as data are equal, and holes are skipped
// unread.
//
// Sparse files cost their data, not their apparent size: a fresh copy
// reads and sends data extents only, and a delta or a verification reads
// only blocks that hold data on one side or the other. A file of 100 GiB
// with 3 MiB of data costs about what 3 MiB does.
//
// Fidelity: regular files, directories (empty ones too), symlinks (target
// verbatim, never followed), hardlinks (same source inode, same
// destination inode), sparse files (holes found with SEEK_DATA/SEEK_HOLE
// are never written), FIFOs, sockets and, when the receiver runs as root,
// device nodes; permission bits with setuid, setgid and sticky; numeric
// owners when the receiver runs as root; nanosecond mtime and atime;
// extended attributes of regular files and directories (user.* always,
// other namespaces when permitted). lost+found at the root is skipped.
//
// # Protocol
//
// Every frame is a type byte, a 4-byte big-endian length and a payload
// of varints and length-prefixed strings (package wire). Every request
// gets exactly one reply, OK or Error, except Data and Zero, which stream
// inside a range and are answered together by the RangeDone that ends
// it; a peer therefore never writes while the other is still writing,
// which keeps even unbuffered transports such as net.Pipe deadlock-free.
//
// The sender opens a control connection with Hello{version, random
// session id, role control}, answered with the state of the last
// completed sync (source identity and start time), then
// Options.Parallel data connections with the same session id. The receiver serves one session at a time. A
// connection that fails its handshake is logged as a warning and does not
// touch the session; one closed before it sent a byte (a TCP readiness
// probe) is logged at debug level only.
//
// The control connection carries the walk, one directory at a time, depth
// first: OpenDir{path, create} makes sure the directory exists and
// returns its listing in chunks (name, type, mode, owner, size, mtime,
// symlink target, and for regular files inode number and link count);
// the sender compares it with the source directory and
// sends an Ops request with symlinks, special files, attribute updates
// and deletions. File contents go to the data connections:
//
//   - Batch carries many small files whole (data segments plus metadata);
//   - a large file is FileBegin, then ranges of Options.RangeSize on any
//     free connection in parallel, each a run of Data (pwrite at an
//     offset) and Zero (punch a hole) ended by RangeDone, then Commit with
//     the final metadata, or Abort;
//   - for a delta, each range starts with RangeHashes: the receiver hashes
//     the current file's blocks in the range, copies them into the new
//     file and returns the sums; the sender sends only blocks whose sums
//     differ. A block of zeros has the empty sum on both sides, whether
//     read or a hole, and a hole is not read. BeginOK maps the basis's
//     data extents (at most wire.MaxBasisExtents): the basis is the
//     partial file kept of an earlier attempt, else the renamed or moved
//     file the sender names, else the current file. A range that is a hole on the
//     source travels not at all (the new file is all holes until
//     written) and one that is a hole in the basis travels as on a fresh
//     copy, without RangeHashes.
//
// When all data is acknowledged the sender creates hardlinks (OpLink),
// then applies directory attributes in walk post-order, deepest first,
// from a spool file, so that nothing written later changes a directory's
// mtime. With Verify it walks again and compares (OpenDir without create,
// HashFiles, and listings with xattr digests). Done makes the receiver
// syncfs the destination and record the sync's state, or, with Final (a
// cutover's last copy, `ferry mover sync --final`), remove its reserved
// directory and keep the root's times; only then is the session
// successful.
//
// Memory stays bounded by the largest directory: both sides hold one
// directory listing at a time, file data is streamed in chunks of at
// most 1 MiB, and directory attributes wait on disk. What grows with the
// tree is the sender's table of files with several hardlinks (and of
// their destination inodes), its list of renamed and moved files' old
// names, and the receiver's set of partial-file keys a session used
// (bounded at 100,000; past it, no partial file is dropped by that
// session). Move detection holds at most 1,024 destination files and
// 1,024 new files, by path (see Caveats).
//
// Neither side trusts its peer with its memory either. Every message
// type has a frame limit (wire.MaxFrame: 1 KiB for a Hello, 1 MiB for a
// path, 16 MiB for bulk messages) checked on the header before the
// payload is read; decoding allocates at most wire.MaxDecoded (8 MiB)
// for lists besides the payload's own bytes. A connection holds no
// buffers until a session accepts its Hello; a session accepts at most
// [MaxParallel] data connections and 256 large files open at once, each
// holding at most wire.MaxBasisExtents extents (64 KiB) of its basis. The
// sender fails with [ErrListingTooLarge] when one destination listing
// passes 256 MiB (about a million entries) rather than grow. A receiver
// under a hostile sender holds at most about 700 MiB (17 connections of
// a 16 MiB frame and what it decodes to); mover pods get a 1 GiB memory
// limit, which sets the soft memory limit to 768 MiB.
//
// # Safety
//
// The receiver trusts no path: package safefs accepts only clean,
// relative paths without "..", empty components or NUL, and resolves
// parents with openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS), falling back
// to O_NOFOLLOW one component at a time, then acts on single names
// relative to the parent descriptor. No operation follows a symlink:
// attributes use AT_SYMLINK_NOFOLLOW, files are opened with O_NOFOLLOW,
// removal recurses by descriptor. Writes are bounded by the announced
// file size.
//
// The sender trusts no more of the source, which the workload writes
// while it is read: it walks by descriptor, opening every directory and
// file by a single name relative to its open parent with O_NOFOLLOW, and
// checks device and inode against the listing, so a directory swapped for
// a symlink mid-walk is a warning, never a way out of the source. The
// walk holds one descriptor per level of the current path, which paths of
// at most safefs.MaxPath bytes bound to 2048, plus one per large file in
// flight.
//
// The receiver keeps a reserved directory at the destination root,
// safefs.ReservedName (".ferry-mover"), which is never listed, copied or
// deleted by a sync (a Final Done removes it) and which no path from the
// network may name: it holds the sync state, a scratch folder and the
// partial files. Every file, symlink, special file and
// hardlink is first made in the scratch folder under a random name and
// renamed into place when complete, so an interrupted sync never leaves
// a torn file under a real name, and no user file name can collide with
// a temporary one. Small files go one better where the file system
// allows: they are written into an unnamed O_TMPFILE file in their
// directory, given their attributes through its descriptor and linked
// into place (linkat with AT_EMPTY_PATH, or through /proc/self/fd
// without CAP_DAC_READ_SEARCH), so a killed receiver leaves nothing of
// them. A dropped session removes its temporary files; ones left by a
// killed receiver are removed when the next session starts. A source
// root holding the reserved directory (a volume that was once a
// destination) is walked without it.
//
// The sync command exits 3 when the destination is full, 4 when the
// receiver refused a path and 6 when a source path is longer than
// safefs.MaxPath, which no system call on the receiver takes (see
// [ExitCode]); its last progress report
// carries the error and that status, so a controller can tell a failure
// a rerun cannot fix before the process has ended.
//
// Any receiver failure fails the sync fast, without retries: a full
// volume is reported as [ErrNoSpace] with the path and sizes. Source
// entries that vanish or change while being read are warnings, counted
// in [Progress].Warnings; a file that changed is not committed (the
// destination keeps its previous version) and the next sync copies it.
// What the receiver got of a large file that changed is kept as a
// partial file in its reserved directory (Abort with Keep; counted in
// [Progress].Partial), never under the file's name, and the next
// transfer of that path uses it as its basis: a database file rewritten
// in place during a stage costs the next round only the blocks that
// differ. A commit of the path, or a completed session that did not
// transfer it, removes it.
//
// # Caveats
//
//   - A file is unchanged when size and mtime match; content changed with
//     mtime preserved is not detected (Verify detects it). Attribute
//     changes are found by ctime against the last sync's start by the
//     sender's clock, less one second; a network file system whose
//     server clock runs further behind may hide attribute-only changes
//     made just after a sync (Verify detects them).
//   - A file that is written continuously is never committed while it
//     changes (only kept as a partial basis); quiesce the application for
//     the final sync. Small files that change are sent whole next time.
//   - A partial file takes room on the destination until the path is
//     committed or the next completed session drops it.
//   - Extended attributes of symlinks and special files are not copied;
//     security labels and trusted.* attributes are copied where the
//     receiver may set them but not verified, nor are the root
//     directory's attributes.
//   - A user's own entry named ".ferry-mover" at the root of a source is
//     taken for the mover's and not copied.
//   - Hardlinks are detected among regular files only, and the sender
//     keeps one table entry per multiply-linked inode.
//   - A destination directory of more than about a million entries
//     fails the sync (ErrListingTooLarge); a source directory of several
//     million entries may not fit a mover pod's 1 GiB memory limit.
//   - A changed large file is rebuilt in a new temporary file (basis
//     blocks copied locally), so the destination needs room for both
//     versions of the largest changed file. Partial files take room too;
//     a transfer that finds less free room than the new file's size plus
//     64 MiB removes them all first (they only save bytes on the wire).
//   - Holes are what SEEK_DATA and SEEK_HOLE report; a file system that
//     cannot tell makes a file all data, read in full. A block (128 KiB
//     for a delta, 64 KiB for a sum) with any data in it is read whole.
//     A current file of more than wire.MaxBasisExtents data extents is
//     not mapped: every range with source data asks for its hashes, and
//     the receiver reads every block of it (those found to be zeros are
//     still not copied). Zeros the source stores as data travel as data on
//     a fresh copy but become holes where a delta rewrites them; the
//     content, and so Verify, does not tell the two apart.
//   - Renames and moves of large files are found by size, preferring a
//     same mtime (and, across directories, a same name); a wrong guess
//     costs the block hashes only. Within a directory (send_rename.go)
//     the listings decide at once. Across directories (send_move.go) the
//     old name may be walked before or after the new one, so a large
//     destination file the source no longer has is kept, instead of
//     deleted with its directory, until the end of the walk, and a new
//     large file without a basis in its directory waits for one: sent
//     when a destination file of its size and mtime turns up, else after
//     the walk against the best one of its size left, or none. Removed
//     large files thus take their room on the destination until the end
//     of the walk, and new large files may go out after it. At most
//     1,024 files wait and 1,024 are kept per sync; past that, files
//     travel as without detection. A first sync into an empty
//     destination waits for nothing. The old name of a renamed or moved
//     file goes only once all data is acknowledged, and only with
//     Options.Delete. Small files always travel, and so do the files of
//     a directory removed or renamed as a whole (the destination
//     directory is removed unlisted).
//   - The peer is authenticated by the CA: an authenticated sender may
//     create device nodes inside the root when the receiver runs as root,
//     like rsync would.
//   - A receiver that is not root (a namespace enforcing the restricted
//     Pod Security Standard) keeps everything but owners and device
//     nodes: every file it writes is its own, device nodes are skipped
//     with a warning, and the destination root, when it is not the
//     receiver's, keeps its own mode and times. It must be able to write
//     into the root (through the pod's fsGroup), else it fails at once
//     ([ErrRootNotWritable]). Its own files whose mode denies it (0444,
//     0000) get its owner bits for a moment while it sets their extended
//     attributes or reads them, and directories it walks are writable by
//     it until the end of the session. A sender that is not root fails on
//     the first source file or directory it may not read; [MeasureUsage]
//     counts them beforehand ([Usage].Unreadable).
package mover
