package planning

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/discover"
	"ferry.dev/ferry/internal/resources/migrate"
)

// Result is what validation found.
type Result struct {
	// Type of the plan validated.
	Type ferryv1.PlanType
	// Problem, when set, blocks the plan.
	Problem *cluster.Problem
	// Warnings do not block it.
	Warnings []string
	// PVCs is the plan's claim list: every claim found on the source and
	// what becomes of it (see the package documentation).
	PVCs []ferryv1.PlanPVC
	// Counts of the objects the migration applies, per kind, the
	// destination namespaces included.
	Counts []ferryv1.KindCount
	// Total number of objects the migration applies.
	Total int64
	// Skipped counts the objects the migration leaves out, per kind and
	// reason.
	Skipped []ferryv1.SkippedCount
	// Images a migration copies from the source's registry.
	Images []ferryv1.PlanImage
	// MoverSecurity holds the Pod Security Standards of the copied
	// claims ("namespace/name" on the source) whose movers run as
	// non-root on either side; the others run as root.
	MoverSecurity map[string]MoverSecurity

	// inventory is what the inventory check took, for the tally.
	inventory *migrate.Inventory
	// existing holds the destination claims a State plan uses as they are.
	existing destClaims
}

// Summary is the Ready message of a valid plan: the objects applied and
// the volumes copied.
func (r *Result) Summary() string {
	if r.Type == ferryv1.PlanState {
		existing := 0
		for _, c := range r.Copied() {
			if c.TargetExists {
				existing++
			}
		}
		return fmt.Sprintf("state only: %d volumes to copy, %d of them into claims that exist on the destination%s; no other resources are applied",
			len(r.Copied()), existing, r.movedSummary())
	}
	return fmt.Sprintf("%d objects and %d volumes to migrate%s", r.Total, len(r.Copied()), r.movedSummary())
}

// movedSummary ends the summary with the number of volumes to move (""
// when none).
func (r *Result) movedSummary() string {
	if n := len(r.Moved()); n > 0 {
		return fmt.Sprintf(", %d to move (no data copied)", n)
	}
	return ""
}

// Copied returns the claims of the list whose data the migration copies.
func (r *Result) Copied() []ferryv1.PlanPVC {
	var out []ferryv1.PlanPVC
	for _, c := range r.PVCs {
		if c.Action == ferryv1.PVCActionCopy {
			out = append(out, c)
		}
	}
	return out
}

// Scope builds the migration scope of a plan.
func Scope(p *ferryv1.Plan) (migrate.Scope, error) {
	ns, err := migrate.ParseNamespaces(p.Spec.Namespaces)
	if err != nil {
		return migrate.Scope{}, err
	}
	s := migrate.Scope{Namespaces: ns, Kinds: discover.KindFilter{Include: p.Spec.IncludedKinds, Exclude: p.Spec.ExcludedKinds}}
	if p.Spec.LabelSelector != nil {
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.LabelSelector)
		if err != nil {
			return migrate.Scope{}, fmt.Errorf("label selector: %w", err)
		}
		s.Selector = sel.String()
	}
	return s, nil
}

// Validate checks the plan against its clusters. A returned error means
// the check itself could not run (a cluster stopped answering); problems
// of the plan are in Result.Problem.
//
// A Full plan must find its destination namespaces free of objects Ferry
// did not create, and every kind it exports served there. A State plan
// applies nothing but missing claims: destination claims that exist are
// used as they are, once checked (see checkExistingClaims).
func Validate(ctx context.Context, p *ferryv1.Plan, src, dst *cluster.Clients) (*Result, error) {
	switch p.Spec.Kind() {
	case ferryv1.PlanState:
		return run(ctx, p, src, dst, checkMapping, checkSameNamespace, checkSourceNamespaces, checkSourceAccess, checkExistingDestinationAccess,
			listClaims, findExistingClaims, checkClasses, checkClaimOverrides, checkDataPaths, checkMoves, checkClusterScopedAccess, applyUsage, checkMoverSecurity, checkExistingClaims, checkCapacity, countClaims,
			checkDestinationAccess)
	case ferryv1.PlanStorageConversion:
		return run(ctx, p, src, dst, checkConversionScope, checkSourceNamespaces, checkSourceAccess, checkExistingDestinationAccess,
			listClaims, convertClaims, checkClasses, checkClaimOverrides, checkDataPaths, checkMoves, applyUsage, checkMoverSecurity, checkConversionTargets, checkCapacity, checkSwitchable, countClaims,
			checkDestinationAccess)
	case ferryv1.PlanFull:
		return run(ctx, p, src, dst, checkMapping, checkSameNamespace, checkSourceNamespaces, checkSourceAccess, checkExistingDestinationAccess, checkConflicts,
			inventory, listClaims, checkClasses, checkClaimOverrides, checkDataPaths, checkMoves, checkClusterScopedAccess, applyUsage, checkMoverSecurity, checkCapacity, tally, listImages,
			checkDestinationAccess)
	}
	return run(ctx, p, src, dst, checkType)
}

// Claims finds the plan's claims and what it does with each, with only
// the checks that concern them (storage classes, claim overrides, used
// space against capacity): what a
// volume copy needs, without listing every object of the namespaces as
// Validate does.
func Claims(ctx context.Context, p *ferryv1.Plan, src, dst *cluster.Clients) (*Result, error) {
	switch p.Spec.Kind() {
	case ferryv1.PlanState:
		return run(ctx, p, src, dst, checkMapping, listClaims, findExistingClaims, checkClasses, checkClaimOverrides, checkDataPaths, checkMoves, applyUsage, checkCapacity)
	case ferryv1.PlanStorageConversion:
		return run(ctx, p, src, dst, checkConversionScope, listClaims, convertClaims, checkClasses, checkClaimOverrides, checkDataPaths, checkMoves, applyUsage, checkCapacity)
	case ferryv1.PlanFull:
		return run(ctx, p, src, dst, checkMapping, listClaims, checkClasses, checkClaimOverrides, checkDataPaths, checkMoves, applyUsage, checkCapacity)
	}
	return run(ctx, p, src, dst, checkType)
}

// checkType refuses the plan types this version cannot run.
func checkType(_ context.Context, p *ferryv1.Plan, _ migrate.Scope, _, _ *cluster.Clients, res *Result) error {
	res.Problem = &cluster.Problem{Reason: ferryv1.ReasonNotSupported, Message: fmt.Sprintf(
		"plans of type %s are not available in this version of Ferry: use a Full or State plan", p.Spec.Kind())}
	return nil
}

// check is one step of validation; it sets Result.Problem when the plan
// cannot run.
type check func(context.Context, *ferryv1.Plan, migrate.Scope, *cluster.Clients, *cluster.Clients, *Result) error

// run runs checks in order until one finds a problem.
func run(ctx context.Context, p *ferryv1.Plan, src, dst *cluster.Clients, checks ...check) (*Result, error) {
	res := &Result{Type: p.Spec.Kind()}
	scope, err := Scope(p)
	if err != nil {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonInvalidSpec, Message: err.Error()}
		return res, nil
	}
	for _, c := range checks {
		if err := c(ctx, p, scope, src, dst, res); err != nil {
			return nil, err
		}
		if res.Problem != nil {
			return res, nil
		}
	}
	return res, nil
}
