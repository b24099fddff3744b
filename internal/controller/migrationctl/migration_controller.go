package migrationctl

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

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

// scope carries what the steps of one reconcile share.
type scope struct {
	r        *Reconciler
	mu       sync.Mutex // guards m and base while a step reports progress
	m        *ferryv1.Migration
	base     *ferryv1.Migration
	idx      int // the current step in m.Status.Itinerary
	plan     *ferryv1.Plan
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

// Reconcile advances one Migration by one step.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var m ferryv1.Migration
	if err := r.APIReader.Get(ctx, req.NamespacedName, &m); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	s := &scope{r: r, m: &m, base: m.DeepCopy()}
	res, err := r.advance(ctx, s)
	if perr := s.save(ctx); perr != nil && err == nil {
		err = perr
	}
	return res, err
}

// advance decides what to do: start, cancel, retry, run the current step
// or finish.
func (r *Reconciler) advance(ctx context.Context, s *scope) (ctrl.Result, error) {
	m := s.m
	if m.Status.Phase == ferryv1.MigrationSucceeded || m.Status.Phase == ferryv1.MigrationCanceled {
		return ctrl.Result{}, nil
	}
	if m.Status.Phase == "" {
		s.start()
	}
	switch {
	case m.Spec.Cancel && !s.canceling():
		s.startCancel()
	case m.Status.Phase == ferryv1.MigrationFailed:
		if m.Annotations[ferryv1.AnnotationRetry] == "" || m.Annotations[ferryv1.AnnotationRetry] == m.Status.ObservedRetry {
			return ctrl.Result{}, nil
		}
		s.retry()
	}
	i := current(m.Status.Itinerary)
	if i < 0 {
		s.finish()
		return ctrl.Result{}, nil
	}
	s.idx = i
	return r.runStep(ctx, s)
}

// step is the current step. It is looked up each time because saving the
// status decodes the server's answer into m, which replaces its slices.
func (s *scope) step() *ferryv1.Step { return &s.m.Status.Itinerary[s.idx] }

func (s *scope) start() {
	now := metav1.Now()
	s.m.Status.Phase = ferryv1.MigrationRunning
	s.m.Status.StartTime = &now
	s.m.Status.Itinerary = itinerary(s.m)
	s.setCondition(ferryv1.ConditionRunning, metav1.ConditionTrue, ferryv1.ReasonInProgress, "the migration started")
}

// startCancel skips the steps not yet done and appends the undo steps.
func (s *scope) startCancel() {
	for i := range s.m.Status.Itinerary {
		st := &s.m.Status.Itinerary[i]
		if st.Phase == ferryv1.StepPending || st.Phase == ferryv1.StepRunning || st.Phase == ferryv1.StepFailed {
			st.Phase, st.Message = ferryv1.StepSkipped, "canceled"
		}
	}
	s.m.Status.Itinerary = append(s.m.Status.Itinerary, cancelSteps()...)
	s.m.Status.Phase = ferryv1.MigrationCanceling
	meta.RemoveStatusCondition(&s.m.Status.Conditions, ferryv1.ConditionFailed)
	s.setCondition(ferryv1.ConditionRunning, metav1.ConditionTrue, ferryv1.ReasonCanceled, "canceling: undoing what the migration did")
}

// retry resets the failed step so it runs again.
func (s *scope) retry() {
	s.m.Status.ObservedRetry = s.m.Annotations[ferryv1.AnnotationRetry]
	for i := range s.m.Status.Itinerary {
		if st := &s.m.Status.Itinerary[i]; st.Phase == ferryv1.StepFailed {
			st.Phase, st.Message, st.Completed = ferryv1.StepPending, "retrying", nil
		}
	}
	s.m.Status.Phase, s.m.Status.Errors, s.m.Status.CompletionTime = ferryv1.MigrationRunning, nil, nil
	if s.canceling() {
		s.m.Status.Phase = ferryv1.MigrationCanceling
	}
	meta.RemoveStatusCondition(&s.m.Status.Conditions, ferryv1.ConditionFailed)
	s.setCondition(ferryv1.ConditionRunning, metav1.ConditionTrue, ferryv1.ReasonInProgress, "retrying the failed step")
}

// canceling reports whether the undo steps of a cancel are in the itinerary.
func (s *scope) canceling() bool {
	for _, st := range s.m.Status.Itinerary {
		if st.Name == StepCancelMovers {
			return true
		}
	}
	return false
}

func (s *scope) finish() {
	now := metav1.Now()
	s.m.Status.CompletionTime = &now
	if s.canceling() {
		s.m.Status.Phase = ferryv1.MigrationCanceled
		s.setCondition(ferryv1.ConditionRunning, metav1.ConditionFalse, ferryv1.ReasonCanceled, "canceled; what the migration did was undone")
		return
	}
	s.m.Status.Phase = ferryv1.MigrationSucceeded
	s.setCondition(ferryv1.ConditionRunning, metav1.ConditionFalse, ferryv1.ReasonCompleted, "finished")
	s.setCondition(ferryv1.ConditionSucceeded, metav1.ConditionTrue, ferryv1.ReasonCompleted,
		fmt.Sprintf("%s finished in %s", s.m.Spec.Type, now.Sub(s.m.Status.StartTime.Time).Round(100*time.Millisecond)))
	s.r.event(s.m, corev1.EventTypeNormal, ferryv1.ReasonCompleted, "Finished", "migration finished")
}

// runStep runs the current step once and records its outcome.
func (r *Reconciler) runStep(ctx context.Context, s *scope) (ctrl.Result, error) {
	log := logf.FromContext(ctx).WithValues("migration", s.m.Name, "step", s.step().Name)
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
	fn, ok := stepFuncs[s.step().Name]
	if !ok {
		return ctrl.Result{}, s.fail(fmt.Errorf("unknown step %q", s.step().Name))
	}
	out, err := r.load(ctx, s)
	if err == nil && out == nil {
		var o outcome
		o, err = fn(ctx, s)
		out = &o
	}
	if err != nil && r.retryTransient(key, err) {
		log.Info("step hit a transient error; retrying", "error", err.Error())
		s.step().Message = "retrying after an error that may pass: " + err.Error()
		return ctrl.Result{RequeueAfter: transientRetry}, nil
	}
	r.transientSince.Delete(key)
	if err != nil {
		log.Info("step failed", "error", err.Error())
		return ctrl.Result{}, s.fail(err)
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

// fail marks the step and the migration failed; only the user can go
// on, with `ferry retry` or `ferry cancel`, so no error is returned.
func (s *scope) fail(err error) error {
	now := metav1.NowMicro()
	s.step().Phase, s.step().Completed, s.step().Message = ferryv1.StepFailed, &now, err.Error()
	s.m.Status.Errors = []string{err.Error()}
	if s.m.Status.Phase == ferryv1.MigrationCanceling {
		s.setCondition(ferryv1.ConditionFailed, metav1.ConditionTrue, ferryv1.ReasonStepFailed,
			fmt.Sprintf("cancel step %s failed: %v; fix it and run `ferry retry %s`", s.step().Name, err, s.m.Name))
	} else {
		s.m.Status.Phase = ferryv1.MigrationFailed
		s.setCondition(ferryv1.ConditionFailed, metav1.ConditionTrue, ferryv1.ReasonStepFailed,
			fmt.Sprintf("step %s failed: %v; fix it and run `ferry retry %s`, or undo with `ferry cancel %s`", s.step().Name, err, s.m.Name, s.m.Name))
	}
	s.setCondition(ferryv1.ConditionRunning, metav1.ConditionFalse, ferryv1.ReasonStepFailed, "stopped at step "+s.step().Name)
	s.r.event(s.m, corev1.EventTypeWarning, ferryv1.ReasonStepFailed, "Fail", "step "+s.step().Name+" failed: "+err.Error())
	if s.m.Status.Phase == ferryv1.MigrationCanceling {
		s.m.Status.Phase = ferryv1.MigrationFailed
	}
	return nil
}

func (s *scope) setCondition(typ string, status metav1.ConditionStatus, reason, msg string) {
	meta.SetStatusCondition(&s.m.Status.Conditions, metav1.Condition{Type: typ, Status: status, Reason: reason,
		Message: msg, ObservedGeneration: s.m.Generation})
}

// save patches the status with what changed since the last save.
func (s *scope) save(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.r.Status().Patch(ctx, s.m, client.MergeFrom(s.base)); err != nil {
		return fmt.Errorf("save status of migration %s: %w", s.m.Name, err)
	}
	s.base = s.m.DeepCopy()
	return nil
}

// progress records a step's progress and saves it; steps call it from
// other goroutines while they run.
func (s *scope) progress(ctx context.Context, p ferryv1.Progress, msg string) {
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

func (r *Reconciler) event(m *ferryv1.Migration, typ, reason, action, note string) {
	if r.Recorder != nil {
		r.Recorder.Eventf(m, nil, typ, reason, action, "%s", note)
	}
}
