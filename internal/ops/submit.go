package ops

import (
	"context"
	"fmt"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// CredentialsFunc returns the user's own credentials of a plan's clusters
// (see PlanCredentials): from kubeconfigs for the CLI and the local
// console, from the tokens a user gave for the console in the controller.
type CredentialsFunc func(ctx context.Context, p *ferryv1.Plan) (PlanCredentials, error)

// PlanSubmitted is what SubmitPlan did.
type PlanSubmitted struct {
	// Plan is the plan as the controller validated it.
	Plan *ferryv1.Plan
	// Created is true for a new plan, false for an updated one.
	Created bool
	// Granted are the grants made, in order (one or two rounds).
	Granted []PlanGranted
	// GrantErrors are the grants that failed; the plan's validation then
	// says what Ferry lacks (reason NotGranted). Grant again once fixed
	// (`ferry plan grant`).
	GrantErrors []error
}

// SubmitPlan grants Ferry the plan's namespaces with the user's
// credentials, creates (or updates) the plan and waits for its
// validation. The grant comes in two parts: the source namespaces and the
// destination namespaces that exist first (a grant that fails is
// recorded in GrantErrors, not returned: the validation then says what
// is missing); the destination namespaces that do not exist yet are
// created only when the plan's validation finds nothing else wrong
// (reason NotGranted), so that a bad plan leaves nothing on the
// destination. It does not fail for a plan that is not Ready: see
// PlanReady.
func (o *Client) SubmitPlan(ctx context.Context, p *ferryv1.Plan, creds CredentialsFunc) (*PlanSubmitted, error) {
	if err := ValidatePlan(p); err != nil {
		return nil, err
	}
	out := &PlanSubmitted{}
	out.grant(ctx, o, p, creds, false)
	got, created, err := o.applyAndWait(ctx, p)
	if err != nil {
		return nil, err
	}
	out.Plan, out.Created = got, created
	if notGranted(got) && out.grant(ctx, o, p, creds, true) {
		if out.Plan, _, err = o.applyAndWait(ctx, p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// grant makes the plan's grants and records what happened; it reports
// whether they were made.
func (s *PlanSubmitted) grant(ctx context.Context, o *Client, p *ferryv1.Plan, creds CredentialsFunc, createNamespaces bool) bool {
	granted, err := o.grantWith(ctx, p, creds, createNamespaces)
	if err != nil {
		s.GrantErrors = append(s.GrantErrors, err)
		return false
	}
	s.Granted = append(s.Granted, granted)
	return true
}

// grantWith resolves the user's credentials and makes the plan's grants.
func (o *Client) grantWith(ctx context.Context, p *ferryv1.Plan, creds CredentialsFunc, createNamespaces bool) (PlanGranted, error) {
	c, err := creds(ctx, p)
	if err == nil {
		var granted PlanGranted
		if granted, err = o.GrantPlan(ctx, p, c, createNamespaces); err == nil {
			return granted, nil
		}
	}
	return nil, fmt.Errorf("grant Ferry the namespaces of plan %s: %w", p.Name, err)
}

// applyAndWait creates or updates the plan and waits for its validation.
func (o *Client) applyAndWait(ctx context.Context, p *ferryv1.Plan) (*ferryv1.Plan, bool, error) {
	applied, err := o.ApplyPlan(ctx, p)
	if err != nil {
		return nil, false, err
	}
	got, err := o.WaitPlanValidated(ctx, p.Name, applied.Token)
	return got, applied.Created, err
}

// notGranted reports whether the plan is not Ready only for want of
// grants.
func notGranted(p *ferryv1.Plan) bool {
	c := apimeta.FindStatusCondition(p.Status.Conditions, ferryv1.ConditionReady)
	return c != nil && c.Reason == ferryv1.ReasonNotGranted
}

// Regranted is what Regrant did.
type Regranted struct {
	// Granted are the grants made; nil when none was attempted.
	Granted PlanGranted
	// WasNotGranted is true when the plan said it lacked its grants
	// (reason NotGranted): then Regrant validated it again, and a front
	// end should say what it did.
	WasNotGranted bool
}

// Regrant grants Ferry the plan's namespaces again before a migration
// starts: a rollback deletes the destination namespaces it created, and
// their grants with them. It does so only for a plan that validated
// (Ready, or not Ready only for want of grants); when the plan said it
// lacked them, it validates the plan again. What it cannot do, the
// migration's Validate step then says; the error says what failed.
func (o *Client) Regrant(ctx context.Context, name string, creds CredentialsFunc) (Regranted, error) {
	p, err := o.GetPlan(ctx, name)
	if err != nil {
		return Regranted{}, err
	}
	ready := apimeta.FindStatusCondition(p.Status.Conditions, ferryv1.ConditionReady)
	if ready == nil || (ready.Status != metav1.ConditionTrue && ready.Reason != ferryv1.ReasonNotGranted) {
		return Regranted{}, nil
	}
	out := Regranted{WasNotGranted: ready.Reason == ferryv1.ReasonNotGranted}
	if out.Granted, err = o.grantWith(ctx, p, creds, true); err != nil {
		return out, err
	}
	if out.WasNotGranted {
		if _, _, err := o.applyAndWait(ctx, p); err != nil {
			return out, fmt.Errorf("validate plan %s again: %w", name, err)
		}
	}
	return out, nil
}
