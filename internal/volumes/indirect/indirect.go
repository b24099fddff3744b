package indirect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/objstore"
	"ferry.dev/ferry/internal/repository"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// Name is the name of the path.
const Name = "repository"

// Options of the path.
type Options struct {
	Source, Destination *cluster.Clients
	// Migration names the Migration; Plan is the plan's UID, which tags
	// the snapshots (with the claim) so that a later migration of the
	// plan finds its parents.
	Migration, Plan string
	// Image is the ferry image.
	Image string
	// Access opens the repository; only Prepare and Start need it.
	Access repository.Access
	// Final marks a cutover's last copy: the source must be still.
	Final bool
	// SourceNamespaces and DestinationNamespaces are where the movers
	// run on each cluster (the plan's namespaces), where Cleanup looks
	// for their Secrets; nil: every namespace.
	SourceNamespaces, DestinationNamespaces []string
}

// Path is the repository path.
type Path struct{ o Options }

var _ volumes.Path = (*Path)(nil)

// New returns the repository path of a migration.
func New(o Options) (*Path, error) {
	if o.Source == nil || o.Destination == nil {
		return nil, errors.New("repository path: both clusters' clients are required")
	}
	if o.Migration == "" || o.Plan == "" {
		return nil, errors.New("repository path: the migration and plan are required")
	}
	return &Path{o: o}, nil
}

// Name is "repository".
func (p *Path) Name() string { return Name }

// secretName is the name of the access Secret in each namespace.
func (p *Path) secretName() string { return moverpod.MigrationName("repo", p.o.Migration) }

// Prepare makes the repository unless it exists (checking that the key
// opens it) and puts the access Secret into every namespace the
// transfers use.
func (p *Path) Prepare(ctx context.Context, transfers []volumes.Transfer) (volumes.Readiness, error) {
	if p.o.Image == "" {
		return volumes.Readiness{}, errors.New("repository path: the mover image is required")
	}
	key, err := repository.ParseKey(p.o.Access.Key)
	if err != nil {
		return volumes.Readiness{}, fmt.Errorf("repository path: %w", err)
	}
	store, err := objstore.NewS3(p.o.Access.Store)
	if err != nil {
		return volumes.Readiness{}, fmt.Errorf("repository path: %w", err)
	}
	if _, err := repository.Init(ctx, store, key); err != nil {
		if errors.Is(err, repository.ErrWrongKey) {
			return volumes.Readiness{}, fmt.Errorf("%w: %w: import the key it was made with (ferry repository add ... --key-file)", volumes.ErrTransferFailed, err)
		}
		return volumes.Readiness{Message: fmt.Sprintf("waiting for the repository %s: %v", store, err)}, nil
	}
	access, err := json.Marshal(p.o.Access)
	if err != nil {
		return volumes.Readiness{}, fmt.Errorf("repository path: %w", err)
	}
	for _, t := range transfers {
		if err := p.putSecret(ctx, p.o.Source, t.SourceNamespace, access); err != nil {
			return volumes.Readiness{}, err
		}
		if err := p.putSecret(ctx, p.o.Destination, t.DestinationNamespace, access); err != nil {
			return volumes.Readiness{}, err
		}
	}
	return volumes.Readiness{Ready: true}, nil
}

// putSecret creates or updates the access Secret in namespace.
func (p *Path) putSecret(ctx context.Context, c *cluster.Clients, namespace string, access []byte) error {
	want := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: p.secretName(), Namespace: namespace, Labels: moverpod.CommonLabels(p.o.Migration)},
		Data:       map[string][]byte{repository.AccessFile: access},
	}
	secrets := c.Kube.CoreV1().Secrets(namespace)
	got, err := secrets.Get(ctx, want.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = secrets.Create(ctx, want, metav1.CreateOptions{FieldManager: ferryv1.FieldManager})
		if apierrors.IsAlreadyExists(err) {
			return nil
		}
	case err == nil && string(got.Data[repository.AccessFile]) != string(access):
		got.Data = want.Data
		_, err = secrets.Update(ctx, got, metav1.UpdateOptions{FieldManager: ferryv1.FieldManager})
	}
	if err != nil {
		return fmt.Errorf("put the repository access Secret into %s of cluster %s: %w", namespace, c.Name, err)
	}
	return nil
}

// tags name a transfer's snapshots.
func (p *Path) tags(t volumes.Transfer) map[string]string {
	return map[string]string{"plan": p.o.Plan, "claim": t.SourceNamespace + "/" + t.SourceClaim}
}

// Start creates the round's backup pod, or once it has succeeded, its
// restore pod.
func (p *Path) Start(ctx context.Context, t volumes.Transfer) (string, error) {
	src, dst := p.o.Source.Kube, p.o.Destination.Kube
	backup, err := moverpod.GetPod(ctx, src, t.SourceNamespace, backupName(p.o.Migration, t))
	if err != nil {
		return "", err
	}
	if backup == nil {
		pods, err := src.CoreV1().Pods(t.SourceNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return "", fmt.Errorf("list pods in %s: %w", t.SourceNamespace, err)
		}
		pod := p.backupPod(t, moverpod.ClaimNode(pods.Items, t.SourceClaim), moverpod.NamespaceEnv(ctx, src, t.SourceNamespace).WithRunAs(t.RunAs))
		return "uploading a snapshot of the claim", moverpod.CreatePod(ctx, src, pod)
	}
	if backup.Status.Phase != corev1.PodSucceeded {
		return "", nil
	}
	log, err := moverpod.ReadLog(ctx, src, backup)
	if err != nil {
		return "", err
	}
	last, ok := moverpod.LastProgress(log)
	if !ok || last.Snapshot == "" {
		return "", fmt.Errorf("backup pod %s/%s ended without naming its snapshot", backup.Namespace, backup.Name)
	}
	restore, err := moverpod.GetPod(ctx, dst, t.DestinationNamespace, restoreName(p.o.Migration, t))
	if err != nil || restore != nil {
		return "", err
	}
	pod := p.restorePod(t, last.Snapshot, moverpod.NamespaceEnv(ctx, dst, t.DestinationNamespace).WithRunAs(t.RunAs))
	return "restoring snapshot " + last.Snapshot[:8], moverpod.CreatePod(ctx, dst, pod)
}

// Observe reads the round's pods and their last reports.
func (p *Path) Observe(ctx context.Context, t volumes.Transfer) (volumes.Observation, error) {
	src, dst := p.o.Source.Kube, p.o.Destination.Kube
	backup, err := moverpod.GetPod(ctx, src, t.SourceNamespace, backupName(p.o.Migration, t))
	if err != nil {
		return volumes.Observation{}, err
	}
	restore, err := moverpod.GetPod(ctx, dst, t.DestinationNamespace, restoreName(p.o.Migration, t))
	if err != nil {
		return volumes.Observation{}, err
	}
	switch {
	case moverpod.Terminating(backup) || moverpod.Terminating(restore):
		return volumes.Observation{State: volumes.RoundTerminating, Message: "waiting for the previous round's pods to terminate"}, nil
	case backup == nil && restore != nil:
		return volumes.Observation{State: volumes.RoundStale, Message: "a restore pod is left without its backup"}, nil
	case backup == nil:
		return volumes.Observation{State: volumes.RoundNotStarted}, nil
	case backup.Status.Phase != corev1.PodSucceeded:
		return p.observeOne(ctx, src, backup, "backup", true), nil
	case restore == nil:
		obs := p.observeOne(ctx, src, backup, "backup", true)
		obs.State, obs.Incomplete = volumes.RoundRunning, true
		obs.Message = "the snapshot is stored; starting its restore"
		return obs, nil
	}
	obs := p.observeOne(ctx, dst, restore, "restore", false)
	if log, err := moverpod.ReadLog(ctx, src, backup); err == nil {
		if up, ok := moverpod.LastProgress(log); ok {
			obs.Progress.BytesSent += up.BytesUploaded
			obs.Progress.BytesNew, obs.Progress.BytesUploaded = up.BytesNew, up.BytesUploaded
		}
	}
	return obs, nil
}

// observeOne reads one pod of the round; a backup's reports never say
// done, since the restore is still to come.
func (p *Path) observeOne(ctx context.Context, kube kubeClient, pod *corev1.Pod, role string, backup bool) volumes.Observation {
	log, _ := moverpod.ReadLog(ctx, kube, pod)
	prog := moverpod.ProgressOf(log)
	if backup && prog.Phase == mover.PhaseDone {
		prog.Phase = mover.PhaseTransferring
	}
	where := fmt.Sprintf("%s pod %s/%s", role, pod.Namespace, pod.Name)
	switch {
	case pod.Status.Phase == corev1.PodSucceeded:
		return volumes.Observation{State: volumes.RoundDone, Progress: prog}
	case moverpod.Failed(pod):
		return volumes.Observation{State: volumes.RoundFailed, Progress: prog, Failure: volumes.Failure{
			Where: where, Message: moverpod.PodFailure(log, pod), Permanent: mover.Permanent(moverpod.ExitCode(pod)), At: moverpod.FailedAt(pod)}}
	case pod.Status.Phase == corev1.PodRunning:
		return volumes.Observation{State: volumes.RoundRunning, Progress: prog}
	}
	return volumes.Observation{State: volumes.RoundStarting, Message: role + ": " + moverpod.WaitingMessage(pod)}
}

// Reset deletes the round's pods; gone once neither exists.
func (p *Path) Reset(ctx context.Context, t volumes.Transfer) (bool, error) {
	gone := true
	for _, x := range []struct {
		c        *cluster.Clients
		ns, name string
	}{{p.o.Source, t.SourceNamespace, backupName(p.o.Migration, t)}, {p.o.Destination, t.DestinationNamespace, restoreName(p.o.Migration, t)}} {
		pod, err := moverpod.GetPod(ctx, x.c.Kube, x.ns, x.name)
		if err != nil {
			return false, err
		}
		if pod != nil {
			gone = false
			if err := moverpod.DeletePod(ctx, x.c.Kube, pod); err != nil {
				return false, err
			}
		}
	}
	return gone, nil
}

// Cleanup deletes the migration's pods and access Secrets on both
// clusters; done once no pod is left.
func (p *Path) Cleanup(ctx context.Context) (bool, error) {
	done := true
	sel := metav1.ListOptions{LabelSelector: moverpod.MigrationSelector(p.o.Migration)}
	for i, c := range []*cluster.Clients{p.o.Source, p.o.Destination} {
		namespaces := p.o.SourceNamespaces
		if i == 1 {
			namespaces = p.o.DestinationNamespaces
		}
		if p.o.SourceNamespaces == nil && p.o.DestinationNamespaces == nil {
			namespaces = nil
		}
		if err := moverpod.DeleteSecrets(ctx, c.Kube, c.Name, namespaces, sel); err != nil {
			return false, err
		}
		remaining, err := moverpod.DeleteMigrationPods(ctx, c.Kube, c.Name, p.o.Migration, c.ListIn(namespaces))
		if err != nil {
			return false, err
		}
		done = done && !remaining
	}
	return done, nil
}
