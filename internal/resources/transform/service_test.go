package transform

import "testing"

func TestServiceTransform(t *testing.T) {
	port := func(name string, port, nodePort int64, protocol string) map[string]interface{} {
		p := map[string]interface{}{"name": name, "port": port, "targetPort": port}
		if nodePort != 0 {
			p["nodePort"] = nodePort
		}
		if protocol != "" {
			p["protocol"] = protocol
		}
		return p
	}
	cases := []transformCase{
		{
			name: "ClusterIP service loses its IPs",
			in: forService("shop", "web").
				set("10.96.12.34", "spec", "clusterIP").
				set([]interface{}{"10.96.12.34"}, "spec", "clusterIPs").
				set([]interface{}{"IPv4"}, "spec", "ipFamilies").
				set([]interface{}{port("http", 80, 0, "TCP")}, "spec", "ports").obj(),
			want: forService("shop", "web").
				set([]interface{}{"IPv4"}, "spec", "ipFamilies").
				set([]interface{}{port("http", 80, 0, "TCP")}, "spec", "ports").obj(),
		},
		{
			name: "headless service keeps None",
			in: forService("shop", "db").
				set("None", "spec", "clusterIP").
				set([]interface{}{"None"}, "spec", "clusterIPs").obj(),
			want: forService("shop", "db").
				set("None", "spec", "clusterIP").
				set([]interface{}{"None"}, "spec", "clusterIPs").obj(),
		},
		{
			name: "allocated node ports are cleared",
			in: forService("shop", "web").
				set("NodePort", "spec", "type").
				set([]interface{}{port("http", 80, 31080, "TCP"), port("dns", 53, 31053, "UDP")}, "spec", "ports").obj(),
			want: forService("shop", "web").
				set("NodePort", "spec", "type").
				set([]interface{}{port("http", 80, 0, "TCP"), port("dns", 53, 0, "UDP")}, "spec", "ports").obj(),
		},
		{
			name: "node port chosen in last-applied configuration is kept",
			in: forService("shop", "web").
				annotations(lastAppliedAnnotation, `{"apiVersion":"v1","kind":"Service","spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30080},{"port":53,"protocol":"UDP"},{"port":443,"protocol":"UDP","nodePort":30443}]}}`).
				set("NodePort", "spec", "type").
				set([]interface{}{
					port("http", 80, 30080, "TCP"),
					port("dns", 53, 31053, "UDP"),
					port("https", 443, 31443, "TCP"),
				}, "spec", "ports").obj(),
			want: forService("shop", "web").
				annotations(lastAppliedAnnotation, `{"apiVersion":"v1","kind":"Service","spec":{"type":"NodePort","ports":[{"port":80,"nodePort":30080},{"port":53,"protocol":"UDP"},{"port":443,"protocol":"UDP","nodePort":30443}]}}`).
				set("NodePort", "spec", "type").
				set([]interface{}{
					port("http", 80, 30080, "TCP"),
					port("dns", 53, 0, "UDP"),
					port("https", 443, 0, "TCP"), // last-applied chose it for UDP only
				}, "spec", "ports").obj(),
		},
		{
			name: "malformed last-applied configuration counts as absent",
			in: forService("shop", "web").
				annotations(lastAppliedAnnotation, `{not json`).
				set([]interface{}{port("http", 80, 30080, "")}, "spec", "ports").obj(),
			want: forService("shop", "web").
				annotations(lastAppliedAnnotation, `{not json`).
				set([]interface{}{port("http", 80, 0, "")}, "spec", "ports").obj(),
		},
		{
			name: "load balancer loses health check port and status",
			in: forService("shop", "web").
				set("LoadBalancer", "spec", "type").
				set("Local", "spec", "externalTrafficPolicy").
				set(int64(32000), "spec", "healthCheckNodePort").
				set([]interface{}{map[string]interface{}{"ip": "192.0.2.10"}}, "status", "loadBalancer", "ingress").obj(),
			want: forService("shop", "web").
				set("LoadBalancer", "spec", "type").
				set("Local", "spec", "externalTrafficPolicy").obj(),
		},
		{
			name: "ExternalName service is unchanged",
			in:   forService("shop", "ext").set("ExternalName", "spec", "type").set("db.example.com", "spec", "externalName").obj(),
			want: forService("shop", "ext").set("ExternalName", "spec", "type").set("db.example.com", "spec", "externalName").obj(),
		},
	}
	runCases(t, &serviceTransform{}, cases)
}
