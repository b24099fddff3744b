// Package indirect is the data path through a replication repository
// (package repository) in object storage, for clusters that cannot reach
// each other: a round of a transfer is a backup pod on the source, which
// stores the claim as a snapshot, then a restore pod on the destination,
// which makes the claim hold that snapshot. Only chunks the repository
// lacks are uploaded, only chunks the destination lacks are downloaded.
//
// # Basics
//
// The pods get the repository's access (endpoint, credentials, key) from
// a Secret the path puts in each namespace it uses, labelled with the
// migration like every mover object, and removed by Cleanup. The restore
// pod restores exactly the snapshot its round's backup reported, named
// in its arguments.
//
// # Caveats
//
// Neither pod needs a network path to the other cluster; both need the
// object store.
package indirect
