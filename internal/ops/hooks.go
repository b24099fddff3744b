package ops

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/hooks"
)

// NewHook returns the Hook name with spec in the client's namespace, or
// why it cannot be one.
func (o *Client) NewHook(name string, spec ferryv1.HookSpec) (*ferryv1.Hook, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	if msg := hooks.Check(&spec); msg != "" {
		return nil, fmt.Errorf("hook %s: %s", name, msg)
	}
	if spec.Timeout != nil && spec.Timeout.Duration <= 0 {
		return nil, fmt.Errorf("hook %s: give a timeout above zero", name)
	}
	if spec.Retries < 0 {
		return nil, fmt.Errorf("hook %s: retries cannot be negative", name)
	}
	return &ferryv1.Hook{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.namespace}, Spec: spec}, nil
}

// ApplyHook creates the hook, or replaces the spec of the hook of that
// name; it reports whether it created it. Plans that run it are
// validated again by the controller.
func (o *Client) ApplyHook(ctx context.Context, h *ferryv1.Hook) (created bool, err error) {
	var cur ferryv1.Hook
	err = o.c.Get(ctx, client.ObjectKeyFromObject(h), &cur)
	switch {
	case apierrors.IsNotFound(err):
		if err := o.c.Create(ctx, h); err != nil {
			return false, fmt.Errorf("create hook %s: %w", h.Name, err)
		}
		return true, nil
	case err != nil:
		return false, fmt.Errorf("get hook %s: %w", h.Name, err)
	}
	cur.Spec = h.Spec
	if err := o.c.Update(ctx, &cur); err != nil {
		return false, fmt.Errorf("update hook %s: %w", h.Name, err)
	}
	return false, nil
}

// GetHook returns the hook name.
func (o *Client) GetHook(ctx context.Context, name string) (*ferryv1.Hook, error) {
	var h ferryv1.Hook
	if err := o.c.Get(ctx, o.key(name), &h); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("hook %s not found in %s: create it with `ferry hook create`: %w", name, o.namespace, err)
		}
		return nil, fmt.Errorf("get hook %s: %w", name, err)
	}
	return &h, nil
}

// ListHooks returns every hook, by name.
func (o *Client) ListHooks(ctx context.Context) ([]ferryv1.Hook, error) {
	var l ferryv1.HookList
	if err := o.c.List(ctx, &l, client.InNamespace(o.namespace)); err != nil {
		return nil, fmt.Errorf("list hooks: %w", err)
	}
	return l.Items, nil
}

// DeleteHook deletes a hook; it refuses while a plan runs it, naming the
// plans.
func (o *Client) DeleteHook(ctx context.Context, name string) error {
	h, err := o.GetHook(ctx, name)
	if err != nil {
		return err
	}
	plans, err := o.ListPlans(ctx)
	if err != nil {
		return err
	}
	var users []string
	for _, p := range plans {
		for _, ref := range p.Spec.Hooks {
			if ref.Hook == name {
				users = append(users, p.Name)
				break
			}
		}
	}
	if len(users) > 0 {
		return fmt.Errorf("hook %s is in plans %v: take it out of them (ferry plan create ... without --hook %s) or delete them first", name, users, name)
	}
	if err := o.c.Delete(ctx, h); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete hook %s: %w", name, err)
	}
	return nil
}
