//go:build envtest

package migrationctl_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/controller"
	"ferry.dev/ferry/internal/testenv"
)

// The tests run the whole controller (every reconciler, leader election)
// against a real API server without nodes. One Cluster, "local", is the
// API server itself; plans migrate a namespace into a renamed one. Mover
// pods are created but never run, so a plan with a claim stays in
// CopyVolumes until it is canceled. A deleted namespace goes without its
// contents (testenv.FinalizeNamespaces), so tests check the namespace.

const (
	ferryNS     = "ferry-system"
	localName   = "local"
	waitTimeout = 90 * time.Second
)

var (
	env       *testenv.Env
	setupOnce sync.Once
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// setup creates Ferry's namespace, a default storage class and the
// Cluster "local".
func setup(t *testing.T) {
	t.Helper()
	setupOnce.Do(func() {
		ctx := context.Background()
		for _, obj := range []client.Object{
			&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ferryNS}},
			&storagev1.StorageClass{ObjectMeta: metav1.ObjectMeta{Name: "standard",
				Annotations: map[string]string{"storageclass.kubernetes.io/is-default-class": "true"}}, Provisioner: "kubernetes.io/host-path"},
			&ferryv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: localName}, Spec: ferryv1.ClusterSpec{IsHost: true}},
		} {
			if err := env.Client.Create(ctx, obj); err != nil && !apierrors.IsAlreadyExists(err) {
				t.Fatalf("create %T: %v", obj, err)
			}
		}
	})
}

// startController runs the controller until the returned stop is called
// or the test ends.
func startController(t *testing.T) (stop func()) {
	t.Helper()
	setup(t)
	mgr, err := controller.NewManager(env.Config, controller.Options{Namespace: ferryNS, MoverImage: "ferry:envtest", ReleaseOnCancel: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	go env.FinalizeNamespaces(ctx)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("controller: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// app is a source namespace with a ConfigMap and, optionally, a claim and
// a Deployment.
type app struct {
	claim, deployment bool
}

func (a app) create(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	ns := "app-" + rand.String(6)
	objs := []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "settings"}, Data: map[string]string{"k": "v"}},
	}
	if a.claim {
		objs = append(objs, &corev1.PersistentVolumeClaim{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "data"},
			Spec: corev1.PersistentVolumeClaimSpec{AccessModes: []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
				StorageClassName: ptr.To("standard"),
				Resources:        corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceStorage: resource.MustParse("1Gi")}}}})
	}
	if a.deployment {
		labels := map[string]string{"app": "web"}
		objs = append(objs, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "web"},
			Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "web:1"}}}}}})
	}
	for _, o := range objs {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatalf("create %T %s: %v", o, o.GetName(), err)
		}
	}
	return ns
}

// createPlan creates a plan moving ns to ns-dst on the local cluster.
func createPlan(t *testing.T, ns string) *ferryv1.Plan {
	t.Helper()
	p := &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: "plan-" + rand.String(6)},
		Spec: ferryv1.PlanSpec{SourceCluster: localName, DestinationCluster: localName, Namespaces: []string{ns + ":" + ns + "-dst"}}}
	if err := env.Client.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	return p
}

// start creates a Migration of the plan.
func start(t *testing.T, plan string, typ ferryv1.MigrationType, quiesce *bool) string {
	t.Helper()
	m := &ferryv1.Migration{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, GenerateName: plan + "-"},
		Spec: ferryv1.MigrationSpec{Plan: plan, Type: typ, Quiesce: quiesce}}
	if err := env.Client.Create(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	return m.Name
}

func get(t *testing.T, name string) *ferryv1.Migration {
	t.Helper()
	var m ferryv1.Migration
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ferryNS, Name: name}, &m); err != nil {
		t.Fatalf("get migration %s: %v", name, err)
	}
	return &m
}

// eventually polls cond until it holds, or fails the test with what the
// last poll said.
func eventually(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(context.Background(), 200*time.Millisecond, waitTimeout, true, func(context.Context) (bool, error) {
		ok, state := cond()
		last = state
		return ok, nil
	})
	if err != nil {
		t.Fatalf("%s: not after %s; last: %s", what, waitTimeout, last)
	}
}

func describe(m *ferryv1.Migration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "phase %q", m.Status.Phase)
	for _, s := range m.Status.Itinerary {
		fmt.Fprintf(&b, "; %s %s %q", s.Name, s.Phase, s.Message)
	}
	for _, c := range m.Status.Conditions {
		fmt.Fprintf(&b, "; condition %s=%s %s %q", c.Type, c.Status, c.Reason, c.Message)
	}
	return b.String()
}

func waitPhase(t *testing.T, name string, phase ferryv1.MigrationPhase) *ferryv1.Migration {
	t.Helper()
	var m *ferryv1.Migration
	eventually(t, "migration "+name+" "+string(phase), func() (bool, string) {
		m = get(t, name)
		return m.Status.Phase == phase, describe(m)
	})
	return m
}

// waitStep waits until the migration's current step is name and running.
func waitStep(t *testing.T, name, step string) *ferryv1.Migration {
	t.Helper()
	var m *ferryv1.Migration
	eventually(t, "migration "+name+" in step "+step, func() (bool, string) {
		m = get(t, name)
		s := stepOf(m, step)
		return s != nil && s.Phase == ferryv1.StepRunning && s.Message != "", describe(m)
	})
	return m
}

func stepOf(m *ferryv1.Migration, name string) *ferryv1.Step {
	for i := range m.Status.Itinerary {
		if m.Status.Itinerary[i].Name == name {
			return &m.Status.Itinerary[i]
		}
	}
	return nil
}

// steps lists "Name=Phase" of an itinerary.
func steps(m *ferryv1.Migration) string {
	var out []string
	for _, s := range m.Status.Itinerary {
		out = append(out, s.Name+"="+string(s.Phase))
	}
	return strings.Join(out, " ")
}

func update(t *testing.T, name string, change func(*ferryv1.Migration)) {
	t.Helper()
	m := get(t, name)
	patch := client.MergeFrom(m.DeepCopy())
	change(m)
	if err := env.Client.Patch(context.Background(), m, patch); err != nil {
		t.Fatalf("patch migration %s: %v", name, err)
	}
}

// movers lists what the volume copy of a migration left on the cluster.
func movers(t *testing.T, migration string) []string {
	t.Helper()
	ctx := context.Background()
	sel := client.MatchingLabels{ferryv1.LabelMigration: migration, ferryv1.LabelManagedBy: ferryv1.ManagedByValue}
	var out []string
	var pods corev1.PodList
	var svcs corev1.ServiceList
	var secrets corev1.SecretList
	for _, l := range []client.ObjectList{&pods, &svcs, &secrets} {
		if err := env.Client.List(ctx, l, sel); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range pods.Items {
		out = append(out, "pod "+p.Namespace+"/"+p.Name)
	}
	for _, s := range svcs.Items {
		out = append(out, "service "+s.Namespace+"/"+s.Name)
	}
	for _, s := range secrets.Items {
		out = append(out, "secret "+s.Namespace+"/"+s.Name)
	}
	return out
}

func gone(t *testing.T, obj client.Object) (bool, string) {
	err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(obj), obj)
	if apierrors.IsNotFound(err) {
		return true, ""
	}
	return false, fmt.Sprintf("%s still exists (deletion %v, finalizers %v, err %v)", obj.GetName(), obj.GetDeletionTimestamp(), obj.GetFinalizers(), err)
}

func TestItineraryOfEachType(t *testing.T) {
	startController(t)
	ns := app{}.create(t)
	p := createPlan(t, ns)
	tests := []struct {
		typ     ferryv1.MigrationType
		quiesce *bool
		want    string
	}{
		{ferryv1.MigrationStage, nil, "Validate=Succeeded PrepareDestination=Succeeded CopyImages=Succeeded PrePullImages=Succeeded CopyVolumes=Succeeded CleanupMovers=Succeeded"},
		{ferryv1.MigrationCutover, ptr.To(false), "Validate=Succeeded PrepareDestination=Succeeded CopyImages=Succeeded PrePullImages=Succeeded Quiesce=Skipped WaitForQuiesce=Skipped " +
			"CopyVolumes=Succeeded StopMovers=Succeeded MigrateResources=Succeeded WaitForWorkloads=Succeeded CleanupMovers=Succeeded"},
		{ferryv1.MigrationRollback, nil, "Validate=Succeeded CleanupMovers=Succeeded DeleteFromDestination=Succeeded Unquiesce=Succeeded"},
	}
	for _, tt := range tests {
		t.Run(string(tt.typ), func(t *testing.T) {
			m := waitPhase(t, start(t, p.Name, tt.typ, tt.quiesce), ferryv1.MigrationSucceeded)
			if got := steps(m); got != tt.want {
				t.Errorf("itinerary\n got %s\nwant %s", got, tt.want)
			}
			c := meta.FindStatusCondition(m.Status.Conditions, ferryv1.ConditionSucceeded)
			if c == nil || c.Status != metav1.ConditionTrue || m.Status.CompletionTime == nil {
				t.Errorf("succeeded migration: %s", describe(m))
			}
			if meta.FindStatusCondition(m.Status.Conditions, ferryv1.ConditionFailed) != nil {
				t.Errorf("succeeded migration has a Failed condition: %s", describe(m))
			}
			for _, s := range m.Status.Itinerary {
				if s.Phase == ferryv1.StepSucceeded && (s.Started == nil || s.Completed == nil || s.Attempts != 1) {
					t.Errorf("step %s: started %v completed %v attempts %d", s.Name, s.Started, s.Completed, s.Attempts)
				}
			}
		})
	}
	if ok, state := gone(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns + "-dst"}}); !ok {
		t.Errorf("the rollback left the destination namespace: %s", state)
	}
}

func TestPlanMissingThenCreated(t *testing.T) {
	startController(t)
	ns := app{}.create(t)
	name := start(t, "plan-later-"+rand.String(4), ferryv1.MigrationStage, nil)
	eventually(t, "migration waits for its plan", func() (bool, string) {
		m := get(t, name)
		c := meta.FindStatusCondition(m.Status.Conditions, ferryv1.ConditionRunning)
		return m.Status.Phase == ferryv1.MigrationPending && c != nil && c.Reason == ferryv1.ReasonPlanNotFound &&
			strings.Contains(c.Message, "ferry plan create"), describe(m)
	})
	m := get(t, name)
	p := &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: m.Spec.Plan},
		Spec: ferryv1.PlanSpec{SourceCluster: localName, DestinationCluster: localName, Namespaces: []string{ns + ":" + ns + "-dst"}}}
	if err := env.Client.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	waitPhase(t, name, ferryv1.MigrationSucceeded)
}

func TestRetryFailedStep(t *testing.T) {
	startController(t)
	ns := "later-" + rand.String(6)
	p := createPlan(t, ns)
	name := start(t, p.Name, ferryv1.MigrationStage, nil)
	m := waitPhase(t, name, ferryv1.MigrationFailed)
	c := meta.FindStatusCondition(m.Status.Conditions, ferryv1.ConditionFailed)
	if c == nil || c.Reason != ferryv1.ReasonStepFailed || !strings.Contains(c.Message, "step Validate failed") ||
		!strings.Contains(c.Message, ferryv1.ReasonNamespaceNotFound) || !strings.Contains(c.Message, "ferry retry "+name) {
		t.Fatalf("failed migration: %s", describe(m))
	}
	if len(m.Status.Errors) != 1 || stepOf(m, "Validate").Phase != ferryv1.StepFailed {
		t.Fatalf("failed migration: errors %v; %s", m.Status.Errors, describe(m))
	}
	if err := env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	update(t, name, func(m *ferryv1.Migration) { m.Annotations = map[string]string{ferryv1.AnnotationRetry: "1"} })
	m = waitPhase(t, name, ferryv1.MigrationSucceeded)
	if v := stepOf(m, "Validate"); v.Attempts != 2 {
		t.Errorf("Validate ran %d times, want 2", v.Attempts)
	}
	if len(m.Status.Errors) != 0 || meta.FindStatusCondition(m.Status.Conditions, ferryv1.ConditionFailed) != nil {
		t.Errorf("retried migration keeps its failure: %s", describe(m))
	}
}

// TestCancel cancels migrations at the steps where they wait: Validate
// (behind another migration of the plan), CopyVolumes (movers that never
// run) and WaitForWorkloads (a Deployment that never becomes available).
func TestCancel(t *testing.T) {
	startController(t)
	t.Run("CopyVolumes", func(t *testing.T) {
		ns := app{claim: true}.create(t)
		p := createPlan(t, ns)
		copying := start(t, p.Name, ferryv1.MigrationStage, nil)
		waitStep(t, copying, "CopyVolumes")
		eventually(t, "mover pods created", func() (bool, string) {
			l := movers(t, copying)
			return len(l) >= 2, strings.Join(l, ", ")
		})
		t.Run("Validate", func(t *testing.T) {
			behind := start(t, p.Name, ferryv1.MigrationStage, nil)
			m := waitStep(t, behind, "Validate")
			if s := stepOf(m, "Validate"); !strings.Contains(s.Message, "waiting for migration "+copying) {
				t.Errorf("Validate says %q", s.Message)
			}
			update(t, behind, func(m *ferryv1.Migration) { m.Spec.Cancel = true })
			m = waitPhase(t, behind, ferryv1.MigrationCanceled)
			// It changed nothing, so there is nothing to undo.
			if got, want := steps(m), "Validate=Skipped PrepareDestination=Skipped CopyImages=Skipped PrePullImages=Skipped CopyVolumes=Skipped CleanupMovers=Skipped "+
				"CancelCleanupMovers=Skipped CancelDeleteCreated=Skipped CancelUnquiesce=Skipped"; got != want {
				t.Errorf("itinerary\n got %s\nwant %s", got, want)
			}
		})
		update(t, copying, func(m *ferryv1.Migration) { m.Spec.Cancel = true })
		waitPhase(t, copying, ferryv1.MigrationCanceled)
		if l := movers(t, copying); len(l) > 0 {
			t.Errorf("canceled migration left %s", strings.Join(l, ", "))
		}
		eventually(t, "destination namespace removed", func() (bool, string) {
			return gone(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns + "-dst"}})
		})
	})
	t.Run("WaitForWorkloads", func(t *testing.T) {
		ns := app{deployment: true}.create(t)
		p := createPlan(t, ns)
		name := start(t, p.Name, ferryv1.MigrationCutover, nil)
		waitStep(t, name, "WaitForWorkloads")
		var d appsv1.Deployment
		key := client.ObjectKey{Namespace: ns, Name: "web"}
		if err := env.Client.Get(context.Background(), key, &d); err != nil || *d.Spec.Replicas != 0 {
			t.Fatalf("source deployment not quiesced: replicas %v, err %v", d.Spec.Replicas, err)
		}
		update(t, name, func(m *ferryv1.Migration) { m.Spec.Cancel = true })
		waitPhase(t, name, ferryv1.MigrationCanceled)
		if err := env.Client.Get(context.Background(), key, &d); err != nil || *d.Spec.Replicas != 2 || d.Annotations[ferryv1.AnnotationQuiescedBy] != "" {
			t.Errorf("source deployment not restored: replicas %v, annotations %v, err %v", d.Spec.Replicas, d.Annotations, err)
		}
		eventually(t, "destination namespace removed", func() (bool, string) {
			return gone(t, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns + "-dst"}})
		})
	})
}

// TestDeleteRunningMigration deletes a Migration while it copies: its
// finalizer runs the cancel steps, then lets it go.
func TestDeleteRunningMigration(t *testing.T) {
	startController(t)
	ns := app{claim: true, deployment: true}.create(t)
	p := createPlan(t, ns)
	name := start(t, p.Name, ferryv1.MigrationCutover, nil)
	m := waitStep(t, name, "CopyVolumes")
	if len(m.Finalizers) == 0 {
		t.Fatalf("running migration has no finalizer")
	}
	if err := env.Client.Delete(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	eventually(t, "deleted migration gone", func() (bool, string) { return gone(t, &ferryv1.Migration{ObjectMeta: m.ObjectMeta}) })
	if l := movers(t, name); len(l) > 0 {
		t.Errorf("deleted migration left %s", strings.Join(l, ", "))
	}
	var d appsv1.Deployment
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "web"}, &d); err != nil || *d.Spec.Replicas != 2 {
		t.Errorf("source deployment not restored: replicas %v, err %v", d.Spec.Replicas, err)
	}
}

// TestDeletePlan deletes a plan with a running migration: the migration
// is undone and deleted first, then the plan goes.
func TestDeletePlan(t *testing.T) {
	startController(t)
	p := createPlan(t, app{}.create(t))
	// A finished migration of the plan goes too, without undoing anything.
	finished := start(t, p.Name, ferryv1.MigrationStage, nil)
	waitPhase(t, finished, ferryv1.MigrationSucceeded)
	withClaim := createPlan(t, app{claim: true}.create(t))
	running := start(t, withClaim.Name, ferryv1.MigrationStage, nil)
	waitStep(t, running, "CopyVolumes")
	for _, plan := range []*ferryv1.Plan{p, withClaim} {
		eventually(t, "plan "+plan.Name+" has its finalizer", func() (bool, string) {
			err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(plan), plan)
			return err == nil && len(plan.Finalizers) > 0, fmt.Sprintf("finalizers %v, err %v", plan.Finalizers, err)
		})
		if err := env.Client.Delete(context.Background(), plan); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "plans gone", func() (bool, string) {
		ok1, s1 := gone(t, &ferryv1.Plan{ObjectMeta: p.ObjectMeta})
		ok2, s2 := gone(t, &ferryv1.Plan{ObjectMeta: withClaim.ObjectMeta})
		return ok1 && ok2, s1 + s2
	})
	for _, n := range []string{finished, running} {
		if ok, state := gone(t, &ferryv1.Migration{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: n}}); !ok {
			t.Errorf("migration of a deleted plan: %s", state)
		}
		if l := movers(t, n); len(l) > 0 {
			t.Errorf("migration %s of the deleted plan left %s", n, strings.Join(l, ", "))
		}
	}
}

// TestResumeAfterRestart stops the controller in the middle of a step;
// the next controller resumes the step as a new attempt.
func TestResumeAfterRestart(t *testing.T) {
	stop := startController(t)
	ns := app{claim: true}.create(t)
	p := createPlan(t, ns)
	name := start(t, p.Name, ferryv1.MigrationStage, nil)
	m := waitStep(t, name, "CopyVolumes")
	if n := stepOf(m, "CopyVolumes").Attempts; n != 1 {
		t.Fatalf("CopyVolumes attempt %d, want 1", n)
	}
	stop()
	startController(t)
	eventually(t, "CopyVolumes resumed", func() (bool, string) {
		m = get(t, name)
		s := stepOf(m, "CopyVolumes")
		return s.Phase == ferryv1.StepRunning && s.Attempts == 2, describe(m)
	})
	for _, s := range m.Status.Itinerary[:2] {
		if s.Attempts != 1 || s.Phase != ferryv1.StepSucceeded {
			t.Errorf("step %s ran again after the restart: %s, %d attempts", s.Name, s.Phase, s.Attempts)
		}
	}
	update(t, name, func(m *ferryv1.Migration) { m.Spec.Cancel = true })
	waitPhase(t, name, ferryv1.MigrationCanceled)
}

// TestDeleteMigrationThatChangedNothing deletes a migration that failed
// in Validate (its plan names a cluster that is not registered): it goes
// at once, though its cancel steps could not reach the cluster.
func TestDeleteMigrationThatChangedNothing(t *testing.T) {
	startController(t)
	p := &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: "plan-" + rand.String(6)},
		Spec: ferryv1.PlanSpec{SourceCluster: "nosuch", DestinationCluster: localName, Namespaces: []string{"a:b"}}}
	if err := env.Client.Create(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	m := waitPhase(t, start(t, p.Name, ferryv1.MigrationCutover, nil), ferryv1.MigrationFailed)
	if err := env.Client.Delete(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	eventually(t, "plan and migration gone", func() (bool, string) {
		ok1, s1 := gone(t, &ferryv1.Plan{ObjectMeta: p.ObjectMeta})
		ok2, s2 := gone(t, &ferryv1.Migration{ObjectMeta: m.ObjectMeta})
		return ok1 && ok2, s1 + s2
	})
}

// TestOneMigrationAtATime starts two migrations of a plan at once: one
// claims the plan and copies, the other waits in Validate, also when both
// were created in the same second.
func TestOneMigrationAtATime(t *testing.T) {
	startController(t)
	p := createPlan(t, app{claim: true}.create(t))
	a, b := start(t, p.Name, ferryv1.MigrationStage, nil), start(t, p.Name, ferryv1.MigrationCutover, nil)
	var copying, waiting string
	eventually(t, "one migration copies", func() (bool, string) {
		ma, mb := get(t, a), get(t, b)
		running := func(m *ferryv1.Migration) bool {
			s := stepOf(m, "CopyVolumes")
			return s != nil && s.Phase == ferryv1.StepRunning
		}
		switch {
		case running(ma):
			copying, waiting = a, b
		case running(mb):
			copying, waiting = b, a
		}
		return copying != "", describe(ma) + " / " + describe(mb)
	})
	time.Sleep(3 * time.Second) // the other has had time to pass Validate, if it could
	m := get(t, waiting)
	if v := stepOf(m, "Validate"); v.Phase != ferryv1.StepRunning || !strings.Contains(v.Message, "waiting for migration "+copying) {
		t.Errorf("%s passed Validate while %s copies: %s", waiting, copying, describe(m))
	}
	if err := env.Client.Get(context.Background(), client.ObjectKeyFromObject(p), p); err != nil || p.Status.ActiveMigration != copying {
		t.Errorf("plan's active migration %q, want %s (err %v)", p.Status.ActiveMigration, copying, err)
	}
	update(t, copying, func(m *ferryv1.Migration) { m.Spec.Cancel = true })
	waitPhase(t, copying, ferryv1.MigrationCanceled)
	waitStep(t, waiting, "CopyVolumes")
	update(t, waiting, func(m *ferryv1.Migration) { m.Spec.Cancel = true })
	waitPhase(t, waiting, ferryv1.MigrationCanceled)
}

// TestRollbackOfNothing rolls back a plan that never ran: it succeeds,
// saying there was nothing to roll back.
func TestRollbackOfNothing(t *testing.T) {
	startController(t)
	p := createPlan(t, app{}.create(t))
	m := waitPhase(t, start(t, p.Name, ferryv1.MigrationRollback, nil), ferryv1.MigrationSucceeded)
	if v := stepOf(m, "Validate"); !strings.Contains(v.Message, "nothing to roll back") {
		t.Errorf("Validate says %q", v.Message)
	}
}

// TestStatePlanAppliesNothingElse runs a State plan's cutover and
// rollback into a destination namespace a GitOps tool made: it ends with
// HandOver, applies none of the source's other objects, and leaves the
// destination's own objects and namespace alone, rollback included.
func TestStatePlanAppliesNothingElse(t *testing.T) {
	startController(t)
	ctx := context.Background()
	ns := app{deployment: true}.create(t)
	dstNS := ns + "-dst"
	own := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: dstNS, Name: "gitops-config"}, Data: map[string]string{"k": "mine"}}
	for _, o := range []client.Object{&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: dstNS}}, own} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	p := &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: "state-" + rand.String(6)},
		Spec: ferryv1.PlanSpec{Type: ferryv1.PlanState, SourceCluster: localName, DestinationCluster: localName, Namespaces: []string{ns + ":" + dstNS}}}
	if err := env.Client.Create(ctx, p); err != nil {
		t.Fatal(err)
	}
	m := waitPhase(t, start(t, p.Name, ferryv1.MigrationCutover, ptr.To(false)), ferryv1.MigrationSucceeded)
	want := "Validate=Succeeded PrepareDestination=Succeeded Quiesce=Skipped WaitForQuiesce=Skipped CopyVolumes=Succeeded CleanupMovers=Succeeded HandOver=Succeeded"
	if got := steps(m); got != want {
		t.Errorf("itinerary\n got %s\nwant %s", got, want)
	}
	if s := stepOf(m, "HandOver"); s == nil || !strings.Contains(s.Message, "start the application on cluster "+localName) {
		t.Errorf("HandOver step: %+v", s)
	}
	for _, o := range []client.Object{&corev1.ConfigMap{}, &appsv1.Deployment{}} {
		key := client.ObjectKey{Namespace: dstNS, Name: "settings"}
		if _, ok := o.(*appsv1.Deployment); ok {
			key.Name = "web"
		}
		if err := env.Client.Get(ctx, key, o); !apierrors.IsNotFound(err) {
			t.Errorf("%T %s applied on the destination by a State plan (%v)", o, key, err)
		}
	}
	waitPhase(t, start(t, p.Name, ferryv1.MigrationRollback, nil), ferryv1.MigrationSucceeded)
	var got corev1.ConfigMap
	if err := env.Client.Get(ctx, client.ObjectKeyFromObject(own), &got); err != nil || got.Data["k"] != "mine" {
		t.Errorf("the destination's own ConfigMap after rollback: %+v, %v", got.Data, err)
	}
	var nsObj corev1.Namespace
	if err := env.Client.Get(ctx, client.ObjectKey{Name: dstNS}, &nsObj); err != nil || nsObj.DeletionTimestamp != nil {
		t.Errorf("the destination namespace, not Ferry's, after rollback: %v (deleting %v)", err, nsObj.DeletionTimestamp)
	}
}

// TestCutoverRecordsDowntime: a cutover that quiesces records when the
// source began to stop and when the destination was available, and says
// how long the application was down; one that does not quiesce knows no
// downtime.
func TestCutoverRecordsDowntime(t *testing.T) {
	startController(t)
	for _, tt := range []struct {
		name    string
		quiesce *bool
		want    bool
	}{{"quiesced", nil, true}, {"not quiesced", ptr.To(false), false}} {
		t.Run(tt.name, func(t *testing.T) {
			p := createPlan(t, app{}.create(t))
			m := waitPhase(t, start(t, p.Name, ferryv1.MigrationCutover, tt.quiesce), ferryv1.MigrationSucceeded)
			d, ok := m.Downtime()
			if ok != tt.want || d < 0 {
				t.Fatalf("downtime %s, known %v; want known %v (%+v, %+v)", d, ok, tt.want, m.Status.SourceStopped, m.Status.DestinationAvailable)
			}
			// The status keeps the times to the microsecond: what it says
			// is what the step said.
			if s := stepOf(m, "WaitForWorkloads"); tt.want && !strings.Contains(s.Message, "the application was down for "+d.Round(10*time.Millisecond).String()) {
				t.Errorf("WaitForWorkloads message %q does not say the downtime of the status, %s", s.Message, d)
			}
			waitPhase(t, start(t, p.Name, ferryv1.MigrationRollback, nil), ferryv1.MigrationSucceeded)
		})
	}
}
