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
//     Service (LoadBalancer with Options.LoadBalancer, once the load
//     balancer has an address; ClusterIP with Options.SameCluster);
//   - a sender on the source cluster, "ferry mover sync --delete
//     --progress=json --connect-timeout 3m", mounting the source claim
//     read-only, on the node of a running pod that mounts the claim, if
//     any. It is created together with the receiver and redials until the
//     receiver answers.
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
// A transfer is done when its sender's last progress report says "done"
// (the destination matched) or its pod Succeeded: later calls report it as
// Succeeded and start nothing.
//
// A failed sender or receiver puts the transfer in PhaseRetrying: after a
// pause (Options.RetryPause, 5 s by default, four times longer after each
// attempt) its pods are deleted and the next call starts a new round,
// which copies incrementally. The attempt number is kept in an annotation
// of the transfer's Service. When the attempts are used up
// (Options.MaxAttempts, 3 by default), or at once when a rerun cannot help
// (the sender's exit status says the destination is full or a path was
// unsafe), the failure is reported once, as an error wrapping
// [ErrTransferFailed] with the mover's own message; the pod is marked and
// kept for inspection. The next call deletes it and starts over at attempt
// 1, which gives "ferry retry" its meaning. The sender's account decides:
// a receiver that ended first waits up to 15 s for the report of a sender
// that had connected to it.
//
// # Caveats
//
//   - The mover pods run as root (runAsUser 0) so that numeric owners are
//     preserved: a namespace enforcing the "restricted" Pod Security
//     Standard rejects them.
//   - With node ports, the sender dials <node InternalIP>:<nodePort> of
//     the destination: the source pods must reach the destination nodes'
//     InternalIPs. Otherwise register the destination with
//     spec.moverService LoadBalancer.
//   - One receiver pod per claim; one per namespace is not built.
//   - Certificates are written to a temporary directory before they are
//     stored; with a read-only root file system the controller falls back
//     to /dev/shm.
package volumes
