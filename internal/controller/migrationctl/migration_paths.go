package migrationctl

import (
	"context"
	"fmt"
	"maps"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/repoaccess"
	"ferry.dev/ferry/internal/repository"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/direct"
	"ferry.dev/ferry/internal/volumes/indirect"
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

// copyPath is the path that copies the transfers: the repository path
// for claims the plan sends through its repository; for the others,
// across clusters the direct path, within one cluster the local path
// where one pod can mount both claims, else the direct path. Several
// paths make a Dispatch. It returns a message instead while a transfer's path cannot be
// decided yet.
func (s *session) copyPath(ctx context.Context, transfers []volumes.Transfer) (volumes.Path, string, error) {
	o := s.moverOptions(s.m.Name)
	if err := s.exposure(ctx, &o); err != nil {
		return nil, "", err
	}
	d, err := direct.New(o)
	if err != nil {
		return nil, "", err
	}
	viaRepo, others := s.byDataPath(transfers)
	paths := []volumes.Path{d}
	routes := map[volumes.Transfer]string{}
	if len(viaRepo) > 0 {
		ip, err := s.indirectPath(ctx)
		if err != nil {
			return nil, "", err
		}
		paths = append(paths, ip)
		for _, t := range viaRepo {
			routes[t] = indirect.Name
		}
	}
	if s.sameCluster() && len(others) > 0 {
		near, wait, err := s.routes(ctx, others)
		if err != nil || wait != "" {
			return nil, wait, err
		}
		maps.Copy(routes, near)
		l, err := s.localPath()
		if err != nil {
			return nil, "", err
		}
		paths = append(paths, l)
	}
	if len(paths) == 1 {
		return d, "", nil
	}
	for _, t := range others {
		if routes[t] == "" {
			routes[t] = direct.Name
		}
	}
	p, err := volumes.NewDispatch(routes, paths...)
	return p, "", err
}

// localPath is the migration's local path.
func (s *session) localPath() (*local.Path, error) { return local.New(s.localOptions(s.m.Name)) }

// byDataPath splits transfers into those the plan sends through its
// repository and the others.
func (s *session) byDataPath(transfers []volumes.Transfer) (viaRepo, others []volumes.Transfer) {
	for _, t := range transfers {
		if s.plan.Spec.PathOf(t.SourceNamespace, t.SourceClaim) == ferryv1.DataPathRepository {
			viaRepo = append(viaRepo, t)
		} else {
			others = append(others, t)
		}
	}
	return viaRepo, others
}

// indirectPath is the path through the plan's repository.
func (s *session) indirectPath(ctx context.Context) (*indirect.Path, error) {
	access, err := s.repositoryAccess(ctx)
	if err != nil {
		return nil, err
	}
	srcNS, dstNS := s.planNamespaces()
	return indirect.New(indirect.Options{Source: s.src, Destination: s.dst, Migration: s.m.Name, Plan: string(s.plan.UID),
		Image: s.r.MoverImage, Access: access, Final: quiesces(s.m, s.plan),
		SourceNamespaces: srcNS, DestinationNamespaces: dstNS})
}

// repositoryAccess reads the plan's Repository and its Secrets.
func (s *session) repositoryAccess(ctx context.Context) (repository.Access, error) {
	var repo ferryv1.Repository
	name := s.plan.Spec.Repository
	if name == "" {
		return repository.Access{}, fmt.Errorf("%w: the plan sends volumes through a repository but names none: set spec.repository (ferry plan create ... --repository NAME)", volumes.ErrTransferFailed)
	}
	if err := s.r.Get(ctx, client.ObjectKey{Namespace: s.plan.Namespace, Name: name}, &repo); err != nil {
		return repository.Access{}, fmt.Errorf("get repository %s: %w", name, err)
	}
	cfg, err := repoaccess.Config(ctx, s.r, &repo)
	if err != nil {
		return repository.Access{}, fmt.Errorf("repository %s: %w", name, err)
	}
	key, err := repoaccess.Key(ctx, s.r, &repo)
	if err != nil {
		return repository.Access{}, fmt.Errorf("repository %s: %w", name, err)
	}
	return repository.Access{Store: cfg, Key: key}, nil
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

// openRepository opens the plan's repository from the host.
func (s *session) openRepository(ctx context.Context) (*repository.Repository, error) {
	access, err := s.repositoryAccess(ctx)
	if err != nil {
		return nil, err
	}
	return repository.OpenAccess(ctx, access)
}
