package migrationctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/planning"
)

// PhaseMoved is the phase of a volume status whose claim a cutover moved:
// the destination mounts the same storage, no data was copied.
const PhaseMoved = "Moved"

// MoveTimeout is how long MoveVolumes waits for a source claim to go
// (pvc-protection keeps it while a pod mounts it) and a destination claim
// to bind before it fails.
const MoveTimeout = 5 * time.Minute

// bindingAnnotations are what the source's binder wrote on a claim; a
// claim recreated on rollback binds again and gets its own.
var bindingAnnotations = []string{
	"pv.kubernetes.io/bind-completed",
	"pv.kubernetes.io/bound-by-controller",
}

// movedClaims is the plan's list of claims to move.
func (s *session) movedClaims(ctx context.Context) ([]ferryv1.PlanPVC, error) {
	res, err := planning.Claims(ctx, s.plan, s.src, s.dst)
	if err != nil {
		return nil, err
	}
	if res.Problem != nil {
		return nil, fmt.Errorf("plan %s is not valid: %s: %s", s.plan.Name, res.Problem.Reason, res.Problem.Message)
	}
	return res.Moved(), nil
}

// moveVolumes hands the volumes of the moved claims to the destination,
// after quiesce: each source PV is kept (reclaim policy Retain, the
// original and the claim recorded on it), the source claim is deleted,
// and a PV of the same volume source is created on the destination,
// pre-bound to the claim PrepareDestination made. It waits until every
// destination claim is bound. No data is copied; nothing is deleted from
// the storage.
func moveVolumes(ctx context.Context, s *session) (outcome, error) {
	claims, err := s.movedClaims(ctx)
	if err != nil {
		return outcome{}, err
	}
	if len(claims) == 0 {
		return done("no volumes to move"), nil
	}
	if !quiesces(s.m, s.plan) {
		return outcome{}, errors.New("a cutover without quiesce cannot move claims: the source's pods still mount them; cancel it and run the cutover with quiesce, or copy the claims")
	}
	var pending, names []string
	for _, c := range claims {
		wait, err := s.moveVolume(ctx, c)
		if err != nil {
			return outcome{}, fmt.Errorf("move claim %s/%s: %w", c.Namespace, c.Name, err)
		}
		if wait != "" {
			pending = append(pending, wait)
			continue
		}
		s.setMoved(c)
		names = append(names, fmt.Sprintf("%s/%s as %s/%s on PV %s", c.Namespace, c.Name, c.TargetNamespace, c.TargetName, c.SourceVolume))
	}
	if len(pending) > 0 {
		if elapsed := time.Since(s.step().Started.Time); elapsed > MoveTimeout {
			return outcome{}, fmt.Errorf("after %s: %s; stop what still mounts the claims on the source (pods quiesce does not stop), then `ferry retry`",
				elapsed.Round(time.Second), strings.Join(pending, "; "))
		}
		return waiting(strings.Join(pending, "; "), time.Second), nil
	}
	return done(fmt.Sprintf("moved %d volumes, 0 B sent: %s", len(names), strings.Join(names, ", "))), nil
}

// moveVolume advances the move of one claim; it returns what it waits
// for, "" once the destination claim is bound to its PV.
func (s *session) moveVolume(ctx context.Context, c ferryv1.PlanPVC) (string, error) {
	pvs := s.src.Kube.CoreV1().PersistentVolumes()
	pv, err := pvs.Get(ctx, c.SourceVolume, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("get PV %s on cluster %s: %w", c.SourceVolume, s.src.Name, err)
	}
	if _, recorded := pv.Annotations[ferryv1.AnnotationMovedClaim]; !recorded {
		if err := s.keepSourceVolume(ctx, pv, c); err != nil {
			return "", err
		}
	}
	if wait, err := s.releaseSourceClaim(ctx, pv, c); wait != "" || err != nil {
		return wait, err
	}
	if err := s.createDestinationVolume(ctx, pv, c); err != nil {
		return "", err
	}
	got, err := s.dst.Kube.CoreV1().PersistentVolumeClaims(c.TargetNamespace).Get(ctx, c.TargetName, metav1.GetOptions{})
	if err != nil {
		return "", fmt.Errorf("get claim %s/%s on cluster %s: %w", c.TargetNamespace, c.TargetName, s.dst.Name, err)
	}
	if got.Status.Phase != corev1.ClaimBound {
		return fmt.Sprintf("waiting for claim %s/%s on cluster %s to bind to PV %s", c.TargetNamespace, c.TargetName, s.dst.Name, pv.Name), nil
	}
	return "", nil
}

// keepSourceVolume sets the source PV's reclaim policy to Retain, so that
// deleting its claim deletes no data, and records on it the original
// policy and the claim, labelled with the plan and the migration.
func (s *session) keepSourceVolume(ctx context.Context, pv *corev1.PersistentVolume, c ferryv1.PlanPVC) error {
	claim, err := s.src.Kube.CoreV1().PersistentVolumeClaims(c.Namespace).Get(ctx, c.Name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get claim %s/%s on cluster %s: %w", c.Namespace, c.Name, s.src.Name, err)
	}
	if claim.Spec.VolumeName != pv.Name {
		return fmt.Errorf("claim %s/%s on cluster %s is bound to PV %q, not %s: validate the plan again", c.Namespace, c.Name, s.src.Name, claim.Spec.VolumeName, pv.Name)
	}
	record, err := json.Marshal(claimRecord(claim))
	if err != nil {
		return fmt.Errorf("encode claim %s/%s: %w", c.Namespace, c.Name, err)
	}
	if pv.Labels == nil {
		pv.Labels = map[string]string{}
	}
	pv.Labels[ferryv1.LabelPlan] = s.plan.Name
	pv.Labels[ferryv1.LabelMigration] = s.m.Name
	if pv.Annotations == nil {
		pv.Annotations = map[string]string{}
	}
	pv.Annotations[ferryv1.AnnotationOriginalReclaimPolicy] = string(pv.Spec.PersistentVolumeReclaimPolicy)
	pv.Annotations[ferryv1.AnnotationMovedClaim] = string(record)
	pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimRetain
	if _, err := s.src.Kube.CoreV1().PersistentVolumes().Update(ctx, pv, metav1.UpdateOptions{FieldManager: ferryv1.FieldManager}); err != nil {
		return fmt.Errorf("keep PV %s on cluster %s: %w", pv.Name, s.src.Name, err)
	}
	return nil
}

// claimRecord is what rollback needs to recreate claim c: its name,
// namespace, labels, annotations (but the binder's) and spec.
func claimRecord(c *corev1.PersistentVolumeClaim) *corev1.PersistentVolumeClaim {
	out := &corev1.PersistentVolumeClaim{
		ObjectMeta: metav1.ObjectMeta{Name: c.Name, Namespace: c.Namespace, Labels: c.Labels, Annotations: map[string]string{}},
		Spec:       *c.Spec.DeepCopy(),
	}
	for k, v := range c.Annotations {
		out.Annotations[k] = v
	}
	for _, k := range bindingAnnotations {
		delete(out.Annotations, k)
	}
	return out
}

// releaseSourceClaim deletes the source claim of the kept PV pv and says
// what it waits for while the claim is still there (pvc-protection keeps
// it while a pod mounts it).
func (s *session) releaseSourceClaim(ctx context.Context, pv *corev1.PersistentVolume, c ferryv1.PlanPVC) (string, error) {
	claims := s.src.Kube.CoreV1().PersistentVolumeClaims(c.Namespace)
	claim, err := claims.Get(ctx, c.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("get claim %s/%s on cluster %s: %w", c.Namespace, c.Name, s.src.Name, err)
	case claim.Spec.VolumeName != pv.Name:
		return "", fmt.Errorf("claim %s/%s on cluster %s is bound to PV %q, not %s: validate the plan again", c.Namespace, c.Name, s.src.Name, claim.Spec.VolumeName, pv.Name)
	}
	if claim.DeletionTimestamp == nil {
		uid := claim.UID
		if err := claims.Delete(ctx, c.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}); err != nil && !apierrors.IsNotFound(err) {
			return "", fmt.Errorf("delete claim %s/%s on cluster %s: %w", c.Namespace, c.Name, s.src.Name, err)
		}
	}
	return fmt.Sprintf("waiting for claim %s/%s on cluster %s to go (a pod may still mount it)", c.Namespace, c.Name, s.src.Name), nil
}

// createDestinationVolume creates on the destination the PV of the moved
// claim: the source PV's volume source, capacity, access modes, volume
// mode and mount options, reclaim policy Retain, class "", pre-bound to
// the destination claim. Its node affinity, which names the source's
// nodes, is left out (validation warns of it).
func (s *session) createDestinationVolume(ctx context.Context, src *corev1.PersistentVolume, c ferryv1.PlanPVC) error {
	pvs := s.dst.Kube.CoreV1().PersistentVolumes()
	got, err := pvs.Get(ctx, src.Name, metav1.GetOptions{})
	switch {
	case err == nil && got.Labels[ferryv1.LabelPlan] == s.plan.Name:
		return nil
	case err == nil:
		return fmt.Errorf("cluster %s has a PV named %s that is not the plan's: delete or rename it, then `ferry retry`", s.dst.Name, src.Name)
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("get PV %s on cluster %s: %w", src.Name, s.dst.Name, err)
	}
	pv := &corev1.PersistentVolume{
		ObjectMeta: metav1.ObjectMeta{Name: src.Name, Labels: map[string]string{ferryv1.LabelPlan: s.plan.Name, ferryv1.LabelMigration: s.m.Name}},
		Spec: corev1.PersistentVolumeSpec{
			PersistentVolumeSource:        *src.Spec.PersistentVolumeSource.DeepCopy(),
			Capacity:                      src.Spec.Capacity.DeepCopy(),
			AccessModes:                   src.Spec.AccessModes,
			VolumeMode:                    src.Spec.VolumeMode,
			MountOptions:                  src.Spec.MountOptions,
			PersistentVolumeReclaimPolicy: corev1.PersistentVolumeReclaimRetain,
			StorageClassName:              "",
			ClaimRef:                      &corev1.ObjectReference{Kind: "PersistentVolumeClaim", APIVersion: "v1", Namespace: c.TargetNamespace, Name: c.TargetName},
		},
	}
	if _, err := pvs.Create(ctx, pv, metav1.CreateOptions{FieldManager: ferryv1.FieldManager}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create PV %s on cluster %s: %w", pv.Name, s.dst.Name, err)
	}
	return nil
}

// setMoved records the moved claim in the volume statuses: phase Moved,
// path move, nothing sent.
func (s *session) setMoved(c ferryv1.PlanPVC) {
	v := ferryv1.VolumeStatus{Namespace: c.Namespace, Claim: c.Name, TargetNamespace: c.TargetNamespace, TargetClaim: c.TargetName,
		Phase: PhaseMoved, Path: "move", Message: "PV " + c.SourceVolume + " handed over, no data copied"}
	for i := range s.m.Status.Volumes {
		if s.m.Status.Volumes[i].Namespace == c.Namespace && s.m.Status.Volumes[i].Claim == c.Name {
			s.m.Status.Volumes[i] = v
			return
		}
	}
	s.m.Status.Volumes = append(s.m.Status.Volumes, v)
}

// moveVolumesBack undoes moveVolumes, on rollback and cancel, after the
// destination's objects are deleted and before the source starts again:
// the destination PV goes (reclaim policy Retain: the data stays), the
// source claim is recreated from its record and bound to its PV again,
// whose reclaim policy is restored. A claim that was never moved is left
// as it is.
func moveVolumesBack(ctx context.Context, s *session) (outcome, error) {
	claims, err := s.movedClaims(ctx)
	if err != nil {
		return outcome{}, err
	}
	var pending, back []string
	for _, c := range claims {
		wait, moved, err := s.moveVolumeBack(ctx, c)
		if err != nil {
			return outcome{}, fmt.Errorf("move claim %s/%s back: %w", c.Namespace, c.Name, err)
		}
		switch {
		case wait != "":
			pending = append(pending, wait)
		case moved:
			back = append(back, c.Namespace+"/"+c.Name)
		}
	}
	if len(pending) > 0 {
		return waiting(strings.Join(pending, "; "), time.Second), nil
	}
	if len(back) == 0 {
		return done("no moved volumes to bring back"), nil
	}
	return done(fmt.Sprintf("%d claims bound again on cluster %s: %s", len(back), s.src.Name, strings.Join(back, ", "))), nil
}

// moveVolumeBack advances the return of one claim; it returns what it
// waits for, and whether the claim had been moved.
func (s *session) moveVolumeBack(ctx context.Context, c ferryv1.PlanPVC) (string, bool, error) {
	pv, err := s.src.Kube.CoreV1().PersistentVolumes().Get(ctx, c.SourceVolume, metav1.GetOptions{})
	if err != nil {
		return "", false, fmt.Errorf("get PV %s on cluster %s: %w", c.SourceVolume, s.src.Name, err)
	}
	record, moved, err := planning.MovedClaim(pv)
	if err != nil || !moved || pv.Labels[ferryv1.LabelPlan] != s.plan.Name {
		return "", false, err
	}
	if wait, err := s.deleteDestinationVolume(ctx, pv.Name, c); wait != "" || err != nil {
		return wait, true, err
	}
	if wait, err := s.rebindSourceClaim(ctx, pv, record); wait != "" || err != nil {
		return wait, true, err
	}
	return "", true, s.restoreSourceVolume(ctx, pv.Name)
}

// deleteDestinationVolume deletes the plan's destination claim bound to
// PV name and then the PV (reclaim policy Retain, so its storage is not
// touched); it says what it waits for while they go.
func (s *session) deleteDestinationVolume(ctx context.Context, name string, c ferryv1.PlanPVC) (string, error) {
	claims := s.dst.Kube.CoreV1().PersistentVolumeClaims(c.TargetNamespace)
	claim, err := claims.Get(ctx, c.TargetName, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return "", fmt.Errorf("get claim %s/%s on cluster %s: %w", c.TargetNamespace, c.TargetName, s.dst.Name, err)
	case claim.Spec.VolumeName == name && claim.Labels[ferryv1.LabelPlan] == s.plan.Name:
		if err := deleteIfPresent(ctx, claims.Delete, c.TargetName); err != nil {
			return "", fmt.Errorf("delete claim %s/%s on cluster %s: %w", c.TargetNamespace, c.TargetName, s.dst.Name, err)
		}
		return fmt.Sprintf("waiting for claim %s/%s on cluster %s to go", c.TargetNamespace, c.TargetName, s.dst.Name), nil
	}
	pvs := s.dst.Kube.CoreV1().PersistentVolumes()
	pv, err := pvs.Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("get PV %s on cluster %s: %w", name, s.dst.Name, err)
	case pv.Labels[ferryv1.LabelPlan] != s.plan.Name:
		return "", nil // not the plan's: never created, or another's
	case pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimRetain:
		return "", fmt.Errorf("PV %s on cluster %s has reclaim policy %s, not Retain: set it back to Retain (`kubectl patch pv %s -p '{\"spec\":{\"persistentVolumeReclaimPolicy\":\"Retain\"}}'`), then `ferry retry`",
			name, s.dst.Name, pv.Spec.PersistentVolumeReclaimPolicy, name)
	}
	if err := deleteIfPresent(ctx, pvs.Delete, name); err != nil {
		return "", fmt.Errorf("delete PV %s on cluster %s: %w", name, s.dst.Name, err)
	}
	return fmt.Sprintf("waiting for PV %s on cluster %s to go", name, s.dst.Name), nil
}

// rebindSourceClaim recreates the source claim from its record, bound by
// name to PV pv (whose claimRef loses the old claim's uid, so that the
// new one binds), and says what it waits for until it is bound.
func (s *session) rebindSourceClaim(ctx context.Context, pv *corev1.PersistentVolume, record *corev1.PersistentVolumeClaim) (string, error) {
	claims := s.src.Kube.CoreV1().PersistentVolumeClaims(record.Namespace)
	claim, err := claims.Get(ctx, record.Name, metav1.GetOptions{})
	switch {
	case err == nil && claim.DeletionTimestamp != nil:
		// A cancel while MoveVolumes waited for the claim to go.
		return fmt.Sprintf("waiting for claim %s/%s on cluster %s to go before it is recreated", record.Namespace, record.Name, s.src.Name), nil
	case err == nil && claim.Spec.VolumeName != pv.Name:
		return "", fmt.Errorf("claim %s/%s on cluster %s exists and is not the moved one (volume %q): delete it, then `ferry retry`", record.Namespace, record.Name, s.src.Name, claim.Spec.VolumeName)
	case err == nil && claim.Status.Phase == corev1.ClaimBound:
		return "", nil
	case err == nil:
		return fmt.Sprintf("waiting for claim %s/%s on cluster %s to bind to PV %s", record.Namespace, record.Name, s.src.Name, pv.Name), nil
	case !apierrors.IsNotFound(err):
		return "", fmt.Errorf("get claim %s/%s on cluster %s: %w", record.Namespace, record.Name, s.src.Name, err)
	}
	if ref := pv.Spec.ClaimRef; ref != nil && (ref.UID != "" || ref.ResourceVersion != "") {
		ref.UID, ref.ResourceVersion = "", ""
		if _, err := s.src.Kube.CoreV1().PersistentVolumes().Update(ctx, pv, metav1.UpdateOptions{FieldManager: ferryv1.FieldManager}); err != nil {
			return "", fmt.Errorf("free PV %s on cluster %s for its claim: %w", pv.Name, s.src.Name, err)
		}
	}
	record.Spec.VolumeName = pv.Name
	if _, err := claims.Create(ctx, record, metav1.CreateOptions{FieldManager: ferryv1.FieldManager}); err != nil && !apierrors.IsAlreadyExists(err) {
		return "", fmt.Errorf("recreate claim %s/%s on cluster %s: %w", record.Namespace, record.Name, s.src.Name, err)
	}
	return fmt.Sprintf("waiting for claim %s/%s on cluster %s to bind to PV %s", record.Namespace, record.Name, s.src.Name, pv.Name), nil
}

// restoreSourceVolume gives PV name its reclaim policy back and drops
// the marks of the move; it is the last thing the return does.
func (s *session) restoreSourceVolume(ctx context.Context, name string) error {
	pvs := s.src.Kube.CoreV1().PersistentVolumes()
	pv, err := pvs.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("get PV %s on cluster %s: %w", name, s.src.Name, err)
	}
	if p := pv.Annotations[ferryv1.AnnotationOriginalReclaimPolicy]; p != "" {
		pv.Spec.PersistentVolumeReclaimPolicy = corev1.PersistentVolumeReclaimPolicy(p)
	}
	delete(pv.Annotations, ferryv1.AnnotationOriginalReclaimPolicy)
	delete(pv.Annotations, ferryv1.AnnotationMovedClaim)
	delete(pv.Labels, ferryv1.LabelPlan)
	delete(pv.Labels, ferryv1.LabelMigration)
	if _, err := pvs.Update(ctx, pv, metav1.UpdateOptions{FieldManager: ferryv1.FieldManager}); err != nil {
		return fmt.Errorf("restore PV %s on cluster %s: %w", name, s.src.Name, err)
	}
	return nil
}

// deleteIfPresent deletes an object by name; one already gone is fine.
func deleteIfPresent(ctx context.Context, del func(context.Context, string, metav1.DeleteOptions) error, name string) error {
	if err := del(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	return nil
}
