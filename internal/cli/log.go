package cli

import (
	"log/slog"
	"os"

	"github.com/go-logr/logr"
)

// controllerLogger is the in-process controller's logger: silent unless
// FERRY_DEBUG is set, so it does not drown the CLI's output; what goes
// wrong shows in the objects' status, which the CLI prints.
func controllerLogger() logr.Logger {
	if os.Getenv("FERRY_DEBUG") == "" {
		return logr.Discard()
	}
	return controllerLoggerAt(true)
}

// controllerLoggerAt logs at info level when verbose (the standalone
// controller), errors only otherwise.
func controllerLoggerAt(verbose bool) logr.Logger {
	level := slog.LevelError
	if verbose {
		level = slog.LevelInfo
	}
	if os.Getenv("FERRY_DEBUG") != "" {
		level = slog.LevelDebug
	}
	return logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
