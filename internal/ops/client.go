package ops

import (
	"fmt"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// DefaultNamespace holds Ferry's objects on the host unless told otherwise.
const DefaultNamespace = "ferry-system"

// NamespaceEnv, when set, replaces DefaultNamespace as the default of the
// CLI's and the controller's --ferry-namespace: one environment variable
// points every command at a second installation on the same host.
const NamespaceEnv = "FERRY_NAMESPACE"

// Namespace returns the default namespace of Ferry's objects: $FERRY_NAMESPACE,
// else DefaultNamespace.
func Namespace() string {
	if ns := os.Getenv(NamespaceEnv); ns != "" {
		return ns
	}
	return DefaultNamespace
}

// Client performs Ferry's operations on the host cluster.
type Client struct {
	c         client.Client
	namespace string
}

// New returns a Client for Ferry's objects in namespace on the host that
// c reaches. c needs Ferry's types in its scheme (controller.Scheme).
func New(c client.Client, namespace string) *Client {
	return &Client{c: c, namespace: namespace}
}

// Namespace is the namespace of Ferry's objects on the host.
func (o *Client) Namespace() string { return o.namespace }

// key names an object of Ferry's namespace.
func (o *Client) key(name string) client.ObjectKey {
	return client.ObjectKey{Namespace: o.namespace, Name: name}
}

// ValidateName checks the name of an object a user gives (a plan, a
// cluster).
func ValidateName(name string) error {
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("%q is not a valid name: %s", name, strings.Join(errs, "; "))
	}
	return nil
}
