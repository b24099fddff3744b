package planctl

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/repoaccess"
	"ferry.dev/ferry/internal/repository"
)

// forgetSnapshots removes a deleted plan's snapshots and resource
// bundles from its repository and prunes what only they used. A plan
// that names no repository, or one that is gone, has nothing to remove.
// When other backups keep the prune from running, the snapshots are
// gone and the next prune (`ferry repository prune`) frees their data.
func (r *Reconciler) forgetSnapshots(ctx context.Context, p *ferryv1.Plan) error {
	if p.Spec.Repository == "" {
		return nil
	}
	var repo ferryv1.Repository
	err := r.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: p.Spec.Repository}, &repo)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get repository %s: %w", p.Spec.Repository, err)
	}
	rp, err := repoaccess.OpenRepository(ctx, r.Client, &repo)
	if errors.Is(err, repository.ErrNotInitialized) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open repository %s to remove the plan's snapshots: %w; fix it, or delete it (`ferry repository delete %s`, the bucket keeps its objects) to let the plan go", repo.Name, err, repo.Name)
	}
	n, err := rp.Forget(ctx, map[string]string{"plan": string(p.UID)})
	if err != nil {
		return fmt.Errorf("remove the plan's snapshots from repository %s: %w", repo.Name, err)
	}
	if err := rp.DeleteBundles(ctx, string(p.UID)+"/"); err != nil {
		return fmt.Errorf("remove the plan's resource bundles from repository %s: %w", repo.Name, err)
	}
	res, err := rp.Prune(ctx)
	log := logf.FromContext(ctx)
	switch {
	case errors.Is(err, repository.ErrLocked):
		log.Info("snapshots of deleted plan removed; prune left for later", "plan", p.Name, "repository", repo.Name, "snapshots", n, "reason", err.Error())
	case err != nil:
		return fmt.Errorf("prune repository %s: %w", repo.Name, err)
	default:
		log.Info("snapshots of deleted plan removed", "plan", p.Name, "repository", repo.Name, "snapshots", n, "bytesFreed", res.BytesFreed)
	}
	return nil
}
