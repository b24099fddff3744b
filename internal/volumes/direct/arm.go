package direct

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/podexec"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// A cutover's movers can start before the quiesce (Options.Hold): the
// receiver as always, the sender held back until a file appears in its
// container (ferry mover sync --start-file). The final copy's Start then
// releases it (ferry mover release, run in the container), so that the
// downtime has no pod start in it.
const (
	// startDir is the sender's empty directory for the start file.
	startDir = "/run/ferry-start"
	// startFile is the file a held sender waits for.
	startFile = startDir + "/go"
	// annotationHeld marks a held sender.
	annotationHeld = "ferry.dev/held"
	// logReleased is the sender's log line once it was released.
	logReleased = `msg="` + mover.StartSignalMessage + `"`
	// moverBinary is the ferry binary in the mover image.
	moverBinary = "/usr/local/bin/ferry"
)

// held tells whether a sender pod was started held back.
func held(s *corev1.Pod) bool { return s != nil && s.Annotations[annotationHeld] == "true" }

// waitsForStart tells whether a held sender has not been released yet,
// by its log.
func waitsForStart(s *corev1.Pod, log string) bool {
	return held(s) && !strings.Contains(log, logReleased)
}

// holdSender makes a sender pod wait for its start file.
func holdSender(p *corev1.Pod) {
	annotate(p, annotationHeld, "true")
	p.Spec.Volumes = append(p.Spec.Volumes, corev1.Volume{Name: "start", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{Medium: corev1.StorageMediumMemory}}})
	c := &p.Spec.Containers[0]
	c.VolumeMounts = append(c.VolumeMounts, corev1.VolumeMount{Name: "start", MountPath: startDir})
	c.Args = append(c.Args, "--start-file", startFile)
}

func annotate(p *corev1.Pod, k, v string) {
	if p.Annotations == nil {
		p.Annotations = map[string]string{}
	}
	p.Annotations[k] = v
}

// release starts a held sender's sync. When it cannot (no exec right on
// the source, say), the sender is deleted, so that the next Start
// creates one that is not held.
func (p *Path) release(ctx context.Context, s *corev1.Pod) (string, error) {
	_, err := podexec.Run(ctx, p.o.Source.Config, p.o.Source.Kube, s.Namespace, s.Name, s.Spec.Containers[0].Name, []string{moverBinary, "mover", "release", startFile})
	if err == nil {
		return "released the sender started ahead of the copy", nil
	}
	logf.FromContext(ctx).Info("cannot release a held sender; starting a new one", "pod", s.Name, "namespace", s.Namespace, "error", err.Error())
	if derr := deletePods(ctx, p.o, s, nil); derr != nil {
		return "", derr
	}
	return fmt.Sprintf("could not release the sender started ahead of the copy (%v); starting a new one", err), nil
}

// Armed tells whether a transfer's movers are started and wait for the
// copy: the receiver ready, the sender running and held back. The
// message says what is still missing.
func (p *Path) Armed(ctx context.Context, t volumes.Transfer) (bool, string, error) {
	s, rc, err := p.pods(ctx, t)
	if err != nil {
		return false, "", err
	}
	switch {
	case s == nil || rc == nil:
		return false, "starting the movers", nil
	case !moverpod.PodReady(rc):
		return false, "waiting for the receiver: " + moverpod.WaitingMessage(rc), nil
	case s.Status.Phase != corev1.PodRunning:
		return false, "waiting for the sender: " + moverpod.WaitingMessage(s), nil
	}
	return held(s), "", nil
}
