package transform

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestContextImage(t *testing.T) {
	tc := &Context{RegistryRewrites: []RegistryRewrite{
		{From: "10.200.1.1:5000/shop/", To: "registry.example/shop-moved/"},
		{From: "10.200.1.1:5000/", To: "10.200.2.1:5000/"},
		{From: "10.200.1.1:5000/late/", To: "never/"},
		{From: "", To: "ignored/"},
	}}
	cases := []struct{ in, want string }{
		{"10.200.1.1:5000/shop/web:2", "registry.example/shop-moved/web:2"},
		{"10.200.1.1:5000/late/x:1", "10.200.2.1:5000/late/x:1"},
		{"10.200.1.1:5000/db@sha256:0123", "10.200.2.1:5000/db@sha256:0123"},
		{"10.200.1.1:50001/db:1", "10.200.1.1:50001/db:1"},
		{"nginx:1.27", "nginx:1.27"},
		{"", ""},
	}
	for _, tt := range cases {
		if got := tc.Image(tt.in); got != tt.want {
			t.Errorf("image(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var none *Context
	if got := none.Image("a/b"); got != "a/b" {
		t.Errorf("nil context image = %q", got)
	}
}

func TestContextNamespace(t *testing.T) {
	tc := &Context{NamespaceMap: map[string]string{"shop": "shop-new", "blank": ""}}
	cases := []struct{ in, want string }{
		{"shop", "shop-new"},
		{"other", "other"},
		{"blank", "blank"},
	}
	for _, tt := range cases {
		if got := tc.namespace(tt.in); got != tt.want {
			t.Errorf("namespace(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// recorder is a test Transformer that records calls.
type recorder struct {
	name  string
	kinds []schema.GroupKind
	skip  string
	err   error
	calls *[]string
}

func (r *recorder) Name() string { return r.name }
func (r *recorder) AppliesTo(gk schema.GroupKind) bool {
	for _, k := range r.kinds {
		if k == gk {
			return true
		}
	}
	return false
}
func (r *recorder) Transform(*Context, *unstructured.Unstructured) (string, error) {
	*r.calls = append(*r.calls, r.name)
	return r.skip, r.err
}

func TestRun(t *testing.T) {
	errBoom := errors.New("boom")
	cases := []struct {
		name      string
		steps     func(calls *[]string) []Transformer
		want      Outcome
		wantCalls string
		wantErr   error
	}{
		{
			name: "all applicable steps run in order",
			steps: func(c *[]string) []Transformer {
				return []Transformer{
					&recorder{name: "a", kinds: []schema.GroupKind{gkConfigMap}, calls: c},
					&recorder{name: "b", kinds: []schema.GroupKind{gkSecret}, calls: c},
					&recorder{name: "c", kinds: []schema.GroupKind{gkConfigMap}, calls: c},
				}
			},
			wantCalls: "a,c",
		},
		{
			name: "stops at the first skip",
			steps: func(c *[]string) []Transformer {
				return []Transformer{
					&recorder{name: "a", kinds: []schema.GroupKind{gkConfigMap}, skip: "recreated", calls: c},
					&recorder{name: "b", kinds: []schema.GroupKind{gkConfigMap}, calls: c},
				}
			},
			want:      Outcome{Skip: true, Reason: "recreated"},
			wantCalls: "a",
		},
		{
			name: "stops at the first error",
			steps: func(c *[]string) []Transformer {
				return []Transformer{
					&recorder{name: "a", kinds: []schema.GroupKind{gkConfigMap}, err: errBoom, calls: c},
					&recorder{name: "b", kinds: []schema.GroupKind{gkConfigMap}, calls: c},
				}
			},
			wantCalls: "a",
			wantErr:   errBoom,
		},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			var calls []string
			got, err := Run(nil, tt.steps(&calls), newObject("v1", "ConfigMap", "shop", "c").obj())
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "ConfigMap shop/c with a") {
				t.Errorf("error %q does not name the object and step", err)
			}
			if got != tt.want {
				t.Errorf("outcome = %+v, want %+v", got, tt.want)
			}
			if strings.Join(calls, ",") != tt.wantCalls {
				t.Errorf("calls = %v, want %s", calls, tt.wantCalls)
			}
		})
	}
}

func TestDefaultOrder(t *testing.T) {
	var names []string
	for _, tr := range Default() {
		names = append(names, tr.Name())
	}
	want := "skip-recreated,service-account,workload,storage,route,deployment-config,image-stream,generic,service,rbac,security-context-constraints,labels"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("Default() = %s, want %s", got, want)
	}
}

// pipelineContext is the Context of a plan moving namespace shop to
// shop-new, between two local registries, onto a cluster whose storage
// class has another name.
func pipelineContext() *Context {
	return &Context{
		NamespaceMap:     map[string]string{"shop": "shop-new"},
		StorageClassMap:  map[string]string{"local-path": "fast-ssd"},
		RegistryRewrites: []RegistryRewrite{{From: "10.200.1.1:5000/", To: "10.200.2.1:5000/"}},
		Labels: map[string]string{
			ferryv1.LabelPlan:      "shop-move",
			ferryv1.LabelMigration: "shop-move-1",
			ferryv1.LabelManagedBy: ferryv1.ManagedByValue,
		},
	}
}

func TestRunDefaultPipeline(t *testing.T) {
	cases := []struct {
		name       string
		in         string
		want       string // ignored when wantReason is set
		wantReason string
	}{
		{
			name: "quiesced Deployment",
			in: `{
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {
    "name": "web", "namespace": "shop",
    "uid": "6f1c2f5e-4b5e-4a7e-9d3c-2f8e1d7c9a10", "resourceVersion": "48213", "generation": 4,
    "creationTimestamp": "2026-01-01T00:00:00Z",
    "labels": {"app": "web"},
    "annotations": {
      "deployment.kubernetes.io/revision": "2",
      "ferry.dev/quiesced-by": "shop-move-1",
      "ferry.dev/original-replicas": "3",
      "kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"Deployment\"}"
    },
    "managedFields": [
      {"manager": "kubectl-client-side-apply", "operation": "Update", "apiVersion": "apps/v1",
       "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}},
      {"manager": "ferry", "operation": "Update", "apiVersion": "apps/v1",
       "time": "2026-01-02T00:00:00Z", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}
    ]
  },
  "spec": {
    "replicas": 0,
    "revisionHistoryLimit": 10,
    "selector": {"matchLabels": {"app": "web"}},
    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
    "template": {
      "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
      "spec": {
        "initContainers": [{"name": "migrate", "image": "10.200.1.1:5000/shop/migrate:2"}],
        "containers": [{"name": "web", "image": "10.200.1.1:5000/shop/web:2",
                        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                        "resources": {"limits": {"memory": "128Mi"}}}],
        "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
        "terminationGracePeriodSeconds": 30, "securityContext": {}
      }
    }
  },
  "status": {
    "observedGeneration": 4, "replicas": 0,
    "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}]
  }
}`,
			want: `{
  "apiVersion": "apps/v1", "kind": "Deployment",
  "metadata": {
    "name": "web", "namespace": "shop-new",
    "labels": {"app": "web", "ferry.dev/plan": "shop-move", "ferry.dev/migration": "shop-move-1",
               "app.kubernetes.io/managed-by": "ferry"},
    "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"kind\":\"Deployment\"}"}
  },
  "spec": {
    "replicas": 3,
    "revisionHistoryLimit": 10,
    "selector": {"matchLabels": {"app": "web"}},
    "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
    "template": {
      "metadata": {"creationTimestamp": null, "labels": {"app": "web"}},
      "spec": {
        "initContainers": [{"name": "migrate", "image": "10.200.2.1:5000/shop/migrate:2"}],
        "containers": [{"name": "web", "image": "10.200.2.1:5000/shop/web:2",
                        "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                        "resources": {"limits": {"memory": "128Mi"}}}],
        "restartPolicy": "Always", "dnsPolicy": "ClusterFirst", "schedulerName": "default-scheduler",
        "terminationGracePeriodSeconds": 30, "securityContext": {}
      }
    }
  }
}`,
		},
		{
			name: "StatefulSet with claim templates",
			in: `{
  "apiVersion": "apps/v1", "kind": "StatefulSet",
  "metadata": {"name": "db", "namespace": "shop", "uid": "u", "resourceVersion": "1", "generation": 1,
    "annotations": {"ferry.dev/quiesced-by": "shop-move-1", "ferry.dev/original-replicas": "1"}},
  "spec": {
    "replicas": 0, "serviceName": "db",
    "selector": {"matchLabels": {"app": "db"}},
    "template": {"metadata": {"labels": {"app": "db"}},
                 "spec": {"containers": [{"name": "db", "image": "10.200.1.1:5000/postgres:17"}]}},
    "volumeClaimTemplates": [{
      "apiVersion": "v1", "kind": "PersistentVolumeClaim",
      "metadata": {"name": "data"},
      "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "local-path",
               "resources": {"requests": {"storage": "1Gi"}}},
      "status": {"phase": "Pending"}
    }]
  },
  "status": {"replicas": 0, "availableReplicas": 0}
}`,
			want: `{
  "apiVersion": "apps/v1", "kind": "StatefulSet",
  "metadata": {"name": "db", "namespace": "shop-new",
    "labels": {"ferry.dev/plan": "shop-move", "ferry.dev/migration": "shop-move-1",
               "app.kubernetes.io/managed-by": "ferry"}},
  "spec": {
    "replicas": 1, "serviceName": "db",
    "selector": {"matchLabels": {"app": "db"}},
    "template": {"metadata": {"labels": {"app": "db"}},
                 "spec": {"containers": [{"name": "db", "image": "10.200.2.1:5000/postgres:17"}]}},
    "volumeClaimTemplates": [{
      "apiVersion": "v1", "kind": "PersistentVolumeClaim",
      "metadata": {"name": "data"},
      "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": "fast-ssd",
               "resources": {"requests": {"storage": "1Gi"}}},
      "status": {"phase": "Pending"}
    }]
  }
}`,
		},
		{
			name: "bound PersistentVolumeClaim",
			in: `{
  "apiVersion": "v1", "kind": "PersistentVolumeClaim",
  "metadata": {"name": "data-db-0", "namespace": "shop", "uid": "u", "resourceVersion": "9",
    "labels": {"app": "db"},
    "annotations": {"pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes",
      "volume.beta.kubernetes.io/storage-provisioner": "rancher.io/local-path",
      "volume.kubernetes.io/storage-provisioner": "rancher.io/local-path",
      "volume.kubernetes.io/selected-node": "src-worker"},
    "finalizers": ["kubernetes.io/pvc-protection"]},
  "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
    "storageClassName": "local-path", "volumeMode": "Filesystem", "volumeName": "pvc-6f1c2f5e"},
  "status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], "capacity": {"storage": "1Gi"}}
}`,
			want: `{
  "apiVersion": "v1", "kind": "PersistentVolumeClaim",
  "metadata": {"name": "data-db-0", "namespace": "shop-new",
    "labels": {"app": "db", "ferry.dev/plan": "shop-move", "ferry.dev/migration": "shop-move-1",
               "app.kubernetes.io/managed-by": "ferry"},
    "finalizers": ["kubernetes.io/pvc-protection"]},
  "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}},
    "storageClassName": "fast-ssd", "volumeMode": "Filesystem"}
}`,
		},
		{
			name: "NodePort Service",
			in: `{
  "apiVersion": "v1", "kind": "Service",
  "metadata": {"name": "web", "namespace": "shop", "uid": "u", "resourceVersion": "7"},
  "spec": {"type": "NodePort", "clusterIP": "10.96.0.20", "clusterIPs": ["10.96.0.20"],
    "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "selector": {"app": "web"},
    "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080, "nodePort": 31234}]},
  "status": {"loadBalancer": {}}
}`,
			want: `{
  "apiVersion": "v1", "kind": "Service",
  "metadata": {"name": "web", "namespace": "shop-new",
    "labels": {"ferry.dev/plan": "shop-move", "ferry.dev/migration": "shop-move-1",
               "app.kubernetes.io/managed-by": "ferry"}},
  "spec": {"type": "NodePort",
    "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack", "selector": {"app": "web"},
    "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}]}
}`,
		},
		{
			name: "RoleBinding of a ServiceAccount",
			in: `{
  "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
  "metadata": {"name": "web-reader", "namespace": "shop", "uid": "u", "resourceVersion": "5"},
  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
  "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop"}]
}`,
			want: `{
  "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
  "metadata": {"name": "web-reader", "namespace": "shop-new",
    "labels": {"ferry.dev/plan": "shop-move", "ferry.dev/migration": "shop-move-1",
               "app.kubernetes.io/managed-by": "ferry"}},
  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
  "subjects": [{"kind": "ServiceAccount", "name": "web", "namespace": "shop-new"}]
}`,
		},
		{
			name: "Pod of a ReplicaSet",
			in: `{
  "apiVersion": "v1", "kind": "Pod",
  "metadata": {"name": "web-5d9c7b-x2x4q", "namespace": "shop",
    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d9c7b",
                         "uid": "u", "controller": true, "blockOwnerDeletion": true}]},
  "spec": {"nodeName": "src-worker", "containers": [{"name": "web", "image": "10.200.1.1:5000/shop/web:2"}]}
}`,
			wantReason: "the Pod is recreated by its controller",
		},
		{
			name: "generated default ServiceAccount",
			in: `{
  "apiVersion": "v1", "kind": "ServiceAccount",
  "metadata": {"name": "default", "namespace": "shop", "uid": "u", "resourceVersion": "3"}
}`,
			wantReason: "the default ServiceAccount is created in every namespace by the service account controller",
		},
		{
			name: "terminating ConfigMap",
			in: `{
  "apiVersion": "v1", "kind": "ConfigMap",
  "metadata": {"name": "old", "namespace": "shop", "deletionTimestamp": "2026-01-02T00:00:00Z",
    "finalizers": ["example.com/keep"]}
}`,
			wantReason: "the object is being deleted on the source",
		},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			obj := decode(t, tt.in)
			got, err := Run(pipelineContext(), Default(), obj)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantReason != "" {
				if want := (Outcome{Skip: true, Reason: tt.wantReason}); got != want {
					t.Fatalf("outcome = %+v, want %+v", got, want)
				}
				return
			}
			if got.Skip {
				t.Fatalf("skipped: %s", got.Reason)
			}
			assertObject(t, obj, decode(t, tt.want))
		})
	}
}

func TestRunDefaultPipelineError(t *testing.T) {
	obj := forDeployment("shop", "web").annotations(ferryv1.AnnotationOriginalReplicas, "many").obj()
	_, err := Run(pipelineContext(), Default(), obj)
	if err == nil || !strings.Contains(err.Error(), "Deployment.apps shop/web with workload") {
		t.Fatalf("err = %v, want an error naming the object and the workload step", err)
	}
}

// decode parses JSON the way the dynamic client does (numbers as int64).
func decode(t *testing.T, s string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON([]byte(s)); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return u
}
