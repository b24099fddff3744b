package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
)

// annotationLogLevel on a command sets its default log level (the
// controller's is info); commands without it log warnings and errors.
const annotationLogLevel = "ferry.dev/log-level"

// logLevels are the values of --log-level.
var logLevels = map[string]slog.Level{
	"error": slog.LevelError, "warn": slog.LevelWarn, "info": slog.LevelInfo, "debug": slog.LevelDebug,
}

// logOptions is the root's --log-level: how much the controller (run by
// `ferry controller` or in the CLI's own process) and the CLI log to
// stderr.
type logOptions struct {
	level string
}

func (o *logOptions) bindFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.level, "log-level", "v", "", "log to stderr at `LEVEL` and above, error, warn, info or debug: the controller's lines "+
		"(ferry controller, or the one the CLI runs in its process) and the CLI's (default: info for ferry controller, warn otherwise; debug when FERRY_DEBUG is set)")
}

func (o *logOptions) validate() error {
	if _, ok := logLevels[o.level]; o.level != "" && !ok {
		return fmt.Errorf("--log-level %q: use error, warn, info or debug", o.level)
	}
	return nil
}

// levelFor is the level a command logs at: --log-level, else debug when
// FERRY_DEBUG is set, else the command's default.
func (o *logOptions) levelFor(cmd *cobra.Command) slog.Level {
	name := o.level
	if name == "" && os.Getenv("FERRY_DEBUG") != "" {
		name = "debug"
	}
	for c := cmd; name == "" && c != nil; c = c.Parent() {
		name = c.Annotations[annotationLogLevel]
	}
	if l, ok := logLevels[name]; ok {
		return l
	}
	return slog.LevelWarn
}

// setup makes the command's logger the process's (slog for the CLI's own
// lines, klog and controller-runtime through logr) and puts it into the
// command's context.
func (o *logOptions) setup(cmd *cobra.Command) error {
	if err := o.validate(); err != nil {
		return err
	}
	handler := slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: o.levelFor(cmd)})
	st := newLogState(handler)
	slog.SetDefault(slog.New(handler))
	klog.SetLogger(st.logger)
	ctrl.SetLogger(st.logger)
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	cmd.SetContext(context.WithValue(logr.NewContext(ctx, st.logger), logStateKey{}, st))
	return nil
}

// logState is the process's logger and whether a clean stop has begun.
type logState struct {
	logger   logr.Logger
	stopping atomic.Bool
}

type logStateKey struct{}

func newLogState(handler slog.Handler) *logState {
	st := &logState{}
	base := logr.FromSlogHandler(handler).GetSink()
	st.logger = logr.New(&stopSink{LogSink: base, stopping: &st.stopping})
	return st
}

// beginStop marks a clean stop of the controller in this process: from
// now on, what its parts report as errors while they shut down (the
// lease given up as "leader election lost", "context canceled") is logged
// at debug level only.
func beginStop(ctx context.Context) {
	if st, ok := ctx.Value(logStateKey{}).(*logState); ok {
		st.stopping.Store(true)
	}
}

// stopSink demotes error records to debug during a clean stop, and
// context cancellations and update conflicts (retried at once by the
// controller, the way optimistic concurrency works) always.
type stopSink struct {
	logr.LogSink
	stopping *atomic.Bool
}

// debugLevel is logr's V level of slog's debug (logr.FromSlogHandler maps
// V(n) to slog level -n).
const debugLevel = -int(slog.LevelDebug)

// Error implements logr.LogSink.
func (s *stopSink) Error(err error, msg string, kv ...any) {
	if s.stopping.Load() || expected(err) {
		if s.LogSink.Enabled(debugLevel) {
			s.LogSink.Info(debugLevel, msg, append(kv, "err", err)...)
		}
		return
	}
	s.LogSink.Error(err, msg, kv...)
}

// expected reports whether err is part of normal operation: a canceled
// context, or a conflict on update.
func expected(err error) bool {
	return errors.Is(err, context.Canceled) || isCanceledMessage(err) || apierrors.IsConflict(err)
}

// isCanceledMessage reports whether err says "context canceled" without
// wrapping context.Canceled (errors that crossed an API client).
func isCanceledMessage(err error) bool {
	return err != nil && strings.HasSuffix(err.Error(), context.Canceled.Error())
}

// WithValues implements logr.LogSink.
func (s *stopSink) WithValues(kv ...any) logr.LogSink {
	return &stopSink{LogSink: s.LogSink.WithValues(kv...), stopping: s.stopping}
}

// WithName implements logr.LogSink.
func (s *stopSink) WithName(name string) logr.LogSink {
	return &stopSink{LogSink: s.LogSink.WithName(name), stopping: s.stopping}
}
