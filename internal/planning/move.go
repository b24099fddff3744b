package planning

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/migrate"
)

// Moved returns the claims of the list whose volumes the migration moves
// (action move): no data is copied, the destination gets a PV of the same
// volume source.
func (r *Result) Moved() []ferryv1.PlanPVC {
	var out []ferryv1.PlanPVC
	for _, c := range r.PVCs {
		if c.Action == ferryv1.PVCActionMove {
			out = append(out, c)
		}
	}
	return out
}

// MovedClaim decodes the claim a cutover moved off the source PV pv
// (ferryv1.AnnotationMovedClaim); ok is false when the PV holds none.
func MovedClaim(pv *corev1.PersistentVolume) (*corev1.PersistentVolumeClaim, bool, error) {
	raw, ok := pv.Annotations[ferryv1.AnnotationMovedClaim]
	if !ok {
		return nil, false, nil
	}
	var c corev1.PersistentVolumeClaim
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return nil, false, fmt.Errorf("decode annotation %s of PV %s: %w", ferryv1.AnnotationMovedClaim, pv.Name, err)
	}
	return &c, true, nil
}

// movedAway lists the source claims of namespace ns that a cutover of
// plan p moved: deleted on the source, kept on their PVs. They stay in
// the claim list so that the plan, its rollback and a retried cutover
// still know them.
func movedAway(ctx context.Context, p *ferryv1.Plan, src *cluster.Clients, ns string, live []corev1.PersistentVolumeClaim) ([]corev1.PersistentVolumeClaim, error) {
	l, err := src.Kube.CoreV1().PersistentVolumes().List(ctx, metav1.ListOptions{LabelSelector: ferryv1.LabelPlan + "=" + p.Name})
	if apierrors.IsForbidden(err) && src.AsUser {
		// A namespace admin's plan never moves a claim (see
		// checkClusterScopedAccess): none was moved away.
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list the PVs plan %s moved on cluster %s: %w", p.Name, src.Name, err)
	}
	present := map[string]bool{}
	for _, c := range live {
		present[c.Name] = true
	}
	var out []corev1.PersistentVolumeClaim
	for i := range l.Items {
		c, ok, err := MovedClaim(&l.Items[i])
		if err != nil {
			return nil, err
		}
		if ok && c.Namespace == ns && !present[c.Name] {
			out = append(out, *c)
		}
	}
	return out, nil
}

// checkMoves checks the claims to move: a Full or State plan between two
// clusters, a bound claim whose volume destination nodes can mount (NFS
// or hostPath), no override of its class, size or access modes (the
// destination claim binds by name to a PV of class "" and the source's
// size), a target claim that does not exist yet, and no other PV of its
// name on the destination.
func checkMoves(ctx context.Context, p *ferryv1.Plan, _ migrate.Scope, src, dst *cluster.Clients, res *Result) error {
	moved := res.Moved()
	if len(moved) == 0 {
		return nil
	}
	var problems []string
	if scope := moveScopeProblem(p); scope != "" {
		problems = append(problems, scope)
	}
	overrides := map[string]ferryv1.PVCOverride{}
	for _, o := range p.Spec.PersistentVolumeClaims {
		overrides[o.Namespace+"/"+o.Name] = o
	}
	for _, c := range moved {
		key := c.Namespace + "/" + c.Name
		if o := overrides[key]; o.TargetStorageClass != "" || o.TargetCapacity != nil || len(o.TargetAccessModes) > 0 {
			problems = append(problems, fmt.Sprintf("claim %s: a moved volume keeps its storage, size and access modes; drop the class, capacity and access overrides, or copy it", key))
		}
		if c.TargetExists {
			problems = append(problems, fmt.Sprintf("claim %s: its target %s/%s exists on the destination; a moved volume needs a new claim there: give another name (--pvc %s:action=move,name=NEW) or copy into it", key, c.TargetNamespace, c.TargetName, key))
			continue
		}
		if c.SourceVolume == "" {
			problems = append(problems, fmt.Sprintf("claim %s is not bound to a volume; only a bound claim can be moved: copy it instead", key))
			continue
		}
		if len(problems) > 0 {
			continue // the volumes are read only for a plan that may move
		}
		pr, warn, err := volumeProblem(ctx, p, src, dst, c)
		if err != nil {
			return err
		}
		problems = append(problems, pr...)
		res.Warnings = append(res.Warnings, warn...)
	}
	if len(problems) > 0 {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonInvalidSpec, Message: "claims to move: " + strings.Join(problems, "; ")}
	}
	return nil
}

// moveScopeProblem says why plan p cannot move claims at all ("" when it
// can).
func moveScopeProblem(p *ferryv1.Plan) string {
	switch {
	case p.Spec.Kind() == ferryv1.PlanStorageConversion:
		return "a storage conversion cannot move claims: it copies them into claims of the new class; use action copy"
	case p.Spec.SourceCluster == p.Spec.DestinationCluster:
		return "action move hands a volume to another cluster; within one cluster use a StorageConversion plan, or copy the claim under a new name (--pvc NS/NAME:name=NEW)"
	}
	return ""
}

// volumeProblem checks the source PV of the moved claim c and the
// destination's PV of its name; it returns the problems and warnings.
func volumeProblem(ctx context.Context, p *ferryv1.Plan, src, dst *cluster.Clients, c ferryv1.PlanPVC) ([]string, []string, error) {
	key := c.Namespace + "/" + c.Name
	pv, err := src.Kube.CoreV1().PersistentVolumes().Get(ctx, c.SourceVolume, metav1.GetOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("get PV %s of claim %s on cluster %s: %w", c.SourceVolume, key, src.Name, err)
	}
	var problems, warnings []string
	if pr, warn := MoveSupport(pv); pr != "" {
		problems = append(problems, fmt.Sprintf("claim %s: %s", key, pr))
	} else {
		warnings = append(warnings, fmt.Sprintf("claim %s: %s", key, warn))
	}
	if pv.Spec.NodeAffinity != nil && len(problems) == 0 {
		warnings = append(warnings, fmt.Sprintf("claim %s: the node affinity of PV %s names the source's nodes and is not carried over to the destination", key, pv.Name))
	}
	other, err := dst.Kube.CoreV1().PersistentVolumes().Get(ctx, pv.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, nil, fmt.Errorf("get PV %s on cluster %s: %w", pv.Name, dst.Name, err)
	case other.Labels[ferryv1.LabelPlan] != p.Name:
		problems = append(problems, fmt.Sprintf("claim %s: cluster %s has a PV named %s already, not Ferry's: the moved volume needs that name; delete or rename it, or copy the claim", key, dst.Name, pv.Name))
	}
	return problems, warnings, nil
}

// MoveSupport tells whether the volume of PV pv can be mounted on the
// destination: a problem when not (its volume type named), else a
// warning that says what Ferry could not check. NFS and hostPath volumes
// qualify; a hostPath must be the same storage on the destination's nodes
// (a shared disk), which Ferry cannot know, and the NFS server's
// reachability from the destination's nodes is not tested.
func MoveSupport(pv *corev1.PersistentVolume) (problem, warning string) {
	s := pv.Spec.PersistentVolumeSource
	switch {
	case s.NFS != nil:
		return "", fmt.Sprintf("PV %s is on NFS server %s (%s); Ferry does not test that the destination's nodes reach that server: make sure they do", pv.Name, s.NFS.Server, s.NFS.Path)
	case s.HostPath != nil:
		return "", fmt.Sprintf("PV %s is the host path %s; it must be the same storage on the destination's nodes (a shared disk), which Ferry cannot check", pv.Name, s.HostPath.Path)
	}
	return fmt.Sprintf("its volume (PV %s) is of type %s, which Ferry cannot hand to another cluster; only NFS and hostPath volumes on shared storage can be moved: use action copy", pv.Name, volumeType(s)), ""
}

// volumeType names the volume source set in s (its field name, e.g.
// CSI, Local), "unknown" when none is.
func volumeType(s corev1.PersistentVolumeSource) string {
	v := reflect.ValueOf(s)
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Pointer && !f.IsNil() {
			name := v.Type().Field(i).Name
			if s.CSI != nil {
				name += " (driver " + s.CSI.Driver + ")"
			}
			return name
		}
	}
	return "unknown"
}
