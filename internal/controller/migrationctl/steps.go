// Package migrationctl reconciles Migration objects. A migration runs as
// an itinerary: an ordered list of idempotent steps whose state lives in
// the Migration's status, so a restarted controller resumes at the step it
// was in, and a failed step can be retried without starting over.
//
// The itinerary is chosen from one table of step definitions (steps): a
// row names a step, its function, which migrations have it, and whether
// it runs or is recorded Skipped, both decided on the Migration and its
// Plan when the migration starts. A new feature adds a row.
package migrationctl

import (
	"context"
	"fmt"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/hooks"
)

// Step names.
const (
	StepValidate           = "Validate"
	StepPrepareDestination = "PrepareDestination"
	StepCopyVolumes        = "CopyVolumes"
	StepMoveVolumes        = "MoveVolumes"
	StepMoveVolumesBack    = "MoveVolumesBack"
	StepPrePullImages      = "PrePullImages"
	StepCopyImages         = "CopyImages"
	StepCleanupMovers      = "CleanupMovers"
	StepStopMovers         = "StopMovers"
	StepStartMovers        = "StartMovers"
	StepQuiesce            = "Quiesce"
	StepWaitForQuiesce     = "WaitForQuiesce"
	StepMigrateResources   = "MigrateResources"
	// StepExportResources writes a cutover's resources, as they will be
	// applied, to the plan's repository; MigrateResources then applies
	// them from there (plans whose data path is the repository).
	StepExportResources  = "ExportResources"
	StepWaitForWorkloads = "WaitForWorkloads"
	StepHandOver         = "HandOver"
	StepSwitchClaims     = "SwitchClaims"
	StepStartWorkloads   = "StartWorkloads"
	StepSwitchClaimsBack = "SwitchClaimsBack"
	StepDeleteFromDest   = "DeleteFromDestination"
	StepUnquiesce        = "Unquiesce"
	StepCancelMovers     = "CancelCleanupMovers"
	StepCancelDelete     = "CancelDeleteCreated"
	StepCancelSwitchBack = "CancelSwitchClaimsBack"
	StepCancelMoveBack   = "CancelMoveVolumesBack"
	StepCancelUnquiesce  = "CancelUnquiesce"
	StepCancelHooks      = "CancelHooks"
)

// stepFunc runs one step once; it never blocks for long: a step that must
// wait returns a waiting outcome and is called again.
type stepFunc func(ctx context.Context, s *session) (outcome, error)

// predicate decides on a Migration and its Plan.
type predicate func(m *ferryv1.Migration, p *ferryv1.Plan) bool

// stepDef is one row of the step table.
type stepDef struct {
	name string
	run  stepFunc
	// of tells whether a migration's itinerary has the step at all.
	of predicate
	// runs tells whether the step runs or is recorded Skipped; nil runs.
	runs predicate
	// hooks, when set, makes the row one step per plan hook of that
	// phase (in their order; see hookSteps), each run by runHook; of
	// tells whether the migration has the phase at all.
	hooks ferryv1.HookPhase
}

// steps is the step table, in the order steps run.
//
//   - Stage prepares the destination (namespaces and the claims that will
//     receive data), copies the internal images of the source's registry
//     to the destination's (Full plans of clusters that both have a
//     registry; a cutover does it too, before quiesce: the source still
//     runs the same images, so nothing changes under the copy, and the
//     downtime does not include it), pulls the workloads' images onto the destination's
//     nodes (Full plans; a cutover does it too, before quiesce) and copies
//     the volumes' data while the application keeps running.
//   - Cutover quiesces the source, copies what changed since the last
//     stage, hands the moved claims' volumes to the destination
//     (MoveVolumes: same storage, no data copied; a stage leaves them
//     alone), then recreates everything on the destination, so workloads
//     start on their data, and waits until they are available there.
//   - Rollback removes everything the plan created on the destination
//     (mover pods of its migrations too), binds the moved claims' volumes
//     to their source claims again (MoveVolumesBack), then restores the
//     source exactly as it was.
//
// A State plan applies no resources but the claims it creates: its
// cutover ends after the final copy with HandOver, which says that the
// data is in place and how to start the application on the destination.
//
// A StorageConversion plan works within one cluster: its stage creates
// the new claims and copies into them; its cutover, after the final copy,
// switches the quiesced workloads to the new claims (SwitchClaims),
// starts them again (StartWorkloads) and waits for them. Its rollback
// stops them, switches them back (SwitchClaimsBack), deletes the new
// claims and starts them again.
//
// The plan's hooks run at their phases (the rows with hooks set): before
// the quiesce and after the final copy on the source, before the apply
// and once the workloads are available on the destination, first and
// last in a rollback (docs/hooks.md).
var steps = []stepDef{
	{name: StepValidate, run: validate, of: always},
	{hooks: ferryv1.HookPreRollback, of: types(ferryv1.MigrationRollback)},
	{name: StepPrepareDestination, run: prepareDestination, of: types(ferryv1.MigrationStage, ferryv1.MigrationCutover)},
	{name: StepCopyImages, run: copyImages, of: both(types(ferryv1.MigrationStage, ferryv1.MigrationCutover), planOf(ferryv1.PlanFull))},
	{name: StepPrePullImages, run: prePullImages, of: both(types(ferryv1.MigrationStage, ferryv1.MigrationCutover), planOf(ferryv1.PlanFull))},
	{hooks: ferryv1.HookPreBackup, of: types(ferryv1.MigrationStage, ferryv1.MigrationCutover)},
	{name: StepStartMovers, run: startMovers, of: both(types(ferryv1.MigrationCutover), acrossClusters), runs: quiesces},
	{name: StepQuiesce, run: quiesceSource, of: stops, runs: quiesces},
	{name: StepWaitForQuiesce, run: waitForQuiesce, of: stops, runs: quiesces},
	{name: StepCopyVolumes, run: copyVolumes, of: types(ferryv1.MigrationStage, ferryv1.MigrationCutover)},
	{name: StepMoveVolumes, run: moveVolumes, of: both(types(ferryv1.MigrationCutover), moves)},
	// The export reads the source after quiesce, as the final copy
	// does: it is the resources' backup.
	{name: StepExportResources, run: exportResources, of: both(types(ferryv1.MigrationCutover), both(planOf(ferryv1.PlanFull), throughRepository))},
	{hooks: ferryv1.HookPostBackup, of: types(ferryv1.MigrationStage, ferryv1.MigrationCutover)},
	{name: StepStopMovers, run: stopMovers, of: restarts},
	{name: StepCleanupMovers, run: cleanupMovers, of: not(restarts)},
	{hooks: ferryv1.HookPreRestore, of: restarts},
	{name: StepSwitchClaims, run: switchClaims, of: both(types(ferryv1.MigrationCutover), planOf(ferryv1.PlanStorageConversion))},
	{name: StepStartWorkloads, run: unquiesceSource, of: both(types(ferryv1.MigrationCutover), planOf(ferryv1.PlanStorageConversion))},
	{name: StepSwitchClaimsBack, run: switchClaimsBack, of: both(types(ferryv1.MigrationRollback), planOf(ferryv1.PlanStorageConversion))},
	{name: StepMigrateResources, run: migrateResources, of: both(types(ferryv1.MigrationCutover), planOf(ferryv1.PlanFull))},
	{name: StepWaitForWorkloads, run: waitForWorkloads, of: both(types(ferryv1.MigrationCutover), either(planOf(ferryv1.PlanFull), planOf(ferryv1.PlanStorageConversion)))},
	{hooks: ferryv1.HookPostRestore, of: restarts},
	{name: StepCleanupMovers, run: cleanupMovers, of: restarts},
	{name: StepHandOver, run: handOver, of: both(types(ferryv1.MigrationCutover), planOf(ferryv1.PlanState))},
	{name: StepDeleteFromDest, run: deleteFromDestination, of: types(ferryv1.MigrationRollback)},
	{name: StepMoveVolumesBack, run: moveVolumesBack, of: both(types(ferryv1.MigrationRollback), moves)},
	{name: StepUnquiesce, run: unquiesceSource, of: types(ferryv1.MigrationRollback)},
	{hooks: ferryv1.HookPostRollback, of: types(ferryv1.MigrationRollback)},
}

// cancelSteps undo what a canceled (or deleted) migration did: remove
// its movers and what it created on the destination, and restore the
// source. They are appended to the itinerary when the cancel starts.
var cancelSteps = []stepDef{
	{name: StepCancelHooks, run: cancelHooks, of: hasHooks},
	{name: StepCancelMovers, run: cleanupMovers, of: always},
	{name: StepCancelSwitchBack, run: switchClaimsBack, of: planOf(ferryv1.PlanStorageConversion)},
	{name: StepCancelDelete, run: cancelDelete, of: always},
	{name: StepCancelMoveBack, run: moveVolumesBack, of: moves},
	{name: StepCancelUnquiesce, run: unquiesceSource, of: always},
}

// itinerary returns the steps of a migration of plan p, each Pending or
// Skipped.
func itinerary(table []stepDef, m *ferryv1.Migration, p *ferryv1.Plan) []ferryv1.Step {
	var out []ferryv1.Step
	for _, d := range table {
		if !d.of(m, p) {
			continue
		}
		if d.hooks != "" {
			out = append(out, hookSteps(d.hooks, m, p, out)...)
			continue
		}
		phase := ferryv1.StepPending
		if d.runs != nil && !d.runs(m, p) {
			phase = ferryv1.StepSkipped
		}
		out = append(out, ferryv1.Step{Name: d.name, Phase: phase})
	}
	return out
}

// hookSteps returns the steps of a hook row: one per plan hook of the
// phase, in their order; a Stage has only the hooks marked stages. A
// hook used twice gets a number, so that every step name of the
// itinerary (before) stays unique.
func hookSteps(phase ferryv1.HookPhase, m *ferryv1.Migration, p *ferryv1.Plan, before []ferryv1.Step) []ferryv1.Step {
	if p == nil {
		return nil
	}
	var out []ferryv1.Step
	taken := map[string]bool{}
	for _, st := range before {
		taken[st.Name] = true
	}
	for _, ref := range hooks.InPhase(p.Spec.Hooks, phase) {
		if m.Spec.Type == ferryv1.MigrationStage && !ref.Stages {
			continue
		}
		name := hooks.StepName(ref)
		for n := 2; taken[name]; n++ {
			name = fmt.Sprintf("%s#%d", hooks.StepName(ref), n)
		}
		taken[name] = true
		out = append(out, ferryv1.Step{Name: name, Phase: ferryv1.StepPending, Hook: ref.DeepCopy()})
	}
	return out
}

// stepFuncOf returns the function of an itinerary's step: runHook for
// the steps of hook rows, else the function of the row of that name.
func stepFuncOf(st *ferryv1.Step) (stepFunc, bool) {
	if st.Hook != nil {
		return runHook, true
	}
	return funcOf(st.Name)
}

// funcOf returns the function of a step by name.
func funcOf(name string) (stepFunc, bool) {
	for _, table := range [][]stepDef{steps, cancelSteps} {
		for _, d := range table {
			if d.name == name {
				return d.run, true
			}
		}
	}
	return nil, false
}

func always(*ferryv1.Migration, *ferryv1.Plan) bool { return true }

// types is a predicate that holds for migrations of the given types.
func types(ts ...ferryv1.MigrationType) predicate {
	return func(m *ferryv1.Migration, _ *ferryv1.Plan) bool {
		for _, t := range ts {
			if m.Spec.Type == t {
				return true
			}
		}
		return false
	}
}

// planOf is a predicate that holds for migrations of plans of type t; it
// never holds without a plan (a Migration canceled before its plan was
// loaded).
func planOf(t ferryv1.PlanType) predicate {
	return func(_ *ferryv1.Migration, p *ferryv1.Plan) bool { return p != nil && p.Spec.Kind() == t }
}

// both is a predicate that holds when a and b do.
func both(a, b predicate) predicate {
	return func(m *ferryv1.Migration, p *ferryv1.Plan) bool { return a(m, p) && b(m, p) }
}

// restarts holds for the cutovers that start the application again
// (Full, StorageConversion): their movers are deleted right after the
// copy (StopMovers) and waited for only once the workloads are available
// (CleanupMovers last), so that the pods' termination is not downtime.
var restarts = both(types(ferryv1.MigrationCutover), either(planOf(ferryv1.PlanFull), planOf(ferryv1.PlanStorageConversion)))

// not is a predicate that holds when a does not.
func not(a predicate) predicate {
	return func(m *ferryv1.Migration, p *ferryv1.Plan) bool { return !a(m, p) }
}

// either is a predicate that holds when a or b does.
func either(a, b predicate) predicate {
	return func(m *ferryv1.Migration, p *ferryv1.Plan) bool { return a(m, p) || b(m, p) }
}

// stops tells whether the migration has the quiesce steps: a Cutover,
// and the Rollback of a StorageConversion (its workloads stop to switch
// back).
var stops = either(types(ferryv1.MigrationCutover), both(types(ferryv1.MigrationRollback), planOf(ferryv1.PlanStorageConversion)))

// quiesces reports whether the migration stops the source application:
// a Cutover unless spec.quiesce is false, and the Rollback of a
// StorageConversion always.
func quiesces(m *ferryv1.Migration, p *ferryv1.Plan) bool {
	switch m.Spec.Type {
	case ferryv1.MigrationCutover:
		return m.Spec.Quiesce == nil || *m.Spec.Quiesce
	case ferryv1.MigrationRollback:
		return p != nil && p.Spec.Kind() == ferryv1.PlanStorageConversion
	}
	return false
}

// moves holds for the Full and State plans that move claims (an
// override with action move; validation refuses it for other plans):
// only their itineraries have MoveVolumes and its undo.
var moves = both(either(planOf(ferryv1.PlanFull), planOf(ferryv1.PlanState)), movesClaims)

// movesClaims reports whether plan p has an override with action move.
func movesClaims(_ *ferryv1.Migration, p *ferryv1.Plan) bool {
	if p == nil {
		return false
	}
	for _, o := range p.Spec.PersistentVolumeClaims {
		if o.Action == ferryv1.PVCActionMove {
			return true
		}
	}
	return false
}

// throughRepository: the plan's data path is its replication repository.
func throughRepository(_ *ferryv1.Migration, p *ferryv1.Plan) bool {
	return p != nil && p.Spec.DataPath == ferryv1.DataPathRepository
}

// acrossClusters holds for the plans between two clusters (the direct
// path's movers; within one cluster the local path needs no pair).
func acrossClusters(_ *ferryv1.Migration, p *ferryv1.Plan) bool {
	return p != nil && p.Spec.SourceCluster != p.Spec.DestinationCluster
}

// hasHooks holds for the plans with hooks.
func hasHooks(_ *ferryv1.Migration, p *ferryv1.Plan) bool { return p != nil && len(p.Spec.Hooks) > 0 }

// canceling reports whether the undo steps of a cancel are in the itinerary.
func canceling(m *ferryv1.Migration) bool {
	for _, st := range m.Status.Itinerary {
		if st.Name == StepCancelMovers {
			return true
		}
	}
	return false
}
