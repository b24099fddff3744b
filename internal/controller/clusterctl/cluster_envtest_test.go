//go:build envtest

package clusterctl

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/registry"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

// authRegistry is an in-memory registry over TLS that wants ferry:s3cret.
func authRegistry(t *testing.T) (host string, ca []byte) {
	t.Helper()
	reg := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ferry" || p != "s3cret" {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		reg.ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "https://"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

func TestRegistryReady(t *testing.T) {
	ctx := context.Background()
	ns := "ferry-clusterctl-registry"
	if err := env.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		t.Fatal(err)
	}
	host, ca := authRegistry(t)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "reg", Namespace: ns},
		Data: map[string][]byte{"username": []byte("ferry"), "password": []byte("s3cret")}}
	if err := env.Client.Create(ctx, secret); err != nil {
		t.Fatal(err)
	}
	wrong := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "wrong", Namespace: ns},
		Data: map[string][]byte{"username": []byte("ferry"), "password": []byte("nope")}}
	if err := env.Client.Create(ctx, wrong); err != nil {
		t.Fatal(err)
	}
	r := &Reconciler{Client: env.Client, Registry: cluster.NewRegistry(env.Config, env.Client)}
	tests := []struct {
		name     string
		registry *ferryv1.RegistrySpec
		status   metav1.ConditionStatus
		reason   string
		mentions string
	}{
		{"no registry", nil, "", "", ""},
		{"right credentials and CA", &ferryv1.RegistrySpec{Address: host, CABundle: ca, CredentialsSecretRef: &ferryv1.SecretReference{Name: "reg"}},
			metav1.ConditionTrue, ferryv1.ReasonReady, host},
		{"wrong password", &ferryv1.RegistrySpec{Address: host, CABundle: ca, CredentialsSecretRef: &ferryv1.SecretReference{Name: "wrong"}},
			metav1.ConditionFalse, ferryv1.ReasonRegistryUnauthorized, "credentialsSecretRef"},
		{"no CA", &ferryv1.RegistrySpec{Address: host, CredentialsSecretRef: &ferryv1.SecretReference{Name: "reg"}},
			metav1.ConditionFalse, ferryv1.ReasonRegistryTLS, "--registry-ca"},
		{"missing secret", &ferryv1.RegistrySpec{Address: host, CABundle: ca, CredentialsSecretRef: &ferryv1.SecretReference{Name: "gone"}},
			metav1.ConditionFalse, ferryv1.ReasonRegistryCredentials, "--registry-credentials-file"},
		{"nothing listens", &ferryv1.RegistrySpec{Address: "127.0.0.1:1", Insecure: true},
			metav1.ConditionFalse, ferryv1.ReasonRegistryUnreachable, "does not answer"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &ferryv1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: "c" + string(rune('a'+i)), Namespace: ns},
				Spec: ferryv1.ClusterSpec{IsHost: true, Registry: tt.registry}}
			if err := env.Client.Create(ctx, c); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Reconcile(ctx, ctrl.Request{NamespacedName: client.ObjectKeyFromObject(c)}); err != nil {
				t.Fatal(err)
			}
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(c), c); err != nil {
				t.Fatal(err)
			}
			if !meta.IsStatusConditionTrue(c.Status.Conditions, ferryv1.ConditionReady) {
				t.Errorf("Ready is not True: %+v (the registry has its own condition)", c.Status.Conditions)
			}
			cond := meta.FindStatusCondition(c.Status.Conditions, ferryv1.ConditionRegistryReady)
			if tt.registry == nil {
				if cond != nil {
					t.Errorf("RegistryReady %+v on a cluster without a registry", cond)
				}
				return
			}
			if cond == nil || cond.Status != tt.status || cond.Reason != tt.reason || !strings.Contains(cond.Message, tt.mentions) {
				t.Fatalf("RegistryReady = %+v, want %s/%s mentioning %q", cond, tt.status, tt.reason, tt.mentions)
			}
			if strings.Contains(cond.Message, "s3cret") || strings.Contains(cond.Message, "nope") {
				t.Errorf("the condition shows a password: %s", cond.Message)
			}
		})
	}
}
