package usage

import (
	"context"
	"encoding/json"
	"fmt"

	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"

	"ferry.dev/ferry/internal/cluster"
)

// nodeProxy is the access the kubelet path needs: reading a node's stats
// through the API server. It is broad (the whole kubelet API of every
// node), so it is used only where a cluster grants it anyway.
var nodeProxy = authzv1.ResourceAttributes{Verb: "get", Resource: "nodes", Subresource: "proxy"}

// mayProxyNodes reports whether the cluster lets Ferry read the kubelets'
// stats (a SelfSubjectAccessReview).
func mayProxyNodes(ctx context.Context, c *cluster.Clients) (bool, error) {
	denied, err := cluster.MissingAccess(ctx, c, "", []authzv1.ResourceAttributes{nodeProxy})
	if err != nil {
		return false, fmt.Errorf("review access to nodes/proxy on cluster %s: %w", c.Name, err)
	}
	return len(denied) == 0, nil
}

// summary is the part of the kubelet's stats summary
// (/stats/summary, kubelet API stats/v1alpha1) the kubelet path reads.
type summary struct {
	Node struct {
		Fs *fsStats `json:"fs"`
	} `json:"node"`
	Pods []struct {
		Volumes []volumeStats `json:"volume"`
	} `json:"pods"`
}

// volumeStats are one pod volume's figures.
type volumeStats struct {
	fsStats
	PVCRef *struct {
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"pvcRef"`
}

// fsStats are a file system's figures, each absent when unknown.
type fsStats struct {
	CapacityBytes *int64 `json:"capacityBytes"`
	UsedBytes     *int64 `json:"usedBytes"`
	InodesUsed    *int64 `json:"inodesUsed"`
}

// nodeSummary reads the stats summary of a node through the API server.
func nodeSummary(ctx context.Context, c *cluster.Clients, node string) (*summary, error) {
	raw, err := c.Kube.CoreV1().RESTClient().Get().AbsPath("/api/v1/nodes", node, "proxy", "stats", "summary").DoRaw(ctx)
	if err != nil {
		return nil, fmt.Errorf("read the stats summary of node %s on cluster %s: %w", node, c.Name, err)
	}
	var s summary
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, fmt.Errorf("decode the stats summary of node %s on cluster %s: %w", node, c.Name, err)
	}
	return &s, nil
}

// fsSlack is how much larger than the claim's capacity its volume's file
// system may report itself and still count as the volume's own (file
// system overhead, rounding of the provisioned size).
const fsSlack = 1.1

// claimFigures returns the kubelet's figures of the claim ns/name from s,
// if the summary has them and they describe the claim's own file system.
// Volumes on a shared file system (a host path, an NFS export without
// quotas) report the whole file system's statfs: its used bytes are every
// tenant's, so those are not taken. A volume counts as its own file
// system when its capacity is no larger than the claim's (times fsSlack)
// and is not the node's root file system's.
func claimFigures(s *summary, ns, name string, claimCapacity int64) (fsStats, bool) {
	for _, p := range s.Pods {
		for _, v := range p.Volumes {
			if v.PVCRef == nil || v.PVCRef.Namespace != ns || v.PVCRef.Name != name {
				continue
			}
			return v.fsStats, ownFilesystem(v.fsStats, s.Node.Fs, claimCapacity)
		}
	}
	return fsStats{}, false
}

// ownFilesystem tells whether the figures v of a claim of claimCapacity
// bytes describe a file system of its own (see claimFigures).
func ownFilesystem(v fsStats, node *fsStats, claimCapacity int64) bool {
	if v.UsedBytes == nil || v.CapacityBytes == nil || claimCapacity <= 0 {
		return false
	}
	if node != nil && node.CapacityBytes != nil && *node.CapacityBytes == *v.CapacityBytes {
		return false
	}
	return float64(*v.CapacityBytes) <= float64(claimCapacity)*fsSlack
}

// claimCapacity is what a claim's volume has when bound, else what it
// requests.
func claimCapacity(c *corev1.PersistentVolumeClaim) int64 {
	if q, ok := c.Status.Capacity[corev1.ResourceStorage]; ok {
		return q.Value()
	}
	q := c.Spec.Resources.Requests[corev1.ResourceStorage]
	return q.Value()
}
