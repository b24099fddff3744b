package bed

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// Client returns a clientset for the cluster's admin kubeconfig.
func (c *Cluster) Client() (*kubernetes.Clientset, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", c.Path("kubeconfig"))
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig of %s: %w", c.Name, err)
	}
	cfg.QPS, cfg.Burst = 100, 200
	cfg.Timeout = 10 * time.Second
	return kubernetes.NewForConfig(cfg)
}

func httpOK(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// apiReady asks the API server's /readyz.
func apiReady(c *Cluster) error {
	cs, err := c.Client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err = cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
	return err
}

func (c *Cluster) waitAPI(ctx context.Context, timeout time.Duration) error {
	return c.waitReady(ctx, procAPIServer, timeout, func() error { return apiReady(c) })
}

// StorageClasses are created in every cluster; both are provisioned
// dynamically by kube-controller-manager's hostPath provisioner.
var StorageClasses = []struct {
	Name    string
	Default bool
}{{"standard", true}, {"fast", false}}

// bootstrap creates the storage classes and waits until the node is Ready
// and the default service account exists, so pods can be created at once.
func (e *Env) bootstrap(ctx context.Context, c *Cluster) error {
	cs, err := c.Client()
	if err != nil {
		return err
	}
	del := corev1.PersistentVolumeReclaimDelete
	bind := storagev1.VolumeBindingImmediate
	for _, sc := range StorageClasses {
		obj := &storagev1.StorageClass{
			ObjectMeta:  metav1.ObjectMeta{Name: sc.Name, Labels: map[string]string{"ferry.dev/test-bed": "true"}},
			Provisioner: "kubernetes.io/host-path", ReclaimPolicy: &del, VolumeBindingMode: &bind,
		}
		if sc.Default {
			obj.Annotations = map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}
		}
		_, err := cs.StorageV1().StorageClasses().Create(ctx, obj, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create storage class %s: %w", sc.Name, err)
		}
	}
	return poll(ctx, 90*time.Second, func() (bool, string, error) {
		if _, ok := c.pid(procKubelet); !ok {
			return false, "", fmt.Errorf("kubelet exited; last lines of its log:\n%s", c.logTail(procKubelet, 15))
		}
		n, err := cs.CoreV1().Nodes().Get(ctx, c.NodeName(), metav1.GetOptions{})
		if err != nil {
			return false, "node not registered: " + err.Error(), nil
		}
		if !nodeReady(n) {
			return false, "node not Ready", nil
		}
		if _, err := cs.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			return false, "no default service account yet", nil
		}
		return true, "", nil
	})
}

func nodeReady(n *corev1.Node) bool {
	for _, cond := range n.Status.Conditions {
		if cond.Type == corev1.NodeReady {
			return cond.Status == corev1.ConditionTrue
		}
	}
	return false
}

// poll calls f until it is done, fails, or the timeout passes; the last
// reason f gave goes into the timeout error.
func poll(ctx context.Context, timeout time.Duration, f func() (bool, string, error)) error {
	deadline := time.Now().Add(timeout)
	for {
		done, why, err := f()
		if err != nil || done {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s: %s", timeout, why)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// hostPathVolumes lists the folders of the cluster's hostPath PVs, so Down
// can remove their data; empty when the API server is gone.
func (c *Cluster) hostPathVolumes(ctx context.Context) []string {
	if apiReady(c) != nil {
		return nil
	}
	cs, err := c.Client()
	if err != nil {
		return nil
	}
	pvs, err := cs.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil
	}
	var dirs []string
	for _, pv := range pvs.Items {
		if hp := pv.Spec.HostPath; hp != nil && strings.HasPrefix(hp.Path, "/tmp/hostpath_pv/") {
			dirs = append(dirs, hp.Path)
		}
	}
	return dirs
}
