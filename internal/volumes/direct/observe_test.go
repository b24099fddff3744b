package direct

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/volumes"
	"ferry.dev/ferry/internal/volumes/moverpod"
)

// TestObserve maps the pods of a round to what Observe reports.
func TestObserve(t *testing.T) {
	type pod struct {
		phase       corev1.PodPhase
		exit        int32
		terminating bool
	}
	tests := []struct {
		name             string
		sender, receiver *pod
		want             volumes.RoundState
		incomplete       bool
		permanent        bool
		where            string
	}{
		{name: "nothing", want: volumes.RoundNotStarted},
		{name: "receiver only", receiver: &pod{phase: corev1.PodRunning}, want: volumes.RoundStarting, incomplete: true},
		{name: "sender pending, receiver missing", sender: &pod{phase: corev1.PodPending}, want: volumes.RoundStarting, incomplete: true},
		{name: "both running", sender: &pod{phase: corev1.PodRunning}, receiver: &pod{phase: corev1.PodRunning}, want: volumes.RoundRunning},
		{name: "sender succeeded", sender: &pod{phase: corev1.PodSucceeded}, receiver: &pod{phase: corev1.PodFailed, exit: 1}, want: volumes.RoundDone},
		{name: "sender failed", sender: &pod{phase: corev1.PodFailed, exit: 1}, receiver: &pod{phase: corev1.PodRunning},
			want: volumes.RoundFailed, where: "sender pod"},
		{name: "sender failed, volume full", sender: &pod{phase: corev1.PodFailed, exit: mover.ExitNoSpace}, receiver: &pod{phase: corev1.PodSucceeded},
			want: volumes.RoundFailed, permanent: true, where: "sender pod"},
		{name: "receiver failed", sender: &pod{phase: corev1.PodRunning}, receiver: &pod{phase: corev1.PodFailed, exit: 1},
			want: volumes.RoundFailed, where: "receiver pod"},
		{name: "failed and being deleted", sender: &pod{phase: corev1.PodFailed, exit: 1, terminating: true}, receiver: &pod{phase: corev1.PodRunning},
			want: volumes.RoundTerminating},
		{name: "receiver served a sender that is gone", receiver: &pod{phase: corev1.PodSucceeded}, want: volumes.RoundStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			o := testOptions(false)
			put := func(p *corev1.Pod, want *pod) {
				if want == nil {
					return
				}
				p.Status.Phase = want.phase
				if want.phase == corev1.PodFailed || want.phase == corev1.PodSucceeded {
					p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "mover", State: corev1.ContainerState{
						Terminated: &corev1.ContainerStateTerminated{ExitCode: want.exit}}}}
				}
				if want.terminating {
					now := metav1.Now()
					p.DeletionTimestamp, p.Finalizers = &now, []string{"test/hold"}
				}
			}
			s := senderPod(o, testTransfer, "10.0.0.1:31000", "", "", moverpod.Env{Resources: moverpod.Resources(nil)})
			rc := receiverPod(o, testTransfer, moverpod.Env{Resources: moverpod.Resources(nil)})
			put(s, tt.sender)
			put(rc, tt.receiver)
			if tt.sender != nil {
				noErr(t, errOf(o.Source.Kube.CoreV1().Pods(s.Namespace).Create(ctx, s, metav1.CreateOptions{})))
			}
			if tt.receiver != nil {
				noErr(t, errOf(o.Destination.Kube.CoreV1().Pods(rc.Namespace).Create(ctx, rc, metav1.CreateOptions{})))
			}
			obs, err := mustNew(t, o).Observe(ctx, testTransfer)
			if err != nil {
				t.Fatal(err)
			}
			if obs.State != tt.want || obs.Incomplete != tt.incomplete {
				t.Errorf("Observe = %s incomplete %v, want %s incomplete %v", obs.State, obs.Incomplete, tt.want, tt.incomplete)
			}
			if obs.Failure.Permanent != tt.permanent || !strings.HasPrefix(obs.Failure.Where, tt.where) {
				t.Errorf("failure %+v, want permanent %v where %q...", obs.Failure, tt.permanent, tt.where)
			}
		})
	}
}
