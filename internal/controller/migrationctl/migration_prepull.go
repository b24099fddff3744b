package migrationctl

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/internal/planning"
	"ferry.dev/ferry/internal/prepull"
	"ferry.dev/ferry/internal/resources/migrate"
	"ferry.dev/ferry/internal/resources/transform"
)

// PrePullTimeout bounds the wait for image pulls; what is still pulling
// then is left to the workloads.
const PrePullTimeout = 5 * time.Minute

// prePullImages pulls the images of the plan's workloads, as the
// destination will run them, onto the destination's nodes while the
// source still runs (package prepull). It never fails the migration:
// failed pulls are reported in its message.
func prePullImages(ctx context.Context, s *session) (outcome, error) {
	wants, err := s.imagesToPull(ctx)
	if err != nil {
		return outcome{}, err
	}
	nodes, err := prepull.Nodes(ctx, s.dst.Kube)
	if apierrors.IsForbidden(err) && s.dst.AsUser {
		return done("skipped: the destination's token (a namespace admin's) may not list nodes; the workloads pull their images"), nil
	}
	if err != nil {
		return outcome{}, fmt.Errorf("nodes of cluster %s: %w", s.dst.Name, err)
	}
	if len(wants) == 0 || len(nodes) == 0 {
		return done("no images to pull"), nil
	}
	res, err := prepull.Pass(ctx, s.dst.Kube, s.m.Name, transform.Marks(s.plan.Name, s.m.Name), wants, nodes)
	if err != nil {
		return outcome{}, err
	}
	msg := fmt.Sprintf("%d images on %d nodes: %d pulled", len(wants), len(nodes), res.Pulled)
	if !res.Done() && time.Since(s.step().Started.Time) < PrePullTimeout {
		return waiting(fmt.Sprintf("%s, pulling %s", msg, strings.Join(firstN(res.Pending, 3), ", ")), 2*time.Second), nil
	}
	if _, err := prepull.Cleanup(ctx, s.dst.Kube, s.m.Name); err != nil {
		return outcome{}, err
	}
	if len(res.Pending) > 0 {
		msg += fmt.Sprintf("; still pulling after %s, left to the workloads: %s", PrePullTimeout, strings.Join(firstN(res.Pending, 3), ", "))
	}
	if res.Skipped > 0 {
		msg += fmt.Sprintf("; %d more left to the workloads (at most %d pulls)", res.Skipped, prepull.MaxPullers)
	}
	if len(res.Failed) > 0 {
		var f []string
		for k, why := range res.Failed {
			f = append(f, k+": "+why)
		}
		sort.Strings(f)
		msg += fmt.Sprintf("; could not pull %s — the workloads will fail the same way unless this is fixed (a registry rewrite, a pull secret)", strings.Join(firstN(f, 3), "; "))
	}
	return done(msg), nil
}

func firstN(l []string, n int) []string {
	if len(l) > n {
		return append(append([]string{}, l[:n]...), fmt.Sprintf("and %d more", len(l)-n))
	}
	return l
}

// imagesToPull lists the images of the workloads of the plan's source
// namespaces (those its selector selects), rewritten as the destination
// will run them, by destination namespace.
func (s *session) imagesToPull(ctx context.Context) ([]prepull.Want, error) {
	scope, err := s.migrateScope()
	if err != nil {
		return nil, err
	}
	tc := planning.TransformContext(s.plan, scope, nil)
	tc.Images = planning.ImageMapping(scope, s.src, s.dst)
	sel, err := labels.Parse(scope.Selector)
	if err != nil {
		return nil, fmt.Errorf("label selector: %w", err)
	}
	var out []prepull.Want
	for _, m := range scope.Namespaces {
		specs, err := podSpecs(ctx, s.src.Client, m, sel)
		if err != nil {
			return nil, fmt.Errorf("list workloads in %s on cluster %s: %w", m.Source, s.src.Name, err)
		}
		for _, sp := range specs {
			rewriteSpecImages(&tc, sp)
		}
		out = append(out, prepull.Images(m.Destination, specs)...)
	}
	return out, nil
}

// podSpecs returns the pod specs of the workloads and bare pods of a
// source namespace that the selector selects.
func podSpecs(ctx context.Context, c client.Client, m migrate.NamespaceMapping, sel labels.Selector) ([]*corev1.PodSpec, error) {
	opts := []client.ListOption{client.InNamespace(m.Source), client.MatchingLabelsSelector{Selector: sel}}
	var specs []*corev1.PodSpec
	var deps appsv1.DeploymentList
	var sets appsv1.StatefulSetList
	var daemons appsv1.DaemonSetList
	var crons batchv1.CronJobList
	var pods corev1.PodList
	for _, l := range []client.ObjectList{&deps, &sets, &daemons, &crons, &pods} {
		if err := c.List(ctx, l, opts...); err != nil {
			return nil, err
		}
	}
	for i := range deps.Items {
		specs = append(specs, &deps.Items[i].Spec.Template.Spec)
	}
	for i := range sets.Items {
		specs = append(specs, &sets.Items[i].Spec.Template.Spec)
	}
	for i := range daemons.Items {
		specs = append(specs, &daemons.Items[i].Spec.Template.Spec)
	}
	for i := range crons.Items {
		specs = append(specs, &crons.Items[i].Spec.JobTemplate.Spec.Template.Spec)
	}
	for i := range pods.Items {
		if len(pods.Items[i].OwnerReferences) == 0 { // bare pods; the others come from their workloads
			specs = append(specs, &pods.Items[i].Spec)
		}
	}
	return specs, nil
}

// rewriteSpecImages applies the plan's registry rewrites to a pod spec's
// images.
func rewriteSpecImages(tc *transform.Context, sp *corev1.PodSpec) {
	for i := range sp.InitContainers {
		sp.InitContainers[i].Image = tc.Image(sp.InitContainers[i].Image)
	}
	for i := range sp.Containers {
		sp.Containers[i].Image = tc.Image(sp.Containers[i].Image)
	}
	for i := range sp.EphemeralContainers {
		sp.EphemeralContainers[i].Image = tc.Image(sp.EphemeralContainers[i].Image)
	}
}
