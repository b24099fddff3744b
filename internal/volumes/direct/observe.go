package volumes

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/mover"
)

const fieldManager = ferryv1.FieldManager

// round is one transfer as one Sync call sees it.
type round struct {
	t                Transfer
	sender, receiver *corev1.Pod // nil when missing
	vp               *VolumeProgress
	// active is true when the transfer is neither finished nor failed nor
	// waiting for old pods to go: its pods may be created.
	active bool
}

// Sync advances the copy of every transfer by one step and returns the
// current State: it creates the certificates, Services and pods that are
// missing, reads the progress of the running senders and reports failed
// pods. It never waits for a copy; call it again until State.Done.
//
// A transfer whose sender Succeeded stays Succeeded: nothing new starts.
// A failed pod is reported once, with an error wrapping
// ErrTransferFailed; the next call deletes the transfer's pods and the
// call after starts a new round.
func Sync(ctx context.Context, o Options, transfers []Transfer) (State, error) {
	if err := o.validate(transfers); err != nil {
		return State{}, err
	}
	st := State{Volumes: make([]VolumeProgress, len(transfers))}
	rounds := make([]*round, len(transfers))
	var errs []error
	create := false
	for i, t := range transfers {
		r := &round{t: t, vp: &st.Volumes[i]}
		r.vp.Transfer, r.vp.Phase = t, PhasePending
		rounds[i] = r
		var err error
		if r.sender, err = getPod(ctx, o.Source.Kube, t.SourceNamespace, senderName(o.Migration, t)); err != nil {
			return st, err
		}
		if r.receiver, err = getPod(ctx, o.Destination.Kube, t.DestinationNamespace, receiverName(o.Migration, t)); err != nil {
			return st, err
		}
		if err := observe(ctx, o, r); err != nil {
			errs = append(errs, err)
		}
		create = create || (r.active && (r.sender == nil || r.receiver == nil))
	}
	if create {
		if err := advanceAll(ctx, o, transfers, rounds); err != nil {
			errs = append(errs, err)
		}
	}
	st.Done = true
	for _, v := range st.Volumes {
		st.Done = st.Done && v.Phase == PhaseSucceeded
	}
	return st, errors.Join(errs...)
}

// observe sets a transfer's progress from its existing pods and deals with
// finished, failed and terminating ones.
func observe(ctx context.Context, o Options, r *round) error {
	s, rc := r.sender, r.receiver
	switch {
	case s != nil && s.Status.Phase == corev1.PodSucceeded:
		r.vp.Phase = PhaseSucceeded
		if log, err := readLog(ctx, o.Source.Kube, s); err == nil {
			r.vp.setProgress(log)
		}
		return nil
	case reported(s) || reported(rc):
		// The failure was returned and the step is being retried.
		r.vp.Message = "restarting the copy after a failure"
		if err := setAttempt(ctx, o, r.t, 1); err != nil {
			return err
		}
		return deletePods(ctx, o, r)
	case failed(s) || failed(rc):
		return retryOrFail(ctx, o, r)
	case terminating(s) || terminating(rc):
		r.vp.Message = "waiting for the previous mover pods to terminate"
		return nil
	case s == nil && rc != nil && rc.Status.Phase == corev1.PodSucceeded:
		// The receiver served a sender whose pod is gone: start over.
		r.vp.Message = "restarting the copy: the sender pod is gone"
		return deletePods(ctx, o, r)
	}
	r.active = true
	switch {
	case s == nil:
	case s.Status.Phase == corev1.PodRunning:
		r.vp.Phase = PhaseRunning
		log, _ := readLog(ctx, o.Source.Kube, s)
		r.vp.setProgress(log)
		if r.vp.MoverPhase == mover.PhaseDone {
			// The sender's last report says the destination matches; it
			// is exiting, and the kubelet would report that seconds later.
			r.vp.Phase, r.vp.Message, r.active = PhaseSucceeded, "", false
			return nil
		}
		if r.vp.MoverPhase == "" || r.vp.MoverPhase == mover.PhaseConnecting {
			r.vp.Message = connectingMessage(rc, log)
		}
	default:
		r.vp.Message = waitingMessage(s)
	}
	return nil
}

// connectingMessage says what a sender that has not connected yet waits
// for: the receiver pod to become ready, or an answer from its address.
func connectingMessage(rc *corev1.Pod, senderLog string) string {
	if rc != nil && !podReady(rc) {
		return "waiting for the receiver: " + waitingMessage(rc)
	}
	if e := dialProblem(senderLog); e != "" {
		return "the sender cannot reach the receiver yet: " + e
	}
	return "the sender is connecting to the receiver"
}

// failure says which pod of a round failed and why.
type failure struct {
	role string
	pod  *corev1.Pod
	msg  string
	// permanent is set when a rerun would fail the same way.
	permanent bool
	// receiverOnly is set when the receiver failed and the sender has
	// not reported yet.
	receiverOnly bool
}

// diagnose reads the mover's error from the failed pod's log. The
// sender's account comes first, also when only the receiver's pod has
// ended yet: its last progress report names the failure and its exit
// status, which tells whether a rerun can help.
func diagnose(ctx context.Context, o Options, r *round) failure {
	var log string
	if r.sender != nil {
		log, _ = readLog(ctx, o.Source.Kube, r.sender)
		r.vp.setProgress(log)
	}
	if failed(r.sender) {
		return failure{role: RoleSender, pod: r.sender, msg: podFailure(log, r.sender),
			permanent: mover.Permanent(exitCode(r.sender))}
	}
	if p, ok := lastProgress(log); ok && p.Phase == mover.PhaseFailed && p.Error != "" {
		return failure{role: RoleSender, pod: r.sender, msg: clip(p.Error), permanent: mover.Permanent(p.ExitCode)}
	}
	rlog, _ := readLog(ctx, o.Destination.Kube, r.receiver)
	return failure{role: RoleReceiver, pod: r.receiver, msg: podFailure(rlog, r.receiver), receiverOnly: true}
}

// senderGrace is how long a failed receiver's round waits for the report
// of a sender that was connected to it before deciding on the receiver's.
const senderGrace = 15 * time.Second

// retryOrFail handles a round with a failed pod: after a pause that grows
// with each attempt it deletes the pods, so that the next Sync starts new
// ones; once the attempts are used up, or when a rerun cannot help, it
// reports the failure.
func retryOrFail(ctx context.Context, o Options, r *round) error {
	f := diagnose(ctx, o, r)
	if r.vp.MoverPhase == mover.PhaseDone {
		// The sender finished and the destination matched; whatever
		// ended the receiver's pod came after.
		r.vp.Phase, r.vp.Message = PhaseSucceeded, ""
		return nil
	}
	connected := r.vp.MoverPhase != "" && r.vp.MoverPhase != mover.PhaseConnecting
	if f.receiverOnly && connected && r.sender.Status.Phase == corev1.PodRunning &&
		time.Since(failedAt(r.receiver)) < senderGrace {
		r.vp.Message = "the receiver stopped (" + f.msg + "); waiting for the sender's report"
		return nil
	}
	attempt, err := getAttempt(ctx, o, r.t)
	if err != nil {
		return err
	}
	if f.permanent || attempt >= o.maxAttempts() {
		if attempt > 1 {
			f.msg = fmt.Sprintf("attempt %d of %d: %s", attempt, o.maxAttempts(), f.msg)
		}
		return fail(ctx, o, r, f)
	}
	r.vp.Phase = PhaseRetrying
	if wait := o.retryPause(attempt) - time.Since(failedAt(f.pod)); wait > 0 {
		r.vp.Message = fmt.Sprintf("attempt %d of %d failed: %s; retrying in %s", attempt, o.maxAttempts(), f.msg, wait.Round(time.Second))
		return nil
	}
	r.vp.Message = fmt.Sprintf("attempt %d of %d failed: %s; retrying now", attempt, o.maxAttempts(), f.msg)
	if err := setAttempt(ctx, o, r.t, attempt+1); err != nil {
		return err
	}
	return deletePods(ctx, o, r)
}

// fail reports a failed transfer once: it marks the failed pods as
// reported and returns an error wrapping ErrTransferFailed.
func fail(ctx context.Context, o Options, r *round, f failure) error {
	r.vp.Phase, r.vp.Message = PhaseFailed, f.msg
	for _, p := range []*corev1.Pod{r.sender, r.receiver} {
		if !failed(p) {
			continue
		}
		kube := o.Source.Kube
		if p == r.receiver {
			kube = o.Destination.Kube
		}
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:"true"}}}`, AnnotationFailureReported)
		if _, err := kube.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: fieldManager}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("mark pod %s/%s as reported: %w", p.Namespace, p.Name, err)
		}
	}
	return fmt.Errorf("copy %s: %s pod %s/%s failed: %s: %w", describe(r.t), f.role, f.pod.Namespace, f.pod.Name, f.msg, ErrTransferFailed)
}

// terminated is how a pod's mover container ended, or nil.
func terminated(p *corev1.Pod) *corev1.ContainerStateTerminated {
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil {
			return t
		}
	}
	return nil
}

// exitCode is the exit code of a pod's terminated container, or -1.
func exitCode(p *corev1.Pod) int {
	if t := terminated(p); t != nil {
		return int(t.ExitCode)
	}
	return -1
}

// failedAt is when a failed pod's container ended; zero when unknown.
func failedAt(p *corev1.Pod) time.Time {
	if t := terminated(p); t != nil {
		return t.FinishedAt.Time
	}
	return time.Time{}
}

// getAttempt reads the attempt number from the transfer's Service; 1 when
// it has none.
func getAttempt(ctx context.Context, o Options, t Transfer) (int, error) {
	svc, err := o.Destination.Kube.CoreV1().Services(t.DestinationNamespace).Get(ctx, serviceName(o.Migration, t), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return 1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("get service %s/%s: %w", t.DestinationNamespace, serviceName(o.Migration, t), err)
	}
	n, err := strconv.Atoi(svc.Annotations[AnnotationAttempt])
	if err != nil || n < 1 {
		return 1, nil
	}
	return n, nil
}

// setAttempt records the attempt number on the transfer's Service.
func setAttempt(ctx context.Context, o Options, t Transfer, n int) error {
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, AnnotationAttempt, strconv.Itoa(n))
	name := serviceName(o.Migration, t)
	_, err := o.Destination.Kube.CoreV1().Services(t.DestinationNamespace).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: fieldManager})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("record attempt %d on service %s/%s: %w", n, t.DestinationNamespace, name, err)
	}
	return nil
}

// advanceAll ensures the certificates, then creates the missing Services
// and pods of the active transfers.
func advanceAll(ctx context.Context, o Options, transfers []Transfer, rounds []*round) error {
	var hosts, allIPs, readyIPs []string
	for _, t := range transfers {
		hosts = append(hosts, serviceHosts(o.Migration, t)...)
	}
	lbs, err := loadBalancers(ctx, o, rounds)
	if err != nil {
		return err
	}
	for _, svc := range lbs {
		if addr := loadBalancerAddress(svc); addr != "" {
			hosts = appendUnique(hosts, addr)
		}
	}
	if !o.SameCluster && !o.LoadBalancer {
		nodes, err := o.Destination.Kube.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("list nodes of cluster %s: %w", o.Destination.Name, err)
		}
		allIPs, readyIPs = nodeIPs(nodes.Items)
		if len(allIPs) == 0 {
			return fmt.Errorf("cluster %s has no node with an InternalIP address", o.Destination.Name)
		}
	}
	tls, err := ensureCerts(ctx, o, transfers, hosts, allIPs, readyIPs)
	if err != nil {
		return err
	}
	var errs []error
	for i, r := range rounds {
		if !r.active || (r.sender != nil && r.receiver != nil) {
			continue
		}
		if tls.renewed && r.sender == nil && r.receiver != nil {
			// The receiver loaded the certificates that were replaced.
			r.vp.Message = "restarting the receiver with new certificates"
			errs = append(errs, deletePods(ctx, o, r))
			continue
		}
		if o.LoadBalancer && loadBalancerAddress(lbs[i]) == "" {
			r.vp.Message = fmt.Sprintf("waiting for the load balancer of service %s/%s to get an address",
				r.t.DestinationNamespace, serviceName(o.Migration, r.t))
			continue
		}
		errs = append(errs, advance(ctx, o, r, tls, readyIPs, lbs[i]))
	}
	return errors.Join(errs...)
}

// loadBalancers ensures the Services of the active transfers when they
// are of type LoadBalancer and returns them by round; the certificate must
// name their addresses before any receiver starts.
func loadBalancers(ctx context.Context, o Options, rounds []*round) (map[int]*corev1.Service, error) {
	out := map[int]*corev1.Service{}
	if !o.LoadBalancer || o.SameCluster {
		return out, nil
	}
	for i, r := range rounds {
		if !r.active {
			continue
		}
		svc, err := ensureService(ctx, o, r.t)
		if err != nil {
			return nil, err
		}
		out[i] = svc
	}
	return out, nil
}

// advance creates what a transfer misses: its Service, its receiver and
// its sender, all at once. The sender retries its connection until the
// receiver answers (for up to ConnectTimeout), so nobody waits for the
// receiver's readiness first. svc is the transfer's Service when the
// caller has it already.
func advance(ctx context.Context, o Options, r *round, tls tlsState, readyIPs []string, svc *corev1.Service) error {
	t := r.t
	if svc == nil {
		var err error
		if svc, err = ensureService(ctx, o, t); err != nil {
			return err
		}
	}
	if r.receiver == nil {
		pod := receiverPod(o, t, namespaceRequests(ctx, o.Destination.Kube, t.DestinationNamespace))
		if err := createPod(ctx, o.Destination.Kube, pod); err != nil {
			return err
		}
		r.vp.Message = "starting the receiver"
	}
	if r.sender != nil {
		return nil
	}
	host, nodePort := loadBalancerAddress(svc), int32(0)
	if !o.SameCluster && !o.LoadBalancer {
		hostIP := ""
		if r.receiver != nil {
			hostIP = r.receiver.Status.HostIP
		}
		host = receiverHost(hostIP, tls.certIPs, readyIPs)
		if len(svc.Spec.Ports) > 0 {
			nodePort = svc.Spec.Ports[0].NodePort
		}
		if host == "" || nodePort == 0 {
			r.vp.Message = "waiting for a ready destination node and a node port"
			return nil
		}
	}
	pods, err := o.Source.Kube.CoreV1().Pods(t.SourceNamespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list pods in %s: %w", t.SourceNamespace, err)
	}
	pod := senderPod(o, t, senderAddress(o, t, host, nodePort), claimNode(pods.Items, t.SourceClaim),
		namespaceRequests(ctx, o.Source.Kube, t.SourceNamespace))
	if err := createPod(ctx, o.Source.Kube, pod); err != nil {
		return err
	}
	r.vp.Message = "starting the movers"
	return nil
}

func (vp *VolumeProgress) setProgress(log string) {
	p, ok := lastProgress(log)
	if !ok {
		return
	}
	vp.MoverPhase = p.Phase
	vp.BytesDone, vp.BytesTotal = p.BytesDone, p.BytesTotal
	vp.FilesDone, vp.FilesTotal = p.FilesDone, p.FilesTotal
	if p.Phase == mover.PhaseDone {
		// The scan is complete: the totals are what was copied.
		vp.BytesTotal, vp.FilesTotal = max(p.BytesTotal, p.BytesDone), max(p.FilesTotal, p.FilesDone)
	}
}

func failed(p *corev1.Pod) bool { return p != nil && p.Status.Phase == corev1.PodFailed }

func reported(p *corev1.Pod) bool {
	return failed(p) && p.Annotations[AnnotationFailureReported] == "true"
}

func terminating(p *corev1.Pod) bool { return p != nil && p.DeletionTimestamp != nil }

func getPod(ctx context.Context, kube kubernetes.Interface, namespace, name string) (*corev1.Pod, error) {
	p, err := kube.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get pod %s/%s: %w", namespace, name, err)
	}
	return p, nil
}

func createPod(ctx context.Context, kube kubernetes.Interface, pod *corev1.Pod) error {
	_, err := kube.CoreV1().Pods(pod.Namespace).Create(ctx, pod, metav1.CreateOptions{FieldManager: fieldManager})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create pod %s/%s: %w", pod.Namespace, pod.Name, err)
	}
	return nil
}

// deletePods deletes a transfer's pods; the transfer stays Pending until
// they are gone.
func deletePods(ctx context.Context, o Options, r *round) error {
	for _, p := range []*corev1.Pod{r.sender, r.receiver} {
		if p == nil || p.DeletionTimestamp != nil {
			continue
		}
		kube := o.Source.Kube
		if p == r.receiver {
			kube = o.Destination.Kube
		}
		uid := p.UID
		err := kube.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}})
		if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
			return fmt.Errorf("delete pod %s/%s: %w", p.Namespace, p.Name, err)
		}
	}
	return nil
}

func ensureService(ctx context.Context, o Options, t Transfer) (*corev1.Service, error) {
	want := receiverService(o, t)
	svcs := o.Destination.Kube.CoreV1().Services(want.Namespace)
	svc, err := svcs.Get(ctx, want.Name, metav1.GetOptions{})
	if err == nil {
		return svc, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("get service %s/%s: %w", want.Namespace, want.Name, err)
	}
	svc, err = svcs.Create(ctx, want, metav1.CreateOptions{FieldManager: fieldManager})
	if err != nil {
		return nil, fmt.Errorf("create service %s/%s: %w", want.Namespace, want.Name, err)
	}
	return svc, nil
}

// namespaceRequests are the mover's requests in a namespace, fitted to its
// LimitRanges; when they cannot be read, the defaults.
func namespaceRequests(ctx context.Context, kube kubernetes.Interface, namespace string) corev1.ResourceList {
	lrs, err := kube.CoreV1().LimitRanges(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return moverRequests(nil)
	}
	return moverRequests(lrs.Items)
}
