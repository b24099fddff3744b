package local

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// Name is the name of the local path.
const Name = "local"

// Options of the local path.
type Options struct {
	// Cluster holds both claims of every transfer.
	Cluster *cluster.Clients
	// Migration names the Migration; the pods carry the labels of every
	// mover object (moverpod.CommonLabels).
	Migration string
	// Image is the ferry image; only Start needs it.
	Image string
	// Final marks a cutover's last copy: at its end the mover's reserved
	// directory is removed from the destination.
	Final bool
}

// Path is the local path: one pod per transfer mounting both claims.
type Path struct{ o Options }

var _ volumes.Path = (*Path)(nil)

// New returns the local path of a migration.
func New(o Options) (*Path, error) {
	if o.Cluster == nil || o.Cluster.Kube == nil {
		return nil, errors.New("local path: the cluster's clients are required")
	}
	if o.Migration == "" {
		return nil, errors.New("local path: the migration is required")
	}
	if errs := validation.IsValidLabelValue(o.Migration); len(errs) > 0 {
		return nil, fmt.Errorf("local path: migration name %q is not a valid label value: %v", o.Migration, errs)
	}
	return &Path{o: o}, nil
}

// Name is "local".
func (p *Path) Name() string { return Name }

// Prepare has nothing to share between transfers: the path is ready, once
// it has an image.
func (p *Path) Prepare(context.Context, []volumes.Transfer) (volumes.Readiness, error) {
	if p.o.Image == "" {
		return volumes.Readiness{}, errors.New("local path: the mover image is required")
	}
	return volumes.Readiness{Ready: true}, nil
}

// Start creates t's pod unless it exists, on the node where a running pod
// uses the source claim, if any.
func (p *Path) Start(ctx context.Context, t volumes.Transfer) (string, error) {
	if t.SourceNamespace != t.DestinationNamespace {
		return "", fmt.Errorf("local path: %s: the claims are in different namespaces", volumes.Describe(t))
	}
	kube := p.o.Cluster.Kube
	existing, err := moverpod.GetPod(ctx, kube, t.SourceNamespace, podName(p.o.Migration, t))
	if err != nil || existing != nil {
		return "", err
	}
	pods, err := kube.CoreV1().Pods(t.SourceNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("list pods in %s: %w", t.SourceNamespace, err)
	}
	pod := copyPod(p.o, t, moverpod.ClaimNode(pods.Items, t.SourceClaim), moverpod.NamespaceEnv(ctx, kube, t.SourceNamespace).WithRunAs(t.RunAs))
	if err := moverpod.CreatePod(ctx, kube, pod); err != nil {
		return "", err
	}
	return "starting the local copy", nil
}

// Observe reads t's pod and its last progress report; it changes nothing.
func (p *Path) Observe(ctx context.Context, t volumes.Transfer) (volumes.Observation, error) {
	kube := p.o.Cluster.Kube
	pod, err := moverpod.GetPod(ctx, kube, t.SourceNamespace, podName(p.o.Migration, t))
	if err != nil {
		return volumes.Observation{}, err
	}
	switch {
	case pod == nil:
		return volumes.Observation{State: volumes.RoundNotStarted}, nil
	case moverpod.Terminating(pod):
		return volumes.Observation{State: volumes.RoundTerminating, Message: "waiting for the previous local copy pod to terminate"}, nil
	case pod.Status.Phase == corev1.PodSucceeded:
		obs := volumes.Observation{State: volumes.RoundDone}
		if log, err := moverpod.ReadLog(ctx, kube, pod); err == nil {
			obs.Progress = moverpod.ProgressOf(log)
		}
		return obs, nil
	case moverpod.Failed(pod):
		log, _ := moverpod.ReadLog(ctx, kube, pod)
		return volumes.Observation{State: volumes.RoundFailed, Progress: moverpod.ProgressOf(log), Failure: volumes.Failure{
			Where: fmt.Sprintf("local copy pod %s/%s", pod.Namespace, pod.Name), Message: moverpod.PodFailure(log, pod),
			Permanent: mover.Permanent(moverpod.ExitCode(pod)), At: moverpod.FailedAt(pod)}}, nil
	case pod.Status.Phase == corev1.PodRunning:
		log, _ := moverpod.ReadLog(ctx, kube, pod)
		return volumes.Observation{State: volumes.RoundRunning, Progress: moverpod.ProgressOf(log)}, nil
	}
	return volumes.Observation{State: volumes.RoundStarting, Message: moverpod.WaitingMessage(pod)}, nil
}

// Reset deletes t's pod; gone once it no longer exists.
func (p *Path) Reset(ctx context.Context, t volumes.Transfer) (bool, error) {
	kube := p.o.Cluster.Kube
	pod, err := moverpod.GetPod(ctx, kube, t.SourceNamespace, podName(p.o.Migration, t))
	if err != nil || pod == nil {
		return pod == nil && err == nil, err
	}
	return false, moverpod.DeletePod(ctx, kube, pod)
}

// Cleanup deletes the migration's mover pods on the cluster; done once
// none is left.
func (p *Path) Cleanup(ctx context.Context) (bool, error) {
	remaining, err := moverpod.DeleteMigrationPods(ctx, p.o.Cluster.Kube, p.o.Cluster.Name, p.o.Migration, p.o.Cluster.ListIn(nil))
	return err == nil && !remaining, err
}
