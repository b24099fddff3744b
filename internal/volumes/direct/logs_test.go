package direct

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestConnectingMessage(t *testing.T) {
	ready := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "recv"}, Status: corev1.PodStatus{Phase: corev1.PodRunning,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}}
	starting := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "recv"}, Status: corev1.PodStatus{Phase: corev1.PodPending}}
	retrying := `time=2026-01-01T00:00:00.000Z level=INFO msg="receiver not reachable yet; retrying" attempt=1 error="dial 10.0.0.5:31000: dial tcp 10.0.0.5:31000: connect: no route to host"` + "\n" +
		`{"phase":"connecting","bytesDone":0,"bytesTotal":0,"bytesSent":0,"filesDone":0,"filesTotal":0,"bytesPerSecond":0,"etaSeconds":-1,"skipped":0,"deleted":0,"warnings":0,"elapsedSeconds":1,"totalsFinal":false}` + "\n"
	tests := []struct {
		name string
		rc   *corev1.Pod
		log  string
		want string
	}{
		{"receiver starting", starting, retrying, "waiting for the receiver: pod recv is Pending"},
		{"receiver ready, address unreachable", ready, retrying,
			"the sender cannot reach the receiver yet: dial 10.0.0.5:31000: dial tcp 10.0.0.5:31000: connect: no route to host"},
		{"receiver ready, first dial under way", ready, "", "the sender is connecting to the receiver"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := connectingMessage(tt.rc, tt.log); got != tt.want {
				t.Errorf("connectingMessage = %q, want %q", got, tt.want)
			}
		})
	}
}
