package migrationctl

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/planning"
	"ferry.dev/ferry/internal/prepull"
	"ferry.dev/ferry/internal/resources/migrate"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/direct"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// moverOptions are the direct path's options for a migration.
func (s *session) moverOptions(migration string) direct.Options {
	srcNS, dstNS := s.planNamespaces()
	return direct.Options{Source: s.src, Destination: s.dst, Migration: migration, Image: s.r.MoverImage,
		SameCluster: s.sameCluster(), Final: s.m.Spec.Type == ferryv1.MigrationCutover,
		SourceNamespaces: srcNS, DestinationNamespaces: dstNS}
}

// exposure sets how the destination Cluster asks for its receivers to be
// exposed: behind load balancers or a TLS-passthrough front, a Route or
// an Ingress (else node ports).
func (s *session) exposure(ctx context.Context, o *direct.Options) error {
	var c ferryv1.Cluster
	key := client.ObjectKey{Namespace: s.plan.Namespace, Name: s.plan.Spec.DestinationCluster}
	if err := s.r.Get(ctx, key, &c); err != nil {
		return fmt.Errorf("get cluster %s: %w", key.Name, err)
	}
	o.LoadBalancer = c.Spec.MoverService == ferryv1.MoverServiceLoadBalancer
	switch c.Spec.MoverService {
	case ferryv1.MoverServiceRoute:
		o.Front = direct.Route{}
	case ferryv1.MoverServiceIngress:
		o.Front = direct.Ingress{Class: c.Spec.MoverIngressClass, Domain: c.Spec.MoverIngressDomain}
	}
	return nil
}

// claimCopies are the plan's claims as a volume copy sees them.
type claimCopies struct {
	// transfers are the claims the plan copies.
	transfers []volumes.Transfer
	// moved names those it moves instead (MoveVolumes, at cutover).
	moved []string
	// notes say, per transfer whose destination mover runs as non-root,
	// which owners it does not keep.
	notes map[volumes.Transfer]string
}

// transfers lists the claims the plan copies and those it moves. It
// runs on every poll of CopyVolumes, so it checks only what concerns the
// claims; the Validate step checked the rest of the plan.
func (s *session) transfers(ctx context.Context) (claimCopies, error) {
	res, err := planning.Claims(ctx, s.plan, s.src, s.dst)
	if err != nil {
		return claimCopies{}, err
	}
	if res.Problem != nil {
		return claimCopies{}, fmt.Errorf("plan %s is not valid: %s: %s", s.plan.Name, res.Problem.Reason, res.Problem.Message)
	}
	out := claimCopies{notes: map[volumes.Transfer]string{}}
	security := map[string]moverpod.Security{}
	for _, p := range res.Copied() {
		t := volumes.Transfer{SourceNamespace: p.Namespace, SourceClaim: p.Name,
			DestinationNamespace: p.TargetNamespace, DestinationClaim: p.TargetName, RunAs: moverpod.RunAs(p.Usage),
			Verify: p.Verify && quiesces(s.m, s.plan)} // verified when the source is still: after quiesce
		out.transfers = append(out.transfers, t)
		sec, ok := security[t.DestinationNamespace]
		if !ok {
			if sec, _, err = moverpod.LookupSecurity(ctx, s.dst.Kube, t.DestinationNamespace); err != nil {
				return claimCopies{}, fmt.Errorf("on cluster %s: %w", s.dst.Name, err)
			}
			security[t.DestinationNamespace] = sec
		}
		if !sec.Restricted() {
			continue
		}
		if lost := planning.OwnersNotKept(p.Usage, t.RunAs); lost != "" {
			out.notes[t] = fmt.Sprintf("%s: the mover runs as %s under %s", lost, t.RunAs, sec)
		}
	}
	for _, p := range res.Moved() {
		out.moved = append(out.moved, p.Namespace+"/"+p.Name)
	}
	return out, nil
}

// movedNote ends CopyVolumes' message with the claims it leaves to
// MoveVolumes ("" when none).
func movedNote(moved []string) string {
	if len(moved) == 0 {
		return ""
	}
	return fmt.Sprintf("; %s not copied: moved at cutover", strings.Join(moved, ", "))
}

// copyVolumes copies every claim until each copy succeeded, over the path
// copyPath chooses (a mover pod pair per claim, or within one cluster one
// local copy pod where both claims can share a node); on Cutover, after
// quiesce, it is the final sync.
func copyVolumes(ctx context.Context, s *session) (outcome, error) {
	copies, err := s.transfers(ctx)
	if err != nil {
		return outcome{}, err
	}
	transfers, moved := copies.transfers, copies.moved
	if len(transfers) == 0 {
		return done("no volumes to copy" + movedNote(moved)), nil
	}
	if s.r.MoverImage == "" {
		return outcome{}, errors.New("no mover image: set one on the host with `ferry config set mover-image IMAGE` (or start the controller with --mover-image IMAGE), restart a running controller, then `ferry retry`")
	}
	path, wait, err := s.copyPath(ctx, transfers)
	if err != nil {
		return outcome{}, err
	}
	if wait != "" {
		return waiting(wait, time.Second), nil
	}
	st, err := volumes.Sync(ctx, path, volumes.Policy{Final: quiesces(s.m, s.plan)}, transfers, s.m.Status.Volumes)
	if len(st.Volumes) > 0 {
		// Also with an error: the statuses record attempts and reported
		// failures for the next call.
		s.m.Status.Volumes = st.Statuses()
	}
	if err != nil {
		s.nameWriters(ctx, err)
		return outcome{}, err
	}
	var done_, total int64
	var lines []string
	for _, v := range st.Volumes {
		if note := copies.note(v); note != "" {
			v.Message = strings.TrimPrefix(v.Message+"; "+note, "; ")
		}
		done_ += v.BytesDone
		total += v.BytesTotal
		line := fmt.Sprintf("%s/%s %s %s/%s, %s path", v.SourceNamespace, v.SourceClaim, v.Phase, planning.HumanBytes(v.BytesDone), planning.HumanBytes(v.BytesTotal), v.Path)
		switch {
		case v.Phase == volumes.PhaseSucceeded && v.Message != "":
			// A stage that could not copy what changed under it says so.
			line += " (" + traffic(v) + "; " + v.Message + ")"
		case v.Phase == volumes.PhaseSucceeded:
			line += " (" + traffic(v) + ")"
		case v.Message != "":
			line += " (" + v.Message + ")"
		}
		lines = append(lines, line)
	}
	s.step().Progress = &ferryv1.Progress{Done: done_, Total: total, Unit: "bytes"}
	msg := strings.Join(lines, "; ")
	if st.Done {
		return done(fmt.Sprintf("copied %d volumes: %s%s", len(st.Volumes), msg, movedNote(moved))), nil
	}
	if noProgressFor(st, time.Since(s.step().Started.Time)) {
		return outcome{}, fmt.Errorf("no volume data moved after %s: %s; check the mover pods' events (image pull, scheduling)", MoverStartTimeout, msg)
	}
	if s.m.Spec.Type == ferryv1.MigrationCutover {
		return waiting(msg, 2*DowntimePoll), nil
	}
	return waiting(msg, time.Second), nil
}

// traffic says what a finished round did: the bytes it sent, and the
// files it skipped, deleted, kept in part and sent against a renamed
// file, where there were any.
func traffic(v volumes.VolumeProgress) string {
	parts := []string{"sent " + planning.HumanBytes(v.BytesSent)}
	if v.BytesMatched > 0 {
		parts = append(parts, planning.HumanBytes(v.BytesMatched)+" matched by block comparison")
	}
	for _, c := range []struct {
		n    int64
		what string
	}{{v.Skipped, "unchanged"}, {v.Deleted, "deleted"}, {v.Partial, "kept in part for the next round"}, {v.Reused, "renamed"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.what))
		}
	}
	return strings.Join(parts, ", ")
}

// MoverStartTimeout is how long CopyVolumes waits for movers that have
// not started moving data (a pod stuck Pending) before it fails.
const MoverStartTimeout = 10 * time.Minute

// noProgressFor reports whether, after elapsed, some transfer still has
// not started.
func noProgressFor(st volumes.State, elapsed time.Duration) bool {
	if elapsed < MoverStartTimeout {
		return false
	}
	for _, v := range st.Volumes {
		if v.Phase == volumes.PhasePending {
			return true
		}
	}
	return false
}

// cleanupMovers removes the mover pods, services and secrets: this
// migration's, or on Rollback those of every migration of the plan; it
// waits until the pods are gone.
func cleanupMovers(ctx context.Context, s *session) (outcome, error) {
	return s.removeMovers(ctx, true)
}

// stopMovers deletes the movers like cleanupMovers but does not wait for
// their pods to terminate: the copy is complete, and CleanupMovers waits
// for them later, off the downtime.
func stopMovers(ctx context.Context, s *session) (outcome, error) {
	return s.removeMovers(ctx, false)
}

func (s *session) removeMovers(ctx context.Context, wait bool) (outcome, error) {
	names := []string{s.m.Name}
	if s.m.Spec.Type == ferryv1.MigrationRollback {
		var l ferryv1.MigrationList
		if err := s.r.List(ctx, &l, client.InNamespace(s.m.Namespace)); err != nil {
			return outcome{}, err
		}
		for _, o := range l.Items {
			if o.Spec.Plan == s.plan.Name && o.Name != s.m.Name {
				names = append(names, o.Name)
			}
		}
	}
	var going []string
	for _, n := range names {
		path, err := s.cleanupPath(n)
		if err != nil {
			return outcome{}, err
		}
		gone, err := path.Cleanup(ctx)
		if err != nil {
			return outcome{}, fmt.Errorf("remove the movers of %s: %w", n, err)
		}
		pullersGone, err := true, error(nil)
		if !s.dst.AsUser { // none: prePullImages skips them
			pullersGone, err = prepull.Cleanup(ctx, s.dst.Kube, n)
		}
		if err != nil {
			return outcome{}, fmt.Errorf("remove the image pullers of %s: %w", n, err)
		}
		if !gone || !pullersGone {
			going = append(going, n)
		}
	}
	switch {
	case len(going) > 0 && wait:
		return waiting("waiting for the mover pods of "+strings.Join(going, ", ")+" to terminate", time.Second), nil
	case len(going) > 0:
		return done("mover pods, services and secrets deleted; CleanupMovers waits for the pods to terminate"), nil
	}
	return done("mover pods, services and secrets removed"), nil
}

// ArmTimeout bounds StartMovers' wait for the movers: those not started
// by then are started by the final copy, as without it.
const ArmTimeout = 2 * time.Minute

// startMovers starts a cutover's movers across clusters before the
// quiesce: the receivers, and the senders held back until the final copy
// releases them, so that no pod start is in the downtime. It never fails
// the migration: what it could not start, CopyVolumes starts.
func startMovers(ctx context.Context, s *session) (outcome, error) {
	copies, err := s.transfers(ctx)
	transfers := copies.transfers
	if err == nil {
		// Claims through the repository have no receivers to start.
		_, transfers = s.byDataPath(transfers)
	}
	if err != nil || len(transfers) == 0 || s.r.MoverImage == "" {
		return done("nothing to start ahead: the final copy starts its movers"), nil
	}
	o := s.moverOptions(s.m.Name)
	o.Hold = true
	if err := s.exposure(ctx, &o); err != nil {
		return s.armingFailed(ctx, err), nil
	}
	d, err := direct.New(o)
	if err != nil {
		return s.armingFailed(ctx, err), nil
	}
	r, err := d.Prepare(ctx, transfers)
	if err != nil {
		return s.armingFailed(ctx, err), nil
	}
	armed, waits := 0, ""
	for _, t := range transfers {
		if r.Ready {
			if _, err := d.Start(ctx, t); err != nil {
				return s.armingFailed(ctx, err), nil
			}
		}
		ok, msg, err := d.Armed(ctx, t)
		if err != nil {
			return s.armingFailed(ctx, err), nil
		}
		if ok {
			armed++
		} else if waits == "" {
			waits = fmt.Sprintf("%s/%s: %s", t.SourceNamespace, t.SourceClaim, msg)
		}
	}
	if armed == len(transfers) {
		return done(fmt.Sprintf("the movers of %d volumes are started and wait for the final copy", armed)), nil
	}
	if time.Since(s.step().Started.Time) > ArmTimeout {
		return done(fmt.Sprintf("the movers of %d of %d volumes are started; the final copy starts the others (%s)", armed, len(transfers), waits)), nil
	}
	return waiting(fmt.Sprintf("%d of %d volumes' movers started; %s", armed, len(transfers), waits), 500*time.Millisecond), nil
}

// armingFailed ends StartMovers on an error: logged, and left to the
// final copy.
func (s *session) armingFailed(ctx context.Context, err error) outcome {
	logf.FromContext(ctx).Info("cannot start the movers ahead of the quiesce", "error", err.Error())
	return done(fmt.Sprintf("could not start the movers ahead (%v); the final copy starts them", err))
}

// planNamespaces returns the plan's source and destination namespaces,
// where the movers run (and where Ferry may clean up their Secrets).
func (s *session) planNamespaces() (src, dst []string) {
	ms, err := migrate.ParseNamespaces(s.plan.Spec.Namespaces)
	if err != nil {
		return nil, nil // validation refuses such a plan
	}
	for _, m := range ms {
		src, dst = append(src, m.Source), append(dst, m.Destination)
	}
	return src, dst
}

// note is the owners note of the transfer of volume v, if any.
func (c claimCopies) note(v volumes.VolumeProgress) string {
	for t, n := range c.notes {
		if t.SourceNamespace == v.SourceNamespace && t.SourceClaim == v.SourceClaim {
			return n
		}
	}
	return ""
}
