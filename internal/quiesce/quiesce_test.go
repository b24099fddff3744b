package quiesce

import (
	"context"
	"errors"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
)

// TestEmptyNamespace checks that nothing runs on an empty namespace, which
// a client would take as all namespaces; the nil client would panic if used.
func TestEmptyNamespace(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{name: "Quiesce", call: func() error { _, err := Quiesce(ctx, nil, "", "m1"); return err }},
		{name: "Unquiesce", call: func() error { _, err := Unquiesce(ctx, nil, ""); return err }},
		{name: "Running", call: func() error { _, err := Running(ctx, nil, ""); return err }},
		{name: "Wait", call: func() error { return Wait(ctx, nil, "", time.Second) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, errNoNamespace) {
				t.Fatalf("error = %v, want %v", err, errNoNamespace)
			}
		})
	}
}

// TestKindsTheTokenMayNotList: an optional kind (OpenShift's) that the
// token may not list is skipped by Quiesce and Unquiesce, which still
// act on the rest; a core kind it may not list is an error.
func TestKindsTheTokenMayNotList(t *testing.T) {
	tests := []struct {
		name      string
		forbidden string // the kind of list refused
		wantErr   bool
	}{
		{"DeploymentConfigs", "DeploymentConfigList", false},
		{"StatefulSets", "StatefulSetList", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			web := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "app"},
				Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)}}
			refuse := func(ctx context.Context, c client.WithWatch, list client.ObjectList, opts ...client.ListOption) error {
				if gvk, err := apiutil.GVKForObject(list, c.Scheme()); err == nil && gvk.Kind == tt.forbidden {
					return apierrors.NewForbidden(schema.GroupResource{Resource: tt.forbidden}, "", errors.New("no list right"))
				}
				return c.List(ctx, list, opts...)
			}
			c := fake.NewClientBuilder().WithObjects(web).WithInterceptorFuncs(interceptor.Funcs{List: refuse}).Build()
			if _, err := Quiesce(ctx, c, "app", "m1"); (err != nil) != tt.wantErr {
				t.Fatalf("Quiesce: %v, want error %v", err, tt.wantErr)
			}
			got := &appsv1.Deployment{}
			if err := c.Get(ctx, client.ObjectKeyFromObject(web), got); err != nil || *got.Spec.Replicas != 0 {
				t.Fatalf("after Quiesce the Deployment has %v replicas (%v), want 0", got.Spec.Replicas, err)
			}
			if _, err := Unquiesce(ctx, c, "app"); (err != nil) != tt.wantErr {
				t.Fatalf("Unquiesce: %v, want error %v", err, tt.wantErr)
			}
			if err := c.Get(ctx, client.ObjectKeyFromObject(web), got); err != nil || *got.Spec.Replicas != 2 {
				t.Fatalf("after Unquiesce the Deployment has %v replicas (%v), want 2", got.Spec.Replicas, err)
			}
		})
	}
}
