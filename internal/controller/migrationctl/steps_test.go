package migrationctl

import (
	"reflect"
	"strings"
	"testing"

	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestItinerary(t *testing.T) {
	moving := []ferryv1.PVCOverride{{Namespace: "shop", Name: "logs", Action: ferryv1.PVCActionSkip}, {Namespace: "shop", Name: "data", Action: ferryv1.PVCActionMove}}
	tests := []struct {
		name    string
		spec    ferryv1.MigrationSpec
		plan    ferryv1.PlanType
		want    []string
		skipped []string
		claims  []ferryv1.PVCOverride
	}{
		{"stage", ferryv1.MigrationSpec{Type: ferryv1.MigrationStage}, "", []string{StepValidate, StepPrepareDestination, StepCopyImages, StepPrePullImages, StepCopyVolumes, StepCleanupMovers}, nil, nil},
		{"cutover", ferryv1.MigrationSpec{Type: ferryv1.MigrationCutover}, ferryv1.PlanFull,
			[]string{StepValidate, StepPrepareDestination, StepCopyImages, StepPrePullImages, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepStopMovers, StepMigrateResources, StepWaitForWorkloads, StepCleanupMovers}, nil, nil},
		{"cutover without quiesce", ferryv1.MigrationSpec{Type: ferryv1.MigrationCutover, Quiesce: ptr.To(false)}, "",
			[]string{StepValidate, StepPrepareDestination, StepCopyImages, StepPrePullImages, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepStopMovers, StepMigrateResources, StepWaitForWorkloads, StepCleanupMovers},
			[]string{StepQuiesce, StepWaitForQuiesce}, nil},
		{"rollback", ferryv1.MigrationSpec{Type: ferryv1.MigrationRollback}, "", []string{StepValidate, StepCleanupMovers, StepDeleteFromDest, StepUnquiesce}, nil, nil},
		{"state stage", ferryv1.MigrationSpec{Type: ferryv1.MigrationStage}, ferryv1.PlanState,
			[]string{StepValidate, StepPrepareDestination, StepCopyVolumes, StepCleanupMovers}, nil, nil},
		{"state cutover", ferryv1.MigrationSpec{Type: ferryv1.MigrationCutover}, ferryv1.PlanState,
			[]string{StepValidate, StepPrepareDestination, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepCleanupMovers, StepHandOver}, nil, nil},
		{"state cutover without quiesce", ferryv1.MigrationSpec{Type: ferryv1.MigrationCutover, Quiesce: ptr.To(false)}, ferryv1.PlanState,
			[]string{StepValidate, StepPrepareDestination, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepCleanupMovers, StepHandOver},
			[]string{StepQuiesce, StepWaitForQuiesce}, nil},
		{"state rollback", ferryv1.MigrationSpec{Type: ferryv1.MigrationRollback}, ferryv1.PlanState,
			[]string{StepValidate, StepCleanupMovers, StepDeleteFromDest, StepUnquiesce}, nil, nil},
		{"moving stage", ferryv1.MigrationSpec{Type: ferryv1.MigrationStage}, ferryv1.PlanFull,
			[]string{StepValidate, StepPrepareDestination, StepCopyImages, StepPrePullImages, StepCopyVolumes, StepCleanupMovers}, nil, moving},
		{"moving cutover", ferryv1.MigrationSpec{Type: ferryv1.MigrationCutover}, ferryv1.PlanFull,
			[]string{StepValidate, StepPrepareDestination, StepCopyImages, StepPrePullImages, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepMoveVolumes, StepStopMovers, StepMigrateResources, StepWaitForWorkloads, StepCleanupMovers}, nil, moving},
		{"moving rollback", ferryv1.MigrationSpec{Type: ferryv1.MigrationRollback}, ferryv1.PlanFull,
			[]string{StepValidate, StepCleanupMovers, StepDeleteFromDest, StepMoveVolumesBack, StepUnquiesce}, nil, moving},
		{"moving state cutover", ferryv1.MigrationSpec{Type: ferryv1.MigrationCutover}, ferryv1.PlanState,
			[]string{StepValidate, StepPrepareDestination, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepMoveVolumes, StepCleanupMovers, StepHandOver}, nil, moving},
		{"moving state rollback", ferryv1.MigrationSpec{Type: ferryv1.MigrationRollback}, ferryv1.PlanState,
			[]string{StepValidate, StepCleanupMovers, StepDeleteFromDest, StepMoveVolumesBack, StepUnquiesce}, nil, moving},
		{"conversion stage", ferryv1.MigrationSpec{Type: ferryv1.MigrationStage}, ferryv1.PlanStorageConversion,
			[]string{StepValidate, StepPrepareDestination, StepCopyVolumes, StepCleanupMovers}, nil, nil},
		{"conversion cutover", ferryv1.MigrationSpec{Type: ferryv1.MigrationCutover}, ferryv1.PlanStorageConversion,
			[]string{StepValidate, StepPrepareDestination, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepStopMovers,
				StepSwitchClaims, StepStartWorkloads, StepWaitForWorkloads, StepCleanupMovers}, nil, nil},
		{"conversion rollback", ferryv1.MigrationSpec{Type: ferryv1.MigrationRollback}, ferryv1.PlanStorageConversion,
			[]string{StepValidate, StepQuiesce, StepWaitForQuiesce, StepCleanupMovers, StepSwitchClaimsBack, StepDeleteFromDest, StepUnquiesce}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := itinerary(steps, &ferryv1.Migration{Spec: tt.spec}, &ferryv1.Plan{Spec: ferryv1.PlanSpec{Type: tt.plan, PersistentVolumeClaims: tt.claims}})
			var names, skipped []string
			for _, s := range got {
				names = append(names, s.Name)
				if s.Phase == ferryv1.StepSkipped {
					skipped = append(skipped, s.Name)
				} else if s.Phase != ferryv1.StepPending {
					t.Errorf("step %s starts as %s", s.Name, s.Phase)
				}
			}
			if !reflect.DeepEqual(names, tt.want) || !reflect.DeepEqual(skipped, tt.skipped) {
				t.Errorf("itinerary %v (skipped %v), want %v (skipped %v)", names, skipped, tt.want, tt.skipped)
			}
			for _, n := range names {
				if fn, ok := funcOf(n); !ok || fn == nil {
					t.Errorf("no function for step %s", n)
				}
			}
		})
	}
}

func TestCancelStepFuncs(t *testing.T) {
	for _, n := range []string{StepCancelMovers, StepCancelSwitchBack, StepCancelDelete, StepCancelMoveBack, StepCancelUnquiesce} {
		if fn, ok := funcOf(n); !ok || fn == nil {
			t.Errorf("no function for cancel step %s", n)
		}
	}
}

func TestCancelItinerary(t *testing.T) {
	tests := []struct {
		plan   ferryv1.PlanType
		want   []string
		claims []ferryv1.PVCOverride
	}{
		{ferryv1.PlanFull, []string{StepCancelMovers, StepCancelDelete, StepCancelUnquiesce}, nil},
		{ferryv1.PlanState, []string{StepCancelMovers, StepCancelDelete, StepCancelMoveBack, StepCancelUnquiesce},
			[]ferryv1.PVCOverride{{Namespace: "shop", Name: "data", Action: ferryv1.PVCActionMove}}},
		{ferryv1.PlanStorageConversion, []string{StepCancelMovers, StepCancelSwitchBack, StepCancelDelete, StepCancelUnquiesce}, nil},
	}
	// A Migration canceled before its plan was loaded has no plan.
	var names []string
	for _, s := range itinerary(cancelSteps, &ferryv1.Migration{}, nil) {
		names = append(names, s.Name)
	}
	if want := []string{StepCancelMovers, StepCancelDelete, StepCancelUnquiesce}; !reflect.DeepEqual(names, want) {
		t.Errorf("cancel steps without a plan: %v, want %v", names, want)
	}
	for _, tt := range tests {
		var names []string
		for _, s := range itinerary(cancelSteps, &ferryv1.Migration{}, &ferryv1.Plan{Spec: ferryv1.PlanSpec{Type: tt.plan, PersistentVolumeClaims: tt.claims}}) {
			names = append(names, s.Name)
		}
		if !reflect.DeepEqual(names, tt.want) {
			t.Errorf("cancel steps of a %s plan: %v, want %v", tt.plan, names, tt.want)
		}
	}
}

func TestItineraryWithHooks(t *testing.T) {
	hooks := []ferryv1.PlanHook{
		{Hook: "smoke", Phase: ferryv1.HookPostRestore},
		{Hook: "flush", Phase: ferryv1.HookPreBackup, Stages: true},
		{Hook: "checkpoint", Phase: ferryv1.HookPreBackup, Order: -1},
		{Hook: "snapshot", Phase: ferryv1.HookPostBackup},
		{Hook: "schema", Phase: ferryv1.HookPreRestore},
		{Hook: "flush", Phase: ferryv1.HookPreBackup},
		{Hook: "drain", Phase: ferryv1.HookPreRollback},
		{Hook: "notify", Phase: ferryv1.HookPostRollback},
	}
	tests := []struct {
		name string
		typ  ferryv1.MigrationType
		plan ferryv1.PlanType
		want []string
	}{
		{"stage runs only the hooks marked stages", ferryv1.MigrationStage, ferryv1.PlanFull,
			[]string{StepValidate, StepPrepareDestination, StepCopyImages, StepPrePullImages, "PreBackupHook/flush", StepCopyVolumes, StepCleanupMovers}},
		{"cutover", ferryv1.MigrationCutover, ferryv1.PlanFull,
			[]string{StepValidate, StepPrepareDestination, StepCopyImages, StepPrePullImages, "PreBackupHook/checkpoint", "PreBackupHook/flush", "PreBackupHook/flush#2",
				StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, "PostBackupHook/snapshot", StepStopMovers, "PreRestoreHook/schema",
				StepMigrateResources, StepWaitForWorkloads, "PostRestoreHook/smoke", StepCleanupMovers}},
		{"conversion cutover", ferryv1.MigrationCutover, ferryv1.PlanStorageConversion,
			[]string{StepValidate, StepPrepareDestination, "PreBackupHook/checkpoint", "PreBackupHook/flush", "PreBackupHook/flush#2",
				StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, "PostBackupHook/snapshot", StepStopMovers, "PreRestoreHook/schema",
				StepSwitchClaims, StepStartWorkloads, StepWaitForWorkloads, "PostRestoreHook/smoke", StepCleanupMovers}},
		{"state cutover has no restore phases", ferryv1.MigrationCutover, ferryv1.PlanState,
			[]string{StepValidate, StepPrepareDestination, "PreBackupHook/checkpoint", "PreBackupHook/flush", "PreBackupHook/flush#2",
				StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, "PostBackupHook/snapshot", StepCleanupMovers, StepHandOver}},
		{"rollback", ferryv1.MigrationRollback, ferryv1.PlanFull,
			[]string{StepValidate, "PreRollbackHook/drain", StepCleanupMovers, StepDeleteFromDest, StepUnquiesce, "PostRollbackHook/notify"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := itinerary(steps, &ferryv1.Migration{Spec: ferryv1.MigrationSpec{Type: tt.typ}}, &ferryv1.Plan{Spec: ferryv1.PlanSpec{Type: tt.plan, Hooks: hooks}})
			var names []string
			for i := range got {
				names = append(names, got[i].Name)
				fn, ok := stepFuncOf(&got[i])
				if !ok || fn == nil {
					t.Errorf("no function for step %s", got[i].Name)
				}
				if (got[i].Hook != nil) != strings.Contains(got[i].Name, "Hook/") {
					t.Errorf("step %s: hook %+v", got[i].Name, got[i].Hook)
				}
			}
			if !reflect.DeepEqual(names, tt.want) {
				t.Errorf("itinerary\n%v, want\n%v", names, tt.want)
			}
		})
	}
	names := []string{}
	for _, s := range itinerary(cancelSteps, &ferryv1.Migration{}, &ferryv1.Plan{Spec: ferryv1.PlanSpec{Hooks: hooks}}) {
		names = append(names, s.Name)
	}
	if names[0] != StepCancelHooks {
		t.Errorf("cancel steps of a plan with hooks: %v, want %s first", names, StepCancelHooks)
	}
}

func TestItineraryAcrossClusters(t *testing.T) {
	p := &ferryv1.Plan{Spec: ferryv1.PlanSpec{SourceCluster: "src", DestinationCluster: "dst"}}
	tests := []struct {
		name string
		spec ferryv1.MigrationSpec
		want []string
		skip []string
	}{
		{"cutover starts its movers before the quiesce", ferryv1.MigrationSpec{Type: ferryv1.MigrationCutover},
			[]string{StepValidate, StepPrepareDestination, StepCopyImages, StepPrePullImages, StepStartMovers, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepStopMovers, StepMigrateResources, StepWaitForWorkloads, StepCleanupMovers}, nil},
		{"without quiesce there is no downtime to save", ferryv1.MigrationSpec{Type: ferryv1.MigrationCutover, Quiesce: ptr.To(false)},
			[]string{StepValidate, StepPrepareDestination, StepCopyImages, StepPrePullImages, StepStartMovers, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepStopMovers, StepMigrateResources, StepWaitForWorkloads, StepCleanupMovers},
			[]string{StepStartMovers, StepQuiesce, StepWaitForQuiesce}},
		{"a stage has none", ferryv1.MigrationSpec{Type: ferryv1.MigrationStage},
			[]string{StepValidate, StepPrepareDestination, StepCopyImages, StepPrePullImages, StepCopyVolumes, StepCleanupMovers}, nil},
	}
	for _, tt := range tests {
		var names, skipped []string
		for _, s := range itinerary(steps, &ferryv1.Migration{Spec: tt.spec}, p) {
			names = append(names, s.Name)
			if s.Phase == ferryv1.StepSkipped {
				skipped = append(skipped, s.Name)
			}
		}
		if !reflect.DeepEqual(names, tt.want) || !reflect.DeepEqual(skipped, tt.skip) {
			t.Errorf("%s: %v (skipped %v), want %v (skipped %v)", tt.name, names, skipped, tt.want, tt.skip)
		}
	}
}

func TestItineraryThroughRepository(t *testing.T) {
	p := &ferryv1.Plan{Spec: ferryv1.PlanSpec{Type: ferryv1.PlanFull, SourceCluster: "src", DestinationCluster: "dst", DataPath: ferryv1.DataPathRepository, Repository: "s3"}}
	tests := []struct {
		name string
		typ  ferryv1.MigrationType
		want []string
	}{
		{"a cutover exports its resources to the repository before applying them", ferryv1.MigrationCutover,
			[]string{StepValidate, StepPrepareDestination, StepCopyImages, StepPrePullImages, StepStartMovers, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepExportResources, StepStopMovers, StepMigrateResources, StepWaitForWorkloads, StepCleanupMovers}},
		{"a stage does not", ferryv1.MigrationStage,
			[]string{StepValidate, StepPrepareDestination, StepCopyImages, StepPrePullImages, StepCopyVolumes, StepCleanupMovers}},
	}
	for _, tt := range tests {
		var names []string
		for _, s := range itinerary(steps, &ferryv1.Migration{Spec: ferryv1.MigrationSpec{Type: tt.typ}}, p) {
			names = append(names, s.Name)
		}
		if !reflect.DeepEqual(names, tt.want) {
			t.Errorf("%s:\n got %v\nwant %v", tt.name, names, tt.want)
		}
	}
}
