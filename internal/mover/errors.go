package mover

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"ferry.dev/ferry/internal/mover/safefs"
	"ferry.dev/ferry/internal/mover/wire"
)

// Sentinel errors. Use errors.Is to test for them.
var (
	// ErrNoSpace means the destination volume is full.
	ErrNoSpace = errors.New("destination volume is full")
	// ErrUnsafePath means a path would leave the destination root.
	ErrUnsafePath = errors.New("unsafe path")
	// ErrVerify means the destination differs from the source.
	ErrVerify = errors.New("destination does not match source")
	// ErrBusy means the receiver is serving another session.
	ErrBusy = errors.New("receiver busy with another session")
	// ErrIncomplete means a session ended before the sender finished.
	ErrIncomplete = errors.New("session ended before completion")
	// ErrListingTooLarge means the receiver sent a directory listing
	// larger than the sender holds in memory.
	ErrListingTooLarge = errors.New("destination directory listing too large")
	// ErrPathTooLong means a source path is longer than the receiver can
	// resolve (safefs.MaxPath bytes).
	ErrPathTooLong = errors.New("source path too long")
	// ErrRootNotWritable means a receiver that is not root may not write
	// into its destination root.
	ErrRootNotWritable = errors.New("destination root not writable")
)

// pathTooLong logs the whole over-long path rel and returns an error
// naming it, shortened so that it fits a status message.
func pathTooLong(log *slog.Logger, rel string) error {
	log.Error("source path too long", "path", rel, "bytes", len(rel), "max", safefs.MaxPath)
	short := rel
	if len(rel) > 2*shortPath {
		short = rel[:shortPath] + "..." + rel[len(rel)-shortPath:]
	}
	return fmt.Errorf("%w: %q is %d bytes, at most %d are supported; shorten or move it", ErrPathTooLong, short, len(rel), safefs.MaxPath)
}

// shortPath is how many bytes of each end of an over-long path an error
// message keeps.
const shortPath = 120

// RemoteError is a failure reported by the receiver.
type RemoteError struct {
	Code    wire.ErrCode
	Message string
	Path    string
}

// Error implements error.
func (e *RemoteError) Error() string {
	if e.Path != "" && !strings.Contains(e.Message, e.Path) {
		return fmt.Sprintf("receiver: %s (path %q)", e.Message, e.Path)
	}
	return "receiver: " + e.Message
}

// Is maps error codes to the package's sentinel errors.
func (e *RemoteError) Is(target error) bool {
	switch target {
	case ErrNoSpace:
		return e.Code == wire.CodeNoSpace
	case ErrUnsafePath:
		return e.Code == wire.CodeUnsafe
	case ErrBusy:
		return e.Code == wire.CodeBusy
	}
	return false
}

// VerifyError lists the paths that differ after a sync.
type VerifyError struct {
	Paths []string
	// Truncated counts mismatches beyond those listed.
	Truncated int
}

// maxListed bounds how many mismatching paths a VerifyError keeps.
const maxListed = 1000

// Error implements error.
func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d paths differ:", ErrVerify, len(e.Paths)+e.Truncated)
	for _, p := range e.Paths {
		b.WriteString("\n  ")
		b.WriteString(p)
	}
	if e.Truncated > 0 {
		fmt.Fprintf(&b, "\n  ... and %d more", e.Truncated)
	}
	return b.String()
}

// Unwrap returns ErrVerify.
func (e *VerifyError) Unwrap() error { return ErrVerify }

func (e *VerifyError) add(path string) {
	if len(e.Paths) < maxListed {
		e.Paths = append(e.Paths, path)
		return
	}
	e.Truncated++
}

// Exit codes of ferry mover sync, which a controller reads from a failed
// sender pod to tell failures a retry cannot fix from the others.
const (
	ExitFailed     = 1 // anything else, including network failures
	ExitNoSpace    = 3 // the destination volume is full
	ExitUnsafePath = 4 // the receiver refused a path outside its root
	ExitVerify     = 5 // the destination differs from the source after the sync
	ExitPathLength = 6 // a source path is longer than safefs.MaxPath
	// ExitIncomplete: the sync ran to its end, but entries changed,
	// vanished or were skipped under it (its warnings), so the destination
	// may not match; on a live source a rerun copies what changed.
	ExitIncomplete = 7
)

// ErrSourceChanged is returned by Incomplete for a sync that ended with
// warnings.
var ErrSourceChanged = errors.New("the destination may not match the source")

// Incomplete returns an error wrapping ErrSourceChanged when the final
// progress of a sync that returned no error counts warnings: the source
// changed under it or entries were skipped.
func Incomplete(p Progress) error {
	if p.Warnings == 0 {
		return nil
	}
	return fmt.Errorf("%w: %d entries changed, vanished or were skipped during the sync (first: %s)", ErrSourceChanged, p.Warnings, p.FirstWarning)
}

// ExitCode maps a Sync error to the sync command's exit status.
func ExitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, ErrNoSpace):
		return ExitNoSpace
	case errors.Is(err, ErrUnsafePath):
		return ExitUnsafePath
	case errors.Is(err, ErrVerify):
		return ExitVerify
	case errors.Is(err, ErrPathTooLong):
		return ExitPathLength
	case errors.Is(err, ErrSourceChanged):
		return ExitIncomplete
	}
	return ExitFailed
}

// Permanent tells whether a sync that ended with exit code code would fail
// the same way if simply run again.
func Permanent(code int) bool {
	return code == ExitNoSpace || code == ExitUnsafePath || code == ExitPathLength
}
