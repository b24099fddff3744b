package volumes

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

// TestSyncRounds walks one transfer through its states with fake clients
// standing in for the kubelet and the endpoint controller.
func TestSyncRounds(t *testing.T) {
	ctx := context.Background()
	o := testOptions(false)
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

	sync := func(wantPhase Phase) State {
		t.Helper()
		st, err := Sync(ctx, o, []Transfer{tr})
		if err != nil {
			t.Fatalf("Sync: %v", err)
		}
		if len(st.Volumes) != 1 || st.Volumes[0].Phase != wantPhase {
			t.Fatalf("Sync state %+v, want phase %s", st, wantPhase)
		}
		return st
	}

	// Round 1: certificates, service and receiver first.
	sync(PhasePending)
	serverSecret := getSecret(t, dst, tr.DestinationNamespace, serverSecretName(o.Migration))
	clientSecret := getSecret(t, src, tr.SourceNamespace, clientSecretName(o.Migration))
	if !slices.Equal(sortedKeys(serverSecret.Data), []string{"ca.crt", "server.crt", "server.key"}) ||
		!slices.Equal(sortedKeys(clientSecret.Data), []string{"ca.crt", "client.crt", "client.key"}) {
		t.Fatalf("secret keys %v and %v", sortedKeys(serverSecret.Data), sortedKeys(clientSecret.Data))
	}
	if _, ok := certsUsable([]*corev1.Secret{serverSecret}, []*corev1.Secret{clientSecret}, serviceHosts(o.Migration, tr), []string{"10.0.0.2"}, time.Now()); !ok {
		t.Fatal("stored certificates are not usable")
	}
	if p := findPod(t, src, tr.SourceNamespace, senderName(o.Migration, tr)); p != nil {
		t.Fatal("sender created before the receiver is ready")
	}
	// Not ready yet: still no sender.
	sync(PhasePending)
	if p := findPod(t, src, tr.SourceNamespace, senderName(o.Migration, tr)); p != nil {
		t.Fatal("sender created before the receiver is ready")
	}
	makeReceiverReachable(t, o, tr)
	sync(PhasePending)
	sender := findPod(t, src, tr.SourceNamespace, senderName(o.Migration, tr))
	if sender == nil {
		t.Fatal("no sender after the receiver became ready")
	}
	if sender.Spec.NodeName != "node-a" || sender.Spec.Containers[0].Args[3] != "10.0.0.2:31000" {
		t.Errorf("sender on %q to %q", sender.Spec.NodeName, sender.Spec.Containers[0].Args[3])
	}
	setPhase(t, src, sender, corev1.PodRunning)
	sync(PhaseRunning)

	// The sender fails: reported once, then the round is deleted and redone.
	setPhase(t, src, sender, corev1.PodFailed)
	st, err := Sync(ctx, o, []Transfer{tr})
	if !errors.Is(err, ErrTransferFailed) || st.Volumes[0].Phase != PhaseFailed || st.Done {
		t.Fatalf("after failure: %+v, %v", st, err)
	}
	if p := findPod(t, src, tr.SourceNamespace, sender.Name); p == nil || p.Annotations[AnnotationFailureReported] != "true" {
		t.Fatalf("failed sender not kept and marked: %+v", p)
	}
	sync(PhasePending)
	if findPod(t, src, tr.SourceNamespace, sender.Name) != nil || findPod(t, dst, tr.DestinationNamespace, receiverName(o.Migration, tr)) != nil {
		t.Fatal("pods of the failed round not deleted")
	}
	sync(PhasePending)
	if findPod(t, dst, tr.DestinationNamespace, receiverName(o.Migration, tr)) == nil {
		t.Fatal("receiver not recreated")
	}
	if s := getSecret(t, dst, tr.DestinationNamespace, serverSecretName(o.Migration)); string(s.Data["ca.crt"]) != string(serverSecret.Data["ca.crt"]) {
		t.Error("certificates replaced without need")
	}

	// Round 2 succeeds; later calls start nothing.
	makeReceiverReachable(t, o, tr)
	sync(PhasePending)
	sender = findPod(t, src, tr.SourceNamespace, senderName(o.Migration, tr))
	setPhase(t, src, sender, corev1.PodSucceeded)
	if st := sync(PhaseSucceeded); !st.Done {
		t.Fatalf("not done: %+v", st)
	}
	if st := sync(PhaseSucceeded); !st.Done {
		t.Fatalf("not done again: %+v", st)
	}
	if p := findPod(t, src, tr.SourceNamespace, sender.Name); p == nil || p.UID != sender.UID || p.Status.Phase != corev1.PodSucceeded {
		t.Fatal("the succeeded sender was replaced")
	}

	if err := Cleanup(ctx, o); err != nil {
		t.Fatal(err)
	}
	for _, kube := range []kubernetes.Interface{src, dst} {
		sel := metav1.ListOptions{LabelSelector: migrationSelector(o.Migration)}
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
	st, err := Sync(context.Background(), testOptions(false), nil)
	if err != nil || !st.Done {
		t.Fatalf("Sync without transfers = %+v, %v", st, err)
	}
}

// makeReceiverReachable plays kubelet, node-port allocator and endpoint
// controller for the receiver.
func makeReceiverReachable(t *testing.T, o Options, tr Transfer) {
	t.Helper()
	ctx := context.Background()
	dst := o.Destination.Kube
	recv := findPod(t, dst, tr.DestinationNamespace, receiverName(o.Migration, tr))
	if recv == nil {
		t.Fatal("no receiver")
	}
	recv.Status = corev1.PodStatus{Phase: corev1.PodRunning, HostIP: "10.0.0.2",
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
	noErr(t, errOf(dst.CoreV1().Pods(recv.Namespace).UpdateStatus(ctx, recv, metav1.UpdateOptions{})))
	svc, err := dst.CoreV1().Services(tr.DestinationNamespace).Get(ctx, serviceName(o.Migration, tr), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	svc.Spec.Ports[0].NodePort = 31000
	noErr(t, errOf(dst.CoreV1().Services(svc.Namespace).Update(ctx, svc, metav1.UpdateOptions{})))
	slice := &discoveryv1.EndpointSlice{
		ObjectMeta:  metav1.ObjectMeta{Name: svc.Name + "-x", Namespace: svc.Namespace, Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.89.0.5"}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
	}
	_ = dst.DiscoveryV1().EndpointSlices(svc.Namespace).Delete(ctx, slice.Name, metav1.DeleteOptions{})
	noErr(t, errOf(dst.DiscoveryV1().EndpointSlices(svc.Namespace).Create(ctx, slice, metav1.CreateOptions{})))
}

func setPhase(t *testing.T, kube kubernetes.Interface, p *corev1.Pod, phase corev1.PodPhase) {
	t.Helper()
	cur := findPod(t, kube, p.Namespace, p.Name)
	cur.Status.Phase = phase
	noErr(t, errOf(kube.CoreV1().Pods(p.Namespace).UpdateStatus(context.Background(), cur, metav1.UpdateOptions{})))
}

func findPod(t *testing.T, kube kubernetes.Interface, ns, name string) *corev1.Pod {
	t.Helper()
	p, err := getPod(context.Background(), kube, ns, name)
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
