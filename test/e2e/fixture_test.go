//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/dynamic"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// The fixture's custom resource. The CRD is cluster-scoped and shared by
// every test that uses it, so it is created when missing and never deleted.
const (
	widgetCRD   = "widgets.e2e.ferry.dev"
	widgetGroup = "e2e.ferry.dev"
)

var (
	widgetsGVR = schema.GroupVersionResource{Group: widgetGroup, Version: "v1", Resource: "widgets"}
	crdsGVR    = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	crGVR      = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"}
	crbGVR     = schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"}
)

// fixtureResources lists the namespaced resources createFullNamespace fills;
// pass it to snapshotNamespace.
var fixtureResources = []schema.GroupVersionResource{
	{Version: "v1", Resource: "configmaps"},
	{Version: "v1", Resource: "secrets"},
	{Version: "v1", Resource: "serviceaccounts"},
	{Version: "v1", Resource: "services"},
	{Version: "v1", Resource: "persistentvolumeclaims"},
	{Version: "v1", Resource: "limitranges"},
	{Version: "v1", Resource: "resourcequotas"},
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Group: "apps", Version: "v1", Resource: "statefulsets"},
	{Group: "apps", Version: "v1", Resource: "daemonsets"},
	{Group: "batch", Version: "v1", Resource: "jobs"},
	{Group: "batch", Version: "v1", Resource: "cronjobs"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
	{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"},
	{Group: "networking.k8s.io", Version: "v1", Resource: "ingresses"},
	{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
	{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
	widgetsGVR,
}

// fixture names what createFullNamespace created.
type fixture struct {
	ns                 string
	crd                string // shared, never deleted
	clusterRole        string // <ns>-reader, deleted at the end of the test
	clusterRoleBinding string // <ns>-reader, deleted at the end of the test

	deployment, statefulSet, daemonSet, cronJob, job     string
	configMap, secret, serviceAccount, role, roleBinding string
	services                                             []string // ClusterIP, NodePort, headless
	pvc, widget                                          string
	stsClaims                                            []string // PVCs made from the volumeClaimTemplates
}

// createFullNamespace fills ns (created by the caller) with a realistic
// application on c and returns once its workloads are available and its
// Job has completed.
func createFullNamespace(t *testing.T, c *harness.Cluster, ns string) fixture {
	t.Helper()
	f := fixture{
		ns: ns, crd: widgetCRD, clusterRole: ns + "-reader", clusterRoleBinding: ns + "-reader",
		deployment: "web", statefulSet: "db", daemonSet: "agent", cronJob: "report", job: "migrate",
		configMap: "app-config", secret: "app-secret", serviceAccount: "app-sa",
		role: "configmap-reader", roleBinding: "app-sa-configmap-reader",
		services: []string{"web", "web-nodeport", "db"}, pvc: "data", widget: "w1",
		stsClaims: []string{"state-db-0"},
	}
	app, tools := c.Image(t, "sampleapp"), c.Image(t, "tools")
	cs := c.Kube
	webLabels := map[string]string{"app": "web", "tier": "frontend"}
	dbLabels := map[string]string{"app": "db", "tier": "backend"}

	// Limits and quota first: every pod below is admitted against them.
	createOrFail(t, c, cs.CoreV1().LimitRanges(ns).Create, &corev1.LimitRange{
		ObjectMeta: metav1.ObjectMeta{Name: "defaults"},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{
			Type:           corev1.LimitTypeContainer,
			Default:        resources("500m", "256Mi"),
			DefaultRequest: resources("10m", "16Mi"),
		}}},
	})
	createOrFail(t, c, cs.CoreV1().ResourceQuotas(ns).Create, &corev1.ResourceQuota{
		ObjectMeta: metav1.ObjectMeta{Name: "quota"},
		Spec: corev1.ResourceQuotaSpec{Hard: corev1.ResourceList{
			corev1.ResourcePods:                   resource.MustParse("50"),
			corev1.ResourceServices:               resource.MustParse("20"),
			corev1.ResourceServicesNodePorts:      resource.MustParse("5"),
			corev1.ResourceConfigMaps:             resource.MustParse("20"),
			corev1.ResourceSecrets:                resource.MustParse("20"),
			corev1.ResourcePersistentVolumeClaims: resource.MustParse("10"),
			corev1.ResourceRequestsStorage:        resource.MustParse("20Gi"),
			corev1.ResourceRequestsCPU:            resource.MustParse("4"),
			corev1.ResourceRequestsMemory:         resource.MustParse("4Gi"),
			corev1.ResourceLimitsCPU:              resource.MustParse("20"),
			corev1.ResourceLimitsMemory:           resource.MustParse("16Gi"),
		}},
	})
	// Until the quota controller has filled status.hard, the quota
	// admission rejects every object the quota counts.
	waitUntil(t, c, "ResourceQuota quota to be counted", func(ctx context.Context) (bool, string) {
		q, err := cs.CoreV1().ResourceQuotas(ns).Get(ctx, "quota", metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		return len(q.Status.Hard) > 0, fmt.Sprintf("status.hard=%v", q.Status.Hard)
	})

	// Configuration and identity.
	// Tools that own objects mark them with app.kubernetes.io/managed-by;
	// the migrated objects must keep those values.
	withOwner := func(tool string) map[string]string {
		l := map[string]string{"app.kubernetes.io/managed-by": tool}
		for k, v := range webLabels {
			l[k] = v
		}
		return l
	}
	createOrFail(t, c, cs.CoreV1().ConfigMaps(ns).Create, &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: f.configMap, Labels: withOwner("Helm")},
		Data: map[string]string{
			"GREETING":       "hello",
			"LOG_LEVEL":      "info",
			"app.properties": "color=blue\nsize=3\n",
		},
	})
	createOrFail(t, c, cs.CoreV1().Secrets(ns).Create, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: f.secret, Labels: withOwner("kustomize")},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{"API_TOKEN": []byte("s3cr3t-token"), "DB_PASSWORD": []byte("hunter2")},
	})
	createOrFail(t, c, cs.CoreV1().ServiceAccounts(ns).Create, &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{Name: f.serviceAccount},
	})
	appSA := rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: f.serviceAccount, Namespace: ns}
	createOrFail(t, c, cs.RbacV1().Roles(ns).Create, &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: f.role},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"}}},
	})
	createOrFail(t, c, cs.RbacV1().RoleBindings(ns).Create, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: f.roleBinding},
		Subjects:   []rbacv1.Subject{appSA},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: f.role},
	})
	t.Cleanup(func() {
		ctx := context.Background()
		_ = cs.RbacV1().ClusterRoleBindings().Delete(ctx, f.clusterRoleBinding, metav1.DeleteOptions{})
		_ = cs.RbacV1().ClusterRoles().Delete(ctx, f.clusterRole, metav1.DeleteOptions{})
	})
	createOrFail(t, c, cs.RbacV1().ClusterRoles().Create, &rbacv1.ClusterRole{
		ObjectMeta: metav1.ObjectMeta{Name: f.clusterRole},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"namespaces", "nodes"}, Verbs: []string{"get", "list", "watch"}},
		},
	})
	createOrFail(t, c, cs.RbacV1().ClusterRoleBindings().Create, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: f.clusterRoleBinding},
		Subjects:   []rbacv1.Subject{appSA},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: f.clusterRole},
	})

	// Storage: a standalone claim, mounted by the StatefulSet next to its
	// templated one.
	c.CreateClaim(t, ns, f.pvc, "standard")

	// Services.
	httpPort := []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromString("http")}}
	createOrFail(t, c, cs.CoreV1().Services(ns).Create, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: webLabels},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeClusterIP, Selector: webLabels, Ports: httpPort},
	})
	createOrFail(t, c, cs.CoreV1().Services(ns).Create, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "web-nodeport", Labels: webLabels},
		Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Selector: webLabels,
			Ports: []corev1.ServicePort{{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(8080)}}},
	})
	createOrFail(t, c, cs.CoreV1().Services(ns).Create, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Labels: dbLabels},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Selector: dbLabels,
			Ports: []corev1.ServicePort{{Name: "peer", Port: 7000, TargetPort: intstr.FromInt32(7000)}}},
	})

	// Workloads.
	createOrFail(t, c, cs.AppsV1().Deployments(ns).Create, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: f.deployment, Labels: webLabels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](2),
			Selector: &metav1.LabelSelector{MatchLabels: webLabels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: webLabels},
				Spec: corev1.PodSpec{
					ServiceAccountName: f.serviceAccount,
					Containers: []corev1.Container{{
						Name:  "web",
						Image: app,
						Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}},
						EnvFrom: []corev1.EnvFromSource{{
							ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: f.configMap}},
						}},
						Env: []corev1.EnvVar{{Name: "API_TOKEN", ValueFrom: &corev1.EnvVarSource{
							SecretKeyRef: &corev1.SecretKeySelector{
								LocalObjectReference: corev1.LocalObjectReference{Name: f.secret}, Key: "API_TOKEN"},
						}}},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromInt32(8080)}},
							PeriodSeconds: 2,
						},
					}},
				},
			},
		},
	})
	createOrFail(t, c, cs.AppsV1().StatefulSets(ns).Create, &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: f.statefulSet, Labels: dbLabels},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    ptr.To[int32](1),
			ServiceName: "db",
			Selector:    &metav1.LabelSelector{MatchLabels: dbLabels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: dbLabels},
				Spec: toolsPod(tools, corev1.RestartPolicyAlways, "sleep", "3600").
					Mount("state", "/var/lib/db", nil).
					Mount("data", "/data", &corev1.VolumeSource{PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: f.pvc}}).
					Spec(),
			},
			VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "state"},
				Spec: corev1.PersistentVolumeClaimSpec{
					StorageClassName: ptr.To("standard"),
					AccessModes:      []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce},
					Resources: corev1.VolumeResourceRequirements{Requests: corev1.ResourceList{
						corev1.ResourceStorage: resource.MustParse("1Gi")}},
				},
			}},
		},
	})
	agentLabels := map[string]string{"app": "agent"}
	createOrFail(t, c, cs.AppsV1().DaemonSets(ns).Create, &appsv1.DaemonSet{
		ObjectMeta: metav1.ObjectMeta{Name: f.daemonSet, Labels: agentLabels},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: agentLabels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: agentLabels},
				Spec:       toolsPod(tools, corev1.RestartPolicyAlways, "sleep", "3600").Spec(),
			},
		},
	})
	createOrFail(t, c, cs.BatchV1().CronJobs(ns).Create, &batchv1.CronJob{
		ObjectMeta: metav1.ObjectMeta{Name: f.cronJob},
		Spec: batchv1.CronJobSpec{
			Schedule:          "*/30 * * * *",
			Suspend:           ptr.To(false),
			ConcurrencyPolicy: batchv1.ForbidConcurrent,
			JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{
				BackoffLimit: ptr.To[int32](1),
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "report"}},
					Spec:       toolsPod(tools, corev1.RestartPolicyOnFailure, "sh", "-c", "echo report").Spec(),
				},
			}},
		},
	})
	createOrFail(t, c, cs.BatchV1().Jobs(ns).Create, &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: f.job},
		Spec: batchv1.JobSpec{
			BackoffLimit: ptr.To[int32](2),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "migrate"}},
				Spec:       toolsPod(tools, corev1.RestartPolicyNever, "sh", "-c", "echo done").Spec(),
			},
		},
	})

	// Policies around the Deployment.
	createOrFail(t, c, cs.NetworkingV1().NetworkPolicies(ns).Create, &networkingv1.NetworkPolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "web-ingress"},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: webLabels},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(8080))}},
			}},
		},
	})
	createOrFail(t, c, cs.PolicyV1().PodDisruptionBudgets(ns).Create, &policyv1.PodDisruptionBudget{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: policyv1.PodDisruptionBudgetSpec{
			MinAvailable: ptr.To(intstr.FromInt32(1)),
			Selector:     &metav1.LabelSelector{MatchLabels: webLabels},
		},
	})
	createOrFail(t, c, cs.AutoscalingV2().HorizontalPodAutoscalers(ns).Create, &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: f.deployment},
			MinReplicas:    ptr.To[int32](2),
			MaxReplicas:    4,
			Metrics: []autoscalingv2.MetricSpec{{
				Type: autoscalingv2.ResourceMetricSourceType,
				Resource: &autoscalingv2.ResourceMetricSource{
					Name:   corev1.ResourceCPU,
					Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To[int32](80)},
				},
			}},
		},
	})
	createOrFail(t, c, cs.NetworkingV1().Ingresses(ns).Create, &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: networkingv1.IngressSpec{Rules: []networkingv1.IngressRule{{
			Host: "web.example.test",
			IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{
				Paths: []networkingv1.HTTPIngressPath{{
					Path:     "/",
					PathType: ptr.To(networkingv1.PathTypePrefix),
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
						Name: "web", Port: networkingv1.ServiceBackendPort{Name: "http"}}},
				}},
			}},
		}}},
	})

	// The custom resource.
	dc := c.Dynamic
	ensureWidgetCRD(t, c, dc)
	w := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": widgetGroup + "/v1",
		"kind":       "Widget",
		"metadata":   map[string]any{"name": f.widget, "labels": map[string]any{"app": "web"}},
		"spec":       map[string]any{"size": int64(3), "color": "blue"},
	}}
	// A just-established CRD may take a moment to be served.
	waitUntil(t, c, "Widget w1 to be created", func(ctx context.Context) (bool, string) {
		_, err := dc.Resource(widgetsGVR).Namespace(ns).Create(ctx, w, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return false, err.Error()
		}
		return true, ""
	})

	waitFixtureReady(t, c, f)
	return f
}

// waitFixtureReady waits for the fixture's workloads to be available and
// its Job to complete.
func waitFixtureReady(t *testing.T, c *harness.Cluster, f fixture) {
	t.Helper()
	cs, ns := c.Kube, f.ns
	waitUntil(t, c, "Deployment "+f.deployment+" to be available", func(ctx context.Context) (bool, string) {
		d, err := cs.AppsV1().Deployments(ns).Get(ctx, f.deployment, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		want := *d.Spec.Replicas
		s := d.Status
		return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == want && s.AvailableReplicas == want,
			fmt.Sprintf("updated=%d available=%d of %d; %s", s.UpdatedReplicas, s.AvailableReplicas, want, podsState(ctx, c, ns, d.Spec.Selector))
	})
	waitUntil(t, c, "StatefulSet "+f.statefulSet+" to be ready", func(ctx context.Context) (bool, string) {
		s, err := cs.AppsV1().StatefulSets(ns).Get(ctx, f.statefulSet, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		want := *s.Spec.Replicas
		st := s.Status
		return st.ObservedGeneration >= s.Generation && st.ReadyReplicas == want && st.AvailableReplicas == want,
			fmt.Sprintf("ready=%d available=%d of %d; %s", st.ReadyReplicas, st.AvailableReplicas, want, podsState(ctx, c, ns, s.Spec.Selector))
	})
	waitUntil(t, c, "DaemonSet "+f.daemonSet+" to be available", func(ctx context.Context) (bool, string) {
		d, err := cs.AppsV1().DaemonSets(ns).Get(ctx, f.daemonSet, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		s := d.Status
		return s.ObservedGeneration >= d.Generation && s.DesiredNumberScheduled > 0 &&
				s.NumberAvailable == s.DesiredNumberScheduled && s.UpdatedNumberScheduled == s.DesiredNumberScheduled,
			fmt.Sprintf("available=%d of %d; %s", s.NumberAvailable, s.DesiredNumberScheduled, podsState(ctx, c, ns, d.Spec.Selector))
	})
	waitUntil(t, c, "Job "+f.job+" to complete", func(ctx context.Context) (bool, string) {
		j, err := cs.BatchV1().Jobs(ns).Get(ctx, f.job, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		for _, cond := range j.Status.Conditions {
			if cond.Status != corev1.ConditionTrue {
				continue
			}
			switch cond.Type {
			case batchv1.JobComplete:
				return true, ""
			case batchv1.JobFailed:
				t.Fatalf("job %s/%s on %s failed: %s %s; %s", ns, f.job, c.Name, cond.Reason, cond.Message,
					podsState(ctx, c, ns, j.Spec.Selector))
			}
		}
		return false, fmt.Sprintf("active=%d succeeded=%d failed=%d; %s", j.Status.Active, j.Status.Succeeded,
			j.Status.Failed, podsState(ctx, c, ns, j.Spec.Selector))
	})
}

// ensureWidgetCRD creates the Widget CRD unless it exists, and waits until
// it is established.
func ensureWidgetCRD(t *testing.T, c *harness.Cluster, dc dynamic.Interface) {
	t.Helper()
	ctx := context.Background()
	preserve := ptr.To(true)
	crd := &apiextensionsv1.CustomResourceDefinition{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apiextensions.k8s.io/v1", Kind: "CustomResourceDefinition"},
		ObjectMeta: metav1.ObjectMeta{Name: widgetCRD},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: widgetGroup,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Scope: apiextensionsv1.NamespaceScoped,
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1", Served: true, Storage: true,
				Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object",
					Properties: map[string]apiextensionsv1.JSONSchemaProps{
						"spec": {
							Type:                   "object",
							Properties:             map[string]apiextensionsv1.JSONSchemaProps{"size": {Type: "integer", Minimum: ptr.To(0.0)}},
							XPreserveUnknownFields: preserve,
						},
						"status": {Type: "object", XPreserveUnknownFields: preserve},
					},
				}},
			}},
		},
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(crd)
	if err != nil {
		t.Fatal(err)
	}
	_, err = dc.Resource(crdsGVR).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create CRD %s on %s: %v", widgetCRD, c.Name, err)
	}
	waitUntil(t, c, "CRD "+widgetCRD+" to be established", func(ctx context.Context) (bool, string) {
		u, err := dc.Resource(crdsGVR).Get(ctx, widgetCRD, metav1.GetOptions{})
		if err != nil {
			return false, err.Error()
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, cond := range conds {
			m, _ := cond.(map[string]any)
			if m["type"] == "Established" && m["status"] == "True" {
				return true, ""
			}
		}
		return false, fmt.Sprintf("conditions: %v", conds)
	})
}

// toolsPod builds the pod spec of the fixture's tools workloads. The
// tools' sleep ignores SIGTERM; a grace period of 1 s does not hold
// namespace deletion.
func toolsPod(image string, restart corev1.RestartPolicy, command ...string) *harness.PodBuilder {
	return harness.NewPod("", "", image, command...).Restart(restart).Grace(1)
}

func resources(cpu, memory string) corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(memory)}
}

// createOrFail calls a typed client's Create and fails the test on error.
func createOrFail[T runtime.Object](t *testing.T, c *harness.Cluster, create func(context.Context, T, metav1.CreateOptions) (T, error), obj T) T {
	t.Helper()
	got, err := create(context.Background(), obj, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("create %T on %s: %v", obj, c.Name, err)
	}
	return got
}

// waitUntil polls cond for up to three minutes; on timeout it fails with
// the last state cond described.
func waitUntil(t *testing.T, c *harness.Cluster, what string, cond func(ctx context.Context) (done bool, state string)) {
	t.Helper()
	harness.Eventually(context.Background(), t, 500*time.Millisecond, 3*time.Minute, what+" on "+c.Name,
		func(ctx context.Context) (bool, string, error) {
			done, state := cond(ctx)
			return done, state, nil
		})
}

// podsState describes the pods a selector picks, for timeout messages.
func podsState(ctx context.Context, c *harness.Cluster, ns string, sel *metav1.LabelSelector) string {
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return err.Error()
	}
	if sel == nil {
		s = labels.Everything()
	}
	pods, err := c.Kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: s.String()})
	if err != nil {
		return err.Error()
	}
	if len(pods.Items) == 0 {
		return "no pods"
	}
	var parts []string
	for i := range pods.Items {
		parts = append(parts, pods.Items[i].Name+": "+harness.PodStatus(&pods.Items[i]))
	}
	return strings.Join(parts, "; ")
}

// snapshot holds normalized objects keyed by "Kind/name".
type snapshot = map[string]map[string]any

// nsPlaceholder replaces the namespace's name where it is part of an
// object's identity (RBAC subjects, the fixture's cluster-scoped names), so
// a namespace migrated under a new name compares equal. registryPlaceholder
// replaces the cluster's own registry in image references: each cluster
// pulls from its own, and a migration rewrites references to the
// destination's.
const (
	nsPlaceholder       = "<ns>"
	registryPlaceholder = "<registry>"
)

// snapshotNamespace lists the objects of kinds in ns, plus the fixture's
// cluster-scoped objects (the ClusterRole and ClusterRoleBinding
// <ns>-reader and the Widget CRD, when they exist), normalized by
// normalizeObject. Objects with a controller owner (a CronJob's Jobs) and
// the per-cluster kube-root-ca.crt ConfigMap are left out: each cluster
// makes its own. A resource the cluster does not serve lists as empty.
func snapshotNamespace(t *testing.T, c *harness.Cluster, ns string, kinds []schema.GroupVersionResource) snapshot {
	t.Helper()
	return snapshotRenamed(t, c, ns, ns, kinds)
}

// snapshotRenamed snapshots namespace ns whose objects were migrated from
// namespace origNS: Ferry keeps the names of cluster-scoped objects, so
// the fixture's <origNS>-reader ClusterRole and binding are looked up by
// the original name and compared as if they were named after ns.
func snapshotRenamed(t *testing.T, c *harness.Cluster, ns, origNS string, kinds []schema.GroupVersionResource) snapshot {
	t.Helper()
	ctx := context.Background()
	dc := c.Dynamic
	snap := snapshot{}
	add := func(u *unstructured.Unstructured) {
		if metav1.GetControllerOf(u) != nil || (u.GetKind() == "ConfigMap" && u.GetName() == "kube-root-ca.crt") {
			return
		}
		if _, grant := u.GetLabels()[ferryv1.LabelGrantPlan]; grant {
			return // Ferry's grant of the namespace, not the application's
		}
		if u.GetNamespace() == "" && origNS != ns {
			u.SetName(strings.ReplaceAll(u.GetName(), origNS, ns))
			if ref, ok, _ := unstructured.NestedString(u.Object, "roleRef", "name"); ok {
				_ = unstructured.SetNestedField(u.Object, strings.ReplaceAll(ref, origNS, ns), "roleRef", "name")
			}
		}
		obj := normalizeObject(u.Object, ns, c.Registry)
		name, _, _ := unstructured.NestedString(obj, "metadata", "name")
		key := u.GetKind() + "/" + name
		if _, dup := snap[key]; dup {
			t.Fatalf("snapshot of %s on %s: two objects are named %s", ns, c.Name, key)
		}
		snap[key] = obj
	}
	for _, gvr := range kinds {
		list, err := dc.Resource(gvr).Namespace(ns).List(ctx, metav1.ListOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			t.Fatalf("snapshot of %s on %s: list %s: %v", ns, c.Name, gvr, err)
		}
		for i := range list.Items {
			add(&list.Items[i])
		}
	}
	for _, ref := range []struct {
		gvr  schema.GroupVersionResource
		name string
	}{{crGVR, origNS + "-reader"}, {crbGVR, origNS + "-reader"}, {crdsGVR, widgetCRD}} {
		u, err := dc.Resource(ref.gvr).Get(ctx, ref.name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			t.Fatalf("snapshot of %s on %s: get %s %s: %v", ns, c.Name, ref.gvr.Resource, ref.name, err)
		}
		add(u)
	}
	return snap
}

// Metadata a cluster writes on its own, and labels and annotations Ferry
// writes; none of them is part of what a migration must preserve.
var (
	droppedMetadata   = []string{"uid", "resourceVersion", "creationTimestamp", "generation", "managedFields", "selfLink", "ownerReferences", "namespace"}
	droppedAnnotation = []string{
		"deployment.kubernetes.io/revision",
		"kubectl.kubernetes.io/last-applied-configuration",
		"deprecated.daemonset.template.generation", // follows metadata.generation
	}
	droppedAnnotationPrefixes = []string{"ferry.dev/", "autoscaling.alpha.kubernetes.io/"}
	// Annotations the PV controller and the scheduler put on claims.
	droppedPVCAnnotationPrefixes = []string{"pv.kubernetes.io/", "volume.beta.kubernetes.io/", "volume.kubernetes.io/"}
	// Labels the Job controller derives from the Job's uid and name.
	droppedJobLabels = []string{"controller-uid", "batch.kubernetes.io/controller-uid", "job-name", "batch.kubernetes.io/job-name"}
)

// normalizeObject strips from obj (in place) what legitimately differs
// between the same object on two clusters, and returns it. Server defaults
// are kept: both clusters run the same version. ns is the object's
// namespace, registry the host[:port] of the cluster's own registry.
func normalizeObject(obj map[string]any, ns, registry string) map[string]any {
	kind, _, _ := unstructured.NestedString(obj, "kind")
	delete(obj, "status")
	meta, _ := obj["metadata"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		obj["metadata"] = meta
	}
	for _, f := range droppedMetadata {
		delete(meta, f)
	}

	annPrefixes := droppedAnnotationPrefixes
	if kind == "PersistentVolumeClaim" {
		annPrefixes = append(append([]string{}, annPrefixes...), droppedPVCAnnotationPrefixes...)
	}
	filterStringMap(meta, "annotations", func(k, _ string) bool {
		return contains(droppedAnnotation, k) || hasAnyPrefix(k, annPrefixes)
	})
	// Ferry marks what it migrates with its ferry.dev/ labels only.
	filterStringMap(meta, "labels", func(k, _ string) bool { return strings.HasPrefix(k, "ferry.dev/") })

	switch kind {
	case "Service":
		spec, _ := obj["spec"].(map[string]any)
		if spec != nil {
			// A headless Service keeps its "None": that is the user's choice.
			if spec["clusterIP"] != corev1.ClusterIPNone {
				delete(spec, "clusterIP")
				delete(spec, "clusterIPs")
			}
			delete(spec, "healthCheckNodePort")
			ports, _ := spec["ports"].([]any)
			for _, p := range ports {
				if pm, ok := p.(map[string]any); ok {
					delete(pm, "nodePort")
				}
			}
		}
	case "PersistentVolumeClaim":
		unstructured.RemoveNestedField(obj, "spec", "volumeName")
	case "Job":
		unstructured.RemoveNestedField(obj, "spec", "selector")
		isJobLabel := func(k, _ string) bool { return contains(droppedJobLabels, k) }
		filterStringMap(meta, "labels", isJobLabel)
		if tmeta, ok, _ := unstructured.NestedMap(obj, "spec", "template", "metadata"); ok {
			filterStringMap(tmeta, "labels", isJobLabel)
			_ = unstructured.SetNestedMap(obj, tmeta, "spec", "template", "metadata")
		}
	case "RoleBinding", "ClusterRoleBinding":
		subjects, _ := obj["subjects"].([]any)
		for _, s := range subjects {
			if sm, ok := s.(map[string]any); ok && sm["namespace"] == ns {
				sm["namespace"] = nsPlaceholder
			}
		}
		if ref, ok := obj["roleRef"].(map[string]any); ok && ref["kind"] == "ClusterRole" {
			if name, ok := ref["name"].(string); ok {
				ref["name"] = strings.ReplaceAll(name, ns, nsPlaceholder)
			}
		}
	}
	if kind == "ClusterRole" || kind == "ClusterRoleBinding" {
		if name, ok := meta["name"].(string); ok {
			meta["name"] = strings.ReplaceAll(name, ns, nsPlaceholder)
		}
	}
	if registry != "" {
		rewriteImages(obj, registry+"/", registryPlaceholder+"/")
	}
	return dropNulls(obj).(map[string]any)
}

// rewriteImages replaces the prefix from with to in every "image" field
// (containers, init and ephemeral containers, at any depth).
func rewriteImages(v any, from, to string) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && k == "image" && strings.HasPrefix(s, from) {
				v[k] = to + strings.TrimPrefix(s, from)
				continue
			}
			rewriteImages(e, from, to)
		}
	case []any:
		for _, e := range v {
			rewriteImages(e, from, to)
		}
	}
}

// filterStringMap deletes the entries of m[field] that drop picks, and
// the field itself when nothing is left.
func filterStringMap(m map[string]any, field string, drop func(k, v string) bool) {
	sub, ok := m[field].(map[string]any)
	if !ok {
		return
	}
	for k, v := range sub {
		s, _ := v.(string)
		if drop(k, s) {
			delete(sub, k)
		}
	}
	if len(sub) == 0 {
		delete(m, field)
	}
}

// dropNulls removes null map values: to the API server a null field and
// an absent one are the same (e.g. a template's creationTimestamp: null).
func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if e == nil {
				delete(v, k)
				continue
			}
			v[k] = dropNulls(e)
		}
	case []any:
		for i, e := range v {
			v[i] = dropNulls(e)
		}
	}
	return v
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// compareSnapshots fails t with every difference between want and got,
// leaving out objects whose kind is in ignoreKinds.
func compareSnapshots(t *testing.T, want, got snapshot, ignoreKinds ...string) {
	t.Helper()
	if diffs := diffSnapshots(want, got, ignoreKinds...); len(diffs) > 0 {
		t.Errorf("snapshots differ (%d):\n  %s", len(diffs), strings.Join(diffs, "\n  "))
	}
}

// diffSnapshots lists, in a stable order, the objects missing from got,
// the extra ones, and each differing field as "Kind/name: path: ...".
func diffSnapshots(want, got snapshot, ignoreKinds ...string) []string {
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		kind, _, _ := strings.Cut(k, "/")
		if !contains(ignoreKinds, kind) {
			sorted = append(sorted, k)
		}
	}
	sort.Strings(sorted)
	var diffs []string
	for _, k := range sorted {
		w, inWant := want[k]
		g, inGot := got[k]
		switch {
		case !inGot:
			diffs = append(diffs, "missing "+k)
		case !inWant:
			diffs = append(diffs, "extra "+k)
		default:
			diffValue(k+": ", "", w, g, &diffs)
		}
	}
	return diffs
}

// diffValue appends the differences between two decoded JSON values.
func diffValue(prefix, path string, want, got any, diffs *[]string) {
	report := func(format string, args ...any) {
		p := path
		if p == "" {
			p = "(object)"
		}
		*diffs = append(*diffs, prefix+p+": "+fmt.Sprintf(format, args...))
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			report("want %s, got %s", show(want), show(got))
			return
		}
		fields := make([]string, 0, len(w)+len(g))
		for k := range w {
			fields = append(fields, k)
		}
		for k := range g {
			if _, ok := w[k]; !ok {
				fields = append(fields, k)
			}
		}
		sort.Strings(fields)
		for _, k := range fields {
			wv, inW := w[k]
			gv, inG := g[k]
			p := fieldPath(path, k)
			switch {
			case !inG:
				*diffs = append(*diffs, fmt.Sprintf("%s%s: want %s, got nothing", prefix, p, show(wv)))
			case !inW:
				*diffs = append(*diffs, fmt.Sprintf("%s%s: want nothing, got %s", prefix, p, show(gv)))
			default:
				diffValue(prefix, p, wv, gv, diffs)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			report("want %s, got %s", show(want), show(got))
			return
		}
		for i := 0; i < len(w) || i < len(g); i++ {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= len(g):
				*diffs = append(*diffs, fmt.Sprintf("%s%s: want %s, got nothing", prefix, p, show(w[i])))
			case i >= len(w):
				*diffs = append(*diffs, fmt.Sprintf("%s%s: want nothing, got %s", prefix, p, show(g[i])))
			default:
				diffValue(prefix, p, w[i], g[i], diffs)
			}
		}
	default:
		if !reflect.DeepEqual(want, got) {
			report("want %s, got %s", show(want), show(got))
		}
	}
}

// fieldPath appends a field to a dotted path, quoting keys such as
// annotation names that contain dots or slashes.
func fieldPath(path, k string) string {
	plain := k != ""
	for _, r := range k {
		if !(r == '_' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			plain = false
			break
		}
	}
	switch {
	case !plain:
		return fmt.Sprintf("%s[%q]", path, k)
	case path == "":
		return k
	default:
		return path + "." + k
	}
}

// show renders a value for a difference report, shortened when long.
func show(v any) string {
	var s string
	switch v := v.(type) {
	case map[string]any, []any:
		b, err := json.Marshal(v)
		if err != nil {
			s = fmt.Sprint(v)
		} else {
			s = string(b)
		}
	default:
		s = fmt.Sprintf("%#v", v)
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// TestFixtureSelfCompare proves the snapshot stable and the comparison
// able to fail: two snapshots of an unchanged fixture are equal, and a
// changed field and a deleted object are both reported.
func TestFixtureSelfCompare(t *testing.T) {
	c := harness.Local(t, "src")
	ns := c.Namespace(t, "e2e-fixture")
	f := createFullNamespace(t, c, ns)

	first := snapshotNamespace(t, c, ns, fixtureResources)
	for _, key := range []string{
		"Deployment/web", "StatefulSet/db", "DaemonSet/agent", "CronJob/report", "Job/migrate",
		"Service/web", "Service/web-nodeport", "Service/db", "ConfigMap/app-config", "Secret/app-secret",
		"ServiceAccount/app-sa", "Role/configmap-reader", "RoleBinding/app-sa-configmap-reader",
		"ClusterRole/<ns>-reader", "ClusterRoleBinding/<ns>-reader", "NetworkPolicy/web-ingress",
		"PodDisruptionBudget/web", "HorizontalPodAutoscaler/web", "Ingress/web", "LimitRange/defaults",
		"ResourceQuota/quota", "PersistentVolumeClaim/data", "PersistentVolumeClaim/state-db-0",
		"CustomResourceDefinition/" + f.crd, "Widget/w1",
	} {
		if _, ok := first[key]; !ok {
			t.Errorf("snapshot lacks %s", key)
		}
	}
	if t.Failed() {
		t.Fatalf("snapshot keys: %v", sortedKeys(first))
	}
	if rb := first["RoleBinding/app-sa-configmap-reader"]; rb["subjects"].([]any)[0].(map[string]any)["namespace"] != nsPlaceholder {
		t.Errorf("RoleBinding subject namespace not replaced: %v", rb["subjects"])
	}
	if svc := first["Service/web-nodeport"]; svc["spec"].(map[string]any)["clusterIP"] != nil {
		t.Errorf("Service clusterIP kept: %v", svc["spec"])
	}
	if svc := first["Service/db"]; svc["spec"].(map[string]any)["clusterIP"] != corev1.ClusterIPNone {
		t.Errorf("headless Service lost clusterIP None: %v", svc["spec"])
	}

	if d := first["Deployment/web"]; !strings.HasPrefix(fmt.Sprint(d["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"]), registryPlaceholder+"/") {
		t.Errorf("Deployment image not normalized: %v", d["spec"])
	}

	second := snapshotNamespace(t, c, ns, fixtureResources)
	compareSnapshots(t, first, second)

	ctx := context.Background()
	cm, err := c.Kube.CoreV1().ConfigMaps(ns).Get(ctx, f.configMap, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data["GREETING"] = "changed"
	if _, err := c.Kube.CoreV1().ConfigMaps(ns).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Kube.NetworkingV1().NetworkPolicies(ns).Delete(ctx, "web-ingress", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	third := snapshotNamespace(t, c, ns, fixtureResources)
	diffs := diffSnapshots(first, third)
	want := []string{
		`ConfigMap/app-config: data.GREETING: want "hello", got "changed"`,
		"missing NetworkPolicy/web-ingress",
	}
	if strings.Join(diffs, "\n") != strings.Join(want, "\n") {
		t.Errorf("differences after the change:\n  %s\nwant:\n  %s", strings.Join(diffs, "\n  "), strings.Join(want, "\n  "))
	}
	if d := diffSnapshots(third, first); len(d) != 2 || d[1] != "extra NetworkPolicy/web-ingress" {
		t.Errorf("reverse differences: %q", d)
	}
	if d := diffSnapshots(first, third, "ConfigMap", "NetworkPolicy"); len(d) != 0 {
		t.Errorf("ignored kinds still reported: %q", d)
	}
}

// TestFixtureCrossClusterCompare builds the fixture on both clusters, in
// namespaces of different names, and expects equal snapshots: what
// normalization leaves differs only if the clusters do.
func TestFixtureCrossClusterCompare(t *testing.T) {
	snaps := make([]snapshot, 2)
	t.Run("build", func(t *testing.T) {
		for i, name := range []string{"src", "dst"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				c := harness.Local(t, name)
				ns := c.Namespace(t, "e2e-fixture-"+name)
				createFullNamespace(t, c, ns)
				snaps[i] = snapshotNamespace(t, c, ns, fixtureResources)
			})
		}
	})
	if t.Failed() {
		return
	}
	compareSnapshots(t, snaps[0], snaps[1])
}

// TestNormalizeAcrossClusters checks, without a cluster, that objects
// compare equal to their copies in a renamed namespace on a cluster with
// another registry, and that real changes still show.
func TestNormalizeAcrossClusters(t *testing.T) {
	objects := func(ns string) snapshot {
		crb := map[string]any{
			"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
			"metadata": map[string]any{"name": ns + "-reader", "uid": ns, "resourceVersion": "7"},
			"subjects": []any{map[string]any{"kind": "ServiceAccount", "name": "app-sa", "namespace": ns}},
			"roleRef":  map[string]any{"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ns + "-reader"},
		}
		svc := map[string]any{
			"apiVersion": "v1", "kind": "Service",
			"metadata": map[string]any{"name": "web", "namespace": ns, "labels": map[string]any{"ferry.dev/plan": "p"}},
			"spec": map[string]any{"clusterIP": "10.0.0." + fmt.Sprint(len(ns)), "clusterIPs": []any{"x"},
				"ports": []any{map[string]any{"port": int64(80), "nodePort": int64(30000 + len(ns))}}},
		}
		registry := "reg-" + ns + ":5000"
		job := map[string]any{
			"apiVersion": "batch/v1", "kind": "Job",
			"metadata": map[string]any{"name": "migrate", "labels": map[string]any{"job-name": "migrate", "controller-uid": ns}},
			"spec": map[string]any{"selector": map[string]any{"matchLabels": map[string]any{"controller-uid": ns}},
				"template": map[string]any{
					"metadata": map[string]any{"creationTimestamp": nil, "labels": map[string]any{"batch.kubernetes.io/job-name": "migrate", "app": "migrate"}},
					"spec":     map[string]any{"containers": []any{map[string]any{"name": "main", "image": registry + "/tools:v1"}}},
				}},
		}
		return snapshot{
			"ClusterRoleBinding/<ns>-reader": normalizeObject(crb, ns, registry),
			"Service/web":                    normalizeObject(svc, ns, registry),
			"Job/migrate":                    normalizeObject(job, ns, registry),
		}
	}
	if d := diffSnapshots(objects("shop"), objects("shop-moved")); len(d) != 0 {
		t.Errorf("renamed namespace differs: %q", d)
	}
	other := objects("shop")
	other["ClusterRoleBinding/<ns>-reader"]["subjects"].([]any)[0].(map[string]any)["namespace"] = "elsewhere"
	other["Job/migrate"]["spec"].(map[string]any)["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"] = "reg-shop:5000/tools:v1"
	want := []string{
		`ClusterRoleBinding/<ns>-reader: subjects[0].namespace: want "<ns>", got "elsewhere"`,
		`Job/migrate: spec.template.spec.containers[0].image: want "<registry>/tools:v1", got "reg-shop:5000/tools:v1"`,
	}
	if d := diffSnapshots(objects("shop"), other); strings.Join(d, "\n") != strings.Join(want, "\n") {
		t.Errorf("differences:\n  %s\nwant:\n  %s", strings.Join(d, "\n  "), strings.Join(want, "\n  "))
	}
}

func sortedKeys(s snapshot) []string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
