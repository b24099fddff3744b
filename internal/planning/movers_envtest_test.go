//go:build envtest

package planning

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// TestCheckMoverSecurityEnvtest reads the Pod Security labels of real
// namespaces: a claim whose destination namespace enforces restricted
// (labelled there, or in a Full plan inherited from the source namespace
// when the destination one does not exist yet) gets the warning naming
// the owners not kept; one whose source enforces it, the unreadable
// files; unlabelled namespaces none.
func TestCheckMoverSecurityEnvtest(t *testing.T) {
	src, dst := clients(t)
	restricted := map[string]string{moverpod.LabelEnforce: "restricted", moverpod.LabelEnforceVersion: "latest"}
	plain := namespace(t, srcEnv, "plain")
	locked := "locked-" + rand.String(5)
	createNamespace(t, srcEnv, locked, restricted)
	create(t, srcEnv, claim(plain, "data", nil), claim(locked, "data", nil))
	usage := func(ns string) ferryv1.ClaimUsage {
		return ferryv1.ClaimUsage{Namespace: ns, Name: "data", VolumeUsage: ferryv1.VolumeUsage{
			UsedBytes: ptr.To[int64](1 << 30), Method: ferryv1.UsagePod,
			Owners:          []ferryv1.VolumeOwner{{UID: 999, GID: 999, Bytes: 1 << 30, Files: 900}, {UID: 0, GID: 0, Bytes: 4096, Files: 120}},
			UnreadableFiles: 2, UnreadableExample: "root.key",
		}}
	}
	dstRestricted := "dst-" + rand.String(5)
	createNamespace(t, dstEnv, dstRestricted, restricted)
	dstPlain := namespace(t, dstEnv, "dst")
	tests := []struct {
		name      string
		mapping   string
		want      []string
		wantClaim string // the key in MoverSecurity, "" for none
	}{
		{"unlabelled on both sides", plain + ":" + dstPlain, nil, ""},
		{"unlabelled, destination not created yet", plain + ":new-" + rand.String(5), nil, ""},
		{"restricted destination", plain + ":" + dstRestricted, []string{
			plain + "/data: owners not kept: uid 0 gid 0 (120 files); the mover runs as 999:999 under the restricted Pod Security Standard (latest) in namespace " + dstRestricted}, plain + "/data"},
		{"restricted source, destination created from it", locked + ":new-" + rand.String(5), []string{
			locked + "/data: owners not kept: uid 0 gid 0 (120 files)",
			locked + "/data: the source mover, running as 999:999 under the restricted Pod Security Standard (latest) in namespace " + locked + ", cannot read 2 files and directories (root.key, for one)"}, locked + "/data"},
		{"restricted source, unlabelled destination", locked + ":" + dstPlain, []string{
			locked + "/data: the source mover, running as 999:999"}, locked + "/data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := plan(tt.mapping)
			p.Status.Usage = []ferryv1.ClaimUsage{usage(strings.SplitN(tt.mapping, ":", 2)[0])}
			res := checkResult(t, p, src, dst, "", nil, checkMapping, listClaims, applyUsage, checkMoverSecurity)
			if len(res.Warnings) != len(tt.want) {
				t.Fatalf("warnings %q, want %d", res.Warnings, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(res.Warnings[i], w) {
					t.Errorf("warning %q, want it to start %q", res.Warnings[i], w)
				}
			}
			if _, ok := res.MoverSecurity[tt.wantClaim]; ok != (tt.wantClaim != "") || (tt.wantClaim == "" && len(res.MoverSecurity) > 0) {
				t.Errorf("mover security %+v, want an entry for %q only", res.MoverSecurity, tt.wantClaim)
			}
		})
	}
}
