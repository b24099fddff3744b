package migrationctl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/planning"
	"ferry.dev/ferry/internal/quiesce"
	"ferry.dev/ferry/internal/resources/migrate"
	"ferry.dev/ferry/internal/resources/transform"
)

// Time limits of the waiting steps.
const (
	// DowntimePoll is how often the steps inside a cutover's downtime
	// (WaitForQuiesce, the final CopyVolumes, WaitForWorkloads) look
	// again: every poll's delay is downtime. Other waits poll every
	// second or more.
	DowntimePoll     = 250 * time.Millisecond
	QuiesceTimeout   = 10 * time.Minute
	WorkloadsTimeout = 5 * time.Minute
	// NamespaceTimeout bounds the wait for deleted destination namespaces
	// to go.
	NamespaceTimeout = 3 * time.Minute
	// DefaultUnhealthyGrace is how long pods may be unhealthy
	// (ImagePullBackOff, CrashLoopBackOff, Unschedulable) before
	// WaitForWorkloads fails.
	DefaultUnhealthyGrace = 90 * time.Second
)

// load reads the plan and builds the clusters' clients; a missing plan or
// cluster fails the step with a message that says what to do.
func (r *Reconciler) load(ctx context.Context, s *session) (*outcome, error) {
	p, err := r.getPlan(ctx, s.m)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("plan %q does not exist: create it with `ferry plan create`", s.m.Spec.Plan)
	}
	s.plan = p
	src, dst, prob, err := cluster.ForPlan(ctx, r.Client, r.Registry, p)
	if err != nil {
		return nil, err
	}
	if prob != nil {
		// A cluster not checked yet (the controller just started) is
		// waited for; a missing or failing one fails the step at once,
		// and `ferry retry` goes on once it is fixed.
		if prob.Reason == ferryv1.ReasonClusterNotFound {
			return nil, fmt.Errorf("%w: %s", errClusterGone, prob.Message)
		}
		if prob.Reason != cluster.ReasonNotChecked || time.Since(s.step().Started.Time) > time.Minute {
			return nil, fmt.Errorf("%s: %s", prob.Reason, prob.Message)
		}
		o := waiting(prob.Message, 2*time.Second)
		return &o, nil
	}
	s.src, s.dst = src, dst
	return nil, nil
}

// errClusterGone is wrapped by load's error when a cluster of the plan is
// not registered: a deleted Migration then cannot undo anything there.
var errClusterGone = errors.New(ferryv1.ReasonClusterNotFound)

// migrateScope is what the plan migrates: namespaces, kinds, selector.
func (s *session) migrateScope() (migrate.Scope, error) {
	return planning.Scope(s.plan)
}

func (s *session) sourceNamespaces() []string {
	sc, _ := s.migrateScope()
	var out []string
	for _, m := range sc.Namespaces {
		out = append(out, m.Source)
	}
	return out
}

func (s *session) destinationNamespaces() []string {
	sc, _ := s.migrateScope()
	var out []string
	for _, m := range sc.Namespaces {
		out = append(out, m.Destination)
	}
	return out
}

// validate checks the plan afresh (the plan's status may be stale).
func validate(ctx context.Context, s *session) (outcome, error) {
	if s.m.Spec.Type == ferryv1.MigrationRollback {
		return s.validateRollback(ctx)
	}
	res, err := planning.Validate(ctx, s.plan, s.src, s.dst)
	if err != nil {
		return outcome{}, err
	}
	if err := planning.ValidateHooks(ctx, s.r.Client, s.plan, s.src, s.dst, res); err != nil {
		return outcome{}, err
	}
	if err := planning.ValidateRepository(ctx, s.r.Client, s.plan, res); err != nil {
		return outcome{}, err
	}
	if res.Problem != nil {
		return outcome{}, fmt.Errorf("plan %s is not valid: %s: %s", s.plan.Name, res.Problem.Reason, res.Problem.Message)
	}
	return done(res.Summary()), nil
}

// validateRollback says when there is nothing to roll back: no stage or
// cutover of the plan changed anything. The steps still run, and remove
// whatever carries the plan's label.
func (s *session) validateRollback(ctx context.Context) (outcome, error) {
	var l ferryv1.MigrationList
	if err := s.r.List(ctx, &l, client.InNamespace(s.m.Namespace)); err != nil {
		return outcome{}, fmt.Errorf("list migrations of plan %s: %w", s.plan.Name, err)
	}
	for i := range l.Items {
		o := &l.Items[i]
		if o.Spec.Plan == s.plan.Name && o.Spec.Type != ferryv1.MigrationRollback && changedAnything(o) {
			return done("clusters ready"), nil
		}
	}
	return done(fmt.Sprintf("nothing to roll back: no stage or cutover of plan %s changed anything", s.plan.Name)), nil
}

// options builds the resource-migration options of the plan; only limits
// the kinds further (nil: all the plan migrates).
func (s *session) options(ctx context.Context, only []string) (migrate.Options, error) {
	o, err := planning.MigrateOptions(ctx, s.plan, s.src, s.dst)
	if err != nil {
		return migrate.Options{}, err
	}
	if only != nil {
		o.Scope.Kinds.Include = only
	}
	o.Transform.Labels = transform.Marks(s.plan.Name, s.m.Name)
	o.Progress = func(d, t int64) {
		s.progress(ctx, ferryv1.Progress{Done: d, Total: t, Unit: "objects"}, fmt.Sprintf("%d of %d objects", d, t))
	}
	return o, nil
}

// prepareDestination creates the destination namespaces and the claims
// that will receive the volume data.
func prepareDestination(ctx context.Context, s *session) (outcome, error) {
	o, err := s.options(ctx, []string{"PersistentVolumeClaim"})
	if err != nil {
		return outcome{}, err
	}
	return s.runMigrate(ctx, o, "namespaces and claims ready")
}

// handOver ends the cutover of a State plan: the data is in place and the
// application is the user's to start on the destination.
func handOver(_ context.Context, s *session) (outcome, error) {
	var claims []string
	for _, v := range s.m.Status.Volumes {
		claims = append(claims, v.TargetNamespace+"/"+v.TargetClaim)
	}
	if len(claims) == 0 {
		return done(fmt.Sprintf("no volume data to copy; start the application on cluster %s", s.plan.Spec.DestinationCluster)), nil
	}
	return done(fmt.Sprintf("the data is in place in claims %s on cluster %s; start the application there (let your CD tool sync it, or scale it up); `ferry rollback %s` restarts it on the source",
		strings.Join(claims, ", "), s.plan.Spec.DestinationCluster, s.plan.Name)), nil
}

func migrateResources(ctx context.Context, s *session) (outcome, error) {
	o, err := s.options(ctx, nil)
	if err != nil {
		return outcome{}, err
	}
	if throughRepository(s.m, s.plan) {
		return s.applyBundle(ctx, o)
	}
	return s.runMigrate(ctx, o, "resources applied")
}

// bundleName names a migration's resource bundle in the repository.
func (s *session) bundleName() string { return string(s.plan.UID) + "/" + s.m.Name }

// exportResources writes the resources as MigrateResources will apply
// them to the plan's repository.
func exportResources(ctx context.Context, s *session) (outcome, error) {
	o, err := s.options(ctx, nil)
	if err != nil {
		return outcome{}, err
	}
	bundle, report, err := migrate.ExportBundle(ctx, o)
	if err != nil {
		return outcome{}, err
	}
	data, err := bundle.Marshal()
	if err != nil {
		return outcome{}, err
	}
	repo, err := s.openRepository(ctx)
	if err != nil {
		return outcome{}, err
	}
	if err := repo.SaveBundle(ctx, s.bundleName(), data); err != nil {
		return outcome{}, err
	}
	return done(fmt.Sprintf("%d objects exported to repository %s (bundle %s, %s)", report.Applied(), s.plan.Spec.Repository,
		s.bundleName(), planning.HumanBytes(int64(len(data))))), nil
}

// applyBundle applies the migration's bundle from the repository.
func (s *session) applyBundle(ctx context.Context, o migrate.Options) (outcome, error) {
	repo, err := s.openRepository(ctx)
	if err != nil {
		return outcome{}, err
	}
	data, err := repo.LoadBundle(ctx, s.bundleName())
	if err != nil {
		return outcome{}, err
	}
	bundle, err := migrate.UnmarshalBundle(data)
	if err != nil {
		return outcome{}, err
	}
	report, err := migrate.RunBundle(ctx, o, bundle)
	return s.outcomeOf(report, err, "resources applied from the repository's bundle")
}

func (s *session) runMigrate(ctx context.Context, o migrate.Options, msg string) (outcome, error) {
	report, err := migrate.Run(ctx, o)
	return s.outcomeOf(report, err, msg)
}

// outcomeOf records a run's report in the status and makes its outcome.
func (s *session) outcomeOf(report *migrate.Report, err error, msg string) (outcome, error) {
	if report != nil {
		s.mu.Lock()
		s.m.Status.Results = mergeResults(s.m.Status.Results, report.Results())
		s.m.Status.Objects = report.Objects()
		s.mu.Unlock()
	}
	if err != nil {
		return outcome{}, err
	}
	if n := report.Failed(); n > 0 {
		return outcome{}, applyFailed(n, report)
	}
	msg = fmt.Sprintf("%s: %d objects", msg, report.Applied())
	if len(report.Warnings) > 0 {
		msg += "; warnings: " + strings.Join(report.Warnings, "; ")
	}
	return done(msg), nil
}

// applyFailed is the error of a run in which n objects failed. When every
// failure may pass by itself (the destination's API server restarting),
// the error wraps the first cause, so that the step is retried as for any
// such error; otherwise only the user can go on.
func applyFailed(n int, report *migrate.Report) error {
	err := fmt.Errorf("%d objects failed to apply (%s); see status.objects", n, firstReasons(report.Objects(), 3))
	causes, complete := report.Causes()
	if !complete || len(causes) == 0 {
		return err
	}
	for _, c := range causes {
		if !transient(c) {
			return err
		}
	}
	return fmt.Errorf("%w: %w", err, causes[0])
}

// mergeResults replaces the counts of the kinds in next.
func mergeResults(prev, next []ferryv1.KindResults) []ferryv1.KindResults {
	m := map[string]bool{}
	for _, k := range next {
		m[k.Kind] = true
	}
	out := append([]ferryv1.KindResults{}, next...)
	for _, k := range prev {
		if !m[k.Kind] {
			out = append(out, k)
		}
	}
	return out
}

func firstReasons(objs []ferryv1.ObjectResult, n int) string {
	var out []string
	for _, o := range objs {
		if o.Action == ferryv1.ObjectFailed && len(out) < n {
			out = append(out, fmt.Sprintf("%s %s/%s: %s", o.Kind, o.Namespace, o.Name, o.Reason))
		}
	}
	return strings.Join(out, "; ")
}

func quiesceSource(ctx context.Context, s *session) (outcome, error) {
	s.mark(&s.m.Status.SourceStopped)
	var changed, unmanaged []string
	for _, ns := range s.sourceNamespaces() {
		rep, err := quiesce.Quiesce(ctx, s.src.Client, ns, s.m.Name)
		if err != nil {
			return outcome{}, fmt.Errorf("quiesce namespace %s on cluster %s: %w", ns, s.src.Name, err)
		}
		changed = append(changed, rep.Changed...)
		unmanaged = append(unmanaged, rep.Unmanaged...)
	}
	msg := fmt.Sprintf("quiesced %d workloads", len(changed))
	if len(unmanaged) > 0 {
		msg += fmt.Sprintf("; pods without a workload keep running: %s", strings.Join(unmanaged, ", "))
	}
	return done(msg), nil
}

func waitForQuiesce(ctx context.Context, s *session) (outcome, error) {
	var running []string
	for _, ns := range s.sourceNamespaces() {
		r, err := quiesce.Running(ctx, s.src.Client, ns)
		if err != nil {
			return outcome{}, fmt.Errorf("list pods in %s on cluster %s: %w", ns, s.src.Name, err)
		}
		running = append(running, r...)
	}
	if len(running) == 0 {
		return done("the source application is stopped"), nil
	}
	msg := fmt.Sprintf("waiting for %d pods to stop: %s", len(running), strings.Join(running, ", "))
	if time.Since(s.step().Started.Time) > QuiesceTimeout {
		return outcome{}, fmt.Errorf("pods still running after %s: %s; look for finalizers or stuck volumes on the source", QuiesceTimeout, strings.Join(running, ", "))
	}
	return waiting(msg, DowntimePoll), nil
}

func waitForWorkloads(ctx context.Context, s *session) (outcome, error) {
	h, err := migrate.CheckHealth(ctx, s.dst.Client, s.destinationNamespaces())
	if err != nil {
		return outcome{}, err
	}
	if h.Ready {
		s.mark(&s.m.Status.DestinationAvailable)
		msg := h.Summary()
		if d, ok := s.m.Downtime(); ok {
			msg += fmt.Sprintf("; the application was down for %s", d.Round(10*time.Millisecond))
		}
		return done(msg), nil
	}
	elapsed := time.Since(s.step().Started.Time)
	grace := s.r.UnhealthyGrace
	if grace == 0 {
		grace = DefaultUnhealthyGrace
	}
	if elapsed > WorkloadsTimeout || (len(h.Problems) > 0 && elapsed > grace) {
		return outcome{}, fmt.Errorf("workloads not available on cluster %s after %s: %s", s.dst.Name, elapsed.Round(time.Second), h.Summary())
	}
	return waiting(h.Summary(), DowntimePoll), nil
}

// mark records now in the status time *t unless it is set already (a
// step that runs again keeps its first time).
func (s *session) mark(t **metav1.MicroTime) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *t == nil {
		now := metav1.NowMicro()
		*t = &now
	}
}

func deleteFromDestination(ctx context.Context, s *session) (outcome, error) {
	return s.remove(ctx, ferryv1.LabelPlan+"="+s.plan.Name)
}

func cancelDelete(ctx context.Context, s *session) (outcome, error) {
	return s.remove(ctx, ferryv1.LabelMigration+"="+s.m.Name)
}

// waitingSuffix ends the message of a removal that waits for namespaces.
const waitingSuffix = " to terminate"

func (s *session) remove(ctx context.Context, selector string) (outcome, error) {
	dst := migrate.Destination{Discovery: s.dst.Kube.Discovery(), Dynamic: s.dst.Dynamic, Metadata: s.dst.Metadata, AsUser: s.dst.AsUser}
	report, err := migrate.Remove(ctx, dst, s.destinationNamespaces(), selector)
	if report != nil {
		s.m.Status.Results = mergeResults(s.m.Status.Results, report.Results())
	}
	if err != nil {
		return outcome{}, err
	}
	if n := report.Failed(); n > 0 {
		return outcome{}, fmt.Errorf("%d objects could not be deleted on cluster %s (%s)", n, s.dst.Name, firstReasons(report.Objects(), 3))
	}
	n, kinds := report.Deleted()
	msg := fmt.Sprintf("deleted %d objects from cluster %s", n, s.dst.Name)
	if kinds != "" {
		msg += " (" + kinds + ")"
	}
	if prev, ok := strings.CutSuffix(s.step().Message, waitingSuffix); ok && n == 0 {
		// An earlier poll deleted the namespaces and counted their objects.
		msg = prev[:strings.LastIndex(prev, "; waiting for namespace")]
	}
	if t := report.Terminating; len(t) > 0 {
		if elapsed := time.Since(s.step().Started.Time); elapsed > NamespaceTimeout {
			return outcome{}, fmt.Errorf("namespace %s is still terminating on cluster %s after %s: look for finalizers on its objects",
				strings.Join(t, ", "), s.dst.Name, elapsed.Round(time.Second))
		}
		return waiting(fmt.Sprintf("%s; waiting for namespace %s%s", msg, strings.Join(t, ", "), waitingSuffix), time.Second), nil
	}
	return done(msg), nil
}

func unquiesceSource(ctx context.Context, s *session) (outcome, error) {
	var restored []string
	for _, ns := range s.sourceNamespaces() {
		if _, err := s.src.Kube.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			continue
		}
		rep, err := quiesce.Unquiesce(ctx, s.src.Client, ns)
		if err != nil {
			return outcome{}, fmt.Errorf("restore namespace %s on cluster %s: %w", ns, s.src.Name, err)
		}
		restored = append(restored, rep.Changed...)
	}
	return done(fmt.Sprintf("restored %d workloads on cluster %s", len(restored), s.src.Name)), nil
}
