package migrationctl

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/hooks"
	"ferry.dev/ferry/internal/podexec"
	"ferry.dev/ferry/internal/resources/transform"
)

// How often a running hook is looked at: a hook may run inside a
// cutover's downtime (PostBackup, PreRestore), so every poll's delay may
// be downtime; an exec's end costs nothing to look at (it is in this
// process), a Job's costs two reads.
const (
	hookPoll = 500 * time.Millisecond
	execPoll = DowntimePoll
)

// hookRun is the state of one hook step's run in this process.
type hookRun struct {
	hook    *ferryv1.Hook
	place   hooks.Place
	cl      *cluster.Clients
	context hooks.Context
}

// runHook runs the step's hook (Step.Hook): a Job on the hook's side of
// the plan, or its command in the selected running pods. The Hook is read
// at every attempt, so `ferry retry` after fixing it runs the fixed one.
// A failed hook fails the step with the hook's name and the end of its
// log, unless the hook says onError: Continue.
func runHook(ctx context.Context, s *session) (outcome, error) {
	ref := *s.step().Hook
	var h ferryv1.Hook
	if err := s.r.Get(ctx, client.ObjectKey{Namespace: s.m.Namespace, Name: ref.Hook}, &h); err != nil {
		if apierrors.IsNotFound(err) {
			return outcome{}, fmt.Errorf("hook %s does not exist in %s: create it with `ferry hook create %s ...` and `ferry retry`", ref.Hook, s.m.Namespace, ref.Hook)
		}
		return outcome{}, fmt.Errorf("get hook %s: %w", ref.Hook, err)
	}
	if msg := hooks.Check(&h.Spec); msg != "" {
		return outcome{}, fmt.Errorf("hook %s cannot run: %s; fix it with `kubectl edit hook %s -n %s` and `ferry retry`", h.Name, msg, h.Name, h.Namespace)
	}
	place := hooks.PlaceOf(ref, &h.Spec, s.plan.Spec.Namespaces)
	run := &hookRun{hook: &h, place: place, cl: s.src, context: hooks.Context{
		Plan: s.plan.Name, Migration: s.m.Name, Type: s.m.Spec.Type, Phase: ref.Phase, Hook: h.Name,
		Namespaces:    hooks.NamespaceMapping(s.plan.Spec.Namespaces),
		SourceCluster: s.plan.Spec.SourceCluster, DestinationCluster: s.plan.Spec.DestinationCluster,
	}}
	if place.Side == ferryv1.HookDestination {
		run.cl = s.dst
	}
	if h.Spec.Job != nil {
		return s.runJobHook(ctx, run)
	}
	return s.runExecHook(ctx, run)
}

// hookFinished ends a hook step: its log's end goes into the step, and a
// failure fails the step unless the hook continues on errors.
func (s *session) hookFinished(run *hookRun, output string, failure string) (outcome, error) {
	s.step().Log = hooks.Tail(output, ferryv1.MaxStepLogLines)
	where := fmt.Sprintf("on the %s in %s", run.place.Side, run.place.Namespace)
	if failure == "" {
		return done(fmt.Sprintf("hook %s succeeded %s", run.hook.Name, where)), nil
	}
	if run.hook.Spec.OnError == ferryv1.HookContinue {
		return done(fmt.Sprintf("hook %s failed %s (%s); going on, as it says onError: Continue", run.hook.Name, where, failure)), nil
	}
	msg := fmt.Sprintf("hook %s failed %s: %s", run.hook.Name, where, failure)
	if n := len(s.step().Log); n > 0 {
		msg += "; its log ends: " + s.step().Log[n-1]
	}
	return outcome{}, errors.New(msg + "; `ferry status` shows the log's last lines; fix the hook or what it needs, then `ferry retry`")
}

// hookLabels mark a hook's Job and pods: the migration's marks, the step.
func (s *session) hookLabels() map[string]string {
	l := transform.Marks(s.plan.Name, s.m.Name)
	l[ferryv1.LabelManagedBy] = ferryv1.ManagedByValue
	l[ferryv1.LabelHookStep] = strconv.Itoa(s.idx)
	return l
}

// hookJobName names the Job of a step's attempt: unique per migration,
// step and attempt, and short enough for a label value.
func (s *session) hookJobName() string {
	sum := sha256.Sum256([]byte(string(s.m.UID) + "/" + strconv.Itoa(s.idx)))
	return fmt.Sprintf("ferry-hook-%s-%d", hex.EncodeToString(sum[:])[:10], s.step().Attempts)
}

// runJobHook starts the hook's Job once, then watches it until it ends.
func (s *session) runJobHook(ctx context.Context, run *hookRun) (outcome, error) {
	kube, ns := run.cl.Kube, run.place.Namespace
	job, err := s.hookJob(ctx, run)
	if err != nil {
		return outcome{}, err
	}
	if job == nil {
		node, err := claimNode(ctx, run.cl, ns, run.hook.Spec.Job.Claims)
		if err != nil {
			return outcome{}, err
		}
		job = hooks.NewJob(&run.hook.Spec, hooks.JobSpec{Name: s.hookJobName(), Namespace: ns, Labels: s.hookLabels(), Node: node, Context: run.context})
		if _, err := kube.BatchV1().Jobs(ns).Create(ctx, job, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return outcome{}, fmt.Errorf("create job %s/%s of hook %s on cluster %s: %w", ns, job.Name, run.hook.Name, run.cl.Name, err)
		}
		logf.FromContext(ctx).Info("started hook job", "hook", run.hook.Name, "job", job.Name, "namespace", ns, "cluster", run.cl.Name)
		return waiting(fmt.Sprintf("hook %s: job %s started on the %s in %s", run.hook.Name, job.Name, run.place.Side, ns), hookPoll), nil
	}
	pods, err := kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: batchv1.JobNameLabel + "=" + job.Name})
	if err != nil {
		return outcome{}, fmt.Errorf("list pods of hook job %s/%s: %w", ns, job.Name, err)
	}
	st := hooks.Judge(&run.hook.Spec, job, pods.Items, time.Now())
	if !st.Finished {
		msg := fmt.Sprintf("hook %s: job %s waits for its pod", run.hook.Name, job.Name)
		if st.Pod != "" {
			msg = fmt.Sprintf("hook %s: running in pod %s on the %s in %s", run.hook.Name, st.Pod, run.place.Side, ns)
		}
		return waiting(msg, hookPoll), nil
	}
	output := podLog(ctx, run.cl, ns, st.Pod)
	if err := deleteHookJob(ctx, kube, job); err != nil {
		return outcome{}, err
	}
	return s.hookFinished(run, output, st.Reason)
}

// hookJob finds the Job of the current step that is not being deleted,
// of any attempt (one started by a controller that stopped is watched
// on); nil when there is none.
func (s *session) hookJob(ctx context.Context, run *hookRun) (*batchv1.Job, error) {
	sel := labels.SelectorFromSet(labels.Set{ferryv1.LabelMigration: s.m.Name, ferryv1.LabelHookStep: strconv.Itoa(s.idx)})
	l, err := run.cl.Kube.BatchV1().Jobs(run.place.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, fmt.Errorf("list jobs of hook %s in %s on cluster %s: %w", run.hook.Name, run.place.Namespace, run.cl.Name, err)
	}
	for i := range l.Items {
		if l.Items[i].DeletionTimestamp == nil {
			return &l.Items[i], nil
		}
	}
	return nil, nil
}

// deleteHookJob deletes a hook's Job and, through the garbage collector,
// its pods.
func deleteHookJob(ctx context.Context, kube kubernetes.Interface, job *batchv1.Job) error {
	err := kube.BatchV1().Jobs(job.Namespace).Delete(ctx, job.Name, metav1.DeleteOptions{PropagationPolicy: ptr.To(metav1.DeletePropagationBackground)})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete hook job %s/%s: %w", job.Namespace, job.Name, err)
	}
	return nil
}

// claimNode returns the node where a running pod mounts the first of the
// claims, so that a hook's pod can mount a ReadWriteOnce volume too; ""
// when none does (or there are no claims).
func claimNode(ctx context.Context, cl *cluster.Clients, ns string, claims []ferryv1.HookClaim) (string, error) {
	if len(claims) == 0 {
		return "", nil
	}
	pods, err := cl.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", fmt.Errorf("list pods of %s on cluster %s: %w", ns, cl.Name, err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName == "" || p.Status.Phase != corev1.PodRunning {
			continue
		}
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim != nil && v.PersistentVolumeClaim.ClaimName == claims[0].Name {
				return p.Spec.NodeName, nil
			}
		}
	}
	return "", nil
}

// podLog returns the end of a pod's log ("" when it cannot be read: the
// pod never started).
func podLog(ctx context.Context, cl *cluster.Clients, ns, pod string) string {
	if pod == "" {
		return ""
	}
	b, err := cl.Kube.CoreV1().Pods(ns).GetLogs(pod, &corev1.PodLogOptions{
		TailLines: ptr.To[int64](ferryv1.MaxStepLogLines), LimitBytes: ptr.To[int64](16 << 10)}).DoRaw(ctx)
	if err != nil {
		logf.FromContext(ctx).Info("cannot read the log of a hook pod", "pod", pod, "namespace", ns, "error", err.Error())
		return ""
	}
	return string(b)
}

// execRun is an exec hook running in this process.
type execRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	// Set before done is closed.
	output  string
	failure string
	pod     string
	mu      sync.Mutex
}

// runExecHook starts the hook's command in the selected pods in a
// goroutine of this process (one pod after the other, each with the
// hook's timeout and retries) and looks at it until it ends. A
// controller that stops while it runs starts it again as a new attempt.
func (s *session) runExecHook(ctx context.Context, run *hookRun) (outcome, error) {
	key := fmt.Sprintf("%s/%d/%d", s.m.UID, s.idx, s.step().Attempts)
	if v, ok := s.r.execs.Load(key); ok {
		er := v.(*execRun)
		select {
		case <-er.done:
			s.r.execs.Delete(key)
			return s.hookFinished(run, er.output, er.failure)
		default:
			er.mu.Lock()
			pod := er.pod
			er.mu.Unlock()
			return waiting(fmt.Sprintf("hook %s: running in pod %s on the %s in %s", run.hook.Name, pod, run.place.Side, run.place.Namespace), execPoll), nil
		}
	}
	targets, err := hooks.Targets(ctx, run.cl.Kube, run.place.Namespace, run.hook.Spec.Exec)
	if err != nil {
		return outcome{}, err
	}
	if len(targets) == 0 {
		return s.hookFinished(run, "", fmt.Sprintf("it selects no running pod in %s on cluster %s", run.place.Namespace, run.cl.Name))
	}
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	er := &execRun{cancel: cancel, done: make(chan struct{})}
	s.r.execs.Store(key, er)
	go er.run(rctx, run, targets)
	return waiting(fmt.Sprintf("hook %s: started in %d pods on the %s in %s", run.hook.Name, len(targets), run.place.Side, run.place.Namespace), execPoll), nil
}

// run executes the command in each target in turn, stopping at the first
// that fails after its retries.
func (er *execRun) run(ctx context.Context, run *hookRun, targets []hooks.Target) {
	defer close(er.done)
	defer er.cancel()
	timeout := hooks.Timeout(&run.hook.Spec)
	var outs []string
	for _, t := range targets {
		er.mu.Lock()
		er.pod = t.Pod
		er.mu.Unlock()
		var failure string
		for try := 0; try <= int(run.hook.Spec.Retries); try++ {
			tctx, cancel := context.WithTimeout(ctx, timeout)
			out, err := hooks.Exec(tctx, run.cl.Config, run.cl.Kube, run.place.Namespace, t, run.hook.Spec.Exec.Command, run.context)
			cancel()
			outs = append(outs, out)
			failure = execFailure(err, t, timeout, ctx)
			if failure == "" || ctx.Err() != nil {
				break
			}
		}
		if failure != "" {
			er.output, er.failure = strings.Join(outs, ""), failure
			return
		}
	}
	er.output = strings.Join(outs, "")
}

// execFailure says why an exec in a target failed ("" when it did not).
func execFailure(err error, t hooks.Target, timeout time.Duration, parent context.Context) string {
	var ee *podexec.ExitError
	switch {
	case err == nil:
		return ""
	case parent.Err() != nil:
		return fmt.Sprintf("canceled in pod %s", t.Pod)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("timed out after %s in pod %s: Ferry closed its session, which ends a command that reads its input or writes its output; one that does neither may go on in the container", timeout, t.Pod)
	case errors.As(err, &ee):
		return fmt.Sprintf("%s in pod %s container %s", ee.Error(), t.Pod, t.Container)
	}
	return err.Error()
}

// cancelHooks stops the migration's hooks: exec runs of this process are
// canceled, and hook Jobs (with their pods) are deleted on both clusters;
// it waits until they are gone.
func cancelHooks(ctx context.Context, s *session) (outcome, error) {
	prefix := string(s.m.UID) + "/"
	s.r.execs.Range(func(k, v any) bool {
		if strings.HasPrefix(k.(string), prefix) {
			v.(*execRun).cancel()
			s.r.execs.Delete(k)
		}
		return true
	})
	left := 0
	for _, cl := range []*cluster.Clients{s.src, s.dst} {
		namespaces := s.sourceNamespaces()
		if cl == s.dst {
			namespaces = append(namespaces, s.destinationNamespaces()...)
		}
		n, err := deleteHookObjects(ctx, cl, s.m.Name, cl.ListIn(namespaces))
		if err != nil {
			return outcome{}, err
		}
		left += n
		if s.src == s.dst {
			break
		}
	}
	if left > 0 {
		return waiting(fmt.Sprintf("waiting for %d hook jobs and pods to go", left), time.Second), nil
	}
	return done("no hook job or pod left"), nil
}

// deleteHookObjects deletes the hook Jobs and pods of a migration on one
// cluster and returns how many are still there.
func deleteHookObjects(ctx context.Context, cl *cluster.Clients, migration string, namespaces []string) (int, error) {
	left := 0
	for _, ns := range namespaces {
		n, err := deleteHookObjectsIn(ctx, cl, migration, ns)
		if err != nil {
			return 0, err
		}
		left += n
	}
	return left, nil
}

func deleteHookObjectsIn(ctx context.Context, cl *cluster.Clients, migration, namespace string) (int, error) {
	req, err := labels.NewRequirement(ferryv1.LabelHookStep, selection.Exists, nil)
	if err != nil {
		return 0, err
	}
	sel := labels.SelectorFromSet(labels.Set{ferryv1.LabelMigration: migration}).Add(*req).String()
	jobs, err := cl.Kube.BatchV1().Jobs(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return 0, fmt.Errorf("list hook jobs on cluster %s: %w", cl.Name, err)
	}
	pods, err := cl.Kube.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return 0, fmt.Errorf("list hook pods on cluster %s: %w", cl.Name, err)
	}
	for i := range jobs.Items {
		if err := deleteHookJob(ctx, cl.Kube, &jobs.Items[i]); err != nil {
			return 0, err
		}
	}
	for _, p := range pods.Items {
		err := cl.Kube.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
		if err != nil && !apierrors.IsNotFound(err) {
			return 0, fmt.Errorf("delete hook pod %s/%s: %w", p.Namespace, p.Name, err)
		}
	}
	return len(jobs.Items) + len(pods.Items), nil
}
