package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/repository"
)

// moverRepoOptions are what the backup and restore commands share.
type moverRepoOptions struct {
	access   string
	root     string
	tags     map[string]string
	progress string
	final    bool
	// cpuprofile is a hidden flag for benchmarks: a file to write a CPU
	// profile of the run to.
	cpuprofile string
}

func (o *moverRepoOptions) bind(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&o.access, "access", "", "file holding the repository's access (endpoint, credentials and key; mounted from a Secret)")
	f.StringVar(&o.root, "root", "", "the directory to back up or restore into")
	f.StringToStringVar(&o.tags, "tag", nil, "tags of the snapshot, key=value (repeatable)")
	f.StringVar(&o.progress, "progress", "", "progress output: empty for a summary on stderr, or json for JSON lines on stdout")
	f.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the run to this file (for benchmarks)")
	_ = f.MarkHidden("cpuprofile")
}

// startProfile starts the CPU profile of --cpuprofile and returns what
// stops it.
func (o *moverRepoOptions) startProfile() (func(), error) {
	if o.cpuprofile == "" {
		return func() {}, nil
	}
	f, err := os.Create(o.cpuprofile)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// run validates the flags and runs fn, under the CPU profile when one
// was asked for.
func (o *moverRepoOptions) run(fn func() error) error {
	if err := o.validate(); err != nil {
		return err
	}
	stop, err := o.startProfile()
	if err != nil {
		return err
	}
	defer stop()
	return fn()
}

func (o *moverRepoOptions) validate() error {
	if o.access == "" || o.root == "" {
		return errors.New("--access and --root are required")
	}
	if o.progress != "" && o.progress != "json" {
		return fmt.Errorf("unknown progress format %q: use json or leave it empty", o.progress)
	}
	return nil
}

// open opens the repository of --access.
func (o *moverRepoOptions) open(ctx context.Context) (*repository.Repository, error) {
	a, err := repository.ReadAccess(o.access)
	if err != nil {
		return nil, err
	}
	return repository.OpenAccess(ctx, a)
}

func newMoverBackupCommand() *cobra.Command {
	o := &moverRepoOptions{}
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "Store a directory as a snapshot in a replication repository",
		Long: `Store a directory as a snapshot in a replication repository. Only data the
repository does not hold yet is uploaded; files unchanged since the newest
snapshot with the same tags are not read. The snapshot becomes visible once
everything it refers to is stored; an interrupted backup leaves none, and a
rerun does not upload again what was stored.

Exit status: 0 when the snapshot was written (entries that changed or
vanished under it are warnings in the report); with --final, 7 when some
did (the snapshot was written, a rerun stores what changed); 1 for any
other failure.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(func() error { return o.backup(cmd) }) },
	}
	o.bind(cmd)
	cmd.Flags().BoolVar(&o.final, "final", false, "the source is quiesced: entries that change or vanish under the backup fail it (exit status 7)")
	return cmd
}

func newMoverRestoreCommand() *cobra.Command {
	o := &moverRepoOptions{}
	var snapshot string
	cmd := &cobra.Command{
		Use:   "restore",
		Short: "Make a directory hold a snapshot of a replication repository",
		Long: `Make a directory hold a snapshot of a replication repository: --snapshot, or
the newest with the given tags. Files that match are kept, changed files are
rebuilt from the chunks they still share with the snapshot, only missing
chunks are downloaded (each checked against its hash), and entries the
snapshot does not have are removed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(func() error { return o.restore(cmd, snapshot) })
		},
	}
	o.bind(cmd)
	cmd.Flags().StringVar(&snapshot, "snapshot", "", "the snapshot to restore; the newest with --tag when empty")
	return cmd
}

// backup runs the backup command.
func (o *moverRepoOptions) backup(cmd *cobra.Command) error {
	tuneMoverGC()
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	r, err := o.open(ctx)
	if err != nil {
		return o.report(cmd, nil, nil, err)
	}
	host, _ := os.Hostname()
	prog := &repository.Progress{}
	done := o.watch(cmd, r, prog)
	snap, err := r.Backup(ctx, filepath.Clean(o.root), repository.BackupOptions{Tags: o.tags, Host: host}, prog)
	done()
	if err == nil && o.final && snap.Summary.Warnings > 0 {
		err = fmt.Errorf("%w: %d entries changed or vanished under the backup (first: %s)", mover.ErrSourceChanged, snap.Summary.Warnings, prog.Warning())
	}
	return o.report(cmd, r, prog, err, snap)
}

// restore runs the restore command.
func (o *moverRepoOptions) restore(cmd *cobra.Command, snapshot string) error {
	tuneMoverGC()
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	r, err := o.open(ctx)
	if err != nil {
		return o.report(cmd, nil, nil, err)
	}
	var snap *repository.Snapshot
	if snapshot != "" {
		id, perr := repository.ParseID(snapshot)
		if perr != nil {
			return o.report(cmd, r, nil, perr)
		}
		snap, err = r.LoadSnapshot(ctx, id)
	} else {
		snap, err = r.Latest(ctx, o.tags)
	}
	if err != nil {
		return o.report(cmd, r, nil, err)
	}
	prog := &repository.Progress{}
	done := o.watch(cmd, r, prog)
	err = r.Restore(ctx, snap, filepath.Clean(o.root), repository.RestoreOptions{Chown: os.Geteuid() == 0}, prog)
	done()
	return o.report(cmd, r, prog, err, snap)
}

// watch prints a progress line every second until the returned function
// is called.
func (o *moverRepoOptions) watch(cmd *cobra.Command, r *repository.Repository, prog *repository.Progress) func() {
	if o.progress != "json" {
		return func() {}
	}
	enc := json.NewEncoder(cmd.OutOrStdout())
	start := time.Now()
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = enc.Encode(progressOf(r, prog, mover.PhaseTransferring, start))
			}
		}
	}()
	return func() { close(stop); <-stopped }
}

// progressOf is a mover progress report of a backup or restore.
func progressOf(r *repository.Repository, prog *repository.Progress, phase string, start time.Time) mover.Progress {
	p := mover.Progress{Phase: phase, ElapsedSeconds: time.Since(start).Seconds(), EtaSeconds: -1}
	if prog != nil {
		p.BytesDone, p.BytesTotal = prog.BytesDone.Load(), prog.BytesTotal.Load()
		p.FilesDone, p.FilesTotal = prog.FilesDone.Load(), prog.FilesTotal.Load()
		p.Warnings, p.FirstWarning = prog.Warnings.Load(), prog.Warning()
	}
	if r != nil {
		p.BytesNew, p.BytesUploaded = r.Stats.BytesNew.Load(), r.Stats.BytesUploaded.Load()
		p.BytesDownloaded = r.Stats.BytesDownloaded.Load()
		p.BytesSent = p.BytesUploaded + p.BytesDownloaded
	}
	if secs := p.ElapsedSeconds; secs > 0 {
		p.BytesPerSecond = float64(p.BytesDone) / secs
		if p.BytesPerSecond > 0 && p.BytesTotal >= p.BytesDone {
			p.EtaSeconds = float64(p.BytesTotal-p.BytesDone) / p.BytesPerSecond
		}
	}
	return p
}

// report prints the final report and turns err into the exit status.
func (o *moverRepoOptions) report(cmd *cobra.Command, r *repository.Repository, prog *repository.Progress, err error, snap ...*repository.Snapshot) error {
	p := progressOf(r, prog, mover.PhaseDone, time.Now())
	if len(snap) > 0 && snap[0] != nil {
		p.Snapshot = snap[0].ID.String()
		p.BytesRead = snap[0].Summary.BytesRead
		p.ElapsedSeconds = snap[0].Summary.Duration.Seconds()
	}
	switch {
	case errors.Is(err, mover.ErrSourceChanged):
		p.ExitCode = mover.ExitCode(err)
	case err != nil:
		p.Phase, p.Error, p.ExitCode = mover.PhaseFailed, err.Error(), mover.ExitCode(err)
	}
	if o.progress == "json" {
		_ = json.NewEncoder(cmd.OutOrStdout()).Encode(p)
	} else if err == nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "snapshot %s: %d files, %d bytes; %d bytes new, %d uploaded, %d downloaded\n",
			p.Snapshot, p.FilesDone, p.BytesDone, p.BytesNew, p.BytesUploaded, p.BytesDownloaded)
	}
	if err != nil {
		return &ExitError{Code: mover.ExitCode(err), Err: err}
	}
	return nil
}
