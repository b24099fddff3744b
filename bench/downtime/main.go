// Command downtime measures, on the local clusters, how long an
// application is down in a cutover after one stage, for each plan type:
// the sample app (a Deployment writing to its claim every 50 ms) moved by
// a Full plan (src to dst), a State plan (src to dst; the downtime ends
// when the final copy ends, as the application is then the user's to
// start) and a StorageConversion (within src, standard to fast). The
// figures come from the Migration's status (status.sourceStopped,
// status.destinationAvailable and the steps' times) through a real
// `ferry controller` process.
//
//	go run ./bench/downtime -rounds 3
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/bench/internal/testbed"
)

type env struct {
	repo, ferry string
	src, dst    kubernetes.Interface
	host        client.Client
	image       string
	registry    map[string]string
}

// kind is one plan type's cutover to measure.
type kind struct {
	name string
	args func(ns string, e *env) []string
	// end is when the downtime ends, from the cutover's status.
	end func(m *ferryv1.Migration) time.Time
}

var kinds = []kind{
	{"Full", func(ns string, e *env) []string {
		return []string{"--from", "src", "--to", "dst", "-n", ns, "--registry-rewrite", e.registry["src"] + "/=" + e.registry["dst"] + "/"}
	}, available},
	{"State", func(ns string, _ *env) []string {
		return []string{"--type", "state", "--from", "src", "--to", "dst", "-n", ns}
	}, stepEnd("CopyVolumes")},
	{"StorageConversion", func(ns string, _ *env) []string {
		return []string{"--type", "storage-conversion", "--from", "src", "--to", "src", "-n", ns, "--storage-class-map", "standard=fast"}
	}, available},
}

func available(m *ferryv1.Migration) time.Time {
	if m.Status.DestinationAvailable == nil {
		return time.Time{}
	}
	return m.Status.DestinationAvailable.Time
}

func stepEnd(name string) func(m *ferryv1.Migration) time.Time {
	return func(m *ferryv1.Migration) time.Time {
		for _, s := range m.Status.Itinerary {
			if s.Name == name && s.Completed != nil {
				return s.Completed.Time
			}
		}
		return time.Time{}
	}
}

func main() {
	rounds := flag.Int("rounds", 3, "cutovers per plan type")
	flag.Parse()
	e, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
	stop, err := e.controller()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
	defer stop()
	fmt.Println("| plan type | downtime, median (min-max) | final copy (CopyVolumes) | steps of the median cutover inside the downtime |")
	fmt.Println("|---|---|---|---|")
	for _, k := range kinds {
		var runs []run
		for i := range *rounds {
			r, err := e.measure(k, i)
			if err != nil {
				fmt.Fprintln(os.Stderr, "Error:", err)
				os.Exit(1)
			}
			runs = append(runs, r)
			fmt.Fprintf(os.Stderr, "%s round %d: downtime %.2fs\n", k.name, i+1, r.downtime.Seconds())
		}
		sort.Slice(runs, func(i, j int) bool { return runs[i].downtime < runs[j].downtime })
		med := runs[len(runs)/2]
		fmt.Printf("| %s | %.2f s (%.2f-%.2f) | %.2f s | %s |\n", k.name, med.downtime.Seconds(), runs[0].downtime.Seconds(),
			runs[len(runs)-1].downtime.Seconds(), med.copy.Seconds(), med.steps)
	}
}

type run struct {
	downtime, copy time.Duration
	steps          string
}

func setup() (*env, error) {
	repo, err := filepath.Abs(".")
	if err != nil {
		return nil, err
	}
	e := &env{repo: repo, ferry: filepath.Join(repo, "bin", "ferry"), registry: map[string]string{}}
	if out, err := exec.Command("go", "build", "-o", e.ferry, "./cmd/ferry").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build ferry: %v: %s", err, out)
	}
	b, err := testbed.Connect(repo)
	if err != nil {
		return nil, err
	}
	e.src, e.dst, e.host, e.registry = b.Src, b.Dst, b.Host, b.Registry
	if e.image, err = b.Image("sampleapp"); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *env) file(cluster, name string) string {
	return testbed.File(e.repo, cluster, name)
}

// controller starts `ferry controller` on the host (dst), registers both
// clusters, and returns how to stop it.
func (e *env) controller() (func(), error) {
	ctrl := exec.Command(e.ferry, "controller", "--kubeconfig", e.file("dst", "kubeconfig"))
	var log bytes.Buffer
	ctrl.Stdout, ctrl.Stderr = &log, &log
	if err := ctrl.Start(); err != nil {
		return nil, err
	}
	stop := func() { _ = ctrl.Process.Signal(os.Interrupt); _ = ctrl.Wait() }
	for i := 0; i < 120 && !strings.Contains(strings.ToLower(log.String()), "successfully acquired lease"); i++ {
		time.Sleep(500 * time.Millisecond)
	}
	for _, c := range []string{"src", "dst"} {
		if _, err := e.run("cluster", "add", c, "--kubeconfig", e.file(c, "kubeconfig"), "--host-kubeconfig", e.file("dst", "kubeconfig")); err != nil {
			stop()
			return nil, err
		}
	}
	return stop, nil
}

func (e *env) run(args ...string) (string, error) {
	if args[0] != "cluster" {
		args = append(args, "--kubeconfig", e.file("dst", "kubeconfig"))
	}
	out, err := exec.Command(e.ferry, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ferry %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// measure runs the sample app in a fresh namespace, stages once, cuts
// over, reads the downtime and rolls back.
func (e *env) measure(k kind, i int) (run, error) {
	ctx := context.Background()
	ns := fmt.Sprintf("bench-downtime-%s-%d", strings.ToLower(k.name), i)
	plan := ns
	defer e.cleanup(plan, ns)
	if err := e.sampleApp(ctx, ns); err != nil {
		return run{}, err
	}
	if _, err := e.run(append([]string{"plan", "create", plan}, k.args(ns, e)...)...); err != nil {
		return run{}, err
	}
	if _, err := e.run("stage", plan, "--wait"); err != nil {
		return run{}, err
	}
	time.Sleep(2 * time.Second) // the app writes on between the stage and the cutover
	out, err := e.run("cutover", plan, "--wait")
	if err != nil {
		return run{}, err
	}
	m, err := e.migration(ctx, out)
	if err != nil {
		return run{}, err
	}
	if m.Status.SourceStopped == nil || k.end(m).IsZero() {
		return run{}, fmt.Errorf("cutover %s recorded no downtime: %+v", m.Name, m.Status)
	}
	start, end := m.Status.SourceStopped.Time, k.end(m)
	r := run{downtime: end.Sub(start)}
	var steps []string
	for _, s := range m.Status.Itinerary {
		if s.Started == nil || s.Completed == nil || s.Completed.Time.Before(start) || s.Started.Time.After(end) {
			continue
		}
		d := s.Completed.Sub(s.Started.Time)
		if s.Name == "CopyVolumes" {
			r.copy = d
		}
		steps = append(steps, fmt.Sprintf("%s %.2f s", s.Name, d.Seconds()))
	}
	r.steps = strings.Join(steps, ", ")
	if _, err := e.run("rollback", plan, "--wait"); err != nil {
		return run{}, err
	}
	return r, nil
}

func (e *env) migration(ctx context.Context, out string) (*ferryv1.Migration, error) {
	name := ""
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "migration" && f[2] == "created" {
			name = f[1]
		}
	}
	var m ferryv1.Migration
	if err := e.host.Get(ctx, client.ObjectKey{Namespace: "ferry-system", Name: name}, &m); err != nil {
		return nil, fmt.Errorf("migration %q: %w", name, err)
	}
	return &m, nil
}

// sampleApp creates namespace ns on src with the sample app writing to
// its claim every 50 ms, and waits until it is available.
func (e *env) sampleApp(ctx context.Context, ns string) error {
	if _, err := e.src.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		return err
	}
	pvc := &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Name: "data"}, Spec: corev1.PersistentVolumeClaimSpec{
		StorageClassName: ptr.To("standard"), AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
		Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}}
	if _, err := e.src.CoreV1().PersistentVolumeClaims(ns).Create(ctx, pvc, metav1.CreateOptions{}); err != nil {
		return err
	}
	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
		Strategy: appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](1),
			Containers: []corev1.Container{{Name: "web", Image: e.image,
				Env:          []corev1.EnvVar{{Name: "WRITE_INTERVAL", Value: "50ms"}},
				VolumeMounts: []corev1.VolumeMount{{Name: "data", MountPath: "/data"}}}},
			Volumes: []corev1.Volume{{Name: "data", VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: "data"}}}}}}}}
	if _, err := e.src.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
		return err
	}
	for range 240 {
		got, err := e.src.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
		if err == nil && got.Status.AvailableReplicas == 1 {
			time.Sleep(2 * time.Second) // some data before the stage
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("sample app in %s not available", ns)
}

// cleanup deletes the plan (its migrations) and the namespace on both
// clusters, and waits until they are gone.
func (e *env) cleanup(plan, ns string) {
	_, _ = e.run("plan", "delete", plan, "--wait")
	ctx := context.Background()
	for _, cs := range []kubernetes.Interface{e.src, e.dst} {
		_ = cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	}
	for _, cs := range []kubernetes.Interface{e.src, e.dst} {
		for range 240 {
			if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
	}
}
