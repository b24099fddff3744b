package console

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
)

// Bounds of the debug view, so that a large migration stays quick.
const (
	debugMaxObjects = 300 // per cluster
	debugLogLines   = 50  // per pod container
	debugMaxEvents  = 20  // per object
)

// debugKind is a kind the debug view looks for.
type debugKind struct {
	kind       string
	gvr        schema.GroupVersionResource
	namespaced bool
}

// debugKinds are the kinds a migration creates or changes, in the order
// the view lists them (namespaces first; Secrets last, as Ferry may read
// them only in the plan's namespaces).
var debugKinds = []debugKind{
	{"Namespace", corev1.SchemeGroupVersion.WithResource("namespaces"), false},
	{"PersistentVolumeClaim", corev1.SchemeGroupVersion.WithResource("persistentvolumeclaims"), true},
	{"PersistentVolume", corev1.SchemeGroupVersion.WithResource("persistentvolumes"), false},
	{"Pod", corev1.SchemeGroupVersion.WithResource("pods"), true},
	{"Service", corev1.SchemeGroupVersion.WithResource("services"), true},
	{"ConfigMap", corev1.SchemeGroupVersion.WithResource("configmaps"), true},
	{"ServiceAccount", corev1.SchemeGroupVersion.WithResource("serviceaccounts"), true},
	{"Job", schema.GroupVersionResource{Group: "batch", Version: "v1", Resource: "jobs"}, true},
	{"Deployment", schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}, true},
	{"StatefulSet", schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "statefulsets"}, true},
	{"Ingress", schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"}, true},
	{"Route", schema.GroupVersionResource{Group: "route.openshift.io", Version: "v1", Resource: "routes"}, true},
	{"Role", schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"}, true},
	{"RoleBinding", schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"}, true},
	{"Secret", corev1.SchemeGroupVersion.WithResource("secrets"), true},
}

// debugView is the answer of GET /api/migrations/{name}/debug.
type debugView struct {
	Migration string         `json:"migration"`
	Clusters  []debugCluster `json:"clusters"`
}

// debugCluster is what the migration made on one cluster.
type debugCluster struct {
	Name    string        `json:"name"`
	Objects []debugObject `json:"objects"`
	// Errors are what could not be read (a kind Ferry may not list).
	Errors []string `json:"errors"`
}

// debugObject is one object with what helps to understand it.
type debugObject struct {
	Kind       string       `json:"kind"`
	APIVersion string       `json:"apiVersion"`
	Namespace  string       `json:"namespace,omitempty"`
	Name       string       `json:"name"`
	YAML       string       `json:"yaml"`
	Events     []debugEvent `json:"events"`
	Log        []string     `json:"log"`
	Kubectl    string       `json:"kubectl"`
}

// debugEvent is one Event about an object.
type debugEvent struct {
	Type    string    `json:"type"`
	Reason  string    `json:"reason"`
	Message string    `json:"message"`
	Count   int32     `json:"count"`
	Time    time.Time `json:"time"`
}

// migrationDebug is GET /api/migrations/{name}/debug: every object
// labelled with the migration (ferry.dev/migration) on the clusters of
// its plan, read with Ferry's own credentials there.
func (s *Server) migrationDebug(c *call) error {
	m, err := s.ops.GetMigration(c.ctx(), c.r.PathValue("name"))
	if err != nil {
		return err
	}
	p, err := s.ops.GetPlan(c.ctx(), m.Spec.Plan)
	if err != nil {
		return err
	}
	view := debugView{Migration: m.Name, Clusters: []debugCluster{}}
	names := []string{p.Spec.SourceCluster}
	if p.Spec.DestinationCluster != p.Spec.SourceCluster {
		names = append(names, p.Spec.DestinationCluster)
	}
	for _, name := range names {
		view.Clusters = append(view.Clusters, s.debugCluster(c.ctx(), name, m.Name, p))
	}
	writeJSON(c.w, http.StatusOK, view)
	return nil
}

// debugCluster collects the migration's objects on one cluster.
func (s *Server) debugCluster(ctx context.Context, name, migration string, p *ferryv1.Plan) debugCluster {
	out := debugCluster{Name: name, Objects: []debugObject{}, Errors: []string{}}
	cl, err := s.ops.GetCluster(ctx, name)
	if err != nil {
		out.Errors = append(out.Errors, err.Error())
		return out
	}
	clients, err := s.registry.Clients(ctx, cl)
	if err != nil {
		out.Errors = append(out.Errors, fmt.Sprintf("clients of cluster %s: %v", name, err))
		return out
	}
	sel := metav1.ListOptions{LabelSelector: ferryv1.LabelMigration + "=" + migration, Limit: debugMaxObjects}
	namespaces := planNamespaces(p)
	var objs []unstructured.Unstructured
	for _, k := range debugKinds {
		got, err := listKind(ctx, clients, k, sel, namespaces)
		if err != nil {
			out.Errors = append(out.Errors, err.Error())
		}
		for i := range got {
			if k.namespaced {
				namespaces[got[i].GetNamespace()] = true
			}
		}
		objs = append(objs, got...)
		if len(objs) >= debugMaxObjects {
			out.Errors = append(out.Errors, fmt.Sprintf("more than %d objects: only the first are shown", debugMaxObjects))
			objs = objs[:debugMaxObjects]
			break
		}
	}
	events := eventsByObject(ctx, clients, namespaces)
	for i := range objs {
		out.Objects = append(out.Objects, describeObject(ctx, clients, name, &objs[i], events))
	}
	return out
}

// planNamespaces are the source and destination namespaces of the plan.
func planNamespaces(p *ferryv1.Plan) map[string]bool {
	out := map[string]bool{}
	for _, n := range p.Spec.Namespaces {
		src, dst, ok := strings.Cut(n, ":")
		out[src] = true
		if ok {
			out[dst] = true
		}
	}
	return out
}

// listKind lists one kind's labelled objects on the whole cluster, or,
// when that is forbidden (Secrets), namespace by namespace. A kind the
// cluster does not serve has none.
func listKind(ctx context.Context, cl *cluster.Clients, k debugKind, sel metav1.ListOptions, namespaces map[string]bool) ([]unstructured.Unstructured, error) {
	l, err := cl.Dynamic.Resource(k.gvr).List(ctx, sel)
	switch {
	case err == nil:
		return l.Items, nil
	case apierrors.IsNotFound(err):
		return nil, nil
	case !apierrors.IsForbidden(err) || !k.namespaced:
		return nil, fmt.Errorf("list %s: %w", k.gvr.Resource, err)
	}
	var out []unstructured.Unstructured
	for _, ns := range sortedNames(namespaces) {
		l, err := cl.Dynamic.Resource(k.gvr).Namespace(ns).List(ctx, sel)
		if apierrors.IsNotFound(err) || apierrors.IsForbidden(err) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("list %s in %s: %w", k.gvr.Resource, ns, err)
		}
		out = append(out, l.Items...)
	}
	return out, nil
}

// eventsByObject lists the Events of the namespaces once, by the UID of
// the object they are about.
func eventsByObject(ctx context.Context, cl *cluster.Clients, namespaces map[string]bool) map[types.UID][]debugEvent {
	out := map[types.UID][]debugEvent{}
	for _, ns := range sortedNames(namespaces) {
		l, err := cl.Kube.CoreV1().Events(ns).List(ctx, metav1.ListOptions{Limit: 1000})
		if err != nil {
			continue
		}
		for _, e := range l.Items {
			t := e.LastTimestamp.Time
			if t.IsZero() {
				t = e.EventTime.Time
			}
			out[e.InvolvedObject.UID] = append(out[e.InvolvedObject.UID], debugEvent{Type: e.Type, Reason: e.Reason, Message: e.Message, Count: e.Count, Time: t})
		}
	}
	for uid, evs := range out {
		sort.Slice(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
		if len(evs) > debugMaxEvents {
			out[uid] = evs[len(evs)-debugMaxEvents:]
		}
	}
	return out
}

// describeObject renders one object: its YAML (Secrets' values hidden),
// its events, a pod's last log lines and the kubectl command to get it.
func describeObject(ctx context.Context, cl *cluster.Clients, clusterName string, u *unstructured.Unstructured, events map[types.UID][]debugEvent) debugObject {
	o := debugObject{Kind: u.GetKind(), APIVersion: u.GetAPIVersion(), Namespace: u.GetNamespace(), Name: u.GetName(),
		Events: nonNil(events[u.GetUID()]), Log: []string{}, Kubectl: kubectlCommand(clusterName, u)}
	o.YAML = objectYAML(u)
	if u.GetKind() == "Pod" {
		o.Log = podLog(ctx, cl, u)
	}
	return o
}

// objectYAML is the object as YAML without its managed fields, and for a
// Secret without its values (their keys and sizes stay).
func objectYAML(u *unstructured.Unstructured) string {
	u = u.DeepCopy()
	u.SetManagedFields(nil)
	if u.GetKind() == "Secret" {
		redactSecret(u)
	}
	b, err := yaml.Marshal(u.Object)
	if err != nil {
		return fmt.Sprintf("# cannot render: %v\n", err)
	}
	return string(b)
}

// redactSecret replaces the values of a Secret (and the last applied
// configuration, which holds them too) by their sizes.
func redactSecret(u *unstructured.Unstructured) {
	for _, field := range []string{"data", "stringData"} {
		m, ok := u.Object[field].(map[string]any)
		if !ok {
			continue
		}
		for k, v := range m {
			s, _ := v.(string)
			m[k] = fmt.Sprintf("<hidden: %d characters>", len(s))
		}
	}
	if ann := u.GetAnnotations(); ann != nil {
		if _, ok := ann[corev1.LastAppliedConfigAnnotation]; ok {
			ann[corev1.LastAppliedConfigAnnotation] = "<hidden>"
			u.SetAnnotations(ann)
		}
	}
}

// podLog returns the last debugLogLines lines of each of the pod's
// containers, prefixed with the container's name when there are several.
func podLog(ctx context.Context, cl *cluster.Clients, u *unstructured.Unstructured) []string {
	var pod corev1.Pod
	if err := runtimeFromUnstructured(u, &pod); err != nil {
		return []string{"cannot read the pod: " + err.Error()}
	}
	out := []string{}
	tail := int64(debugLogLines)
	containers := append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...)
	for _, c := range containers {
		raw, err := cl.Kube.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{Container: c.Name, TailLines: &tail}).DoRaw(ctx)
		prefix := ""
		if len(containers) > 1 {
			prefix = "[" + c.Name + "] "
		}
		if err != nil {
			out = append(out, prefix+"no log: "+err.Error())
			continue
		}
		for line := range strings.SplitSeq(strings.TrimRight(string(raw), "\n"), "\n") {
			if line != "" {
				out = append(out, prefix+line)
			}
		}
	}
	return out
}

// kubectlCommand gets the object with kubectl, the context named as the
// cluster.
func kubectlCommand(clusterName string, u *unstructured.Unstructured) string {
	resource := strings.ToLower(u.GetKind())
	if gv, err := schema.ParseGroupVersion(u.GetAPIVersion()); err == nil && gv.Group != "" {
		resource += "." + gv.Group
	}
	cmd := fmt.Sprintf("kubectl --context %s get %s %s", clusterName, resource, u.GetName())
	if ns := u.GetNamespace(); ns != "" {
		cmd += " -n " + ns
	}
	return cmd + " -o yaml"
}

// runtimeFromUnstructured converts u into the typed obj.
func runtimeFromUnstructured(u *unstructured.Unstructured, obj any) error {
	return runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, obj)
}
