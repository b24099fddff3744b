package planning

import (
	"context"
	"fmt"
	"strings"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/migrate"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// MoverSecurity is the Pod Security Standard each side of a claim's copy
// enforces, which decides whether its movers run as root.
type MoverSecurity struct {
	// Source is the standard of the source namespace (the sender, the
	// backup, the local copy); Destination the one of the destination
	// namespace (the receiver, the restore).
	Source, Destination moverpod.Security
}

// NonRoot reports whether a mover of the claim runs as non-root on
// either side.
func (s MoverSecurity) NonRoot() bool { return s.Source.Restricted() || s.Destination.Restricted() }

// checkMoverSecurity warns, per copied claim whose movers run as
// non-root (a namespace enforcing the restricted Pod Security Standard),
// about what such a mover cannot do: keep the owners of the files it
// writes on the destination, and read the source files its identity has
// no permission for (the copy fails on them). It records each claim's
// standards in Result.MoverSecurity.
//
// A destination namespace that does not exist yet takes, in a Full
// plan, the source namespace's labels when the migration creates it, so
// its standard is the source's.
func checkMoverSecurity(ctx context.Context, p *ferryv1.Plan, _ migrate.Scope, src, dst *cluster.Clients, res *Result) error {
	srcNS, dstNS := map[string]moverpod.Security{}, map[string]moverpod.Security{}
	for _, c := range res.Copied() {
		s, err := claimSecurity(ctx, p, src, dst, c, srcNS, dstNS)
		if err != nil {
			return err
		}
		if !s.NonRoot() {
			continue
		}
		if res.MoverSecurity == nil {
			res.MoverSecurity = map[string]MoverSecurity{}
		}
		res.MoverSecurity[c.Namespace+"/"+c.Name] = s
		res.Warnings = append(res.Warnings, MoverWarnings(c, s)...)
	}
	return nil
}

// claimSecurity reads the standards of claim c's namespaces, each once
// (the maps cache them by name).
func claimSecurity(ctx context.Context, p *ferryv1.Plan, src, dst *cluster.Clients, c ferryv1.PlanPVC, srcNS, dstNS map[string]moverpod.Security) (MoverSecurity, error) {
	s, ok := srcNS[c.Namespace]
	if !ok {
		var err error
		if s, _, err = moverpod.LookupSecurity(ctx, src.Kube, c.Namespace); err != nil {
			return MoverSecurity{}, fmt.Errorf("on cluster %s: %w", src.Name, err)
		}
		srcNS[c.Namespace] = s
	}
	d, ok := dstNS[c.TargetNamespace]
	if !ok {
		got, found, err := moverpod.LookupSecurity(ctx, dst.Kube, c.TargetNamespace)
		if err != nil {
			return MoverSecurity{}, fmt.Errorf("on cluster %s: %w", dst.Name, err)
		}
		if !found && p.Spec.Kind() == ferryv1.PlanFull {
			got = s
		}
		d = got
		dstNS[c.TargetNamespace] = d
	}
	return MoverSecurity{Source: s, Destination: d}, nil
}

// MoverWarnings are the warnings about claim c's non-root movers: the
// owners the destination mover cannot keep, and the source files the
// source mover cannot read.
func MoverWarnings(c ferryv1.PlanPVC, s MoverSecurity) []string {
	var out []string
	runAs := moverpod.RunAs(c.Usage)
	if s.Destination.Restricted() {
		if lost := OwnersNotKept(c.Usage, runAs); lost != "" {
			out = append(out, fmt.Sprintf("%s/%s: %s; the mover runs as %s under %s in namespace %s, and every file it writes is owned by %s",
				c.Namespace, c.Name, lost, runAs, s.Destination, c.TargetNamespace, runAs))
		}
	}
	if s.Source.Restricted() && c.Usage != nil && c.Usage.UnreadableFiles > 0 {
		out = append(out, fmt.Sprintf("%s/%s: the source mover, running as %s under %s in namespace %s, cannot read %d files and directories (%s, for one): the copy fails on them; make them readable by %s, or lift the standard while the data is copied",
			c.Namespace, c.Name, runAs, s.Source, c.Namespace, c.Usage.UnreadableFiles, c.Usage.UnreadableExample, runAs))
	}
	return out
}

// OwnersNotKept says which owners of a claim's files a non-root mover
// running as runAs does not keep ("owners not kept: uid 0 gid 0 (120
// files), uid 33 gid 33 (4 files) and 2 other owners (9 files)"), or why
// they are not known; "" when the mover's own identity owns every file.
func OwnersNotKept(u *ferryv1.VolumeUsage, runAs moverpod.Identity) string {
	switch {
	case u == nil || !u.Known():
		return "owners not known (the claim's usage is not measured yet): those other than the mover's are not kept"
	case u.Method != ferryv1.UsagePod:
		return "owners not known (measured by the kubelet, which does not report them): those other than the mover's are not kept"
	}
	var lost []string
	for _, o := range u.Owners {
		if o.UID == int64(runAs.UID) && o.GID == int64(runAs.GID) {
			continue
		}
		lost = append(lost, fmt.Sprintf("uid %d gid %d (%s)", o.UID, o.GID, files(o.Files)))
	}
	if u.OtherOwners > 0 {
		lost = append(lost, fmt.Sprintf("%d other owners (%s)", u.OtherOwners, files(u.OtherOwnerFiles)))
	}
	if len(lost) == 0 {
		return ""
	}
	return "owners not kept: " + strings.Join(lost, ", ")
}

// files is "1 file" or "n files".
func files(n int64) string {
	if n == 1 {
		return "1 file"
	}
	return fmt.Sprintf("%d files", n)
}
