package planning

import (
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

func TestOwnersNotKept(t *testing.T) {
	measured := func(o []ferryv1.VolumeOwner, others int32, otherFiles int64) *ferryv1.VolumeUsage {
		return &ferryv1.VolumeUsage{UsedBytes: ptr.To[int64](1), Method: ferryv1.UsagePod, Owners: o, OtherOwners: others, OtherOwnerFiles: otherFiles}
	}
	db := moverpod.Identity{UID: 999, GID: 999}
	tests := []struct {
		name  string
		u     *ferryv1.VolumeUsage
		runAs moverpod.Identity
		want  string
	}{
		{"not measured", nil, moverpod.DefaultRunAs, "owners not known (the claim's usage is not measured yet)"},
		{"by the kubelet", &ferryv1.VolumeUsage{UsedBytes: ptr.To[int64](1), Method: ferryv1.UsageKubelet}, moverpod.DefaultRunAs, "owners not known (measured by the kubelet"},
		{"all the mover's", measured([]ferryv1.VolumeOwner{{UID: 999, GID: 999, Files: 10}}, 0, 0), db, ""},
		{"empty volume", measured(nil, 0, 0), moverpod.DefaultRunAs, ""},
		{"root and www-data", measured([]ferryv1.VolumeOwner{{UID: 999, GID: 999, Files: 900}, {UID: 0, GID: 0, Files: 120}, {UID: 33, GID: 33, Files: 1}}, 0, 0), db,
			"owners not kept: uid 0 gid 0 (120 files), uid 33 gid 33 (1 file)"},
		{"other group of the mover's user", measured([]ferryv1.VolumeOwner{{UID: 999, GID: 5, Files: 2}}, 0, 0), db, "owners not kept: uid 999 gid 5 (2 files)"},
		{"others beyond the list", measured([]ferryv1.VolumeOwner{{UID: 0, GID: 0, Files: 3}}, 2, 9), moverpod.DefaultRunAs, "owners not kept: uid 0 gid 0 (3 files), 2 other owners (9 files)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := OwnersNotKept(tt.u, tt.runAs)
			if (tt.want == "") != (got == "") || !strings.HasPrefix(got, tt.want) {
				t.Errorf("OwnersNotKept = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestMoverWarnings(t *testing.T) {
	restricted := moverpod.Security{Level: moverpod.LevelRestricted, Version: "latest"}
	baseline := moverpod.Security{Level: moverpod.LevelBaseline}
	claim := ferryv1.PlanPVC{Namespace: "shop", Name: "db", TargetNamespace: "shop2", Usage: &ferryv1.VolumeUsage{
		UsedBytes: ptr.To[int64](1), Method: ferryv1.UsagePod,
		Owners:          []ferryv1.VolumeOwner{{UID: 999, GID: 999, Bytes: 1 << 30, Files: 900}, {UID: 0, GID: 0, Bytes: 4096, Files: 120}},
		UnreadableFiles: 3, UnreadableExample: "backup/root.key",
	}}
	tests := []struct {
		name string
		s    MoverSecurity
		want []string
	}{
		{"root movers", MoverSecurity{Source: baseline, Destination: moverpod.Security{}}, nil},
		{"restricted destination", MoverSecurity{Destination: restricted},
			[]string{"shop/db: owners not kept: uid 0 gid 0 (120 files); the mover runs as 999:999 under the restricted Pod Security Standard (latest) in namespace shop2"}},
		{"restricted source", MoverSecurity{Source: restricted, Destination: baseline},
			[]string{"shop/db: the source mover, running as 999:999 under the restricted Pod Security Standard (latest) in namespace shop, cannot read 3 files and directories (backup/root.key, for one)"}},
		{"both", MoverSecurity{Source: restricted, Destination: restricted}, []string{"shop/db: owners not kept", "shop/db: the source mover"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MoverWarnings(claim, tt.s)
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %q, want %d", got, len(tt.want))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("warning %q, want it to start %q", got[i], tt.want[i])
				}
			}
		})
	}
}
