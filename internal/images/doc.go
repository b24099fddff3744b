// Package images finds the container images a plan's workloads take from
// the source cluster's internal registry, maps each to its place in the
// destination's registry, and copies them registry to registry.
//
// # References
//
// [Parse] splits a reference into registry, repository path, tag and
// digest without normalising it, so a reference that is not rewritten is
// kept exactly as written. A [Mapping] knows the source registry's
// prefixes (its address and the address pods use) and the destination's;
// it tells whether a reference is internal, where the copy reads and
// writes it, and how the migrated workloads reference it. A namespace
// rename renames the repository path where its first component is a
// renamed namespace (the OpenShift convention <registry>/<namespace>/<name>).
//
// # Copies
//
// [Copier.Copy] copies one image by digest: a tag is resolved once and the
// manifest (or the whole multi-platform index, every child manifest) is
// written under the same tag with the same bytes, so digests are equal on
// both sides. Blobs the destination has are not sent (HEAD), blobs it has
// in another repository are mounted, missing ones are uploaded by a
// bounded number of workers. A second copy of the same image sends
// nothing. Progress (blobs and bytes, done and total, bytes sent) goes to
// a callback.
//
// # Caveats
//
// [Collect] reads the pod templates of workloads (OpenShift
// DeploymentConfigs too, where served), CronJobs, Jobs and bare Pods.
// OpenShift ImageStreams are read by [Streams]: every tag's current image
// is copied ([Mapping.StreamCopies]), not the tags' history.
package images
