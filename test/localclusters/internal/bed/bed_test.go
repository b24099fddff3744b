package bed

import (
	"reflect"
	"strings"
	"testing"
)

func TestClusterAddresses(t *testing.T) {
	t.Setenv("FERRY_LOCALCLUSTERS_STATE", "/state")
	env, err := NewEnv("/repo/.localclusters", []string{"src", "dst"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		cluster string
		got     func(*Cluster) string
		want    string
	}{
		{"src", (*Cluster).HostIP, "10.200.1.1"},
		{"dst", (*Cluster).NodeIP, "10.200.2.2"},
		{"src", (*Cluster).PodCIDR, "10.88.0.0/16"},
		{"dst", (*Cluster).PodCIDR, "10.89.0.0/16"},
		{"src", (*Cluster).ServiceCIDR, "10.96.0.0/16"},
		{"dst", (*Cluster).APIServiceIP, "10.97.0.1"},
		{"dst", (*Cluster).APIServer, "https://10.200.2.1:16442"},
		{"src", (*Cluster).Registry, "10.200.1.1:5000"},
		{"src", (*Cluster).NetNS, "ferry-src"},
		{"dst", (*Cluster).CgroupRoot, "/ferry-dst"},
		{"src", (*Cluster).ContainerdSocket, "/state/src/containerd/containerd.sock"},
	}
	for _, tt := range tests {
		c, err := env.Cluster(tt.cluster)
		if err != nil {
			t.Fatal(err)
		}
		if got := tt.got(c); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.cluster, got, tt.want)
		}
	}
	if len(env.Clusters[0].HostVeth()) > 15 {
		t.Errorf("interface name %q is longer than Linux allows", env.Clusters[0].HostVeth())
	}
}

func TestTooManyClusters(t *testing.T) {
	if _, err := NewEnv("/x", []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}); err == nil {
		t.Fatal("ten clusters accepted")
	}
}

func TestSplitRule(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{`FORWARD -s 10.88.0.0/16 -j ACCEPT`, []string{"FORWARD", "-s", "10.88.0.0/16", "-j", "ACCEPT"}},
		{`FORWARD -m comment --comment "two words" -j ACCEPT`, []string{"FORWARD", "-m", "comment", "--comment", "two words", "-j", "ACCEPT"}},
		{``, nil},
	}
	for _, tt := range tests {
		if got := splitRule(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitRule(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUnescapeMount(t *testing.T) {
	if got := unescapeMount(`/a\040b`); got != "/a b" {
		t.Fatalf("got %q", got)
	}
}

func TestComponents(t *testing.T) {
	env, err := NewEnv("/x", DefaultClusters)
	if err != nil {
		t.Fatal(err)
	}
	c := env.Clusters[0]
	for _, name := range Components {
		comp, err := env.component(name)
		if err != nil {
			t.Fatalf("component %s: %v", name, err)
		}
		if p := comp.proc(c); p.name != name || comp.ready == nil || comp.grace <= 0 {
			t.Errorf("component %s: process %q, ready set %v, grace %s", name, p.name, comp.ready != nil, comp.grace)
		}
	}
	if _, err := env.component("kube-apiservr"); err == nil || !strings.Contains(err.Error(), "kube-apiserver") {
		t.Errorf("an unknown component gives %v, want the list of components", err)
	}
}
