package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

type statusOptions struct {
	host   hostOptions
	watch  bool
	output string
	plan   string
}

func newStatusCommand() *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [MIGRATION | --plan PLAN]",
		Short: "Show migrations, or one migration's itinerary and progress",
		Example: `  ferry status                      # every migration
  ferry status shop-cutover-x7k2p   # one migration's steps
  ferry status --plan shop --watch  # the plan's latest migration, followed to its end`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(args); err != nil {
				return err
			}
			return o.run(cmd.Context(), cmd.OutOrStdout(), args)
		},
	}
	o.bindFlags(cmd.Flags())
	return cmd
}

func (o *statusOptions) bindFlags(f *pflag.FlagSet) {
	o.host.bindFlags(f)
	f.BoolVarP(&o.watch, "watch", "w", false, "follow the migration until it ends")
	f.StringVarP(&o.output, "output", "o", "", "json or yaml")
	f.StringVar(&o.plan, "plan", "", "show the latest migration of this plan")
}

func (o *statusOptions) validate(args []string) error {
	if o.output != "" && o.output != "json" && o.output != "yaml" {
		return fmt.Errorf("-o %q: use json or yaml", o.output)
	}
	if o.plan != "" && len(args) > 0 {
		return errors.New("give a migration or --plan, not both")
	}
	return nil
}

func (o *statusOptions) run(ctx context.Context, out io.Writer, args []string) error {
	h, err := o.host.connect()
	if err != nil {
		return err
	}
	switch {
	case len(args) == 1:
		return o.one(ctx, out, h, args[0])
	case o.plan != "":
		m, err := h.ops.LatestMigration(ctx, o.plan)
		if err != nil {
			return err
		}
		return o.one(ctx, out, h, m.Name)
	}
	return o.list(ctx, out, h)
}

func (o *statusOptions) one(ctx context.Context, out io.Writer, h *host, name string) error {
	if o.watch {
		return follow(ctx, out, h, name, false)
	}
	m, err := h.ops.GetMigration(ctx, name)
	if err != nil {
		return err
	}
	if o.output != "" {
		return encode(out, o.output, m)
	}
	newRenderer(out).render(m)
	return nil
}

func (o *statusOptions) list(ctx context.Context, out io.Writer, h *host) error {
	ms, err := h.ops.ListMigrations(ctx, "")
	if err != nil {
		return err
	}
	if o.output != "" {
		l := &ferryv1.MigrationList{Items: ms}
		l.SetGroupVersionKind(ferryv1.GroupVersion.WithKind("MigrationList"))
		return encode(out, o.output, l)
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPLAN\tTYPE\tPHASE\tSTEP\tAGE")
	for _, m := range ms {
		step := ""
		if i := ferryv1.CurrentStep(m.Status.Itinerary); i >= 0 {
			step = m.Status.Itinerary[i].Name
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Spec.Plan, m.Spec.Type, m.Status.Phase, step,
			time.Since(m.CreationTimestamp.Time).Round(time.Second))
	}
	return tw.Flush()
}

func encode(out io.Writer, format string, obj any) error {
	if format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(obj)
	}
	b, err := yaml.Marshal(obj)
	if err != nil {
		return err
	}
	_, err = out.Write(b)
	return err
}

// isTerminal reports whether out is a terminal.
func isTerminal(out io.Writer) bool {
	f, ok := out.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
