// Package repository is Ferry's replication repository: a deduplicating,
// compressing, encrypting store of volume snapshots in object storage
// ([objstore.Store]), for migrations whose clusters cannot reach each
// other.
//
// # Basics
//
// A file's data is cut into content-defined chunks (package chunker);
// files smaller than a chunk are concatenated into one stream that is cut
// the same way, so that a hundred thousand small files make about as many
// chunks as their bytes, not one each. Each chunk is a blob, named by its
// keyed BLAKE3 hash, compressed with zstd when that saves space, and
// sealed with AES-256-GCM under a key derived from the repository key,
// with the blob's name as additional data: a blob that was changed or
// moved in the bucket does not open. Blobs are packed into objects of
// several MiB under data/; a pack ends with its own sealed header listing
// its blobs, so a pack whose index was never written (an interrupted
// upload) is still found and used. Index objects (index/) map blobs to
// packs; a backup loads them and uploads only blobs the repository lacks.
//
// A snapshot's tree is a blob per directory (split when large) listing
// its entries with the metadata the direct mover keeps: mode, owner,
// times, extended attributes, symlink targets, devices, hard links and
// sparse extents, and for files the spans of blobs that hold their data.
// A changed large file is stored as a delta of its version in the parent
// snapshot (delta.go): the runs a new chunk shares with the parent are
// spans of the parent's blobs, and only the rest is a new blob.
// The snapshot object (snapshots/) is written last: a snapshot is
// visible only once everything it refers to is stored.
//
// # Caveats
//
// The repository key never enters the bucket. The config object holds
// only a sealed check value, so a wrong key is reported as such instead
// of as damage. Backups and restores hold shared locks (locks/); prune
// holds an exclusive one and removes what no snapshot refers to.
package repository
