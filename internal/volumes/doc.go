// Package volumes copies persistent-volume data between clusters with the
// Ferry data mover (package mover) running in pods.
//
// # Basics
//
// [Sync] is called by the migration controller once per reconcile. Each
// call looks at the mover pods of the migration, creates what is missing
// and returns the [State] at once; it never waits for a copy. For every
// [Transfer] it runs a round of two pods:
//
//   - a receiver on the destination cluster, "ferry mover serve --once",
//     mounting the destination claim at /data, exposed by a NodePort
//     Service (a ClusterIP Service when Options.SameCluster is set);
//   - a sender on the source cluster, "ferry mover sync --delete
//     --progress=json", mounting the source claim read-only, created only
//     once the receiver is ready and its Service has a ready endpoint, on
//     the node of a running pod that mounts the claim, if any.
//
// Both sides authenticate with mutual TLS: one CA per migration, a server
// certificate (for the destination node IPs and the Service DNS names)
// and a client certificate, made with package certs and stored as Secrets
// in the destination namespaces (ca.crt, server.crt, server.key) and the
// source namespaces (ca.crt, client.crt, client.key).
//
// Every object carries the labels ferry.dev/migration=<migration>,
// app.kubernetes.io/managed-by=ferry and app.kubernetes.io/component=mover;
// [Cleanup] deletes them all and waits until the pods are gone.
//
// # Rounds and failures
//
// A transfer whose sender pod Succeeded is done: later calls report it as
// Succeeded and start nothing. A failed sender or receiver is reported
// once, as an error wrapping [ErrTransferFailed] with the mover's own
// message taken from the pod log; the pod is marked and kept for
// inspection. The next call deletes the pods of that transfer and the one
// after creates a new round, which copies incrementally. A caller that
// fails its step on ErrTransferFailed and calls Sync again only after the
// user retries therefore gets "ferry retry" semantics.
//
// # Caveats
//
//   - The mover pods run as root (runAsUser 0) so that numeric owners are
//     preserved: a namespace enforcing the "restricted" Pod Security
//     Standard rejects them.
//   - The sender dials <node InternalIP>:<nodePort> of the destination;
//     the source pods must reach the destination nodes' InternalIPs.
//   - Certificates are written to a temporary directory before they are
//     stored; with a read-only root file system the controller falls back
//     to /dev/shm.
package volumes
