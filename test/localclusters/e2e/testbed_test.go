//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
)

func intOrPort(p int32) intstr.IntOrString { return intstr.FromInt32(p) }

// TestVolumeSurvivesPodRestart writes to a dynamically provisioned volume
// of each storage class in each cluster, deletes the pod, and reads the
// data back from a new pod through kubectl exec.
func TestVolumeSurvivesPodRestart(t *testing.T) {
	for _, name := range []string{"src", "dst"} {
		for _, sc := range []string{"standard", "fast"} {
			t.Run(name+"/"+sc, func(t *testing.T) {
				t.Parallel()
				c := localCluster(t, name)
				ns := c.namespace(t, "e2e-volume")
				createPVC(t, c, ns, "data", sc)
				tools := c.image(t, "tools")
				want := fmt.Sprintf("written in %s at %d", name, time.Now().UnixNano())
				w := c.create(t, newPod(ns, "writer", tools, "sh", "-c", "echo '"+want+"' > /data/proof && sync").
					restartNever().volume("data", "/data"))
				c.waitPod(t, ns, w.Name, corev1.PodSucceeded)
				if err := c.cs.CoreV1().Pods(ns).Delete(context.Background(), w.Name, metav1.DeleteOptions{}); err != nil {
					t.Fatal(err)
				}
				r := c.create(t, newPod(ns, "reader", tools, "sleep", "3600").volume("data", "/data"))
				c.waitPod(t, ns, r.Name, corev1.PodRunning)
				got, err := c.kubectl(context.Background(), "-n", ns, "exec", r.Name, "--", "cat", "/data/proof")
				if err != nil {
					t.Fatal(err)
				}
				if strings.TrimSpace(got) != want {
					t.Fatalf("read %q after the pod restart, want %q", got, want)
				}
			})
		}
	}
}

func createPVC(t *testing.T, c *cluster, ns, name, sc string) {
	t.Helper()
	pvc := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.PersistentVolumeClaimSpec{
			StorageClassName: &sc,
			AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
			Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceStorage: resource.MustParse("1Gi")}},
		},
	}
	if _, err := c.cs.CoreV1().PersistentVolumeClaims(ns).Create(context.Background(), pvc, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create PVC: %v", err)
	}
}

// serveSampleApp runs the sample app in ns behind a Service of the given
// type and returns the Service once it has endpoints.
func serveSampleApp(t *testing.T, c *cluster, ns string, typ corev1.ServiceType) *corev1.Service {
	t.Helper()
	labels := map[string]string{"app": "web"}
	c.create(t, newPod(ns, "web", c.image(t, "sampleapp")).labels(labels).port(8080))
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
		Spec: corev1.ServiceSpec{Type: typ, Selector: labels,
			Ports: []corev1.ServicePort{{Port: 8080, TargetPort: intOrPort(8080)}}},
	}
	svc, err := c.cs.CoreV1().Services(ns).Create(context.Background(), svc, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create service: %v", err)
	}
	c.waitPod(t, ns, "web", corev1.PodRunning)
	// A ready pod is not yet a reachable Service: until its endpoint is
	// published, kube-proxy rejects connections to the Service.
	err = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		l, err := c.cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc.Name})
		if err != nil {
			return false, nil
		}
		for _, es := range l.Items {
			for _, ep := range es.Endpoints {
				if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
					return true, nil
				}
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("service %s/%s has no ready endpoint: %v", ns, svc.Name, err)
	}
	return svc
}

// runCheck runs netcheck in a pod and returns the last line of its log,
// the check's result (lines before it are failed tries, which netcheck
// repeats while a Service is being programmed); the pod must succeed.
func runCheck(t *testing.T, c *cluster, ns, name string, args ...string) string {
	t.Helper()
	p := c.create(t, newPod(ns, name, c.image(t, "tools"), append([]string{"netcheck"}, args...)...).restartNever())
	err := wait.PollUntilContextTimeout(context.Background(), 250*time.Millisecond, 2*time.Minute, true,
		func(ctx context.Context) (bool, error) {
			got, err := c.cs.CoreV1().Pods(ns).Get(ctx, p.Name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			p = got
			return p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed, nil
		})
	logs := c.logs(t, ns, p.Name)
	if err != nil || p.Status.Phase != corev1.PodSucceeded {
		t.Fatalf("netcheck %v in %s failed: %s\nlogs: %s", args, c.name, podStatus(p), logs)
	}
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	if len(lines) > 1 {
		t.Logf("netcheck %v in %s needed tries:\n%s", args, c.name, logs)
	}
	return lines[len(lines)-1]
}

// TestCrossClusterNodePort opens a connection from a pod in src to a
// NodePort Service of dst at dst's node IP: the path volume data takes.
func TestCrossClusterNodePort(t *testing.T) {
	src, dst := localCluster(t, "src"), localCluster(t, "dst")
	dns := dst.namespace(t, "e2e-nodeport")
	svc := serveSampleApp(t, dst, dns, corev1.ServiceTypeNodePort)
	url := fmt.Sprintf("http://%s:%d/healthz", dst.nodeIP, svc.Spec.Ports[0].NodePort)
	sns := src.namespace(t, "e2e-nodeport")
	out := runCheck(t, src, sns, "client", "http", url)
	if strings.TrimSpace(out) != "ok" {
		t.Fatalf("GET %s from src answered %q, want ok", url, out)
	}
}

// TestDNSAndClusterIP resolves a Service name inside each cluster and
// reaches it through its ClusterIP.
func TestDNSAndClusterIP(t *testing.T) {
	for _, name := range []string{"src", "dst"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := localCluster(t, name)
			ns := c.namespace(t, "e2e-dns")
			svc := serveSampleApp(t, c, ns, corev1.ServiceTypeClusterIP)
			fqdn := "web." + ns + ".svc.cluster.local"
			out := runCheck(t, c, ns, "resolve", "dns", fqdn)
			if !strings.Contains(out, svc.Spec.ClusterIP) {
				t.Fatalf("%s resolved to %q, want the ClusterIP %s", fqdn, out, svc.Spec.ClusterIP)
			}
			out = runCheck(t, c, ns, "fetch", "http", "http://web:8080/healthz")
			if strings.TrimSpace(out) != "ok" {
				t.Fatalf("GET web:8080 by short name answered %q", out)
			}
			out = runCheck(t, c, ns, "api", "tcp", "kubernetes.default.svc:443")
			if !strings.HasPrefix(out, "OK tcp") {
				t.Fatalf("API server through its ClusterIP: %q", out)
			}
		})
	}
}

// TestPortForward reaches the sample app through kubectl port-forward.
func TestPortForward(t *testing.T) {
	c := localCluster(t, "src")
	ns := c.namespace(t, "e2e-portforward")
	serveSampleApp(t, c, ns, corev1.ServiceTypeClusterIP)
	port := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bin := filepath.Join(repoRoot(t), ".localclusters", "bin", "kubectl")
	pf := exec.CommandContext(ctx, bin, "--kubeconfig", c.kubeconfig, "-n", ns, "port-forward", "pod/web", fmt.Sprintf("%d:8080", port))
	if err := pf.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = pf.Wait() }()
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz", port)
	var body string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		resp, err := http.Get(url)
		if err != nil {
			return false, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil || strings.TrimSpace(body) != "ok" {
		t.Fatalf("GET %s through port-forward: %v %q", url, err, body)
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestStorageClasses checks the two storage classes the later storage
// conversion tests rely on.
func TestStorageClasses(t *testing.T) {
	for _, name := range []string{"src", "dst"} {
		c := localCluster(t, name)
		scs, err := c.cs.StorageV1().StorageClasses().List(context.Background(), metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		found := map[string]bool{}
		for _, sc := range scs.Items {
			found[sc.Name] = sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true"
		}
		if def, ok := found["standard"]; !ok || !def {
			t.Errorf("%s: storage class standard missing or not the default: %v", name, found)
		}
		if _, ok := found["fast"]; !ok {
			t.Errorf("%s: storage class fast missing: %v", name, found)
		}
	}
}
