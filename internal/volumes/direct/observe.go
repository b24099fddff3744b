package direct

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// Observe reads a transfer's pods and the sender's progress; it changes
// nothing. A pod being deleted makes the round Terminating, also when it
// failed: the round was reset (or evicted) and is not counted again.
func (p *Path) Observe(ctx context.Context, t volumes.Transfer) (volumes.Observation, error) {
	s, rc, err := p.pods(ctx, t)
	if err != nil {
		return volumes.Observation{}, err
	}
	switch {
	case s != nil && s.Status.Phase == corev1.PodSucceeded:
		obs := volumes.Observation{State: volumes.RoundDone}
		if log, err := moverpod.ReadLog(ctx, p.o.Source.Kube, s); err == nil {
			obs.Progress = moverpod.ProgressOf(log)
		}
		return obs, nil
	case moverpod.Terminating(s) || moverpod.Terminating(rc):
		return volumes.Observation{State: volumes.RoundTerminating, Message: "waiting for the previous mover pods to terminate"}, nil
	case moverpod.Failed(s) || moverpod.Failed(rc):
		return p.diagnose(ctx, s, rc), nil
	case s == nil && rc != nil && rc.Status.Phase == corev1.PodSucceeded:
		// The receiver served a sender whose pod is gone: start over.
		return volumes.Observation{State: volumes.RoundStale, Message: "restarting the copy: the sender pod is gone"}, nil
	case s == nil && rc == nil:
		return volumes.Observation{State: volumes.RoundNotStarted}, nil
	case s == nil:
		return volumes.Observation{State: volumes.RoundStarting, Incomplete: true}, nil
	case s.Status.Phase == corev1.PodRunning:
		log, _ := moverpod.ReadLog(ctx, p.o.Source.Kube, s)
		if waitsForStart(s, log) {
			// Start releases it (Incomplete) unless the path holds it.
			return volumes.Observation{State: volumes.RoundStarting, Incomplete: true,
				Message: "the movers are started and wait for the copy to begin"}, nil
		}
		obs := volumes.Observation{State: volumes.RoundRunning, Incomplete: rc == nil, Progress: moverpod.ProgressOf(log)}
		if obs.Progress.Phase == "" || obs.Progress.Phase == mover.PhaseConnecting {
			obs.Message = connectingMessage(rc, log)
		}
		return obs, nil
	}
	return volumes.Observation{State: volumes.RoundStarting, Incomplete: rc == nil, Message: moverpod.WaitingMessage(s)}, nil
}

// connectingMessage says what a sender that has not connected yet waits
// for: the receiver pod to become ready, or an answer from its address.
func connectingMessage(rc *corev1.Pod, senderLog string) string {
	if rc != nil && !moverpod.PodReady(rc) {
		return "waiting for the receiver: " + moverpod.WaitingMessage(rc)
	}
	if e := dialProblem(senderLog); e != "" {
		return "the sender cannot reach the receiver yet: " + e
	}
	return "the sender is connecting to the receiver"
}

// diagnose reads the mover's error from the failed pod's log. The
// sender's account comes first, also when only the receiver's pod has
// ended yet: its last progress report names the failure and its exit
// status, which tells whether a rerun can help.
func (p *Path) diagnose(ctx context.Context, s, rc *corev1.Pod) volumes.Observation {
	obs := volumes.Observation{State: volumes.RoundFailed}
	var log string
	if s != nil {
		log, _ = moverpod.ReadLog(ctx, p.o.Source.Kube, s)
		obs.Progress = moverpod.ProgressOf(log)
	}
	if moverpod.Failed(s) {
		obs.Failure = volumes.Failure{Where: where(moverpod.RoleSender, s), Message: moverpod.PodFailure(log, s),
			Permanent: mover.Permanent(moverpod.ExitCode(s)), At: moverpod.FailedAt(s)}
		return obs
	}
	if pr, ok := moverpod.LastProgress(log); ok && pr.Phase == mover.PhaseFailed && pr.Error != "" {
		obs.Failure = volumes.Failure{Where: where(moverpod.RoleSender, s), Message: moverpod.Clip(pr.Error),
			Permanent: mover.Permanent(pr.ExitCode), At: moverpod.FailedAt(s)}
		return obs
	}
	rlog, _ := moverpod.ReadLog(ctx, p.o.Destination.Kube, rc)
	connected := obs.Progress.Phase != "" && obs.Progress.Phase != mover.PhaseConnecting
	obs.Failure = volumes.Failure{Where: where(moverpod.RoleReceiver, rc), Message: moverpod.PodFailure(rlog, rc), At: moverpod.FailedAt(rc),
		ReceiverOnly: connected && s != nil && s.Status.Phase == corev1.PodRunning}
	return obs
}

// where names a mover pod in errors: "sender pod ns/name".
func where(role string, p *corev1.Pod) string {
	return fmt.Sprintf("%s pod %s/%s", role, p.Namespace, p.Name)
}

// pods gets a transfer's sender and receiver; nil when missing.
func (p *Path) pods(ctx context.Context, t volumes.Transfer) (sender, receiver *corev1.Pod, err error) {
	if sender, err = moverpod.GetPod(ctx, p.o.Source.Kube, t.SourceNamespace, senderName(p.o.Migration, t)); err != nil {
		return nil, nil, err
	}
	if receiver, err = moverpod.GetPod(ctx, p.o.Destination.Kube, t.DestinationNamespace, receiverName(p.o.Migration, t)); err != nil {
		return nil, nil, err
	}
	return sender, receiver, nil
}
