// Package testenv starts a real Kubernetes API server (kube-apiserver and
// etcd, no nodes) with Ferry's CRDs installed, for tests of reconcilers,
// plan validation and the operations library. It wraps controller-runtime's
// envtest and uses the test bed's cached binaries: KUBEBUILDER_ASSETS names
// a folder holding kube-apiserver, kubectl and etcd (`make envtest-assets`
// makes it; `make unit` sets the variable).
//
// # Basics
//
// Tests that need it carry the build tag envtest. A package starts one
// server for all its tests from TestMain:
//
//	var env *testenv.Env
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }
//
// # Caveats
//
// No controller-manager, scheduler or kubelet runs: Deployments never get
// pods, pods are never scheduled, claims never bind, and an unscheduled pod
// is deleted at once. Deleted namespaces stay Terminating unless a test runs
// [Env.FinalizeNamespaces].
package testenv

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"ferry.dev/ferry/config"
	"ferry.dev/ferry/internal/cluster"
)

// Env is a running API server.
type Env struct {
	env *envtest.Environment
	// Config reaches the API server as an administrator.
	Config *rest.Config
	// Client is a controller-runtime client without a cache, with the
	// Kubernetes and Ferry types.
	Client client.Client
	// Kube is the typed clientset.
	Kube kubernetes.Interface
}

// Start starts an API server with Ferry's CRDs.
func Start() (*Env, error) {
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		return nil, fmt.Errorf("KUBEBUILDER_ASSETS is not set: run the envtest tests with `make unit`, or set it to the folder `make envtest-assets` prints")
	}
	crds, err := config.CRDObjects()
	if err != nil {
		return nil, err
	}
	e := &envtest.Environment{CRDs: crds, ErrorIfCRDPathMissing: true}
	cfg, err := e.Start()
	if err != nil {
		return nil, fmt.Errorf("start envtest: %w", err)
	}
	out := &Env{env: e, Config: cfg}
	if out.Client, err = client.New(cfg, client.Options{Scheme: cluster.Scheme()}); err != nil {
		_ = e.Stop()
		return nil, fmt.Errorf("envtest client: %w", err)
	}
	if out.Kube, err = kubernetes.NewForConfig(cfg); err != nil {
		_ = e.Stop()
		return nil, fmt.Errorf("envtest clientset: %w", err)
	}
	return out, nil
}

// Stop stops the API server and etcd.
func (e *Env) Stop() error { return e.env.Stop() }

// Main starts one API server for a package's tests, runs them and stops
// it; call it from TestMain and pass its result to os.Exit.
func Main(m *testing.M, env **Env) int {
	e, err := Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "testenv:", err)
		return 1
	}
	*env = e
	code := m.Run()
	if err := e.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "testenv: stop:", err)
	}
	return code
}

// FinalizeNamespaces stands in for the namespace controller until ctx
// ends: every second it finalizes Terminating namespaces, so that they go
// (their contents stay in etcd, unseen). Tests of steps that wait for a
// deleted namespace to go need it.
func (e *Env) FinalizeNamespaces(ctx context.Context) {
	_ = wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		l, err := e.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for i := range l.Items {
			ns := &l.Items[i]
			if ns.DeletionTimestamp == nil || len(ns.Spec.Finalizers) == 0 {
				continue
			}
			ns.Spec.Finalizers = nil
			_, _ = e.Kube.CoreV1().Namespaces().Finalize(ctx, ns, metav1.UpdateOptions{})
		}
		return false, nil
	})
}

// WriteKubeconfig writes a kubeconfig file at path that reaches the test
// API server as its administrator, for tools that take one (kubectl, the
// CLI).
func (e *Env) WriteKubeconfig(path string) error {
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: e.Config.Host, CertificateAuthorityData: e.Config.CAData}
	kc.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: e.Config.CertData, ClientKeyData: e.Config.KeyData, Token: e.Config.BearerToken}
	kc.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	kc.CurrentContext = "envtest"
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}
