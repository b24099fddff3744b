package direct

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// syncer runs volumes.Sync over a new direct path per call, as a
// reconciler does, keeping the statuses between calls as the Migration's
// status does.
type syncer struct {
	o    Options
	pol  volumes.Policy
	prev []ferryv1.VolumeStatus
}

func (s *syncer) sync(ctx context.Context, t *testing.T, transfers ...volumes.Transfer) (volumes.State, error) {
	t.Helper()
	p, err := New(s.o)
	if err != nil {
		t.Fatal(err)
	}
	st, err := volumes.Sync(ctx, p, s.pol, transfers, s.prev)
	if len(st.Volumes) > 0 {
		s.prev = st.Statuses()
	}
	return st, err
}

// TestSyncRounds walks one transfer through its states, retries included,
// with fake clients standing in for the kubelet and the node-port
// allocator.
func TestSyncRounds(t *testing.T) {
	ctx := context.Background()
	o := testOptions(false)
	run := &syncer{o: o, pol: volumes.Policy{MaxAttempts: 2, RetryPause: time.Minute}}
	src, dst := o.Source.Kube, o.Destination.Kube
	tr := testTransfer
	noErr(t, errOf(dst.CoreV1().Nodes().Create(ctx, &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "dst-node"},
		Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: "10.0.0.2"}},
		},
	}, metav1.CreateOptions{})))
	app := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "app-0", Namespace: tr.SourceNamespace},
		Spec: corev1.PodSpec{NodeName: "node-a", Volumes: []corev1.Volume{{Name: "d", VolumeSource: corev1.VolumeSource{
			PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: tr.SourceClaim}}}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning},
	}
	noErr(t, errOf(src.CoreV1().Pods(app.Namespace).Create(ctx, app, metav1.CreateOptions{})))

	sync := func(wantPhase volumes.Phase) volumes.State {
		t.Helper()
		st, err := run.sync(ctx, t, tr)
		if err != nil {
			t.Fatalf("Sync: %v", err)
		}
		if len(st.Volumes) != 1 || st.Volumes[0].Phase != wantPhase {
			t.Fatalf("Sync state %+v, want phase %s", st, wantPhase)
		}
		return st
	}

	// Round 1: certificates, service and receiver; the sender follows as
	// soon as the Service has a node port (a real API server allocates it
	// at once, the fake does not), without waiting for the receiver.
	sync(volumes.PhasePending)
	serverSecret := getSecret(t, dst, tr.DestinationNamespace, serverSecretName(o.Migration, tr))
	clientSecret := getSecret(t, src, tr.SourceNamespace, clientSecretName(o.Migration, tr))
	if !slices.Equal(sortedKeys(serverSecret.Data), []string{"ca.crt", "server.crt", "server.key"}) ||
		!slices.Equal(sortedKeys(clientSecret.Data), []string{"ca.crt", "client.crt", "client.key"}) {
		t.Fatalf("secret keys %v and %v", sortedKeys(serverSecret.Data), sortedKeys(clientSecret.Data))
	}
	if _, ok := certsUsable(o.Migration, []volumes.Transfer{tr}, []transferSecrets{{serverSecret, clientSecret}},
		map[volumes.Transfer][]string{tr: serviceHosts(o.Migration, tr)}, []string{"10.0.0.2"}, time.Now()); !ok {
		t.Fatal("stored certificates are not usable")
	}
	if findPod(t, dst, tr.DestinationNamespace, receiverName(o.Migration, tr)) == nil {
		t.Fatal("no receiver")
	}
	setNodePort(t, o, tr)
	sync(volumes.PhasePending)
	sender := findPod(t, src, tr.SourceNamespace, senderName(o.Migration, tr))
	if sender == nil {
		t.Fatal("no sender once the node port is known")
	}
	if sender.Spec.NodeName != "node-a" || sender.Spec.Containers[0].Args[3] != "10.0.0.2:31000" {
		t.Errorf("sender on %q to %q", sender.Spec.NodeName, sender.Spec.Containers[0].Args[3])
	}
	setPhase(t, src, sender, corev1.PodRunning)
	if st := sync(volumes.PhaseRunning); !strings.Contains(st.Volumes[0].Message, "waiting for the receiver") {
		t.Errorf("message %q while the receiver is not ready", st.Volumes[0].Message)
	}

	// Attempt 1 fails with an error a rerun may fix: after the pause the
	// pods are deleted and attempt 2 starts.
	failPod(t, src, sender, 1, -time.Hour)
	if st := sync(volumes.PhaseRetrying); !strings.Contains(st.Volumes[0].Message, "attempt 1 of 2 failed") {
		t.Errorf("retry message %q", st.Volumes[0].Message)
	}
	if findPod(t, src, tr.SourceNamespace, sender.Name) != nil || findPod(t, dst, tr.DestinationNamespace, receiverName(o.Migration, tr)) != nil {
		t.Fatal("pods of the failed attempt not deleted")
	}
	if st := sync(volumes.PhasePending); st.Volumes[0].Attempt != 2 {
		t.Errorf("attempt %d after a retry, want 2", st.Volumes[0].Attempt)
	}
	sender = findPod(t, src, tr.SourceNamespace, senderName(o.Migration, tr))
	if sender == nil || findPod(t, dst, tr.DestinationNamespace, receiverName(o.Migration, tr)) == nil {
		t.Fatal("attempt 2 did not start both pods")
	}

	// Attempt 2, the last, fails just now: reported at once, kept, marked.
	failPod(t, src, sender, 1, 0)
	st, err := run.sync(ctx, t, tr)
	if !errors.Is(err, volumes.ErrTransferFailed) || st.Volumes[0].Phase != volumes.PhaseFailed || st.Done ||
		!strings.Contains(st.Volumes[0].Message, "attempt 2 of 2") {
		t.Fatalf("after the last attempt: %+v, %v", st, err)
	}
	if p := findPod(t, src, tr.SourceNamespace, sender.Name); p == nil || p.Status.Phase != corev1.PodFailed {
		t.Fatalf("failed sender not kept: %+v", p)
	}

	// A retry of the step starts over at attempt 1; a full destination
	// volume is then reported without retries.
	if st := sync(volumes.PhasePending); st.Volumes[0].Attempt != 1 {
		t.Errorf("attempt %d after the step's retry, want 1", st.Volumes[0].Attempt)
	}
	sync(volumes.PhasePending)
	sender = findPod(t, src, tr.SourceNamespace, senderName(o.Migration, tr))
	if sender == nil {
		t.Fatal("no sender after the retry")
	}
	failPod(t, src, sender, mover.ExitNoSpace, -time.Hour)
	if _, err := run.sync(ctx, t, tr); !errors.Is(err, volumes.ErrTransferFailed) || strings.Contains(err.Error(), "attempt") {
		t.Fatalf("full volume: %v, want an immediate failure", err)
	}
	sync(volumes.PhasePending)
	sync(volumes.PhasePending)
	if s := getSecret(t, dst, tr.DestinationNamespace, serverSecretName(o.Migration, tr)); string(s.Data["ca.crt"]) != string(serverSecret.Data["ca.crt"]) {
		t.Error("certificates replaced without need")
	}

	// This attempt succeeds; later calls start nothing.
	sender = findPod(t, src, tr.SourceNamespace, senderName(o.Migration, tr))
	setPhase(t, src, sender, corev1.PodSucceeded)
	if st := sync(volumes.PhaseSucceeded); !st.Done {
		t.Fatalf("not done: %+v", st)
	}
	if st := sync(volumes.PhaseSucceeded); !st.Done {
		t.Fatalf("not done again: %+v", st)
	}
	if p := findPod(t, src, tr.SourceNamespace, sender.Name); p == nil || p.UID != sender.UID || p.Status.Phase != corev1.PodSucceeded {
		t.Fatal("the succeeded sender was replaced")
	}

	if done, err := mustNew(t, o).Cleanup(ctx); err != nil || !done {
		t.Fatalf("cleanup = %v, %v", done, err)
	}
	for _, kube := range []kubernetes.Interface{src, dst} {
		sel := metav1.ListOptions{LabelSelector: moverpod.MigrationSelector(o.Migration)}
		pods, _ := kube.CoreV1().Pods("").List(ctx, sel)
		svcs, _ := kube.CoreV1().Services("").List(ctx, sel)
		secrets, _ := kube.CoreV1().Secrets("").List(ctx, sel)
		if len(pods.Items)+len(svcs.Items)+len(secrets.Items) != 0 {
			t.Errorf("left after cleanup: %d pods, %d services, %d secrets", len(pods.Items), len(svcs.Items), len(secrets.Items))
		}
	}
	if _, err := src.CoreV1().Pods(app.Namespace).Get(ctx, app.Name, metav1.GetOptions{}); err != nil {
		t.Errorf("cleanup touched the application pod: %v", err)
	}
}

func TestSyncNoTransfers(t *testing.T) {
	st, err := volumes.Sync(context.Background(), mustNew(t, testOptions(false)), volumes.Policy{}, nil, nil)
	if err != nil || !st.Done {
		t.Fatalf("Sync without transfers = %+v, %v", st, err)
	}
}

// setNodePort plays the node-port allocator for the transfer's Service.
func setNodePort(t *testing.T, o Options, tr volumes.Transfer) {
	t.Helper()
	ctx := context.Background()
	dst := o.Destination.Kube
	svc, err := dst.CoreV1().Services(tr.DestinationNamespace).Get(ctx, serviceName(o.Migration, tr), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Spec.Ports[0].NodePort = 31000
	noErr(t, errOf(dst.CoreV1().Services(svc.Namespace).Update(ctx, svc, metav1.UpdateOptions{})))
}

// failPod plays the kubelet: p's container exited with code, ago before now.
func failPod(t *testing.T, kube kubernetes.Interface, p *corev1.Pod, code int32, ago time.Duration) {
	t.Helper()
	cur := findPod(t, kube, p.Namespace, p.Name)
	cur.Status.Phase = corev1.PodFailed
	cur.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "mover", State: corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: code, FinishedAt: metav1.NewTime(time.Now().Add(ago))}}}}
	noErr(t, errOf(kube.CoreV1().Pods(p.Namespace).UpdateStatus(context.Background(), cur, metav1.UpdateOptions{})))
}

func setPhase(t *testing.T, kube kubernetes.Interface, p *corev1.Pod, phase corev1.PodPhase) {
	t.Helper()
	cur := findPod(t, kube, p.Namespace, p.Name)
	cur.Status.Phase = phase
	noErr(t, errOf(kube.CoreV1().Pods(p.Namespace).UpdateStatus(context.Background(), cur, metav1.UpdateOptions{})))
}

func findPod(t *testing.T, kube kubernetes.Interface, ns, name string) *corev1.Pod {
	t.Helper()
	p, err := moverpod.GetPod(context.Background(), kube, ns, name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func getSecret(t *testing.T, kube kubernetes.Interface, ns, name string) *corev1.Secret {
	t.Helper()
	s, err := kube.CoreV1().Secrets(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func errOf[T any](_ T, err error) error { return err }

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSyncLoadBalancer waits for the load balancer's address, then starts
// both pods, the sender dialing that address, which the server
// certificate names.
func TestSyncLoadBalancer(t *testing.T) {
	ctx := context.Background()
	o := testOptions(false)
	o.LoadBalancer = true
	tr := testTransfer
	run := &syncer{o: o}
	st, err := run.sync(ctx, t, tr)
	if err != nil || !strings.Contains(st.Volumes[0].Message, "waiting for the load balancer") {
		t.Fatalf("before the address: %+v, %v", st, err)
	}
	dst := o.Destination.Kube
	svc, err := dst.CoreV1().Services(tr.DestinationNamespace).Get(ctx, serviceName(o.Migration, tr), metav1.GetOptions{})
	if err != nil || svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		t.Fatalf("service: %v, %+v", err, svc)
	}
	if findPod(t, dst, tr.DestinationNamespace, receiverName(o.Migration, tr)) != nil {
		t.Fatal("receiver started before the load balancer has an address")
	}
	svc.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "192.0.2.10"}}
	noErr(t, errOf(dst.CoreV1().Services(svc.Namespace).UpdateStatus(ctx, svc, metav1.UpdateOptions{})))
	if _, err := run.sync(ctx, t, tr); err != nil {
		t.Fatal(err)
	}
	sender := findPod(t, o.Source.Kube, tr.SourceNamespace, senderName(o.Migration, tr))
	if sender == nil || findPod(t, dst, tr.DestinationNamespace, receiverName(o.Migration, tr)) == nil {
		t.Fatal("pods not started once the load balancer has an address")
	}
	if to := sender.Spec.Containers[0].Args[3]; to != "192.0.2.10:8443" {
		t.Errorf("sender dials %q", to)
	}
	cert, err := parseCert(getSecret(t, dst, tr.DestinationNamespace, serverSecretName(o.Migration, tr)).Data["server.crt"])
	if err != nil || cert.VerifyHostname("192.0.2.10") != nil {
		t.Errorf("server certificate does not name the load balancer: %v", err)
	}
}

func mustNew(t *testing.T, o Options) *Path {
	t.Helper()
	p, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestCleanupWaitsForTerminatingPods: one pass deletes what it can and
// says "not done" while a pod is still terminating, without waiting.
func TestCleanupWaitsForTerminatingPods(t *testing.T) {
	ctx := context.Background()
	o := testOptions(false)
	now := metav1.Now()
	going := receiverPod(o, testTransfer, moverpod.Env{Resources: moverpod.Resources(nil)})
	going.DeletionTimestamp, going.Finalizers = &now, []string{"test/hold"}
	noErr(t, errOf(o.Destination.Kube.CoreV1().Pods(going.Namespace).Create(ctx, going, metav1.CreateOptions{})))
	sender := senderPod(o, testTransfer, "10.0.0.1:31000", "", "", moverpod.Env{Resources: moverpod.Resources(nil)})
	noErr(t, errOf(o.Source.Kube.CoreV1().Pods(sender.Namespace).Create(ctx, sender, metav1.CreateOptions{})))
	p := mustNew(t, o)
	start := time.Now()
	if done, err := p.Cleanup(ctx); err != nil || done {
		t.Fatalf("cleanup with a terminating pod = %v, %v; want not done", done, err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("cleanup took %s: it must not wait", time.Since(start))
	}
	if findPod(t, o.Source.Kube, sender.Namespace, sender.Name) != nil {
		t.Error("the sender was not deleted")
	}
	noErr(t, o.Destination.Kube.CoreV1().Pods(going.Namespace).Delete(ctx, going.Name, metav1.DeleteOptions{}))
	if done, err := p.Cleanup(ctx); err != nil || !done {
		t.Fatalf("cleanup after the pod went = %v, %v; want done", done, err)
	}
}
