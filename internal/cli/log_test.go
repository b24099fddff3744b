package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestLogLevelFor(t *testing.T) {
	root := &cobra.Command{Use: "ferry"}
	ctrlCmd := &cobra.Command{Use: "controller", Annotations: map[string]string{annotationLogLevel: "info"}}
	stage := &cobra.Command{Use: "stage"}
	root.AddCommand(ctrlCmd, stage)
	tests := []struct {
		name, flag, debugEnv string
		cmd                  *cobra.Command
		want                 slog.Level
	}{
		{name: "CLI default", cmd: stage, want: slog.LevelWarn},
		{name: "controller default", cmd: ctrlCmd, want: slog.LevelInfo},
		{name: "flag", flag: "error", cmd: ctrlCmd, want: slog.LevelError},
		{name: "FERRY_DEBUG", debugEnv: "1", cmd: stage, want: slog.LevelDebug},
		{name: "flag over FERRY_DEBUG", flag: "info", debugEnv: "1", cmd: stage, want: slog.LevelInfo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("FERRY_DEBUG", tt.debugEnv)
			o := &logOptions{level: tt.flag}
			if got := o.levelFor(tt.cmd); got != tt.want {
				t.Errorf("level %v, want %v", got, tt.want)
			}
		})
	}
	if err := (&logOptions{level: "loud"}).validate(); err == nil || !strings.Contains(err.Error(), "error, warn, info or debug") {
		t.Errorf("validate of an unknown level: %v", err)
	}
}

// TestCleanStopLogsNoErrors: once a stop has begun, what the controller's
// parts report as errors is logged at debug level only; context
// cancellations never are errors.
func TestCleanStopLogsNoErrors(t *testing.T) {
	tests := []struct {
		name      string
		level     slog.Level
		stopping  bool
		err       error
		wantError bool
		wantLine  bool
	}{
		{name: "error while running", level: slog.LevelWarn, err: errors.New("boom"), wantError: true, wantLine: true},
		{name: "leader election lost at a clean stop", level: slog.LevelWarn, stopping: true, err: errors.New("leader election lost")},
		{name: "canceled while running", level: slog.LevelWarn, err: fmt.Errorf("get lease: %w", context.Canceled)},
		{name: "canceled across an API client", level: slog.LevelWarn, err: errors.New(`Put "https://h/lease": context canceled`)},
		{name: "conflict", level: slog.LevelWarn, err: apierrors.NewConflict(schema.GroupResource{Group: "ferry.dev", Resource: "migrations"}, "m", errors.New("the object has been modified"))},
		{name: "at debug level, shown as debug", level: slog.LevelDebug, stopping: true, err: errors.New("leader election lost"), wantLine: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			st := newLogState(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: tt.level}))
			ctx := context.WithValue(context.Background(), logStateKey{}, st)
			if tt.stopping {
				beginStop(ctx)
			}
			st.logger.WithName("manager").WithValues("k", "v").Error(tt.err, "error received after stop sequence was engaged")
			got := out.String()
			if strings.Contains(got, "level=ERROR") != tt.wantError || (got != "") != tt.wantLine {
				t.Errorf("logged %q; want an error line %v, any line %v", got, tt.wantError, tt.wantLine)
			}
			if tt.wantLine && !strings.Contains(got, tt.err.Error()) {
				t.Errorf("logged %q without the error", got)
			}
		})
	}
}
