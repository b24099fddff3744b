package direct

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes/fake"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

var testTransfer = volumes.Transfer{SourceNamespace: "shop", SourceClaim: "data", DestinationNamespace: "shop-new", DestinationClaim: "data-copy"}

func testOptions(same bool) Options {
	src := &cluster.Clients{Name: "src", Kube: fake.NewClientset()}
	dst := &cluster.Clients{Name: "dst", Kube: fake.NewClientset()}
	if same {
		dst = src
	}
	return Options{Source: src, Destination: dst, Migration: "mig-1", Image: "registry/ferry:1", SameCluster: same}
}

func TestReceiverPod(t *testing.T) {
	o := testOptions(false)
	p := receiverPod(o, testTransfer, moverpod.Env{Resources: moverpod.Resources(nil)})
	if p.Namespace != "shop-new" || p.Name != receiverName(o.Migration, testTransfer) {
		t.Errorf("receiver %s/%s", p.Namespace, p.Name)
	}
	wantArgs := []string{"mover", "serve", "--listen", ":8443", "--root", "/data", "--tls-dir", "/tls", "--once",
		"--peer-name", transferIdentity(o.Migration, testTransfer)}
	checkMoverPod(t, p, "data-copy", serverSecretName(o.Migration, testTransfer), false, wantArgs)
	if p.Spec.NodeName != "" {
		t.Errorf("receiver pinned to %q", p.Spec.NodeName)
	}
	if p.Spec.Containers[0].ReadinessProbe == nil || p.Spec.Containers[0].ReadinessProbe.TCPSocket == nil {
		t.Error("receiver has no TCP readiness probe")
	}
	svc := receiverService(o, testTransfer)
	if svc.Spec.Type != corev1.ServiceTypeNodePort || svc.Namespace != p.Namespace {
		t.Errorf("service type %s in %s", svc.Spec.Type, svc.Namespace)
	}
	if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(p.Labels)) {
		t.Errorf("service selector %v does not select receiver labels %v", svc.Spec.Selector, p.Labels)
	}
	sender := senderPod(o, testTransfer, "10.0.0.1:31000", "", "", moverpod.Env{Resources: moverpod.Resources(nil)})
	if labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(sender.Labels)) {
		t.Error("service selector selects the sender")
	}
	if svc.Spec.Ports[0].Port != MoverPort || svc.Spec.Ports[0].TargetPort.IntValue() != MoverPort {
		t.Errorf("service ports %+v", svc.Spec.Ports)
	}
	if got := receiverService(testOptions(true), testTransfer).Spec.Type; got != corev1.ServiceTypeClusterIP {
		t.Errorf("same-cluster service type %s", got)
	}
}

func TestSenderPod(t *testing.T) {
	tests := []struct {
		name     string
		same     bool
		host     string
		nodePort int32
		node     string
		wantTo   string
	}{
		{"node port", false, "10.200.2.2", 31234, "", "10.200.2.2:31234"},
		{"pinned", false, "10.200.2.2", 31234, "node-a", "10.200.2.2:31234"},
		{"ipv6", false, "fd00::2", 30000, "", "[fd00::2]:30000"},
		{"same cluster", true, "", 0, "", serviceName("mig-1", testTransfer) + ".shop-new.svc:8443"},
		{"final", false, "10.200.2.2", 31234, "", "10.200.2.2:31234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOptions(tt.same)
			o.Final = tt.name == "final"
			addr := senderAddress(o, testTransfer, tt.host, tt.nodePort)
			if addr != tt.wantTo {
				t.Errorf("address %q, want %q", addr, tt.wantTo)
			}
			p := senderPod(o, testTransfer, addr, "", tt.node, moverpod.Env{Resources: moverpod.Resources(nil)})
			if p.Namespace != "shop" || p.Name != senderName(o.Migration, testTransfer) || p.Spec.NodeName != tt.node {
				t.Errorf("sender %s/%s on %q", p.Namespace, p.Name, p.Spec.NodeName)
			}
			wantArgs := []string{"mover", "sync", "--to", tt.wantTo, "--root", "/data", "--tls-dir", "/tls", "--delete", "--progress=json", "--connect-timeout", "3m0s",
				"--peer-name", transferIdentity(o.Migration, testTransfer)}
			if o.Final {
				wantArgs = append(wantArgs, "--final")
			}
			checkMoverPod(t, p, "data", clientSecretName(o.Migration, testTransfer), true, wantArgs)
		})
	}
}

// checkMoverPod checks what both mover pods share.
func checkMoverPod(t *testing.T, p *corev1.Pod, claim, secret string, readOnly bool, args []string) {
	t.Helper()
	for k, v := range map[string]string{ferryv1.LabelMigration: "mig-1", ferryv1.LabelManagedBy: "ferry", moverpod.LabelComponent: "mover"} {
		if p.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, p.Labels[k], v)
		}
	}
	spec := p.Spec
	if spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restart policy %s", spec.RestartPolicy)
	}
	if len(spec.Containers) != 1 {
		t.Fatalf("%d containers", len(spec.Containers))
	}
	c := spec.Containers[0]
	if c.Image != "registry/ferry:1" || len(c.Command) != 0 || !slices.Equal(c.Args, args) {
		t.Errorf("image %q command %q args %q, want args %q", c.Image, c.Command, c.Args, args)
	}
	sc := c.SecurityContext
	if sc == nil || sc.RunAsUser == nil || *sc.RunAsUser != 0 || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("security context %+v", sc)
	}
	if len(c.Resources.Limits) != 1 || c.Resources.Limits.Memory().String() != "1Gi" {
		t.Errorf("limits %v, want only memory 1Gi", c.Resources.Limits)
	}
	if c.Resources.Requests.Cpu().String() != "50m" || c.Resources.Requests.Memory().String() != "128Mi" {
		t.Errorf("requests %v", c.Resources.Requests)
	}
	mounts := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m
	}
	if m := mounts["data"]; m.MountPath != "/data" || m.ReadOnly != readOnly {
		t.Errorf("data mount %+v, want /data read-only %v", m, readOnly)
	}
	if m := mounts["tls"]; m.MountPath != "/tls" || !m.ReadOnly {
		t.Errorf("tls mount %+v", m)
	}
	vols := map[string]corev1.Volume{}
	for _, v := range spec.Volumes {
		vols[v.Name] = v
	}
	if v := vols["data"].PersistentVolumeClaim; v == nil || v.ClaimName != claim || v.ReadOnly != readOnly {
		t.Errorf("data volume %+v, want claim %s read-only %v", v, claim, readOnly)
	}
	if v := vols["tls"].Secret; v == nil || v.SecretName != secret {
		t.Errorf("tls volume %+v, want secret %s", v, secret)
	}
}

func TestReceiverHost(t *testing.T) {
	tests := []struct {
		name    string
		hostIP  string
		certIPs []string
		ready   []string
		want    string
	}{
		{"own node", "10.0.0.2", []string{"10.0.0.1", "10.0.0.2"}, []string{"10.0.0.1", "10.0.0.2"}, "10.0.0.2"},
		{"own node not in certificate", "10.0.0.9", []string{"10.0.0.1", "10.0.0.2"}, []string{"10.0.0.2", "10.0.0.9"}, "10.0.0.2"},
		{"no host IP yet", "", []string{"10.0.0.1"}, []string{"10.0.0.1"}, "10.0.0.1"},
		{"nothing usable", "10.0.0.9", []string{"10.0.0.1"}, []string{"10.0.0.9"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := receiverHost(tt.hostIP, tt.certIPs, tt.ready); got != tt.want {
				t.Errorf("receiverHost = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNodeIPs(t *testing.T) {
	node := func(ip string, ready corev1.ConditionStatus) corev1.Node {
		return corev1.Node{Status: corev1.NodeStatus{
			Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: ready}},
			Addresses:  []corev1.NodeAddress{{Type: corev1.NodeHostName, Address: "n"}, {Type: corev1.NodeInternalIP, Address: ip}},
		}}
	}
	all, ready := nodeIPs([]corev1.Node{node("10.0.0.1", corev1.ConditionTrue), node("10.0.0.2", corev1.ConditionFalse)})
	if !slices.Equal(all, []string{"10.0.0.1", "10.0.0.2"}) || !slices.Equal(ready, []string{"10.0.0.1"}) {
		t.Errorf("nodeIPs = %v, %v", all, ready)
	}
}

func TestHeldSenderPod(t *testing.T) {
	o := Options{Migration: "m1", Image: "ferry:dev", Hold: true}
	p := senderPod(o, testTransfer, "10.0.0.1:31000", "", "", moverpod.Env{Resources: moverpod.Resources(nil)})
	args := p.Spec.Containers[0].Args
	if !held(p) || args[len(args)-2] != "--start-file" || args[len(args)-1] != startFile {
		t.Errorf("held sender: annotations %v, args %v", p.Annotations, args)
	}
	var mounted bool
	for _, m := range p.Spec.Containers[0].VolumeMounts {
		mounted = mounted || m.MountPath == startDir
	}
	if !mounted {
		t.Errorf("the start directory is not mounted: %+v", p.Spec.Containers[0].VolumeMounts)
	}
	if waitsForStart(p, "") != true || waitsForStart(p, "time=x level=INFO "+logReleased) != false {
		t.Error("waitsForStart does not read the release from the log")
	}
	o.Hold = false
	if p := senderPod(o, testTransfer, "10.0.0.1:31000", "", "", moverpod.Env{Resources: moverpod.Resources(nil)}); held(p) || len(p.Spec.Volumes) != 2 {
		t.Errorf("a sender not held: annotations %v, volumes %d", p.Annotations, len(p.Spec.Volumes))
	}
}

func TestSenderArgsFinalAndVerify(t *testing.T) {
	tests := []struct {
		name          string
		final, verify bool
		want, notWant []string
	}{
		{name: "stage", notWant: []string{"--final", "--verify"}},
		{name: "final", final: true, want: []string{"--final"}, notWant: []string{"--verify"}},
		{name: "final verified", final: true, verify: true, want: []string{"--final", "--verify"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := senderArgs("10.0.0.1:30000", "", "id", tt.final, tt.verify)
			for _, w := range tt.want {
				if !slices.Contains(args, w) {
					t.Errorf("args %v lack %s", args, w)
				}
			}
			for _, w := range tt.notWant {
				if slices.Contains(args, w) {
					t.Errorf("args %v have %s", args, w)
				}
			}
		})
	}
}
