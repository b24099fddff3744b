package planning

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/repoaccess"
	"ferry.dev/ferry/internal/resources/migrate"
)

// validDataPaths are what a plan or a claim override may ask for.
var validDataPaths = []ferryv1.DataPath{"", ferryv1.DataPathDirect, ferryv1.DataPathRepository}

// checkDataPaths checks the plan's data path and records in the claim
// list which copied claims go through the repository.
func checkDataPaths(_ context.Context, p *ferryv1.Plan, _ migrate.Scope, _, _ *cluster.Clients, res *Result) error {
	if !slices.Contains(validDataPaths, p.Spec.DataPath) {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonInvalidSpec, Message: fmt.Sprintf(
			"data path %q: use %s (cluster to cluster, the default) or %s (through the plan's repository)", p.Spec.DataPath, ferryv1.DataPathDirect, ferryv1.DataPathRepository)}
		return nil
	}
	for i := range res.PVCs {
		c := &res.PVCs[i]
		c.DataPath = ""
		if c.Action == ferryv1.PVCActionCopy && p.Spec.PathOf(c.Namespace, c.Name) == ferryv1.DataPathRepository {
			c.DataPath = ferryv1.DataPathRepository
		}
	}
	return nil
}

// dataPathProblem checks a claim override's data path; "" when fine.
func dataPathProblem(o ferryv1.PVCOverride) string {
	key := o.Namespace + "/" + o.Name
	switch {
	case !slices.Contains(validDataPaths, o.DataPath):
		return fmt.Sprintf("claim %s: unknown data path %q; use %s or %s", key, o.DataPath, ferryv1.DataPathDirect, ferryv1.DataPathRepository)
	case o.DataPath != "" && (o.Action == ferryv1.PVCActionSkip || o.Action == ferryv1.PVCActionMove):
		return fmt.Sprintf("claim %s: a data path is for copied claims, and its action is %s; drop one of them", key, o.Action)
	}
	return ""
}

// ValidateRepository adds what CheckRepository finds to a validation's
// result: a plan whose claims go through a repository (or that names
// one) needs that Repository, Ready, in its namespace on the host.
func ValidateRepository(ctx context.Context, c client.Reader, p *ferryv1.Plan, res *Result) error {
	if res.Problem != nil || (p.Spec.Repository == "" && !p.Spec.UsesRepository()) {
		return nil
	}
	var repo *ferryv1.Repository
	if p.Spec.Repository != "" {
		var r ferryv1.Repository
		err := c.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: p.Spec.Repository}, &r)
		switch {
		case err == nil:
			repo = &r
		case !apierrors.IsNotFound(err):
			return fmt.Errorf("get repository %s: %w", p.Spec.Repository, err)
		}
	}
	res.Problem = CheckRepository(p, repo)
	return nil
}

// CheckRepository checks the plan's repository, nil when it does not
// exist. The problem, when not nil, blocks the plan.
func CheckRepository(p *ferryv1.Plan, repo *ferryv1.Repository) *cluster.Problem {
	switch {
	case p.Spec.Repository == "":
		return &cluster.Problem{Reason: ferryv1.ReasonRepositoryNotFound, Message: fmt.Sprintf(
			"%s go through a repository, and the plan names none: add one with `ferry repository add NAME ...` and give it with --repository NAME, or use --data-path direct", repositoryUsers(p))}
	case repo == nil:
		return &cluster.Problem{Reason: ferryv1.ReasonRepositoryNotFound, Message: fmt.Sprintf(
			"repository %s does not exist in %s: add it with `ferry repository add %s --endpoint URL --bucket BUCKET --credentials-file FILE`, or name another",
			p.Spec.Repository, p.Namespace, p.Spec.Repository)}
	}
	cond, current := repoaccess.Ready(repo)
	switch {
	case cond == nil || !current:
		return &cluster.Problem{Reason: ferryv1.ReasonRepositoryNotReady, Message: fmt.Sprintf(
			"repository %s has not been checked yet: the controller checks it in a moment", repo.Name)}
	case cond.Status != metav1.ConditionTrue:
		return &cluster.Problem{Reason: ferryv1.ReasonRepositoryNotReady, Message: fmt.Sprintf(
			"repository %s is not ready (%s): %s", repo.Name, cond.Reason, cond.Message)}
	}
	return nil
}

// repositoryUsers says what of the plan goes through a repository.
func repositoryUsers(p *ferryv1.Plan) string {
	if p.Spec.DataPath == ferryv1.DataPathRepository {
		return "the plan's volumes"
	}
	var claims []string
	for _, o := range p.Spec.PersistentVolumeClaims {
		if o.DataPath == ferryv1.DataPathRepository {
			claims = append(claims, o.Namespace+"/"+o.Name)
		}
	}
	return fmt.Sprintf("claims %v", claims)
}
