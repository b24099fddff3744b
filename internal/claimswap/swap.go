package claimswap

import (
	"context"
	"fmt"
	"sort"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Report says what Check found or Swap did. Workloads are named
// "Kind/name".
type Report struct {
	// Switched lists the workloads whose references were (or, from Check,
	// would be) replaced in place.
	Switched []string
	// Recreated lists the workloads recreated with new references
	// (StatefulSets, unfinished Jobs).
	Recreated []string
	// Left lists the workloads that use a mapped claim and are left as
	// they are (finished Jobs).
	Left []string
	// Problems say which users of mapped claims cannot be switched, and
	// why; Swap changes nothing when there are any.
	Problems []string
}

// change is one workload to switch.
type change struct {
	ref      string
	recreate bool
	// apply makes the change.
	apply func(ctx context.Context) error
}

// Check finds what Swap would do in namespace ns with mapping m, changing
// nothing; the report's Problems say what blocks it.
func Check(ctx context.Context, c client.Client, ns string, m Mapping) (Report, error) {
	changes, rep, err := plan(ctx, c, ns, m, nil, true)
	if err != nil {
		return rep, err
	}
	for _, ch := range changes {
		if ch.recreate {
			rep.Recreated = append(rep.Recreated, ch.ref)
		} else {
			rep.Switched = append(rep.Switched, ch.ref)
		}
	}
	return rep, nil
}

// Swap switches the workloads of namespace ns from the old claims of m
// to the new ones. Objects it writes while it works (the copies of
// recreated workloads) carry labels. It finishes the recreations that an
// earlier Swap left midway first, and changes nothing when a workload
// cannot be switched (the error names it). Swap is idempotent: switched
// workloads no longer use the old claims.
func Swap(ctx context.Context, c client.Client, ns string, m Mapping, labels map[string]string) (Report, error) {
	if err := resume(ctx, c, ns); err != nil {
		return Report{}, err
	}
	changes, rep, err := plan(ctx, c, ns, m, labels, false)
	if err != nil {
		return rep, err
	}
	if len(rep.Problems) > 0 {
		return rep, fmt.Errorf("cannot switch claims in namespace %s: %s", ns, joinProblems(rep.Problems))
	}
	logger := log.FromContext(ctx).WithValues("namespace", ns)
	for _, ch := range changes {
		if err := ch.apply(ctx); err != nil {
			return rep, fmt.Errorf("switch %s in namespace %s to claims %s: %w", ch.ref, ns, m, err)
		}
		logger.Info("switched workload claims", "workload", ch.ref, "recreated", ch.recreate)
		if ch.recreate {
			rep.Recreated = append(rep.Recreated, ch.ref)
		} else {
			rep.Switched = append(rep.Switched, ch.ref)
		}
	}
	return rep, nil
}

func joinProblems(p []string) string {
	if len(p) > 3 {
		return fmt.Sprintf("%s; and %d more", strings.Join(p[:3], "; "), len(p)-3)
	}
	return strings.Join(p, "; ")
}

// plan lists the changes that switch namespace ns to m. With complete, a
// StatefulSet template whose claims m maps only in part is a problem.
func plan(ctx context.Context, c client.Client, ns string, m Mapping, labels map[string]string, complete bool) ([]change, Report, error) {
	var rep Report
	claims, err := claimNames(ctx, c, ns)
	if err != nil {
		return nil, rep, err
	}
	var changes []change
	for _, f := range []func(context.Context, client.Client, string, Mapping, map[string]string, []string, bool, *Report) ([]change, error){
		planInPlace, planStatefulSets, planJobs,
	} {
		chs, err := f(ctx, c, ns, m, labels, claims, complete, &rep)
		if err != nil {
			return nil, rep, err
		}
		changes = append(changes, chs...)
	}
	probs, err := podProblems(ctx, c, ns, m)
	if err != nil {
		return nil, rep, err
	}
	rep.Problems = append(rep.Problems, probs...)
	sort.Strings(rep.Left)
	return changes, rep, nil
}

func claimNames(ctx context.Context, c client.Client, ns string) ([]string, error) {
	var l corev1.PersistentVolumeClaimList
	if err := c.List(ctx, &l, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("list claims in namespace %s: %w", ns, err)
	}
	out := make([]string, 0, len(l.Items))
	for _, p := range l.Items {
		out = append(out, p.Name)
	}
	sort.Strings(out)
	return out, nil
}

// inPlace is a workload kind whose pod template Swap patches in place.
type inPlace struct {
	kind string
	list func() client.ObjectList
	// spec returns the pod spec of one listed object.
	spec func(client.Object) *corev1.PodSpec
	// skip tells objects switched through another one (a Deployment's
	// ReplicaSets follow their Deployment).
	skip func(client.Object) bool
}

// inPlaceKinds are the kinds whose references Swap patches.
var inPlaceKinds = []inPlace{
	{kind: "Deployment", list: func() client.ObjectList { return &appsv1.DeploymentList{} },
		spec: func(o client.Object) *corev1.PodSpec { return &o.(*appsv1.Deployment).Spec.Template.Spec }},
	{kind: "ReplicaSet", list: func() client.ObjectList { return &appsv1.ReplicaSetList{} },
		spec: func(o client.Object) *corev1.PodSpec { return &o.(*appsv1.ReplicaSet).Spec.Template.Spec },
		skip: func(o client.Object) bool { return controlledBy(o, "Deployment") }},
	{kind: "DaemonSet", list: func() client.ObjectList { return &appsv1.DaemonSetList{} },
		spec: func(o client.Object) *corev1.PodSpec { return &o.(*appsv1.DaemonSet).Spec.Template.Spec }},
	{kind: "CronJob", list: func() client.ObjectList { return &batchv1.CronJobList{} },
		spec: func(o client.Object) *corev1.PodSpec {
			return &o.(*batchv1.CronJob).Spec.JobTemplate.Spec.Template.Spec
		}},
}

// planInPlace lists the workloads of the in-place kinds that use mapped
// claims, each a patch of its pod template.
func planInPlace(ctx context.Context, c client.Client, ns string, m Mapping, _ map[string]string, _ []string, _ bool, _ *Report) ([]change, error) {
	var out []change
	for _, k := range inPlaceKinds {
		l := k.list()
		if err := c.List(ctx, l, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("list %ss in namespace %s: %w", k.kind, ns, err)
		}
		items, err := meta.ExtractList(l)
		if err != nil {
			return nil, fmt.Errorf("extract %s list: %w", k.kind, err)
		}
		for _, item := range items {
			o, ok := item.(client.Object)
			if !ok || (k.skip != nil && k.skip(o)) || len(m.uses(k.spec(o))) == 0 {
				continue
			}
			out = append(out, patchChange(c, k.kind+"/"+o.GetName(), o, func(x client.Object) { m.swapVolumes(k.spec(x)) }))
		}
	}
	return out, nil
}

// planStatefulSets switches StatefulSets: in place when only their pod
// templates' own volumes use mapped claims, by recreation when claims of
// their claim templates are mapped.
func planStatefulSets(ctx context.Context, c client.Client, ns string, m Mapping, labels map[string]string, claims []string, complete bool, rep *Report) ([]change, error) {
	var l appsv1.StatefulSetList
	if err := c.List(ctx, &l, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("list StatefulSets in namespace %s: %w", ns, err)
	}
	var out []change
	for i := range l.Items {
		o := &l.Items[i]
		ref := "StatefulSet/" + o.Name
		renames, probs := templateRenames(o, m, claims, complete)
		rep.Problems = append(rep.Problems, probs...)
		direct := len(m.uses(&o.Spec.Template.Spec)) > 0
		switch {
		case len(renames) > 0:
			out = append(out, change{ref: ref, recreate: true, apply: func(ctx context.Context) error {
				n, err := renameTemplates(ctx, c, o, renames, m, claims)
				if err != nil {
					return err
				}
				m.swapVolumes(&n.Spec.Template.Spec)
				return recreate(ctx, c, o, n, labels)
			}})
		case direct:
			out = append(out, patchChange(c, ref, o, func(x client.Object) { m.swapVolumes(&x.(*appsv1.StatefulSet).Spec.Template.Spec) }))
		}
	}
	return out, nil
}

// planJobs recreates unfinished Jobs that use mapped claims (a Job's pod
// template is immutable) and leaves finished ones.
func planJobs(ctx context.Context, c client.Client, ns string, m Mapping, labels map[string]string, _ []string, _ bool, rep *Report) ([]change, error) {
	var l batchv1.JobList
	if err := c.List(ctx, &l, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("list Jobs in namespace %s: %w", ns, err)
	}
	var out []change
	for i := range l.Items {
		o := &l.Items[i]
		ref := "Job/" + o.Name
		if len(m.uses(&o.Spec.Template.Spec)) == 0 {
			continue
		}
		if finished(o) {
			rep.Left = append(rep.Left, ref)
			continue
		}
		out = append(out, change{ref: ref, recreate: true, apply: func(ctx context.Context) error {
			n := freshJob(o)
			m.swapVolumes(&n.Spec.Template.Spec)
			return recreate(ctx, c, o, n, labels)
		}})
	}
	return out, nil
}

func finished(j *batchv1.Job) bool {
	for _, cond := range j.Status.Conditions {
		if (cond.Type == batchv1.JobComplete || cond.Type == batchv1.JobFailed) && cond.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// podProblems names the running pods that use mapped claims and that no
// workload Swap handles controls.
func podProblems(ctx context.Context, c client.Client, ns string, m Mapping) ([]string, error) {
	var l corev1.PodList
	if err := c.List(ctx, &l, client.InNamespace(ns)); err != nil {
		return nil, fmt.Errorf("list pods in namespace %s: %w", ns, err)
	}
	var out []string
	for i := range l.Items {
		p := &l.Items[i]
		used := m.uses(&p.Spec)
		if len(used) == 0 || p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || isMover(p) {
			continue
		}
		switch ref := ownerOf(p); {
		case ref == "":
			out = append(out, fmt.Sprintf("Pod/%s uses claim %s and no workload controls it, so Ferry cannot switch it: run it from a Deployment or StatefulSet, or delete it",
				p.Name, used[0]))
		case !handled[ref]:
			out = append(out, fmt.Sprintf("Pod/%s uses claim %s and is controlled by a %s, a kind whose claims Ferry cannot switch: change that object yourself or leave the claim out (--pvc %s/%s:action=skip)",
				p.Name, used[0], ref, ns, used[0]))
		}
	}
	return out, nil
}

// handled are the controller kinds of pods whose claims Swap switches
// through their workload.
var handled = map[string]bool{"ReplicaSet": true, "StatefulSet": true, "DaemonSet": true, "Job": true}

func ownerOf(o client.Object) string {
	for _, r := range o.GetOwnerReferences() {
		if r.Controller != nil && *r.Controller {
			return r.Kind
		}
	}
	return ""
}

func controlledBy(o client.Object, kind string) bool { return ownerOf(o) == kind }
