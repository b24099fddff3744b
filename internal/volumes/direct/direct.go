package direct

import (
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/volumes"
)

// Name is the name of the direct path.
const Name = "direct"

const fieldManager = ferryv1.FieldManager

// Options of the direct path.
type Options struct {
	Source, Destination *cluster.Clients
	// Migration names the Migration; every object created is labelled
	// ferry.dev/migration=<Migration>, app.kubernetes.io/managed-by=ferry
	// and app.kubernetes.io/component=mover.
	Migration string
	// Image is the ferry image, with /usr/local/bin/ferry as entrypoint.
	// Only Prepare and Start need it; Cleanup does not.
	Image string
	// SameCluster means source and destination are one cluster: the
	// sender dials the receiver's ClusterIP Service by DNS name instead of
	// a NodePort.
	SameCluster bool
	// LoadBalancer exposes receivers through Services of type
	// LoadBalancer instead of node ports, across clusters. Senders dial
	// the load balancer's address, which the server certificate names.
	LoadBalancer bool
	// Front, when set, exposes receivers behind a TLS-passthrough front
	// (Route{}: OpenShift's router; Ingress{...}: an ingress controller)
	// in front of ClusterIP Services, across clusters. Senders dial the
	// host it gives on FrontPort (443) with SNI; the server certificate
	// names the host.
	Front Front
	// Final marks the last copy into the destinations (a cutover's): at
	// its end the receivers remove the mover's reserved directory, so
	// that a destination volume holds the source's data and nothing else.
	Final bool
	// Hold starts the senders held back until a Start of a Path without
	// Hold releases them (see arm.go): a cutover starts its movers before
	// the quiesce, and its final copy only releases them.
	Hold bool
	// SourceNamespaces and DestinationNamespaces are where the movers
	// run on each cluster (the plan's namespaces), where Cleanup looks
	// for their Secrets; nil: every namespace.
	SourceNamespaces, DestinationNamespaces []string
}

// Path is the direct path: a receiver pod on the destination and a
// sender pod on the source per transfer, over mutual TLS.
type Path struct {
	o Options
	// What Prepare found, for the Start calls of the same pass.
	prepared bool
	tls      tlsState
	readyIPs []string
	// atReceiverNode: the destination's token may not list nodes (a
	// namespace admin's), so each sender dials its receiver's own node,
	// known once the receiver is scheduled, and checks the certificate
	// against the receiver's service name instead of the node's address.
	atReceiverNode bool
	lbs            map[volumes.Transfer]*corev1.Service
	hosts          map[volumes.Transfer]string // the front's hosts, "" until given
}

var _ volumes.Path = (*Path)(nil)

// New returns the direct path of a migration. Make a new one for each
// pass (reconcile): it keeps what Prepare found for Start.
func New(o Options) (*Path, error) {
	if err := o.validate(); err != nil {
		return nil, err
	}
	return &Path{o: o}, nil
}

// Name is "direct".
func (p *Path) Name() string { return Name }

// validate checks the clients and the migration name.
func (o Options) validate() error {
	if o.Source == nil || o.Source.Kube == nil || o.Destination == nil || o.Destination.Kube == nil {
		return errors.New("direct path: source and destination clients are required")
	}
	if o.Migration == "" {
		return errors.New("direct path: the migration is required")
	}
	if errs := validation.IsValidLabelValue(o.Migration); len(errs) > 0 {
		return fmt.Errorf("direct path: migration name %q is not a valid label value: %v", o.Migration, errs)
	}
	if o.Front != nil {
		if err := o.Front.Validate(); err != nil {
			return fmt.Errorf("direct path: %w", err)
		}
	}
	return nil
}

// clusters are the clusters the path makes objects on, each once.
// namespacesOf returns the namespaces where the movers of cluster c run,
// nil when the options do not say (every namespace).
func (o Options) namespacesOf(c *cluster.Clients) []string {
	if o.SourceNamespaces == nil && o.DestinationNamespaces == nil {
		return nil
	}
	var out []string
	if c == o.Source {
		out = append(out, o.SourceNamespaces...)
	}
	if c == o.Destination {
		out = append(out, o.DestinationNamespaces...)
	}
	return out
}

func (o Options) clusters() []*cluster.Clients {
	if o.Destination == o.Source {
		return []*cluster.Clients{o.Source}
	}
	return []*cluster.Clients{o.Source, o.Destination}
}
