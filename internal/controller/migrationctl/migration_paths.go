package migrationctl

import (
	"context"
	"fmt"
	"strings"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/direct"
	"ferry.dev/ferry/internal/volumes/local"
)

// sameCluster tells whether the plan copies within one cluster.
func (s *session) sameCluster() bool {
	return s.plan.Spec.SourceCluster == s.plan.Spec.DestinationCluster
}

// localOptions are the local path's options for a migration.
func (s *session) localOptions(migration string) local.Options {
	return local.Options{Cluster: s.src, Migration: migration, Image: s.r.MoverImage, Final: s.m.Spec.Type == ferryv1.MigrationCutover}
}

// copyPath is the path that copies the transfers: across clusters the
// direct path; within one cluster a Dispatch sending each transfer over
// the local path where one pod can mount both claims, else the direct
// path. It returns a message instead while a transfer's path cannot be
// decided yet.
func (s *session) copyPath(ctx context.Context, transfers []volumes.Transfer) (volumes.Path, string, error) {
	o := s.moverOptions(s.m.Name)
	if err := s.exposure(ctx, &o); err != nil {
		return nil, "", err
	}
	d, err := direct.New(o)
	if err != nil || !s.sameCluster() {
		return d, "", err
	}
	routes, wait, err := s.routes(ctx, transfers)
	if err != nil || wait != "" {
		return nil, wait, err
	}
	l, err := local.New(s.localOptions(s.m.Name))
	if err != nil {
		return nil, "", err
	}
	p, err := volumes.NewDispatch(routes, l, d)
	return p, "", err
}

// routes names the path of each transfer of a copy within one cluster. A
// transfer keeps the path its status names (a copy does not change paths
// midway); the others get the local path's placement decision.
func (s *session) routes(ctx context.Context, transfers []volumes.Transfer) (map[volumes.Transfer]string, string, error) {
	out := map[volumes.Transfer]string{}
	var wait []string
	for _, t := range transfers {
		if p := statusPath(s.m.Status.Volumes, t); p == local.Name || p == direct.Name {
			out[t] = p
			continue
		}
		pl, err := local.Decide(ctx, s.src.Kube, t)
		if err != nil {
			return nil, "", fmt.Errorf("choose the path of %s: %w", volumes.Describe(t), err)
		}
		switch pl.Verdict {
		case local.Local:
			out[t] = local.Name
		case local.Direct:
			out[t] = direct.Name
		default:
			wait = append(wait, fmt.Sprintf("%s/%s: %s", t.SourceNamespace, t.SourceClaim, pl.Reason))
		}
	}
	if len(wait) > 0 {
		return nil, "choosing the data path: " + strings.Join(wait, "; "), nil
	}
	return out, "", nil
}

// statusPath is the path the volume status of t names, or "".
func statusPath(statuses []ferryv1.VolumeStatus, t volumes.Transfer) string {
	for _, v := range statuses {
		if v.Namespace == t.SourceNamespace && v.Claim == t.SourceClaim &&
			v.TargetNamespace == t.DestinationNamespace && v.TargetClaim == t.DestinationClaim {
			return v.Path
		}
	}
	return ""
}

// cleanupPath is the path whose Cleanup removes a migration's movers: the
// direct path's, with the local path's too within one cluster.
func (s *session) cleanupPath(migration string) (volumes.Path, error) {
	d, err := direct.New(s.moverOptions(migration))
	if err != nil || !s.sameCluster() {
		return d, err
	}
	l, err := local.New(s.localOptions(migration))
	if err != nil {
		return nil, err
	}
	return volumes.NewDispatch(nil, l, d)
}
