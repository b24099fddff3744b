//go:build envtest

package ops

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/internal/testenv"
)

var env *testenv.Env

func TestMain(m *testing.M) { os.Exit(testenv.Main(m, &env)) }

var namespaces atomic.Int32

// newClient returns a Client of a fresh namespace of the test API server;
// with create, the namespace exists.
func newClient(t *testing.T, create bool) *Client {
	t.Helper()
	ns := fmt.Sprintf("ferry-ops-%d", namespaces.Add(1))
	if create {
		if err := env.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
			t.Fatal(err)
		}
	}
	return New(env.Client, ns)
}
