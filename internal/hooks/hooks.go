// Package hooks runs the user's own steps at fixed points of a
// migration: a Hook is a Job (run on one side of the plan, in one
// namespace) or a command executed in running pods. This package decides
// which hooks a phase runs and in what order, where each runs, what it is
// told about the migration, and builds and judges the Jobs; the step that
// runs a hook is the migration controller's.
package hooks

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Context is what a hook is told about the migration it runs in.
type Context struct {
	Plan, Migration string
	Type            ferryv1.MigrationType
	Phase           ferryv1.HookPhase
	Hook            string
	// Namespaces is the plan's namespace mapping, each "source:destination".
	Namespaces                        []string
	SourceCluster, DestinationCluster string
}

// Names of the environment variables that carry a Context.
const (
	EnvPlan               = "FERRY_PLAN"
	EnvMigration          = "FERRY_MIGRATION"
	EnvType               = "FERRY_MIGRATION_TYPE"
	EnvPhase              = "FERRY_HOOK_PHASE"
	EnvHook               = "FERRY_HOOK"
	EnvNamespaces         = "FERRY_NAMESPACES"
	EnvSourceCluster      = "FERRY_SOURCE_CLUSTER"
	EnvDestinationCluster = "FERRY_DESTINATION_CLUSTER"
)

// Vars returns the context as name and value pairs, in a fixed order.
func (c Context) Vars() [][2]string {
	return [][2]string{
		{EnvPlan, c.Plan},
		{EnvMigration, c.Migration},
		{EnvType, string(c.Type)},
		{EnvPhase, string(c.Phase)},
		{EnvHook, c.Hook},
		{EnvNamespaces, strings.Join(c.Namespaces, ",")},
		{EnvSourceCluster, c.SourceCluster},
		{EnvDestinationCluster, c.DestinationCluster},
	}
}

// Env returns the context as a container's environment.
func (c Context) Env() []corev1.EnvVar {
	var out []corev1.EnvVar
	for _, v := range c.Vars() {
		out = append(out, corev1.EnvVar{Name: v[0], Value: v[1]})
	}
	return out
}

// Assignments returns the context as NAME=VALUE words, as `env` takes
// them.
func (c Context) Assignments() []string {
	var out []string
	for _, v := range c.Vars() {
		out = append(out, v[0]+"="+v[1])
	}
	return out
}

// NamespaceMapping returns a plan's namespaces as "source:destination".
func NamespaceMapping(specs []string) []string {
	var out []string
	for _, s := range specs {
		src, dst, renamed := strings.Cut(s, ":")
		if !renamed {
			dst = src
		}
		out = append(out, src+":"+dst)
	}
	return out
}

// InPhase returns the plan's hooks of one phase in the order they run:
// by Order, then as listed.
func InPhase(hooks []ferryv1.PlanHook, phase ferryv1.HookPhase) []ferryv1.PlanHook {
	var out []ferryv1.PlanHook
	for _, h := range hooks {
		if h.Phase == phase {
			out = append(out, h)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Order < out[j].Order })
	return out
}

// DefaultSide is where a phase's hooks run unless told otherwise: the
// destination for the restore phases, the source for the others.
func DefaultSide(phase ferryv1.HookPhase) ferryv1.HookSide {
	switch phase {
	case ferryv1.HookPreRestore, ferryv1.HookPostRestore:
		return ferryv1.HookDestination
	}
	return ferryv1.HookSource
}

// Place is where one hook runs.
type Place struct {
	Side      ferryv1.HookSide
	Namespace string
}

// PlaceOf decides where a plan's hook runs: the plan's entry, else the
// Hook, else the phase's side and the first migrated namespace as it is
// named on that side.
func PlaceOf(ref ferryv1.PlanHook, h *ferryv1.HookSpec, namespaces []string) Place {
	p := Place{Side: ref.Cluster, Namespace: ref.Namespace}
	if p.Side == "" && h != nil {
		p.Side = h.Cluster
	}
	if p.Side == "" {
		p.Side = DefaultSide(ref.Phase)
	}
	if p.Namespace == "" && h != nil {
		p.Namespace = h.Namespace
	}
	if p.Namespace == "" && len(namespaces) > 0 {
		src, dst, renamed := strings.Cut(namespaces[0], ":")
		p.Namespace = src
		if renamed && p.Side == ferryv1.HookDestination {
			p.Namespace = dst
		}
	}
	return p
}

// Timeout returns how long one run of a hook may take.
func Timeout(h *ferryv1.HookSpec) time.Duration {
	if h.Timeout != nil && h.Timeout.Duration > 0 {
		return h.Timeout.Duration
	}
	if h.Exec != nil {
		return ferryv1.DefaultExecHookTimeout * time.Second
	}
	return ferryv1.DefaultJobHookTimeout * time.Second
}

// Check returns what is wrong with a Hook's spec, or "".
func Check(h *ferryv1.HookSpec) string {
	switch {
	case h.Job == nil && h.Exec == nil:
		return "it has neither a job nor an exec part: give it one"
	case h.Job != nil && h.Exec != nil:
		return "it has both a job and an exec part: keep one"
	case h.Job != nil && h.Job.Image == "":
		return "its job has no image"
	case h.Job != nil && h.Job.Script != "" && (len(h.Job.Command) > 0 || len(h.Job.Args) > 0):
		return "its job has a script and a command: keep one"
	case h.Exec != nil && len(h.Exec.Command) == 0:
		return "its exec part has no command"
	case h.Exec != nil && (h.Exec.Selector == nil) == (h.Exec.PodName == ""):
		return "its exec part needs exactly one of a selector and a pod name"
	}
	return ""
}

// Phases returns the hook phases a plan type's migrations have.
func Phases(t ferryv1.PlanType) []ferryv1.HookPhase {
	if t == ferryv1.PlanState {
		// Nothing is restored: the application is the user's to start.
		return []ferryv1.HookPhase{ferryv1.HookPreBackup, ferryv1.HookPostBackup, ferryv1.HookPreRollback, ferryv1.HookPostRollback}
	}
	return []ferryv1.HookPhase{ferryv1.HookPreBackup, ferryv1.HookPostBackup, ferryv1.HookPreRestore, ferryv1.HookPostRestore,
		ferryv1.HookPreRollback, ferryv1.HookPostRollback}
}

// StepName names the itinerary step that runs a plan's hook.
func StepName(ref ferryv1.PlanHook) string {
	return fmt.Sprintf("%sHook/%s", ref.Phase, ref.Hook)
}

// Tail returns the last n non-empty lines of text.
func Tail(text string, n int) []string {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	var out []string
	for _, l := range lines {
		if l = strings.TrimRight(l, "\r"); l != "" {
			out = append(out, l)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return out
}
