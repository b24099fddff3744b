package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kwait "k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

type runOptions struct {
	host      hostOptions
	typ       ferryv1.MigrationType
	wait      bool
	noQuiesce bool
}

// newRunCommand builds `ferry stage|cutover|rollback PLAN`.
func newRunCommand(typ ferryv1.MigrationType, short string) *cobra.Command {
	o := &runOptions{typ: typ}
	cmd := &cobra.Command{
		Use:   strings.ToLower(string(typ)) + " PLAN",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), args[0])
		},
	}
	o.host.bindFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&o.wait, "wait", "w", false, "follow the migration to its end; exit non-zero if it fails")
	if typ == ferryv1.MigrationCutover {
		cmd.Flags().BoolVar(&o.noQuiesce, "no-quiesce", false, "leave the source application running")
	}
	return cmd
}

func (o *runOptions) run(ctx context.Context, out io.Writer, plan string) error {
	h, stop, inProcess, err := o.host.connectWithController(ctx)
	if err != nil {
		return err
	}
	defer stop()
	m, err := startMigration(ctx, h, plan, o.typ, o.noQuiesce)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "migration %s created\n", m.Name)
	if !o.wait && !inProcess {
		fmt.Fprintf(out, "follow it with: ferry status %s --watch\n", m.Name)
		return nil
	}
	if inProcess && !o.wait {
		fmt.Fprintln(out, "no controller runs in the host cluster: running it here until the migration ends")
	}
	return follow(ctx, out, h, m.Name)
}

// startMigration creates a Migration of the plan.
func startMigration(ctx context.Context, h *host, plan string, typ ferryv1.MigrationType, noQuiesce bool) (*ferryv1.Migration, error) {
	var p ferryv1.Plan
	if err := h.c.Get(ctx, client.ObjectKey{Namespace: h.namespace, Name: plan}, &p); err != nil {
		return nil, fmt.Errorf("get plan %s: %w (create it with `ferry plan create`)", plan, err)
	}
	m := &ferryv1.Migration{
		ObjectMeta: metav1.ObjectMeta{GenerateName: plan + "-" + strings.ToLower(string(typ)) + "-", Namespace: h.namespace,
			Labels: map[string]string{ferryv1.LabelPlan: plan}},
		Spec: ferryv1.MigrationSpec{Plan: plan, Type: typ},
	}
	if noQuiesce {
		f := false
		m.Spec.Quiesce = &f
	}
	if err := h.c.Create(ctx, m); err != nil {
		return nil, fmt.Errorf("create migration: %w", err)
	}
	return m, nil
}

// follow shows a migration's progress until it ends; it fails when the
// migration does.
func follow(ctx context.Context, out io.Writer, h *host, name string) error {
	return followUntil(ctx, out, h, name, false)
}

// followUntil follows a migration; a cancel is a success when canceling
// is what the user asked for.
func followUntil(ctx context.Context, out io.Writer, h *host, name string, cancelWanted bool) error {
	r := newRenderer(out)
	for {
		var m ferryv1.Migration
		if err := h.c.Get(ctx, client.ObjectKey{Namespace: h.namespace, Name: name}, &m); err != nil {
			return fmt.Errorf("get migration %s: %w", name, err)
		}
		r.render(&m)
		switch m.Status.Phase {
		case ferryv1.MigrationSucceeded:
			return nil
		case ferryv1.MigrationFailed:
			return fmt.Errorf("migration %s failed: %s", name, strings.Join(m.Status.Errors, "; "))
		case ferryv1.MigrationCanceled:
			if cancelWanted {
				return nil
			}
			return fmt.Errorf("migration %s was canceled", name)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(300 * time.Millisecond):
		}
	}
}

type nameOptions struct{ host hostOptions }

func newCancelCommand() *cobra.Command {
	o := &nameOptions{}
	wait := false
	cmd := &cobra.Command{
		Use:   "cancel MIGRATION",
		Short: "Stop a migration and undo what it did on both clusters",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.patchAndFollow(cmd.Context(), cmd.OutOrStdout(), args[0], wait,
				func(m *ferryv1.Migration) { m.Spec.Cancel = true },
				func(m *ferryv1.Migration) bool {
					return m.Status.Phase != ferryv1.MigrationRunning && m.Status.Phase != ferryv1.MigrationFailed
				})
		},
	}
	o.host.bindFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "follow the cancel to its end")
	return cmd
}

func newRetryCommand() *cobra.Command {
	o := &nameOptions{}
	wait := false
	cmd := &cobra.Command{
		Use:   "retry MIGRATION",
		Short: "Retry the failed step of a migration and go on from there",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			token := strconv.FormatInt(time.Now().UnixNano(), 10)
			return o.patchAndFollow(cmd.Context(), cmd.OutOrStdout(), args[0], wait, func(m *ferryv1.Migration) {
				if m.Annotations == nil {
					m.Annotations = map[string]string{}
				}
				m.Annotations[ferryv1.AnnotationRetry] = token
			}, func(m *ferryv1.Migration) bool { return m.Status.ObservedRetry == token })
		},
	}
	o.host.bindFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "follow the migration to its end")
	return cmd
}

// patchAndFollow changes a migration, waits until the controller has
// acted on the change (acked), then follows it when asked to.
func (o *nameOptions) patchAndFollow(ctx context.Context, out io.Writer, name string, wait bool,
	mutate func(*ferryv1.Migration), acked func(*ferryv1.Migration) bool) error {
	h, stop, inProcess, err := o.host.connectWithController(ctx)
	if err != nil {
		return err
	}
	defer stop()
	var m ferryv1.Migration
	if err := h.c.Get(ctx, client.ObjectKey{Namespace: h.namespace, Name: name}, &m); err != nil {
		return fmt.Errorf("get migration %s: %w", name, err)
	}
	base := m.DeepCopy()
	mutate(&m)
	if err := h.c.Patch(ctx, &m, client.MergeFrom(base)); err != nil {
		return fmt.Errorf("update migration %s: %w", name, err)
	}
	fmt.Fprintf(out, "migration %s updated\n", name)
	if !wait && !inProcess {
		return nil
	}
	err = kwait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		if err := h.c.Get(ctx, client.ObjectKey{Namespace: h.namespace, Name: name}, &m); err != nil {
			return false, nil
		}
		return acked(&m), nil
	})
	if err != nil {
		return fmt.Errorf("the controller did not act on migration %s within a minute: is it running? %w", name, err)
	}
	return followUntil(ctx, out, h, name, m.Spec.Cancel)
}

type statusOptions struct {
	host   hostOptions
	watch  bool
	output string
}

func newStatusCommand() *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [MIGRATION]",
		Short: "Show migrations, or one migration's itinerary and progress",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.output != "" && o.output != "json" && o.output != "yaml" {
				return fmt.Errorf("-o %q: use json or yaml", o.output)
			}
			h, err := o.host.connect()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				return o.list(cmd.Context(), cmd.OutOrStdout(), h)
			}
			return o.one(cmd.Context(), cmd.OutOrStdout(), h, args[0])
		},
	}
	o.host.bindFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&o.watch, "watch", "w", false, "follow the migration until it ends")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "json or yaml")
	return cmd
}

func (o *statusOptions) one(ctx context.Context, out io.Writer, h *host, name string) error {
	if o.watch {
		return follow(ctx, out, h, name)
	}
	var m ferryv1.Migration
	if err := h.c.Get(ctx, client.ObjectKey{Namespace: h.namespace, Name: name}, &m); err != nil {
		return fmt.Errorf("get migration %s: %w", name, err)
	}
	if o.output != "" {
		return encode(out, o.output, &m)
	}
	newRenderer(out).render(&m)
	return nil
}

func (o *statusOptions) list(ctx context.Context, out io.Writer, h *host) error {
	var l ferryv1.MigrationList
	if err := h.c.List(ctx, &l, client.InNamespace(h.namespace)); err != nil {
		return fmt.Errorf("list migrations: %w", err)
	}
	if o.output != "" {
		return encode(out, o.output, &l)
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tPLAN\tTYPE\tPHASE\tSTEP\tAGE")
	for _, m := range l.Items {
		step := ""
		if i := currentStep(&m); i >= 0 {
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
