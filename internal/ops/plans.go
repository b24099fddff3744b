package ops

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/resources/migrate"
)

// PlanValidationTimeout is how long WaitPlanValidated waits for the
// controller, which may have to measure the claims' used space first.
const PlanValidationTimeout = 5 * time.Minute

// NewPlan returns the Plan name with spec in the client's namespace, or
// why it cannot be one.
func (o *Client) NewPlan(name string, spec ferryv1.PlanSpec) (*ferryv1.Plan, error) {
	p := &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.namespace}, Spec: spec}
	if err := ValidatePlan(p); err != nil {
		return nil, err
	}
	return p, nil
}

// ValidatePlan checks what can be checked of a plan without the clusters:
// its name, that it names both clusters, its namespace mapping, its
// registry rewrites and claim overrides. The controller checks the rest.
func ValidatePlan(p *ferryv1.Plan) error {
	if err := ValidateName(p.Name); err != nil {
		return err
	}
	if p.Spec.SourceCluster == "" || p.Spec.DestinationCluster == "" {
		return errors.New("a plan names its source and destination clusters (register them with `ferry cluster add`)")
	}
	if _, err := migrate.ParseNamespaces(p.Spec.Namespaces); err != nil {
		return err
	}
	for _, rw := range p.Spec.RegistryRewrites {
		if rw.From == "" {
			return fmt.Errorf("registry rewrite to %q: give the prefix to rewrite", rw.To)
		}
	}
	for from, to := range p.Spec.RouteDomainMapping {
		if err := validateDomain(from); err != nil {
			return fmt.Errorf("route domain mapping %q=%q: %w", from, to, err)
		}
		if err := validateDomain(to); err != nil {
			return fmt.Errorf("route domain mapping %q=%q: %w", from, to, err)
		}
	}
	for _, c := range p.Spec.PersistentVolumeClaims {
		if c.Namespace == "" || c.Name == "" {
			return fmt.Errorf("claim override %q/%q: name the claim by its namespace and name", c.Namespace, c.Name)
		}
	}
	for _, h := range p.Spec.Hooks {
		if h.Hook == "" || h.Phase == "" {
			return fmt.Errorf("hook %q at %q: name the hook and its phase", h.Hook, h.Phase)
		}
		if h.Stages && h.Phase != ferryv1.HookPreBackup && h.Phase != ferryv1.HookPostBackup {
			return fmt.Errorf("hook %s at %s: only PreBackup and PostBackup hooks run in stages", h.Hook, h.Phase)
		}
	}
	return nil
}

// PlanApplied is what ApplyPlan did.
type PlanApplied struct {
	// Created is true for a new plan, false for an updated one.
	Created bool
	// Token is the validation request's value, for WaitPlanValidated.
	Token string
}

// ApplyPlan creates the plan, or replaces the spec of the plan of that
// name, and asks the controller to validate it (the ferry.dev/validate
// annotation). Wait for the result with WaitPlanValidated.
func (o *Client) ApplyPlan(ctx context.Context, p *ferryv1.Plan) (PlanApplied, error) {
	if err := ValidatePlan(p); err != nil {
		return PlanApplied{}, err
	}
	token := strconv.FormatInt(time.Now().UnixNano(), 10)
	var applied PlanApplied
	// The controller writes the plan too (its finalizer, annotations): an
	// update that lost the race reads the plan again and retries.
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var err error
		applied, err = o.applyPlanOnce(ctx, p, token)
		return err
	})
	return applied, err
}

// applyPlanOnce is one attempt of ApplyPlan; its errors wrap the API
// server's, so that a conflict is seen as one.
func (o *Client) applyPlanOnce(ctx context.Context, p *ferryv1.Plan, token string) (PlanApplied, error) {
	var existing ferryv1.Plan
	err := o.c.Get(ctx, o.key(p.Name), &existing)
	if apierrors.IsNotFound(err) {
		p = p.DeepCopy()
		p.Namespace = o.namespace
		metav1.SetMetaDataAnnotation(&p.ObjectMeta, ferryv1.AnnotationValidate, token)
		if err := o.c.Create(ctx, p); err != nil {
			return PlanApplied{}, fmt.Errorf("create plan %s: %w", p.Name, err)
		}
		return PlanApplied{Created: true, Token: token}, nil
	}
	if err != nil {
		return PlanApplied{}, fmt.Errorf("get plan %s: %w", p.Name, err)
	}
	if existing.DeletionTimestamp != nil {
		return PlanApplied{}, fmt.Errorf("plan %s is being deleted (it waits for its migrations to undo what they did; `ferry plan describe %s` says which): wait until it is gone, or choose another name",
			p.Name, p.Name)
	}
	existing.Spec = p.Spec
	metav1.SetMetaDataAnnotation(&existing.ObjectMeta, ferryv1.AnnotationValidate, token)
	if err := o.c.Update(ctx, &existing); err != nil {
		return PlanApplied{}, fmt.Errorf("update plan %s: %w", p.Name, err)
	}
	return PlanApplied{Token: token}, nil
}

// WaitPlanValidated waits until the controller has validated the plan's
// current generation for the request token (from ApplyPlan), its claims'
// used space measured (Ready's reason is not Measuring), and returns the
// plan.
func (o *Client) WaitPlanValidated(ctx context.Context, name, token string) (*ferryv1.Plan, error) {
	var p ferryv1.Plan
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, PlanValidationTimeout, true, func(ctx context.Context) (bool, error) {
		if err := o.c.Get(ctx, o.key(name), &p); err != nil {
			return false, nil
		}
		return planValidated(&p, token), nil
	})
	if err != nil {
		return nil, fmt.Errorf("plan %s was not validated within %s; is the controller running? (`ferry controller`): %w", name, PlanValidationTimeout, err)
	}
	return &p, nil
}

// planValidated reports whether the controller has validated this
// generation of the plan for the request token.
func planValidated(p *ferryv1.Plan, token string) bool {
	c := meta.FindStatusCondition(p.Status.Conditions, ferryv1.ConditionReady)
	return c != nil && c.Reason != ferryv1.ReasonMeasuring && p.Status.ObservedGeneration == p.Generation && p.Status.ObservedValidate == token
}

// PlanReady returns nil for a Ready plan, or an error with the reason it
// is not.
func PlanReady(p *ferryv1.Plan) error {
	c := meta.FindStatusCondition(p.Status.Conditions, ferryv1.ConditionReady)
	switch {
	case c == nil:
		return fmt.Errorf("plan %s is not validated yet: is the controller running? (`ferry controller`)", p.Name)
	case c.Status != metav1.ConditionTrue:
		return fmt.Errorf("plan %s is not ready (%s): %s", p.Name, c.Reason, c.Message)
	}
	return nil
}

// GetPlan returns the plan name.
func (o *Client) GetPlan(ctx context.Context, name string) (*ferryv1.Plan, error) {
	var p ferryv1.Plan
	if err := o.c.Get(ctx, o.key(name), &p); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("plan %s not found in %s: create it with `ferry plan create`: %w", name, o.namespace, err)
		}
		return nil, fmt.Errorf("get plan %s: %w", name, err)
	}
	return &p, nil
}

// ListPlans returns every plan, by name.
func (o *Client) ListPlans(ctx context.Context) ([]ferryv1.Plan, error) {
	var l ferryv1.PlanList
	if err := o.c.List(ctx, &l, client.InNamespace(o.namespace)); err != nil {
		return nil, fmt.Errorf("list plans: %w", err)
	}
	return l.Items, nil
}

// PlanDeletion is what deleting a plan sets off.
type PlanDeletion struct {
	// Migrations are the plan's migrations, which the controller deletes
	// before the plan goes (the plan's finalizer).
	Migrations []string
	// Undone are those of them not finished (not Succeeded or Canceled):
	// their cancel steps run first and undo what they did on both clusters.
	Undone []string
}

// DeletePlan deletes a plan. The controller then deletes its migrations,
// undoing those not finished, and the plan goes when none is left; wait
// for that with WaitPlanDeleted.
func (o *Client) DeletePlan(ctx context.Context, name string) (PlanDeletion, error) {
	p, err := o.GetPlan(ctx, name)
	if err != nil {
		return PlanDeletion{}, err
	}
	ms, err := o.ListMigrations(ctx, name)
	if err != nil {
		return PlanDeletion{}, err
	}
	var d PlanDeletion
	for i := range ms {
		d.Migrations = append(d.Migrations, ms[i].Name)
		if !ms[i].Finished() {
			d.Undone = append(d.Undone, ms[i].Name)
		}
	}
	if err := o.c.Delete(ctx, p); client.IgnoreNotFound(err) != nil {
		return PlanDeletion{}, fmt.Errorf("delete plan %s: %w", name, err)
	}
	return d, nil
}

// WaitPlanDeleted waits until the plan is gone.
func (o *Client) WaitPlanDeleted(ctx context.Context, name string) error {
	return o.waitGone(ctx, &ferryv1.Plan{}, "plan", name)
}

// waitGone waits until the object of Ferry's namespace is gone.
func (o *Client) waitGone(ctx context.Context, obj client.Object, kind, name string) error {
	err := wait.PollUntilContextCancel(ctx, 500*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		err := o.c.Get(ctx, o.key(name), obj)
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		return fmt.Errorf("%s %s is not gone yet (is the controller running? `ferry status` shows its migrations): %w", kind, name, err)
	}
	return nil
}

// validateDomain checks that d is a DNS domain (a router's, as in
// "apps.cluster.example").
func validateDomain(d string) error {
	if errs := validation.IsDNS1123Subdomain(d); len(errs) > 0 {
		return fmt.Errorf("%q is not a DNS domain: %s", d, strings.Join(errs, "; "))
	}
	return nil
}
