//go:build envtest

package migrate

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/rand"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/kustomize"
	"ferry.dev/ferry/internal/resources/transform"
)

// TestExportAppliesAsRunEnvtest exports a namespace as a kustomize
// directory, applies it with kubectl apply -k into one namespace and
// migrates it with Run into another: both hold the same objects. Diff then
// finds the exported namespace unchanged, and names a field changed there
// behind its back.
func TestExportAppliesAsRunEnvtest(t *testing.T) {
	kubectl := filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Fatalf("kubectl of the test bed: %v", err)
	}
	ctx := context.Background()
	c, err := cluster.NewClients("one", env.Config)
	if err != nil {
		t.Fatal(err)
	}
	shop := "shop-" + rand.String(5)
	createAll(t, shopObjects(t, shop)...)
	options := func(dest string, marks map[string]string) Options {
		scope := Scope{Namespaces: []NamespaceMapping{{Source: shop, Destination: dest}}}
		return Options{Source: Source{Discovery: c.Kube.Discovery(), Dynamic: c.Dynamic},
			Destination: Destination{Discovery: c.Kube.Discovery(), Dynamic: c.Dynamic, Metadata: c.Metadata},
			Scope:       scope, Plan: "p1",
			Transform: transform.Context{NamespaceMap: Map(scope.Namespaces), Labels: marks, Claims: transform.ClaimsByName([]ferryv1.PlanPVC{
				{Namespace: shop, Name: "data", Action: ferryv1.PVCActionCopy, TargetNamespace: dest, TargetName: "data"},
				{Namespace: shop, Name: "cache", Action: ferryv1.PVCActionSkip, TargetNamespace: dest, TargetName: "cache"},
			})}}
	}

	dir := filepath.Join(t.TempDir(), "export")
	out, err := kustomize.Create(dir)
	if err != nil {
		t.Fatal(err)
	}
	gitops := shop + "-gitops"
	report, err := Export(ctx, options(gitops, nil), out.Add)
	if err == nil {
		err = out.Close()
	}
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := env.WriteKubeconfig(kubeconfig); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(kubectl, "--kubeconfig", kubeconfig, "apply", "-k", dir).CombinedOutput(); err != nil {
		t.Fatalf("kubectl apply -k: %v\n%s", err, b)
	}
	byFerry := shop + "-ferry"
	if _, err := Run(ctx, options(byFerry, map[string]string{ferryv1.LabelPlan: "p1"})); err != nil {
		t.Fatal(err)
	}
	got, want := contents(t, gitops), contents(t, byFerry)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("kubectl apply -k of the export made\n%v\nRun made\n%v", got, want)
	}
	if n := report.Applied(); n != len(want)+1 { // the namespace too
		t.Errorf("export wrote %d objects, Run applied %d besides the namespace", n, len(want))
	}

	changes, err := Diff(ctx, options(gitops, nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range changes {
		if ch.Action != ferryv1.ObjectUnchanged && ch.Action != ferryv1.ObjectSkipped {
			t.Errorf("diff of the unchanged export: %s %s/%s %s\n%s", ch.Kind, ch.Namespace, ch.Name, ch.Action, ch.Diff)
		}
	}
	var web appsv1.Deployment
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: gitops, Name: "web"}, &web); err != nil {
		t.Fatal(err)
	}
	web.Spec.Template.Spec.Containers[0].Image = "web:2"
	if err := env.Client.Update(ctx, &web); err != nil {
		t.Fatal(err)
	}
	changes, err = Diff(ctx, options(gitops, nil))
	if err != nil {
		t.Fatal(err)
	}
	var changed []string
	for _, ch := range changes {
		if ch.Action == ferryv1.ObjectUpdated {
			changed = append(changed, ch.Kind+" "+ch.Name)
			if !strings.Contains(ch.Diff, "-      - image: web:2") || !strings.Contains(ch.Diff, "+      - image: web:1") {
				t.Errorf("diff of %s does not show the image:\n%s", ch.Name, ch.Diff)
			}
		}
	}
	if !reflect.DeepEqual(changed, []string{"Deployment.apps web"}) {
		t.Errorf("changed objects = %v, want the Deployment web alone", changed)
	}
}

// contents lists what the namespace holds of the kinds shopObjects makes,
// as "Kind name: spec" without what differs by namespace or by writer.
func contents(t *testing.T, ns string) []string {
	t.Helper()
	ctx := context.Background()
	var out []string
	var cms corev1.ConfigMapList
	var sas corev1.ServiceAccountList
	var deps appsv1.DeploymentList
	var pvcs corev1.PersistentVolumeClaimList
	for _, l := range []client.ObjectList{&cms, &sas, &deps, &pvcs} {
		if err := env.Client.List(ctx, l, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range cms.Items {
		if o.Name != "kube-root-ca.crt" {
			out = append(out, "ConfigMap "+o.Name)
		}
	}
	for _, o := range sas.Items {
		out = append(out, "ServiceAccount "+o.Name)
	}
	for _, o := range deps.Items {
		out = append(out, "Deployment "+o.Name+": "+o.Spec.Template.Spec.Containers[0].Image+" "+metav1.FormatLabelSelector(o.Spec.Selector))
	}
	for _, o := range pvcs.Items {
		out = append(out, "PersistentVolumeClaim "+o.Name+": "+o.Spec.Resources.Requests.Storage().String())
	}
	return out
}
