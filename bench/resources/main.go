// Command resources benchmarks Ferry's resource migration on the local
// clusters: N ConfigMaps of 1 KiB in one namespace, migrated by a cutover
// through a real `ferry controller` process, against the API server's own
// create rate measured in the same run by a plain parallel client-go loop.
// It also reports the controller's peak RSS and the cutover's step times.
//
//	go run ./bench/resources -n 10000 -n 50000
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
)

type sizes []int

func (s *sizes) String() string { return fmt.Sprint(*s) }
func (s *sizes) Set(v string) error {
	n, err := strconv.Atoi(v)
	*s = append(*s, n)
	return err
}

type env struct {
	repo, ferry string
	src, dst    kubernetes.Interface
	host        client.Client
}

func main() {
	var ns sizes
	flag.Var(&ns, "n", "number of ConfigMaps (repeat for several runs)")
	workers := flag.Int("workers", 32, "parallel requests of the raw client-go loop")
	flag.Parse()
	if len(ns) == 0 {
		ns = sizes{10000}
	}
	e, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(1)
	}
	fmt.Println("| objects | raw client-go create (objects/s) | ferry cutover (objects/s) | ratio | MigrateResources (s) | cutover total (s) | controller peak RSS (MiB) |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, n := range ns {
		if err := e.round(n, *workers); err != nil {
			fmt.Fprintln(os.Stderr, "Error:", err)
			os.Exit(1)
		}
	}
}

func setup() (*env, error) {
	repo, err := filepath.Abs(".")
	if err != nil {
		return nil, err
	}
	e := &env{repo: repo, ferry: filepath.Join(repo, "bin", "ferry")}
	if out, err := exec.Command("go", "build", "-o", e.ferry, "./cmd/ferry").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build ferry: %v: %s", err, out)
	}
	for _, c := range []struct {
		name string
		into *kubernetes.Interface
	}{{"src", &e.src}, {"dst", &e.dst}} {
		cfg, err := clientcmd.BuildConfigFromFlags("", e.kubeconfig(c.name))
		if err != nil {
			return nil, fmt.Errorf("cluster %s (run make clusters-up): %w", c.name, err)
		}
		cfg.QPS, cfg.Burst = 5000, 10000
		if *c.into, err = kubernetes.NewForConfig(cfg); err != nil {
			return nil, err
		}
		if c.name == "dst" {
			if e.host, err = client.New(cfg, client.Options{Scheme: cluster.Scheme()}); err != nil {
				return nil, err
			}
		}
	}
	return e, nil
}

func (e *env) kubeconfig(name string) string {
	return filepath.Join(e.repo, ".localclusters", name, "kubeconfig")
}

// round measures one size: raw rate on dst, then a cutover of the same
// number of objects from src.
func (e *env) round(n, workers int) error {
	ctx := context.Background()
	srcNS, rawNS := fmt.Sprintf("bench-%d", n), fmt.Sprintf("bench-raw-%d", n)
	defer e.cleanup(srcNS, rawNS)
	fmt.Fprintf(os.Stderr, "creating %d ConfigMaps on src\n", n)
	if _, err := createMany(ctx, e.src, srcNS, n, workers); err != nil {
		return err
	}
	raw, err := createMany(ctx, e.dst, rawNS, n, workers)
	if err != nil {
		return err
	}
	rawRate := float64(n) / raw.Seconds()
	if err := deleteNamespace(ctx, e.dst, rawNS); err != nil {
		return err
	}
	res, err := e.cutover(srcNS)
	if err != nil {
		return err
	}
	rate := float64(n) / res.migrate.Seconds()
	fmt.Printf("| %d | %.0f | %.0f | %.2f | %.1f | %.1f | %.0f |\n", n, rawRate, rate, rate/rawRate,
		res.migrate.Seconds(), res.total.Seconds(), float64(res.peakKiB)/1024)
	for _, s := range res.steps {
		fmt.Fprintf(os.Stderr, "  %-20s %6.2fs %s\n", s.Name, s.Completed.Sub(s.Started.Time).Seconds(), s.Message)
	}
	return nil
}

// createMany creates n ConfigMaps of 1 KiB in ns with parallel workers
// and returns the time taken.
func createMany(ctx context.Context, cs kubernetes.Interface, ns string, n, workers int) (time.Duration, error) {
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return 0, err
	}
	data := strings.Repeat("x", 1024)
	work := make(chan int, workers)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cm-%06d", i)}, Data: map[string]string{"v": data}}
				if _, err := cs.CoreV1().ConfigMaps(ns).Create(ctx, cm, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	return time.Since(start), firstErr
}

type result struct {
	migrate, total time.Duration
	peakKiB        int
	steps          []ferryv1.Step
}

// cutover runs `ferry controller` and `ferry cutover --wait` and reads the
// controller's peak RSS (VmHWM) before stopping it.
func (e *env) cutover(ns string) (*result, error) {
	ctrl := exec.Command(e.ferry, "controller", "--kubeconfig", e.kubeconfig("dst"))
	var log bytes.Buffer
	ctrl.Stdout, ctrl.Stderr = &log, &log
	if err := ctrl.Start(); err != nil {
		return nil, err
	}
	defer func() { _ = ctrl.Process.Signal(os.Interrupt); _ = ctrl.Wait() }()
	run := func(args ...string) (string, error) {
		cmd := exec.Command(e.ferry, append(args, "--kubeconfig", e.kubeconfig("dst"))...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return string(out), fmt.Errorf("ferry %s: %v: %s", strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	for i := 0; i < 60 && !strings.Contains(strings.ToLower(log.String()), "successfully acquired lease"); i++ {
		time.Sleep(500 * time.Millisecond)
	}
	for _, c := range []string{"src", "dst"} {
		cmd := exec.Command(e.ferry, "cluster", "add", c, "--kubeconfig", e.kubeconfig(c), "--host-kubeconfig", e.kubeconfig("dst"))
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("cluster add %s: %v: %s", c, err, out)
		}
	}
	if _, err := run("plan", "create", ns, "--from", "src", "--to", "dst", "-n", ns); err != nil {
		return nil, err
	}
	out, err := run("cutover", ns, "--wait")
	if err != nil {
		return nil, err
	}
	name := ""
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 3 && f[0] == "migration" {
			name = f[1]
		}
	}
	var m ferryv1.Migration
	if err := e.host.Get(context.Background(), client.ObjectKey{Namespace: "ferry-system", Name: name}, &m); err != nil {
		return nil, err
	}
	res := &result{peakKiB: peakRSS(ctrl.Process.Pid), steps: m.Status.Itinerary,
		total: m.Status.CompletionTime.Sub(m.Status.StartTime.Time)}
	for _, s := range m.Status.Itinerary {
		if s.Name == "MigrateResources" {
			res.migrate = s.Completed.Sub(s.Started.Time)
		}
	}
	if _, err := run("rollback", ns, "--wait"); err != nil {
		return nil, err
	}
	return res, nil
}

// peakRSS reads a process's peak resident set size in KiB.
func peakRSS(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}

func deleteNamespace(ctx context.Context, cs kubernetes.Interface, ns string) error {
	err := cs.CoreV1().Namespaces().Delete(ctx, ns, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	for i := 0; i < 600; i++ {
		if _, err := cs.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); apierrors.IsNotFound(err) {
			return nil
		}
		time.Sleep(500 * time.Millisecond)
	}
	return fmt.Errorf("namespace %s not deleted", ns)
}

func (e *env) cleanup(srcNS, rawNS string) {
	ctx := context.Background()
	_ = deleteNamespace(ctx, e.src, srcNS)
	_ = deleteNamespace(ctx, e.dst, rawNS)
	_ = e.host.DeleteAllOf(ctx, &ferryv1.Migration{}, client.InNamespace("ferry-system"), client.MatchingLabels{ferryv1.LabelPlan: srcNS})
	_ = e.host.Delete(ctx, &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Namespace: "ferry-system", Name: srcNS}})
}
