package ops

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestNewMigration(t *testing.T) {
	m := New(nil, "ferry-system").NewMigration("shop", ferryv1.MigrationCutover, StartOptions{NoQuiesce: true})
	if m.GenerateName != "shop-cutover-" || m.Namespace != "ferry-system" || m.Labels[ferryv1.LabelPlan] != "shop" ||
		m.Spec.Plan != "shop" || m.Spec.Type != ferryv1.MigrationCutover || m.Spec.Quiesce == nil || *m.Spec.Quiesce {
		t.Errorf("migration %+v", m)
	}
	if m := New(nil, "x").NewMigration("shop", ferryv1.MigrationStage, StartOptions{}); m.Spec.Quiesce != nil {
		t.Errorf("a migration without NoQuiesce sets spec.quiesce %v", *m.Spec.Quiesce)
	}
}

func TestLatest(t *testing.T) {
	at := func(name string, s int) ferryv1.Migration {
		return ferryv1.Migration{ObjectMeta: metav1.ObjectMeta{Name: name,
			CreationTimestamp: metav1.NewTime(time.Unix(1000+int64(s), 0))}}
	}
	tests := []struct {
		name string
		ms   []ferryv1.Migration
		want string
	}{
		{name: "none", want: ""},
		{name: "one", ms: []ferryv1.Migration{at("a", 0)}, want: "a"},
		{name: "newest wins over name order", ms: []ferryv1.Migration{at("z", 1), at("b", 5), at("c", 3)}, want: "b"},
		{name: "same second: last by name", ms: []ferryv1.Migration{at("b", 5), at("d", 5), at("c", 5)}, want: "d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if m := Latest(tt.ms); m != nil {
				got = m.Name
			}
			if got != tt.want {
				t.Errorf("Latest = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPhases(t *testing.T) {
	tests := []struct {
		phase             ferryv1.MigrationPhase
		active, done      bool
		outcome, canceled string // Outcome's error without and with a cancel wanted; "" for nil
		cancelErr         string
		retryErr          string
	}{
		{phase: "", active: true, outcome: "has not ended: it is Pending", canceled: "has not ended", retryErr: "is Pending: only a failed"},
		{phase: ferryv1.MigrationRunning, active: true, outcome: "has not ended", canceled: "has not ended", retryErr: "is Running: only a failed"},
		{phase: ferryv1.MigrationFailed, active: true, done: true, outcome: "failed: boom", canceled: "failed: boom"},
		{phase: ferryv1.MigrationCanceling, active: true, outcome: "has not ended", canceled: "has not ended", retryErr: "only a failed"},
		{phase: ferryv1.MigrationCanceled, done: true, outcome: "was canceled", cancelErr: "already canceled", retryErr: "only a failed"},
		{phase: ferryv1.MigrationSucceeded, done: true, cancelErr: "ferry rollback shop", retryErr: "only a failed"},
	}
	check := func(t *testing.T, what string, err error, want string) {
		t.Helper()
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("%s = %v, want %q", what, err, want)
		}
	}
	for _, tt := range tests {
		t.Run(string(tt.phase), func(t *testing.T) {
			m := &ferryv1.Migration{ObjectMeta: metav1.ObjectMeta{Name: "m"}, Spec: ferryv1.MigrationSpec{Plan: "shop"},
				Status: ferryv1.MigrationStatus{Phase: tt.phase, Errors: []string{"boom"}}}
			if !m.Finished() != tt.active || m.Stopped() != tt.done {
				t.Errorf("not Finished %v, Stopped %v, want %v %v", !m.Finished(), m.Stopped(), tt.active, tt.done)
			}
			check(t, "Outcome", Outcome(m, false), tt.outcome)
			check(t, "Outcome with a cancel wanted", Outcome(m, true), tt.canceled)
			check(t, "canCancel", canCancel(m), tt.cancelErr)
			check(t, "canRetry", canRetry(m), tt.retryErr)
		})
	}
}

func TestCheckSetting(t *testing.T) {
	tests := []struct {
		key, value, wantErr string
	}{
		{key: SettingMoverImage, value: "10.200.1.1:5000/ferry@sha256:abc"},
		{key: SettingMoverImage, value: ""},
		{key: SettingMoverImage, value: "ferry dev", wantErr: "white space"},
		{key: "mover_image", value: "x", wantErr: `unknown setting "mover_image": the settings are mover-image`},
	}
	for _, tt := range tests {
		err := checkSetting(tt.key, tt.value)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("checkSetting(%q, %q) = %v, want %q", tt.key, tt.value, err, tt.wantErr)
		}
	}
}
