// Package objstore is the object storage a replication repository lives
// in: a small interface over named objects ([Store]), with an S3
// implementation and a local directory one ([Dir]) for tests and
// benchmarks.
//
// # Basics
//
// Names are slash-separated paths relative to the store's root (an S3
// store's bucket and prefix). Put replaces an object as a whole: a reader
// sees the old object or the new one, never a part. Get of a missing
// object returns an error wrapping [ErrNotFound].
//
// # Caveats
//
// List is not a snapshot: objects put while it runs may or may not be
// listed. Callers that need an object to be seen (a repository's index)
// write it before what refers to it.
package objstore
