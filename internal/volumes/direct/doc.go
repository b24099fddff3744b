// Package direct is the direct data path: per claim, a pair of Ferry data
// mover pods (package mover) copies the source volume straight to the
// destination over mutual TLS. [Path] implements volumes.Path; the
// retries, pauses and reports are package volumes' (volumes.Sync).
//
// # Basics
//
// A round of a transfer is two pods:
//
//   - a receiver on the destination cluster, "ferry mover serve --once",
//     mounting the destination claim at /data, exposed by a NodePort
//     Service (LoadBalancer with Options.LoadBalancer, once the load
//     balancer has an address; ClusterIP with Options.SameCluster, or
//     behind Options.Front);
//   - a sender on the source cluster, "ferry mover sync --delete
//     --progress=json --connect-timeout 3m", mounting the source claim
//     read-only, on the node of a running pod that mounts the claim, if
//     any. It is created together with the receiver and redials until the
//     receiver answers.
//
// Prepare ensures the certificates: one CA per migration, made with
// package certs in memory and its key never stored, and per transfer a
// server certificate (for the destination node IPs, the transfer's
// Service DNS names and its load balancer's address or its front's host)
// and a client
// certificate, both naming the transfer's identity as a URI subject
// alternative name:
//
//	ferry://migration/<migration>/transfer/<hash>
//
// where <hash> is the hash of the migration and both claims that also
// names the transfer's pods and Service. They are stored as the
// transfer's own Secrets: <transfer>-server in the destination namespace
// (ca.crt, server.crt, server.key) and <transfer>-client in the source
// namespace (ca.crt, client.crt, client.key). The receiver runs with
// "--peer-name <identity>" and refuses any client certificate of the CA
// that does not name its transfer ("connection rejected" in its log,
// naming both identities); the sender requires the same of the server
// certificate. When the certificates must be replaced (a transfer without
// them, a new host, expiry within 30 days), all are made anew and Start
// restarts receivers that loaded the old ones. Start creates the Service
// and the pods that are missing; Observe reads the pods and the sender's
// last JSON progress line from its log; Reset deletes the pods (the
// Service keeps its node port).
//
// The server certificate is per transfer, not per destination namespace:
// all server certificates name the same node IPs, so a shared one would
// let whoever holds one destination namespace's key pose as any receiver
// of the migration to a sender that dials a node port.
//
// # Fronts
//
// A Front is a TLS-passthrough front on port 443 before ClusterIP
// Services, for destinations whose nodes cannot be reached and that
// have no load balancers: per transfer one object names a host and the
// Service, the front forwards each connection by its TLS server name
// without terminating TLS, and the sender dials the host on FrontPort
// with SNI, so mutual TLS stays end to end. Route is OpenShift's router
// (a passthrough Route; Start waits until the router gave it a host).
// Ingress is an ingress controller with TLS passthrough: an Ingress of
// the class with PassthroughAnnotations and one rule for
// <Service>.<domain>, known at once; Prepare checks that the class
// exists. The front's objects share the labels below; Cleanup deletes
// those of every front a cluster serves.
//
// Every object carries the labels ferry.dev/migration=<migration>,
// app.kubernetes.io/managed-by=ferry and app.kubernetes.io/component=mover;
// Cleanup deletes them all in one pass and says whether pods are still
// terminating.
//
// # What Observe reports
//
//   - a sender that Succeeded: Done, with its last progress;
//   - a pod being deleted: Terminating, also when it failed (the round
//     was reset or evicted; it is not counted again);
//   - a failed pod: Failed, with the mover's message from the sender's
//     log (its "Error:" line or its last progress report, whose exit
//     status says whether a rerun can help: mover.Permanent), or else
//     from the receiver's; ReceiverOnly when only the receiver ended
//     while the connected sender still runs;
//   - a receiver that Succeeded without a sender: Stale;
//   - otherwise Starting or Running, Incomplete when a pod is missing,
//     with a message saying what the sender waits for (the receiver's
//     readiness, or an answer from its address).
//
// The receiver's readiness probe is a TCP probe on the TLS port: the
// receiver logs a connection closed before it sent a byte at debug level
// only, so probes do not fill its log with warnings.
//
// # Caveats
//
//   - The mover pods run as root (runAsUser 0) so that numeric owners are
//     preserved: a namespace enforcing the "restricted" Pod Security
//     Standard rejects them.
//   - With node ports, the sender dials <node InternalIP>:<nodePort> of
//     the destination: the source pods must reach the destination nodes'
//     InternalIPs. Otherwise register the destination with
//     spec.moverService LoadBalancer, Route or Ingress.
//   - Behind an Ingress, names under the domain must resolve to the
//     ingress controller from the source's pods (a wildcard record), and
//     the controller must pass TLS through (ingress-nginx only with
//     --enable-ssl-passthrough); otherwise the sender does not reach its
//     receiver, and its message says why (the dial error, or a server
//     certificate that the migration's CA did not sign).
//   - One receiver pod per claim; one per namespace is not built.
//   - Key material lives only in the transfer's two Secrets and, mounted
//     read-only (mode 0400), in its two mover pods at /tls: never in pod
//     specs, environment variables, arguments, logs or status. A Secret
//     is still readable by whoever may read Secrets in its namespace, and
//     by whoever may create pods there that mount it. Such a reader of a
//     source namespace gets the client key of that namespace's transfers
//     only: it can connect to those claims' receivers (list them, read
//     file hashes, write files), not to any other receiver of the
//     migration. A reader of a destination namespace gets the server keys
//     of its transfers only: it can pose as those receivers to their own
//     senders if it can also take over their address. The Secrets go with
//     Cleanup.
package direct
