package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestBedTool is the path of the test bed's command (localclusters):
// $LOCALCLUSTERS_BIN, else the one `make tool` builds into
// .localclusters/bin.
func TestBedTool(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("LOCALCLUSTERS_BIN"); bin != "" {
		return bin
	}
	return filepath.Join(RepoRoot(t), ".localclusters", "bin", "localclusters")
}

// testBed runs the test bed's command with args and fails the test when
// it fails.
func testBed(t testing.TB, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	argv := append([]string{"--repo", RepoRoot(t)}, args...)
	out, err := exec.CommandContext(ctx, TestBedTool(t), argv...).CombinedOutput()
	if err != nil {
		t.Fatalf("localclusters %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("localclusters %s:\n%s", strings.Join(args, " "), out)
}

// StopComponent stops one process of the cluster (kube-apiserver, etcd,
// kubelet, ...; see `localclusters -h`), the rest running on. The test
// starts it again with StartComponent; a cleanup does so too, so that a
// failed test leaves the cluster whole.
func (c *Cluster) StopComponent(t testing.TB, component string) {
	t.Helper()
	testBed(t, "stop", c.Name, component)
	t.Cleanup(func() { testBed(t, "start", c.Name, component) })
}

// StartComponent starts a stopped process of the cluster again and waits
// until it is ready; a running one is left alone.
func (c *Cluster) StartComponent(t testing.TB, component string) {
	t.Helper()
	testBed(t, "start", c.Name, component)
}

// cutComment marks the iptables rules of CutNetwork.
const cutComment = "ferry-e2e-cut"

// CutNetwork drops every packet between the node of c and the node of
// peer, in c's node network namespace (the raw table, before connection
// tracking, so established connections stall too), until the returned
// heal is called; a cleanup heals too, also when the test fails. Only
// the test bed's addresses are touched.
func (c *Cluster) CutNetwork(t testing.TB, peer *Cluster) (heal func()) {
	t.Helper()
	rules := [][]string{
		{"PREROUTING", "-d", peer.NodeIP},
		{"PREROUTING", "-s", peer.NodeIP},
		{"OUTPUT", "-d", peer.NodeIP},
	}
	ns := c.netns(t)
	var added [][]string
	healed := false
	heal = func() {
		if healed {
			return
		}
		healed = true
		for _, r := range added {
			if out, err := nodeIPTables(ns, append([]string{"-D"}, r...)...); err != nil {
				t.Errorf("remove the network cut %v from %s: %v\n%s", r, c.Name, err, out)
			}
		}
	}
	t.Cleanup(heal)
	for _, r := range rules {
		rule := append(r[:len(r):len(r)], "-m", "comment", "--comment", cutComment, "-j", "DROP")
		if out, err := nodeIPTables(ns, append([]string{"-I"}, rule...)...); err != nil {
			t.Fatalf("cut the network of %s from %s: %v\n%s", c.Name, peer.NodeIP, err, out)
		}
		added = append(added, rule)
	}
	return heal
}

// DroppedByCut counts the packets the rules of CutNetwork dropped so far
// on c's node: more than zero proves the cut hit traffic.
func (c *Cluster) DroppedByCut(t testing.TB) int {
	t.Helper()
	out, err := nodeIPTables(c.netns(t), "-L", "-n", "-v", "-x")
	if err != nil {
		t.Fatalf("read the iptables counters of %s: %v\n%s", c.Name, err, out)
	}
	n := 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && strings.Contains(line, cutComment) {
			p, err := strconv.Atoi(f[0])
			if err != nil {
				t.Fatalf("iptables counter line %q: %v", line, err)
			}
			n += p
		}
	}
	return n
}

// CutRules lists the rules of CutNetwork still on c's node.
func (c *Cluster) CutRules(t testing.TB) []string {
	t.Helper()
	out, err := nodeIPTables(c.netns(t), "-S")
	if err != nil {
		t.Fatalf("list the iptables rules of %s: %v\n%s", c.Name, err, out)
	}
	var left []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, cutComment) {
			left = append(left, line)
		}
	}
	return left
}

// netns is the name of the network namespace of c's node, as the test bed
// wrote it.
func (c *Cluster) netns(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(t, c.Name), "netns"))
	if err != nil {
		t.Fatalf("the node network namespace of %s is unknown (%v): run make clusters-up", c.Name, err)
	}
	return strings.TrimSpace(string(b))
}

// nodeIPTables runs iptables on the raw table in the network namespace ns.
func nodeIPTables(ns string, args ...string) (string, error) {
	argv := append([]string{"--net=/run/netns/" + ns, "--", "iptables", "-w", "-t", "raw"}, args...)
	out, err := exec.Command("nsenter", argv...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("iptables %s in %s: %w", strings.Join(args, " "), ns, err)
	}
	return string(out), nil
}
