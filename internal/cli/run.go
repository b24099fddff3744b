package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/ops"
)

// outputName is -o name: the migration's name alone on stdout.
const outputName = "name"

type runOptions struct {
	host      hostOptions
	typ       ferryv1.MigrationType
	wait      bool
	noQuiesce bool
	output    string
}

// newRunCommand builds `ferry stage|cutover|rollback PLAN`.
func newRunCommand(typ ferryv1.MigrationType, short string) *cobra.Command {
	o := &runOptions{typ: typ}
	cmd := &cobra.Command{
		Use:   strings.ToLower(string(typ)) + " PLAN",
		Short: short,
		Long: short + `.

With -o name, only the new migration's name is printed on stdout, as soon
as it is created (for scripts: m=$(ferry ` + strings.ToLower(string(typ)) + ` PLAN -o name)); the
progress that --wait (or a controller run in this process) shows goes to
stderr.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			return o.run(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0])
		},
	}
	o.bindFlags(cmd.Flags())
	return cmd
}

func (o *runOptions) bindFlags(f *pflag.FlagSet) {
	o.host.bindFlags(f)
	f.BoolVarP(&o.wait, "wait", "w", false, "follow the migration to its end; exit non-zero if it fails")
	f.StringVarP(&o.output, "output", "o", "", "name: print only the migration's name on stdout (progress goes to stderr)")
	if o.typ == ferryv1.MigrationCutover {
		f.BoolVar(&o.noQuiesce, "no-quiesce", false, "leave the source application running")
	}
}

func (o *runOptions) validate() error {
	if o.output != "" && o.output != outputName {
		return fmt.Errorf("-o %q: use name, or leave it out", o.output)
	}
	return nil
}

// run starts the migration and, when asked to or when the controller
// runs in this process, follows it to its end.
func (o *runOptions) run(ctx context.Context, out, errOut io.Writer, plan string) error {
	h, stop, inProcess, err := o.host.connectWithController(ctx)
	if err != nil {
		return err
	}
	defer stop()
	regrant(ctx, errOut, h, plan)
	m, err := h.ops.StartMigration(ctx, plan, o.typ, ops.StartOptions{NoQuiesce: o.noQuiesce})
	if err != nil {
		return err
	}
	progress := out
	if o.output == outputName {
		fmt.Fprintln(out, m.Name)
		progress = errOut
	} else {
		fmt.Fprintf(out, "migration %s created\n", m.Name)
	}
	if other, err := h.ops.Blocker(ctx, plan, m.Name); err == nil && other != "" {
		fmt.Fprintf(progress, "migration %s of plan %s is running: this one waits until it ends (or `ferry cancel %s`)\n", other, plan, other)
	}
	if !o.wait && !inProcess {
		if o.output != outputName {
			fmt.Fprintf(out, "follow it with: ferry status %s --watch\n", m.Name)
		}
		return nil
	}
	if inProcess && !o.wait {
		fmt.Fprintln(progress, "no controller runs in the host cluster: running it here until the migration ends")
	}
	return follow(ctx, progress, h, m.Name, false)
}

// follow shows a migration's progress until it ends; it fails when the
// migration does not end as wanted (see ops.Outcome).
func follow(ctx context.Context, out io.Writer, h *host, name string, cancelWanted bool) error {
	r := newRenderer(out)
	m, err := h.ops.Follow(ctx, name, r.render)
	if err != nil {
		return err
	}
	return ops.Outcome(m, cancelWanted)
}

// regrant grants Ferry the plan's namespaces again before a migration
// starts, with the kubeconfigs `ferry cluster add` recorded on this
// machine (see ops.Regrant); silently unless the plan said it lacked
// them. What it cannot do, the migration's Validate step then says.
func regrant(ctx context.Context, out io.Writer, h *host, name string) {
	res, err := h.ops.Regrant(ctx, name, credentialsFlags{}.credentials(h))
	if !res.WasNotGranted {
		return
	}
	printGranted(out, res.Granted)
	if err != nil {
		fmt.Fprintf(out, "warning: %v; run `ferry plan grant %s`\n", err, name)
	}
}
