package mover

import (
	"sync"
	"sync/atomic"
	"time"

	"ferry.dev/ferry/internal/mover/fsmeta"
	"ferry.dev/ferry/internal/mover/wire"
)

// Phases of a sync, in order; a sync ends in PhaseDone or PhaseFailed.
const (
	PhaseConnecting   = "connecting"
	PhaseTransferring = "transferring"
	PhaseFinalizing   = "finalizing"
	PhaseVerifying    = "verifying"
	PhaseDone         = "done"
	PhaseFailed       = "failed"
)

// Progress is one progress report of a sync. With --progress=json the
// sync command prints one Progress per line on stdout; a controller can
// decode each line into this type.
type Progress struct {
	Phase string `json:"phase"`
	// BytesDone counts bytes of regular files handled so far, whether sent,
	// matched by block hashes or skipped as unchanged.
	BytesDone int64 `json:"bytesDone"`
	// BytesTotal is the size of all regular files found so far, by the
	// walk or by a separate scan of the source that starts when a sync
	// runs longer than a second; final once TotalsFinal is true.
	BytesTotal int64 `json:"bytesTotal"`
	// BytesSent counts file data bytes put on the wire.
	BytesSent int64 `json:"bytesSent"`
	// BytesMatched counts the bytes of large files that block comparison
	// found unchanged on the destination, so they did not travel.
	BytesMatched int64 `json:"bytesMatched,omitempty"`
	FilesDone    int64 `json:"filesDone"`
	FilesTotal   int64 `json:"filesTotal"`
	// BytesPerSecond is the recent rate of BytesDone.
	BytesPerSecond float64 `json:"bytesPerSecond"`
	// EtaSeconds is the estimated time left, or -1 while unknown.
	EtaSeconds float64 `json:"etaSeconds"`
	Skipped    int64   `json:"skipped"`
	Deleted    int64   `json:"deleted"`
	Warnings   int64   `json:"warnings"`
	// Partial counts large files that changed while they were read: not
	// committed (the destination keeps its previous version), but kept by
	// the receiver as the basis of the next sync, which sends only the
	// blocks that differ. Each is also a warning.
	Partial int64 `json:"partial,omitempty"`
	// Reused counts new large files sent against a destination file of
	// another name that the source no longer has (a rename): only the
	// blocks that differ from it travel.
	Reused int64 `json:"reused,omitempty"`
	// FirstWarning is the first warning, "message: path", so that a
	// caller can say what changed without reading the log.
	FirstWarning string `json:"firstWarning,omitempty"`
	// BytesRead, BytesNew and BytesUploaded count a backup into a
	// replication repository: file bytes read (the rest was unchanged
	// since the last snapshot), bytes the repository did not hold yet,
	// and bytes sent after compression and packing; BytesDownloaded
	// what a restore fetched. Snapshot names the snapshot written or
	// restored.
	BytesRead       int64   `json:"bytesRead,omitempty"`
	BytesNew        int64   `json:"bytesNew,omitempty"`
	BytesUploaded   int64   `json:"bytesUploaded,omitempty"`
	BytesDownloaded int64   `json:"bytesDownloaded,omitempty"`
	Snapshot        string  `json:"snapshot,omitempty"`
	ElapsedSeconds  float64 `json:"elapsedSeconds"`
	TotalsFinal     bool    `json:"totalsFinal"`
	Error           string  `json:"error,omitempty"`
	// ExitCode is, in the final report of a failed sync, the sync
	// command's exit status (see ExitCode): a controller reading the log
	// learns it before the process has ended.
	ExitCode int `json:"exitCode,omitempty"`
}

// tracker holds the live counters of a sync.
type tracker struct {
	start                       time.Time
	phase                       atomic.Value // string
	bytesDone, bytesTotal, sent atomic.Int64
	matched                     atomic.Int64 // bytes found unchanged by block comparison
	filesDone, filesTotal       atomic.Int64
	skipped, deleted, warnings  atomic.Int64
	partial, reused             atomic.Int64
	totalsFinal                 atomic.Bool
	walkFiles, walkBytes        atomic.Int64
	totalsMu                    sync.Mutex               // serializes writes of the totals
	failure                     atomic.Pointer[Progress] // Error and ExitCode once failed
	firstWarning                atomic.Pointer[string]
	lastAt                      time.Time
	lastDone                    int64
	rate                        float64
}

// warn counts a warning and keeps the first.
func (t *tracker) warn(msg, path string) {
	t.warnings.Add(1)
	w := msg + ": " + path
	t.firstWarning.CompareAndSwap(nil, &w)
}

func (t *tracker) firstWarningText() string {
	if w := t.firstWarning.Load(); w != nil {
		return *w
	}
	return ""
}

func newTracker() *tracker {
	t := &tracker{start: time.Now()}
	t.lastAt = t.start
	t.phase.Store(PhaseConnecting)
	return t
}

func (t *tracker) setPhase(p string) { t.phase.Store(p) }

// fail ends the sync with err: the reports from now on carry its message
// and the exit status it maps to.
func (t *tracker) fail(err error) {
	t.failure.Store(&Progress{Error: err.Error(), ExitCode: ExitCode(err)})
	t.setPhase(PhaseFailed)
}

// found counts a source entry the walk has read.
func (t *tracker) found(info *fsmeta.Info) {
	switch info.Meta.Kind {
	case wire.KindDir:
	case wire.KindRegular:
		t.walkFiles.Add(1)
		t.walkBytes.Add(info.Meta.Size)
	default:
		t.walkFiles.Add(1)
	}
}

// estimate records the totals scan's figures, unless the totals are final.
func (t *tracker) estimate(files, bytes int64, final bool) {
	t.totalsMu.Lock()
	defer t.totalsMu.Unlock()
	if t.totalsFinal.Load() {
		return
	}
	t.filesTotal.Store(files)
	t.bytesTotal.Store(bytes)
	t.totalsFinal.Store(final)
}

// walked makes the walk's figures the final totals: the walk has read
// every entry it will sync.
func (t *tracker) walked() {
	t.totalsMu.Lock()
	defer t.totalsMu.Unlock()
	t.filesTotal.Store(t.walkFiles.Load())
	t.bytesTotal.Store(t.walkBytes.Load())
	t.totalsFinal.Store(true)
}

// snapshot returns the current Progress and updates the smoothed rate; it
// must be called from one goroutine at a time.
func (t *tracker) snapshot() Progress {
	now := time.Now()
	p := Progress{
		Phase:          t.phase.Load().(string),
		BytesDone:      t.bytesDone.Load(),
		BytesTotal:     max(t.bytesTotal.Load(), t.walkBytes.Load()),
		BytesSent:      t.sent.Load(),
		BytesMatched:   t.matched.Load(),
		FilesDone:      t.filesDone.Load(),
		FilesTotal:     max(t.filesTotal.Load(), t.walkFiles.Load()),
		Skipped:        t.skipped.Load(),
		Deleted:        t.deleted.Load(),
		Warnings:       t.warnings.Load(),
		Partial:        t.partial.Load(),
		Reused:         t.reused.Load(),
		FirstWarning:   t.firstWarningText(),
		ElapsedSeconds: now.Sub(t.start).Seconds(),
		TotalsFinal:    t.totalsFinal.Load(),
		EtaSeconds:     -1,
	}
	if dt := now.Sub(t.lastAt).Seconds(); dt >= 0.1 {
		r := float64(p.BytesDone-t.lastDone) / dt
		if t.lastDone == 0 && t.rate == 0 {
			t.rate = r
		} else {
			t.rate = 0.3*r + 0.7*t.rate
		}
		t.lastAt, t.lastDone = now, p.BytesDone
	}
	if f := t.failure.Load(); f != nil {
		p.Error, p.ExitCode = f.Error, f.ExitCode
	}
	p.BytesPerSecond = t.rate
	if p.TotalsFinal && t.rate > 0 {
		p.EtaSeconds = float64(max(p.BytesTotal-p.BytesDone, 0)) / t.rate
	}
	if p.Phase == PhaseDone {
		p.EtaSeconds = 0
	}
	return p
}
