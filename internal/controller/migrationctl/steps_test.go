package migrationctl

import (
	"reflect"
	"testing"

	"k8s.io/utils/ptr"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestItinerary(t *testing.T) {
	tests := []struct {
		name    string
		spec    ferryv1.MigrationSpec
		plan    ferryv1.PlanType
		want    []string
		skipped []string
	}{
		{"stage", ferryv1.MigrationSpec{Type: ferryv1.MigrationStage}, "", []string{StepValidate, StepPrepareDestination, StepPrePullImages, StepCopyVolumes, StepCleanupMovers}, nil},
		{"cutover", ferryv1.MigrationSpec{Type: ferryv1.MigrationCutover}, ferryv1.PlanFull,
			[]string{StepValidate, StepPrepareDestination, StepPrePullImages, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepStopMovers, StepMigrateResources, StepWaitForWorkloads, StepCleanupMovers}, nil},
		{"cutover without quiesce", ferryv1.MigrationSpec{Type: ferryv1.MigrationCutover, Quiesce: ptr.To(false)}, "",
			[]string{StepValidate, StepPrepareDestination, StepPrePullImages, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepStopMovers, StepMigrateResources, StepWaitForWorkloads, StepCleanupMovers},
			[]string{StepQuiesce, StepWaitForQuiesce}},
		{"rollback", ferryv1.MigrationSpec{Type: ferryv1.MigrationRollback}, "", []string{StepValidate, StepCleanupMovers, StepDeleteFromDest, StepUnquiesce}, nil},
		{"state stage", ferryv1.MigrationSpec{Type: ferryv1.MigrationStage}, ferryv1.PlanState,
			[]string{StepValidate, StepPrepareDestination, StepCopyVolumes, StepCleanupMovers}, nil},
		{"state cutover", ferryv1.MigrationSpec{Type: ferryv1.MigrationCutover}, ferryv1.PlanState,
			[]string{StepValidate, StepPrepareDestination, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepCleanupMovers, StepHandOver}, nil},
		{"state cutover without quiesce", ferryv1.MigrationSpec{Type: ferryv1.MigrationCutover, Quiesce: ptr.To(false)}, ferryv1.PlanState,
			[]string{StepValidate, StepPrepareDestination, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepCleanupMovers, StepHandOver},
			[]string{StepQuiesce, StepWaitForQuiesce}},
		{"state rollback", ferryv1.MigrationSpec{Type: ferryv1.MigrationRollback}, ferryv1.PlanState,
			[]string{StepValidate, StepCleanupMovers, StepDeleteFromDest, StepUnquiesce}, nil},
		{"conversion stage", ferryv1.MigrationSpec{Type: ferryv1.MigrationStage}, ferryv1.PlanStorageConversion,
			[]string{StepValidate, StepPrepareDestination, StepCopyVolumes, StepCleanupMovers}, nil},
		{"conversion cutover", ferryv1.MigrationSpec{Type: ferryv1.MigrationCutover}, ferryv1.PlanStorageConversion,
			[]string{StepValidate, StepPrepareDestination, StepQuiesce, StepWaitForQuiesce, StepCopyVolumes, StepStopMovers,
				StepSwitchClaims, StepStartWorkloads, StepWaitForWorkloads, StepCleanupMovers}, nil},
		{"conversion rollback", ferryv1.MigrationSpec{Type: ferryv1.MigrationRollback}, ferryv1.PlanStorageConversion,
			[]string{StepValidate, StepQuiesce, StepWaitForQuiesce, StepCleanupMovers, StepSwitchClaimsBack, StepDeleteFromDest, StepUnquiesce}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := itinerary(steps, &ferryv1.Migration{Spec: tt.spec}, &ferryv1.Plan{Spec: ferryv1.PlanSpec{Type: tt.plan}})
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
	for _, n := range []string{StepCancelMovers, StepCancelSwitchBack, StepCancelDelete, StepCancelUnquiesce} {
		if fn, ok := funcOf(n); !ok || fn == nil {
			t.Errorf("no function for cancel step %s", n)
		}
	}
}

func TestCancelItinerary(t *testing.T) {
	tests := []struct {
		plan ferryv1.PlanType
		want []string
	}{
		{ferryv1.PlanFull, []string{StepCancelMovers, StepCancelDelete, StepCancelUnquiesce}},
		{ferryv1.PlanStorageConversion, []string{StepCancelMovers, StepCancelSwitchBack, StepCancelDelete, StepCancelUnquiesce}},
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
		for _, s := range itinerary(cancelSteps, &ferryv1.Migration{}, &ferryv1.Plan{Spec: ferryv1.PlanSpec{Type: tt.plan}}) {
			names = append(names, s.Name)
		}
		if !reflect.DeepEqual(names, tt.want) {
			t.Errorf("cancel steps of a %s plan: %v, want %v", tt.plan, names, tt.want)
		}
	}
}
