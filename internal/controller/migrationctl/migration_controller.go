package migrationctl

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
)

// Reconciler runs Migrations.
type Reconciler struct {
	client.Client
	// APIReader reads Migrations directly from the API server: the cache
	// may lag behind the status this reconciler just wrote, and a stale
	// read would run a finished step again.
	APIReader client.Reader
	Registry  *cluster.Registry
	Recorder  events.EventRecorder
	// Workers is the number of Migrations run at once.
	Workers int
	// UnhealthyGrace is how long WaitForWorkloads tolerates failing pods.
	UnhealthyGrace time.Duration
	// MoverImage is the image of the data mover pods (the ferry image).
	MoverImage string

	// started records the steps this process has started, by migration
	// UID and step name: a step found Running that is not here was left by
	// a controller that stopped, and is resumed as a new attempt.
	started sync.Map
	// transientSince holds, per step run (the keys of started), when the
	// step first failed with an error that may go away by itself.
	transientSince sync.Map
	// execs holds the exec hooks running in this process, by migration
	// UID, step index and attempt (see runExecHook).
	execs sync.Map
	// images are the image copies this process runs (CopyImages).
	images imageJobs
}

// SetupWithManager registers the reconciler.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	n := r.Workers
	if n == 0 {
		n = 4
	}
	return ctrl.NewControllerManagedBy(mgr).For(&ferryv1.Migration{}).Named("migration").
		WithOptions(controller.Options{MaxConcurrentReconciles: n}).Complete(r)
}

// session carries what one reconcile of a Migration loaded and changed.
type session struct {
	r    *Reconciler
	mu   sync.Mutex // guards m and base while a step reports progress
	m    *ferryv1.Migration
	base *ferryv1.Migration
	idx  int // the current step in m.Status.Itinerary
	plan *ferryv1.Plan
	// src and dst are the plan's clusters, once loaded for a step.
	src, dst *cluster.Clients
}

// outcome is what a step returns: done, or not yet with a message and
// when to look again.
type outcome struct {
	done    bool
	after   time.Duration
	message string
}

func done(msg string) outcome                         { return outcome{done: true, message: msg} }
func waiting(msg string, after time.Duration) outcome { return outcome{after: after, message: msg} }

// planRecheck is how often a migration whose plan is missing looks again.
const planRecheck = 10 * time.Second

// Reconcile advances one Migration by one step.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var m ferryv1.Migration
	if err := r.APIReader.Get(ctx, req.NamespacedName, &m); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if m.DeletionTimestamp == nil && !m.Finished() && !controllerutil.ContainsFinalizer(&m, ferryv1.FinalizerMigration) {
		patch := client.MergeFrom(m.DeepCopy())
		controllerutil.AddFinalizer(&m, ferryv1.FinalizerMigration)
		if err := r.Patch(ctx, &m, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer to migration %s: %w", m.Name, err)
		}
	}
	s := &session{r: r, m: &m, base: m.DeepCopy()}
	res, err := r.advance(ctx, s)
	if serr := s.save(ctx); serr != nil && err == nil {
		err = serr
	}
	if rerr := r.releasePlan(ctx, &m); rerr != nil && err == nil {
		err = rerr
	}
	if err == nil && m.Finished() {
		// Nothing is left to undo: the Migration may go at once, with or
		// without a controller running.
		return ctrl.Result{}, r.release(ctx, &m)
	}
	return res, err
}

// release removes the finalizer of a finished Migration: a deleted one
// whose cancel steps ran, or one that succeeded or was canceled.
func (r *Reconciler) release(ctx context.Context, m *ferryv1.Migration) error {
	if !controllerutil.ContainsFinalizer(m, ferryv1.FinalizerMigration) {
		return nil
	}
	patch := client.MergeFrom(m.DeepCopy())
	controllerutil.RemoveFinalizer(m, ferryv1.FinalizerMigration)
	if err := r.Patch(ctx, m, patch); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer of migration %s: %w", m.Name, err)
	}
	logf.FromContext(ctx).Info("released finished migration", "migration", m.Name, "deleted", m.DeletionTimestamp != nil)
	return nil
}

// changedAnything reports whether a step of the migration's own
// itinerary that may change a cluster has started: Validate only reads,
// and cancel steps only undo.
func changedAnything(m *ferryv1.Migration) bool {
	for _, st := range m.Status.Itinerary {
		if st.Name != StepValidate && !isCancelStep(st.Name) && st.Started != nil {
			return true
		}
	}
	return false
}

// isCancelStep tells whether a step is one of the cancel steps.
func isCancelStep(name string) bool {
	for _, d := range cancelSteps {
		if d.name == name {
			return true
		}
	}
	return false
}

// advance decides what to do: start, cancel, retry or run the current
// step.
func (r *Reconciler) advance(ctx context.Context, s *session) (ctrl.Result, error) {
	m := s.m
	if m.Finished() {
		return ctrl.Result{}, nil
	}
	if m.DeletionTimestamp != nil {
		if !changedAnything(m) {
			s.abandon("deleted before it changed anything: nothing to undo")
			return ctrl.Result{}, nil
		}
		if p, err := r.getPlan(ctx, m); err != nil || p == nil {
			if err == nil {
				s.abandon(fmt.Sprintf("deleted after its plan %s: nothing could be undone", m.Spec.Plan))
			}
			return ctrl.Result{}, err
		}
	}
	if len(m.Status.Itinerary) == 0 {
		if res, err := r.start(ctx, s); err != nil || len(m.Status.Itinerary) == 0 {
			return res, err
		}
	}
	switch {
	case (m.Spec.Cancel || m.DeletionTimestamp != nil) && !canceling(m):
		if !changedAnything(m) {
			s.abandon("canceled before it changed anything: nothing to undo")
			return ctrl.Result{}, nil
		}
		if s.plan == nil {
			// The cancel steps depend on the plan's type (a conversion
			// switches its workloads back); a deleted plan waits for its
			// migrations, so it is there.
			p, err := r.getPlan(ctx, m)
			if err != nil {
				return ctrl.Result{}, err
			}
			s.plan = p
		}
		s.startCancel()
	case m.Status.Phase == ferryv1.MigrationFailed:
		if m.Annotations[ferryv1.AnnotationRetry] == "" || m.Annotations[ferryv1.AnnotationRetry] == m.Status.ObservedRetry {
			return ctrl.Result{}, nil
		}
		s.retry()
	}
	i := ferryv1.CurrentStep(m.Status.Itinerary)
	if i < 0 {
		return ctrl.Result{}, nil
	}
	s.idx = i
	return r.runStep(ctx, s)
}

// start loads the plan and records the itinerary the step table gives
// for the Migration and its Plan. While the plan is missing the Migration
// stays Pending, saying so.
func (r *Reconciler) start(ctx context.Context, s *session) (ctrl.Result, error) {
	p, err := r.getPlan(ctx, s.m)
	if err != nil {
		return ctrl.Result{}, err
	}
	if p == nil {
		meta.SetStatusCondition(&s.m.Status.Conditions, metav1.Condition{Type: ferryv1.ConditionRunning, Status: metav1.ConditionFalse,
			Reason: ferryv1.ReasonPlanNotFound, ObservedGeneration: s.m.Generation,
			Message: fmt.Sprintf("plan %q does not exist: create it with `ferry plan create`", s.m.Spec.Plan)})
		return ctrl.Result{RequeueAfter: planRecheck}, nil
	}
	if !controllerutil.ContainsFinalizer(p, ferryv1.FinalizerPlan) && p.DeletionTimestamp == nil {
		// The plan controller adds it too, but maybe not yet: a plan
		// deleted now must still wait for this migration.
		patch := client.MergeFrom(p.DeepCopy())
		controllerutil.AddFinalizer(p, ferryv1.FinalizerPlan)
		if err := r.Patch(ctx, p, patch); err != nil {
			return ctrl.Result{}, fmt.Errorf("add finalizer to plan %s: %w", p.Name, err)
		}
	}
	now := metav1.Now()
	s.m.Status.StartTime = &now
	s.m.Status.Itinerary = itinerary(steps, s.m, p)
	s.plan = p
	return ctrl.Result{}, nil
}

// getPlan reads the Migration's plan; nil when it does not exist.
func (r *Reconciler) getPlan(ctx context.Context, m *ferryv1.Migration) (*ferryv1.Plan, error) {
	var p ferryv1.Plan
	err := r.Get(ctx, client.ObjectKey{Namespace: m.Namespace, Name: m.Spec.Plan}, &p)
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get plan %s: %w", m.Spec.Plan, err)
	}
	return &p, nil
}

// step is the current step. It is looked up each time because saving the
// status decodes the server's answer into m, which replaces its slices.
func (s *session) step() *ferryv1.Step { return &s.m.Status.Itinerary[s.idx] }

// startCancel skips the steps not yet done and appends the undo steps.
func (s *session) startCancel() {
	s.r.images.stop(string(s.m.UID))
	for i := range s.m.Status.Itinerary {
		st := &s.m.Status.Itinerary[i]
		if st.Phase == ferryv1.StepPending || st.Phase == ferryv1.StepRunning || st.Phase == ferryv1.StepFailed {
			st.Phase, st.Message = ferryv1.StepSkipped, "canceled"
		}
	}
	s.m.Status.Itinerary = append(s.m.Status.Itinerary, itinerary(cancelSteps, s.m, s.plan)...)
}

// waitForPlan claims the plan for the step; while another migration
// holds it, the step waits, saying which.
func (s *session) waitForPlan(ctx context.Context) (*outcome, error) {
	other, err := s.claimPlan(ctx)
	if err != nil || other == "" {
		return nil, err
	}
	o := waiting(fmt.Sprintf("waiting for migration %s of the same plan to finish (or `ferry cancel %s`)", other, other), claimWait)
	return &o, nil
}

// abandon ends a canceled or deleted migration whose cancel steps cannot
// run or have nothing to undo: every step not done is recorded Skipped
// with msg, and it ends Canceled.
func (s *session) abandon(msg string) {
	if !canceling(s.m) {
		s.startCancel()
	}
	for i := range s.m.Status.Itinerary {
		if st := &s.m.Status.Itinerary[i]; st.Phase != ferryv1.StepSucceeded && st.Phase != ferryv1.StepSkipped {
			st.Phase, st.Message = ferryv1.StepSkipped, msg
		}
	}
	if s.r.Recorder != nil {
		s.r.Recorder.Eventf(s.m, nil, corev1.EventTypeWarning, ferryv1.ReasonCanceled, "Abandon", "%s", msg)
	}
}

// retry resets the failed step so it runs again.
func (s *session) retry() {
	s.m.Status.ObservedRetry = s.m.Annotations[ferryv1.AnnotationRetry]
	for i := range s.m.Status.Itinerary {
		if st := &s.m.Status.Itinerary[i]; st.Phase == ferryv1.StepFailed {
			st.Phase, st.Message, st.Completed = ferryv1.StepPending, "retrying", nil
		}
	}
}

// runStep runs the current step once and records its outcome.
func (r *Reconciler) runStep(ctx context.Context, s *session) (ctrl.Result, error) {
	log := logf.FromContext(ctx).WithValues("migration", s.m.Name, "step", s.step().Name)
	ctx = logf.IntoContext(ctx, log)
	key := string(s.m.UID) + "/" + s.step().Name + "/" + strconv.Itoa(s.idx)
	_, ours := r.started.Load(key)
	switch {
	case s.step().Phase == ferryv1.StepPending || s.step().Started == nil:
		now := metav1.NowMicro()
		s.step().Started, s.step().Phase, s.step().Message = &now, ferryv1.StepRunning, ""
		s.step().Attempts++
		log.Info("starting step", "attempt", s.step().Attempts)
	case !ours:
		s.step().Attempts++
		log.Info("resuming step left running by a stopped controller", "attempt", s.step().Attempts)
	}
	r.started.Store(key, true)
	fn, ok := stepFuncOf(s.step())
	if !ok {
		return ctrl.Result{}, s.fail(ctx, fmt.Errorf("unknown step %q", s.step().Name))
	}
	out, err := r.load(ctx, s)
	if err == nil && out == nil {
		out, err = s.waitForPlan(ctx)
	}
	if err == nil && out == nil {
		var o outcome
		o, err = fn(ctx, s)
		out = &o
	}
	if err != nil && s.m.DeletionTimestamp != nil && errors.Is(err, errClusterGone) {
		s.abandon("deleted, and " + err.Error() + ": nothing could be undone there")
		return ctrl.Result{}, nil
	}
	if err != nil && r.retryTransient(key, err) {
		log.Info("step hit a transient error; retrying", "error", err.Error())
		s.step().Message = "retrying after an error that may pass: " + err.Error()
		return ctrl.Result{RequeueAfter: transientRetry}, nil
	}
	r.transientSince.Delete(key)
	if err != nil {
		log.Info("step failed", "error", err.Error())
		return ctrl.Result{}, s.fail(ctx, err)
	}
	s.step().Message = out.message
	if !out.done {
		return ctrl.Result{RequeueAfter: out.after}, nil
	}
	now := metav1.NowMicro()
	s.step().Phase, s.step().Completed = ferryv1.StepSucceeded, &now
	log.Info("step done", "seconds", now.Sub(s.step().Started.Time).Seconds())
	return ctrl.Result{RequeueAfter: time.Millisecond}, nil
}

// fail marks the step failed. Only the user can go on, with `ferry retry`
// or `ferry cancel`, so the error is terminal: it is not requeued.
func (s *session) fail(ctx context.Context, err error) error {
	now := metav1.NowMicro()
	s.step().Phase, s.step().Completed, s.step().Message = ferryv1.StepFailed, &now, err.Error()
	return reconcile.TerminalError(fmt.Errorf("migration %s: step %s: %w", s.m.Name, s.step().Name, err))
}

// save derives the status from the itinerary, records events for the
// phase it entered, and patches the status when it changed.
func (s *session) save(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	updateStatus(s.m, time.Now())
	if equality.Semantic.DeepEqual(s.base.Status, s.m.Status) {
		return nil
	}
	if err := s.r.Status().Patch(ctx, s.m, client.MergeFrom(s.base)); err != nil {
		return fmt.Errorf("save status of migration %s: %w", s.m.Name, err)
	}
	s.events(s.base.Status.Phase)
	s.base = s.m.DeepCopy()
	return nil
}

// events records a Warning when the migration failed and a Normal event
// when it finished, once each, on the transition.
func (s *session) events(before ferryv1.MigrationPhase) {
	after := s.m.Status.Phase
	if before == after || s.r.Recorder == nil {
		return
	}
	switch after {
	case ferryv1.MigrationFailed:
		if f := failedStep(s.m.Status.Itinerary); f != nil {
			s.r.Recorder.Eventf(s.m, nil, corev1.EventTypeWarning, ferryv1.ReasonStepFailed, "Fail", "step %s failed: %s", f.Name, f.Message)
		}
	case ferryv1.MigrationSucceeded:
		s.r.Recorder.Eventf(s.m, nil, corev1.EventTypeNormal, ferryv1.ReasonCompleted, "Finished", "migration finished")
	case ferryv1.MigrationCanceled:
		s.r.Recorder.Eventf(s.m, nil, corev1.EventTypeNormal, ferryv1.ReasonCanceled, "Canceled", "migration canceled; what it did was undone")
	}
}

// progress records a step's progress and saves it; steps call it from
// other goroutines while they run.
func (s *session) progress(ctx context.Context, p ferryv1.Progress, msg string) {
	s.mu.Lock()
	s.step().Progress = &p
	if msg != "" {
		s.step().Message = msg
	}
	s.mu.Unlock()
	if err := s.save(ctx); err != nil {
		logf.FromContext(ctx).Info("cannot save progress", "error", err.Error())
	}
}
