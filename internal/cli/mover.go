package cli

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"ferry.dev/ferry/internal/mover"
	"ferry.dev/ferry/internal/mover/certs"
)

func newMoverCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mover",
		Short: "Copy persistent volume data between clusters",
		Long: `The data mover copies a directory tree to another host over mutual TLS:
"serve" receives into a directory, "sync" sends one, "certs" makes the
per-migration certificates both sides need, "usage" measures the space a
directory's data takes, "local" copies between two directories of one host
in one process, without TLS or a network; "backup" and "restore" go
through a replication repository in object storage instead.`,
	}
	cmd.AddCommand(newMoverCertsCommand(), newMoverServeCommand(), newMoverSyncCommand(), newMoverUsageCommand(),
		newMoverLocalCommand(), newMoverReleaseCommand(), newMoverBackupCommand(), newMoverRestoreCommand())
	return cmd
}

type moverCertsOptions struct {
	out      string
	hosts    []string
	identity string
}

func newMoverCertsCommand() *cobra.Command {
	o := &moverCertsOptions{}
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Write a CA plus server and client certificates for one migration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.out == "" {
				return errors.New("--out is required")
			}
			if err := certs.GenerateFor(o.out, o.hosts, o.identity); err != nil {
				return fmt.Errorf("generate certificates: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.out, "out", "", "directory to write ca.crt, server.crt/key and client.crt/key into")
	cmd.Flags().StringSliceVar(&o.hosts, "hosts", nil, "extra IP addresses or DNS names for the server certificate")
	cmd.Flags().StringVar(&o.identity, "identity", "", "a URI both certificates name, which serve and sync --peer-name can require (e.g. ferry://migration/m/transfer/t)")
	return cmd
}

type moverServeOptions struct {
	listen   string
	root     string
	tlsDir   string
	peerName string
	once     bool
}

func newMoverServeCommand() *cobra.Command {
	o := &moverServeOptions{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Receive synced data into a directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(cmd)
		},
	}
	cmd.Flags().StringVar(&o.listen, "listen", ":7443", "address to listen on")
	cmd.Flags().StringVar(&o.root, "root", "", "destination directory")
	cmd.Flags().StringVar(&o.tlsDir, "tls-dir", "", "directory holding ca.crt, server.crt and server.key")
	cmd.Flags().StringVar(&o.peerName, "peer-name", "", "accept only a client certificate naming this identity URI (see certs --identity); any certificate of the CA when empty")
	cmd.Flags().BoolVar(&o.once, "once", false, "exit after one sync session; the exit code reports its result")
	return cmd
}

func (o *moverServeOptions) validate() error {
	if o.root == "" || o.tlsDir == "" {
		return errors.New("--root and --tls-dir are required")
	}
	return nil
}

func (o *moverServeOptions) run(cmd *cobra.Command) error {
	tuneMoverGC()
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	cfg, err := certs.ServerConfig(o.tlsDir)
	if err != nil {
		return err
	}
	if err := requirePeer(cfg, o.peerName); err != nil {
		return err
	}
	srv, err := mover.NewServer(o.root, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := mover.TLSListener(o.listen, cfg)
	if err != nil {
		return err
	}
	log.Info("listening", "address", ln.Addr().String(), "root", o.root, "once", o.once, "peerName", o.peerName)
	if o.once {
		return srv.ServeOnce(ctx, ln)
	}
	return srv.Serve(ctx, ln)
}

type moverSyncOptions struct {
	to       string
	root     string
	tlsDir   string
	peerName string
	// serverName is the name the receiver's certificate must be valid
	// for; the host of to when empty.
	serverName string
	delete     bool
	verify     bool
	final      bool
	progress   string
	parallel   int
	connect    time.Duration
	// startFile, when set, holds the sync back until the file exists
	// (ferry mover release), for up to startTimeout.
	startFile    string
	startTimeout time.Duration
}

func newMoverSyncCommand() *cobra.Command {
	o := &moverSyncOptions{}
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Send a directory to a mover serving at --to",
		Long: `Send a directory to a mover serving at --to. The command exits 0 only when
every entry was transferred and acknowledged (and, with --verify, compared
by checksum). Source files that vanish or change meanwhile are warnings,
and make the exit status 7: the destination may not match.

Exit status: 0 when the destination matches; 3 when the destination volume
is full; 4 when the receiver refused a path outside its root; 5 when
--verify found differences; 6 when a source path is longer than 4095
bytes; 7 when entries changed, vanished or were skipped under the sync (a
rerun copies what changed); 1 for any other failure (network failures
included, which a rerun resumes).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(cmd)
		},
	}
	cmd.Flags().StringVar(&o.to, "to", "", "receiver address, host:port")
	cmd.Flags().StringVar(&o.root, "root", "", "source directory")
	cmd.Flags().StringVar(&o.tlsDir, "tls-dir", "", "directory holding ca.crt, client.crt and client.key")
	cmd.Flags().StringVar(&o.peerName, "peer-name", "", "accept only a server certificate naming this identity URI (see certs --identity); any certificate of the CA valid for the host when empty")
	cmd.Flags().StringVar(&o.serverName, "server-name", "", "the DNS name the receiver's certificate must be valid for (default: the host of --to), for a receiver dialed at an address its certificate does not name")
	cmd.Flags().BoolVar(&o.delete, "delete", false, "remove destination entries absent on the source")
	cmd.Flags().BoolVar(&o.verify, "verify", false, "compare BLAKE3 checksums of every file after the transfer")
	cmd.Flags().BoolVar(&o.final, "final", false, "the last sync into this destination: the receiver removes its own directory (.ferry-mover) at the end")
	cmd.Flags().StringVar(&o.progress, "progress", "", "progress output: empty for a summary on stderr, or json for JSON lines on stdout")
	cmd.Flags().IntVar(&o.parallel, "parallel", mover.DefaultParallel, "number of parallel data connections")
	cmd.Flags().DurationVar(&o.connect, "connect-timeout", 30*time.Second, "how long to keep retrying while the receiver refuses or cannot be reached")
	cmd.Flags().StringVar(&o.startFile, "start-file", "", "wait until this file exists before reading anything (see ferry mover release): a sender started ahead of its copy")
	cmd.Flags().DurationVar(&o.startTimeout, "start-timeout", 30*time.Minute, "how long --start-file is waited for before the sync fails")
	return cmd
}

func (o *moverSyncOptions) validate() error {
	if o.to == "" || o.root == "" || o.tlsDir == "" {
		return errors.New("--to, --root and --tls-dir are required")
	}
	if _, _, err := net.SplitHostPort(o.to); err != nil {
		return fmt.Errorf("--to %q: %w", o.to, err)
	}
	if o.progress != "" && o.progress != "json" {
		return fmt.Errorf("unknown progress format %q: use json or leave it empty", o.progress)
	}
	if o.parallel < 1 || o.parallel > mover.MaxParallel {
		return fmt.Errorf("--parallel %d: want 1 to %d", o.parallel, mover.MaxParallel)
	}
	return nil
}

func (o *moverSyncOptions) run(cmd *cobra.Command) error {
	tuneMoverGC()
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	host, _, _ := net.SplitHostPort(o.to)
	if host == "" {
		host = "localhost"
	}
	if o.serverName != "" {
		host = o.serverName
	}
	cfg, err := certs.ClientConfig(o.tlsDir, host)
	if err != nil {
		return err
	}
	if err := requirePeer(cfg, o.peerName); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	if err := awaitStart(ctx, o.startFile, o.startTimeout, log); err != nil {
		return err
	}
	opts := mover.Options{
		Root: o.root, Dial: mover.RetryDialer(mover.TLSDialer(o.to, cfg), o.connect, log), Parallel: o.parallel,
		Delete: o.delete, Verify: o.verify, Final: o.final, Log: log,
	}
	return reportSync(cmd, o.progress, opts, func(opts mover.Options) (mover.Progress, error) { return mover.Sync(ctx, opts) })
}

// startPoll is how often a held sender looks for its start file.
const startPoll = 10 * time.Millisecond

// awaitStart waits until file exists ("" waits for nothing), for up to
// timeout.
func awaitStart(ctx context.Context, file string, timeout time.Duration, log *slog.Logger) error {
	if file == "" {
		return nil
	}
	log.Info("waiting for the start signal", "file", file)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(startPoll)
	defer t.Stop()
	for {
		if _, err := os.Stat(file); err == nil {
			log.Info(mover.StartSignalMessage)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no start signal (%s) within %s: %w", file, timeout, ctx.Err())
		case <-t.C:
		}
	}
}

func newMoverReleaseCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "release FILE",
		Short: "Start a sync held back by --start-file FILE",
		Long: `Create FILE, which a "ferry mover sync --start-file FILE" waits for. Ferry's
controller starts a cutover's senders before the quiesce, held back this
way, and releases them by running this command in their container once
the application is stopped: the final copy then starts without a pod
start.`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			f, err := os.OpenFile(args[0], os.O_CREATE|os.O_WRONLY, 0o600)
			if err != nil {
				return fmt.Errorf("release: %w", err)
			}
			return f.Close()
		},
	}
}

// reportSync runs a sync (remote or local) with opts, reporting progress
// as JSON lines on stdout (progress "json") or a summary on stderr, and
// turns its result into the sync command's exit status.
func reportSync(cmd *cobra.Command, progress string, opts mover.Options, run func(mover.Options) (mover.Progress, error)) error {
	if progress == "json" {
		enc := json.NewEncoder(cmd.OutOrStdout())
		opts.Progress = func(p mover.Progress) { _ = enc.Encode(p) }
	}
	p, err := run(opts)
	if progress == "" {
		printSummary(cmd, p)
	}
	if err == nil {
		// The destination matched what was read, but the source changed
		// under the sync: say so with the exit status.
		err = mover.Incomplete(p)
	}
	if err != nil {
		return &ExitError{Code: mover.ExitCode(err), Err: err}
	}
	return nil
}

type moverLocalOptions struct {
	source, destination string
	delete, verify      bool
	final               bool
	progress            string
	parallel            int
}

func newMoverLocalCommand() *cobra.Command {
	o := &moverLocalOptions{}
	cmd := &cobra.Command{
		Use:   "local",
		Short: "Copy a directory into another one on this host",
		Long: `Copy --source into --destination on this host, sender and receiver in one
process over in-memory socket pairs (no TLS, no network), with everything
"sync" does: the same fidelity, incremental re-runs (a destination filled by
"sync" or "local" is compared, not copied again), partial files, progress
and exit status. Used where both volumes can be mounted on one node.

Exit status: as "sync": 0 when the destination matches; 3 when the
destination volume is full; 5 when --verify found differences; 6 when a
source path is longer than 4095 bytes; 7 when entries changed, vanished or
were skipped under the copy; 1 for any other failure.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(cmd)
		},
	}
	cmd.Flags().StringVar(&o.source, "source", "", "source directory")
	cmd.Flags().StringVar(&o.destination, "destination", "", "destination directory")
	cmd.Flags().BoolVar(&o.delete, "delete", false, "remove destination entries absent on the source")
	cmd.Flags().BoolVar(&o.verify, "verify", false, "compare BLAKE3 checksums of every file after the copy")
	cmd.Flags().BoolVar(&o.final, "final", false, "the last copy into this destination: its own directory (.ferry-mover) is removed at the end")
	cmd.Flags().StringVar(&o.progress, "progress", "", "progress output: empty for a summary on stderr, or json for JSON lines on stdout")
	cmd.Flags().IntVar(&o.parallel, "parallel", mover.LocalDefaultParallel, "number of parallel data streams")
	return cmd
}

func (o *moverLocalOptions) validate() error {
	if o.source == "" || o.destination == "" {
		return errors.New("--source and --destination are required")
	}
	if filepath.Clean(o.source) == filepath.Clean(o.destination) {
		return fmt.Errorf("--source and --destination are the same directory %q", o.source)
	}
	if o.progress != "" && o.progress != "json" {
		return fmt.Errorf("unknown progress format %q: use json or leave it empty", o.progress)
	}
	if o.parallel < 1 || o.parallel > mover.MaxParallel {
		return fmt.Errorf("--parallel %d: want 1 to %d", o.parallel, mover.MaxParallel)
	}
	return nil
}

func (o *moverLocalOptions) run(cmd *cobra.Command) error {
	tuneMoverGC()
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), nil))
	opts := mover.Options{Root: o.source, Parallel: o.parallel, Delete: o.delete, Verify: o.verify, Final: o.final, Log: log}
	return reportSync(cmd, o.progress, opts, func(opts mover.Options) (mover.Progress, error) {
		return mover.Local(ctx, o.destination, opts)
	})
}

// requirePeer makes cfg accept only a peer naming identity, unless it is
// empty.
func requirePeer(cfg *tls.Config, identity string) error {
	if identity == "" {
		return nil
	}
	if err := certs.RequirePeer(cfg, identity); err != nil {
		return fmt.Errorf("--peer-name: %w", err)
	}
	return nil
}

func printSummary(cmd *cobra.Command, p mover.Progress) {
	fmt.Fprintf(cmd.ErrOrStderr(), "%s: %d/%d files, %d/%d bytes (%d sent) in %s; %d skipped, %d deleted, %d warnings\n",
		p.Phase, p.FilesDone, p.FilesTotal, p.BytesDone, p.BytesTotal, p.BytesSent,
		time.Duration(p.ElapsedSeconds*float64(time.Second)).Round(time.Millisecond),
		p.Skipped, p.Deleted, p.Warnings)
}

type moverUsageOptions struct {
	resultFile string
}

func newMoverUsageCommand() *cobra.Command {
	o := &moverUsageOptions{}
	cmd := &cobra.Command{
		Use:   "usage PATH",
		Short: "Measure the space a directory's data takes, as a sync would copy it",
		Long: `Walk PATH with the sync's own walk (lost+found, the mover's reserved
directory and other file systems left out, hard links counted once) and
print one JSON line: bytes (allocated, as du counts them: what a copy needs
on the destination, since a sync keeps holes), apparentBytes, inodes and
skipped (entries that vanished during the walk, and mount points).`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, args[0])
		},
	}
	cmd.Flags().StringVar(&o.resultFile, "result-file", "", "also write the JSON result to this file (a pod's /dev/termination-log)")
	return cmd
}

func (o *moverUsageOptions) run(cmd *cobra.Command, root string) error {
	ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	u, err := mover.MeasureUsage(ctx, root)
	if err != nil {
		return fmt.Errorf("measure usage of %s: %w", root, err)
	}
	line, err := json.Marshal(u)
	if err != nil {
		return fmt.Errorf("encode usage: %w", err)
	}
	if o.resultFile != "" {
		if err := os.WriteFile(o.resultFile, line, 0o644); err != nil {
			return fmt.Errorf("--result-file: %w", err)
		}
	}
	_, err = fmt.Fprintln(cmd.OutOrStdout(), string(line))
	return err
}
