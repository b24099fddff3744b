package direct

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/volumes"
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
		if log, err := readLog(ctx, p.o.Source.Kube, s); err == nil {
			obs.Progress = progressOf(log)
		}
		return obs, nil
	case terminating(s) || terminating(rc):
		return volumes.Observation{State: volumes.RoundTerminating, Message: "waiting for the previous mover pods to terminate"}, nil
	case failed(s) || failed(rc):
		return p.diagnose(ctx, s, rc), nil
	case s == nil && rc != nil && rc.Status.Phase == corev1.PodSucceeded:
		// The receiver served a sender whose pod is gone: start over.
		return volumes.Observation{State: volumes.RoundStale, Message: "restarting the copy: the sender pod is gone"}, nil
	case s == nil && rc == nil:
		return volumes.Observation{State: volumes.RoundNotStarted}, nil
	case s == nil:
		return volumes.Observation{State: volumes.RoundStarting, Incomplete: true}, nil
	case s.Status.Phase == corev1.PodRunning:
		log, _ := readLog(ctx, p.o.Source.Kube, s)
		obs := volumes.Observation{State: volumes.RoundRunning, Incomplete: rc == nil, Progress: progressOf(log)}
		if obs.Progress.Phase == "" || obs.Progress.Phase == mover.PhaseConnecting {
			obs.Message = connectingMessage(rc, log)
		}
		return obs, nil
	}
	return volumes.Observation{State: volumes.RoundStarting, Incomplete: rc == nil, Message: waitingMessage(s)}, nil
}

// connectingMessage says what a sender that has not connected yet waits
// for: the receiver pod to become ready, or an answer from its address.
func connectingMessage(rc *corev1.Pod, senderLog string) string {
	if rc != nil && !podReady(rc) {
		return "waiting for the receiver: " + waitingMessage(rc)
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
		log, _ = readLog(ctx, p.o.Source.Kube, s)
		obs.Progress = progressOf(log)
	}
	if failed(s) {
		obs.Failure = volumes.Failure{Where: where(RoleSender, s), Message: podFailure(log, s),
			Permanent: mover.Permanent(exitCode(s)), At: failedAt(s)}
		return obs
	}
	if pr, ok := lastProgress(log); ok && pr.Phase == mover.PhaseFailed && pr.Error != "" {
		obs.Failure = volumes.Failure{Where: where(RoleSender, s), Message: clip(pr.Error),
			Permanent: mover.Permanent(pr.ExitCode), At: failedAt(s)}
		return obs
	}
	rlog, _ := readLog(ctx, p.o.Destination.Kube, rc)
	connected := obs.Progress.Phase != "" && obs.Progress.Phase != mover.PhaseConnecting
	obs.Failure = volumes.Failure{Where: where(RoleReceiver, rc), Message: podFailure(rlog, rc), At: failedAt(rc),
		ReceiverOnly: connected && s != nil && s.Status.Phase == corev1.PodRunning}
	return obs
}

// where names a mover pod in errors: "sender pod ns/name".
func where(role string, p *corev1.Pod) string {
	return fmt.Sprintf("%s pod %s/%s", role, p.Namespace, p.Name)
}

// pods gets a transfer's sender and receiver; nil when missing.
func (p *Path) pods(ctx context.Context, t volumes.Transfer) (sender, receiver *corev1.Pod, err error) {
	if sender, err = getPod(ctx, p.o.Source.Kube, t.SourceNamespace, senderName(p.o.Migration, t)); err != nil {
		return nil, nil, err
	}
	if receiver, err = getPod(ctx, p.o.Destination.Kube, t.DestinationNamespace, receiverName(p.o.Migration, t)); err != nil {
		return nil, nil, err
	}
	return sender, receiver, nil
}

// terminated is how a pod's mover container ended, or nil.
func terminated(p *corev1.Pod) *corev1.ContainerStateTerminated {
	for _, cs := range p.Status.ContainerStatuses {
		if t := cs.State.Terminated; t != nil {
			return t
		}
	}
	return nil
}

// exitCode is the exit code of a pod's terminated container, or -1.
func exitCode(p *corev1.Pod) int {
	if t := terminated(p); t != nil {
		return int(t.ExitCode)
	}
	return -1
}

// failedAt is when a failed pod's container ended; zero when unknown.
func failedAt(p *corev1.Pod) time.Time {
	if t := terminated(p); t != nil {
		return t.FinishedAt.Time
	}
	return time.Time{}
}

func failed(p *corev1.Pod) bool { return p != nil && p.Status.Phase == corev1.PodFailed }

func terminating(p *corev1.Pod) bool { return p != nil && p.DeletionTimestamp != nil }

func getPod(ctx context.Context, kube kubernetes.Interface, namespace, name string) (*corev1.Pod, error) {
	p, err := kube.CoreV1().Pods(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get pod %s/%s: %w", namespace, name, err)
	}
	return p, nil
}
