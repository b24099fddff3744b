package volumes

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Dispatch is a Path that carries each transfer over the path its route
// names (the local copy where both claims can share a node, the direct
// path elsewhere), so that one Sync drives them all. Each volume's status
// names the path that copies it ([Dispatch.PathOf]), so attempts and
// reports stay with it.
type Dispatch struct {
	paths map[string]Path
	names []string // in the order given
	route map[Transfer]string
}

var _ Path = (*Dispatch)(nil)

// NewDispatch returns a Path sending every transfer in route over the
// path it names; paths are those it may name (each name once).
func NewDispatch(route map[Transfer]string, paths ...Path) (*Dispatch, error) {
	d := &Dispatch{paths: map[string]Path{}, route: route}
	for _, p := range paths {
		if _, dup := d.paths[p.Name()]; dup {
			return nil, fmt.Errorf("volume copy: path %q given twice", p.Name())
		}
		d.paths[p.Name()] = p
		d.names = append(d.names, p.Name())
	}
	for t, name := range route {
		if d.paths[name] == nil {
			return nil, fmt.Errorf("volume copy: transfer %s is routed to path %q, which is not given", Describe(t), name)
		}
	}
	return d, nil
}

// Name joins the names of the paths: "local+direct".
func (d *Dispatch) Name() string { return strings.Join(d.names, "+") }

// PathOf names the path that carries t; Sync names each volume's status
// by it.
func (d *Dispatch) PathOf(t Transfer) string { return d.route[t] }

// pathFor is the path carrying t.
func (d *Dispatch) pathFor(t Transfer) (Path, error) {
	p := d.paths[d.route[t]]
	if p == nil {
		return nil, fmt.Errorf("volume copy: transfer %s has no route", Describe(t))
	}
	return p, nil
}

// Prepare prepares each path that carries transfers with its own
// transfers; it is ready when all are.
func (d *Dispatch) Prepare(ctx context.Context, transfers []Transfer) (Readiness, error) {
	byPath := map[string][]Transfer{}
	for _, t := range transfers {
		if _, err := d.pathFor(t); err != nil {
			return Readiness{}, err
		}
		byPath[d.route[t]] = append(byPath[d.route[t]], t)
	}
	out := Readiness{Ready: true}
	var waits []string
	for _, name := range d.names {
		if len(byPath[name]) == 0 {
			continue
		}
		r, err := d.paths[name].Prepare(ctx, byPath[name])
		if err != nil {
			return Readiness{}, err
		}
		if !r.Ready {
			out.Ready = false
			waits = append(waits, name+": "+r.Message)
		}
	}
	out.Message = strings.Join(waits, "; ")
	return out, nil
}

// Start starts t's round on its path.
func (d *Dispatch) Start(ctx context.Context, t Transfer) (string, error) {
	p, err := d.pathFor(t)
	if err != nil {
		return "", err
	}
	return p.Start(ctx, t)
}

// Observe observes t's round on its path.
func (d *Dispatch) Observe(ctx context.Context, t Transfer) (Observation, error) {
	p, err := d.pathFor(t)
	if err != nil {
		return Observation{}, err
	}
	return p.Observe(ctx, t)
}

// Reset resets t's round on its path.
func (d *Dispatch) Reset(ctx context.Context, t Transfer) (bool, error) {
	p, err := d.pathFor(t)
	if err != nil {
		return false, err
	}
	return p.Reset(ctx, t)
}

// Cleanup cleans up every path; done once all are.
func (d *Dispatch) Cleanup(ctx context.Context) (bool, error) {
	done := true
	var errs []error
	for _, name := range d.names {
		ok, err := d.paths[name].Cleanup(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("clean up the %s path: %w", name, err))
		}
		done = done && ok
	}
	return done && len(errs) == 0, errors.Join(errs...)
}

// pathName names the path carrying t over p: its route's for a Dispatch,
// else p's own.
func pathName(p Path, t Transfer) string {
	if r, ok := p.(interface{ PathOf(Transfer) string }); ok {
		if name := r.PathOf(t); name != "" {
			return name
		}
	}
	return p.Name()
}
