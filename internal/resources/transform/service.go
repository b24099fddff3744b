package transform

import (
	"encoding/json"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// lastAppliedAnnotation holds the configuration kubectl apply last sent.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// serviceTransform clears what the source cluster allocated to a Service:
// cluster IPs, node ports the user did not choose, the health check node
// port and the load balancer status.
type serviceTransform struct{}

var _ Transformer = (*serviceTransform)(nil)

// Name implements Transformer.
func (*serviceTransform) Name() string { return "service" }

// AppliesTo implements Transformer: core Services.
func (*serviceTransform) AppliesTo(gk schema.GroupKind) bool { return gk == gkService }

// Transform implements Transformer. A headless Service keeps clusterIP
// "None". A port keeps its nodePort only when the last-applied
// configuration lists a nodePort for the same port and protocol; a
// last-applied configuration that does not parse counts as absent.
func (*serviceTransform) Transform(_ *Context, obj *unstructured.Unstructured) (string, error) {
	if ip, _, _ := unstructured.NestedString(obj.Object, "spec", "clusterIP"); ip != "None" {
		unstructured.RemoveNestedField(obj.Object, "spec", "clusterIP")
		unstructured.RemoveNestedField(obj.Object, "spec", "clusterIPs")
	}
	unstructured.RemoveNestedField(obj.Object, "spec", "healthCheckNodePort")
	chosen := userNodePorts(obj.GetAnnotations()[lastAppliedAnnotation])
	for _, p := range nestedSlice(obj.Object, "spec", "ports") {
		port, ok := p.(map[string]interface{})
		if !ok {
			continue
		}
		if !chosen[portKeyOf(port)] {
			delete(port, "nodePort")
		}
	}
	removeMapKeys(obj.Object, []string{"status"}, "loadBalancer")
	return "", nil
}

// portKey identifies a Service port by number and protocol.
type portKey struct {
	port     int64
	protocol string
}

// portKeyOf returns the key of an unstructured Service port; the protocol
// defaults to TCP as in the API.
func portKeyOf(port map[string]interface{}) portKey {
	n, _ := toInt64(port["port"])
	proto, _ := port["protocol"].(string)
	if proto == "" {
		proto = "TCP"
	}
	return portKey{port: n, protocol: proto}
}

// userNodePorts returns the ports for which the last-applied configuration
// sets a nodePort.
func userNodePorts(lastApplied string) map[portKey]bool {
	if lastApplied == "" {
		return nil
	}
	var cfg struct {
		Spec struct {
			Ports []map[string]interface{} `json:"ports"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(lastApplied), &cfg); err != nil {
		return nil
	}
	chosen := make(map[portKey]bool)
	for _, p := range cfg.Spec.Ports {
		if n, ok := toInt64(p["nodePort"]); ok && n != 0 {
			chosen[portKeyOf(p)] = true
		}
	}
	return chosen
}
