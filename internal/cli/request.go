package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"ferry.dev/ferry/internal/ops"
)

// requestOptions are the flags of `ferry cancel` and `ferry retry`.
type requestOptions struct {
	host hostOptions
	wait bool
}

func newCancelCommand() *cobra.Command {
	o := &requestOptions{}
	cmd := &cobra.Command{
		Use:   "cancel MIGRATION",
		Short: "Stop a migration and undo what it did on both clusters",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), args[0], (*ops.Client).CancelMigration)
		},
	}
	o.host.bindFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&o.wait, "wait", "w", false, "follow the cancel to its end")
	return cmd
}

func newRetryCommand() *cobra.Command {
	o := &requestOptions{}
	cmd := &cobra.Command{
		Use:   "retry MIGRATION",
		Short: "Retry the failed step of a migration and go on from there",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), args[0], (*ops.Client).RetryMigration)
		},
	}
	o.host.bindFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&o.wait, "wait", "w", false, "follow the migration to its end")
	return cmd
}

// run asks the request of the migration, and when asked to (or when the
// controller runs in this process) waits until the controller acted on
// it and follows the migration to its end.
func (o *requestOptions) run(ctx context.Context, out io.Writer, name string,
	ask func(*ops.Client, context.Context, string) (*ops.Request, error)) error {
	h, stop, inProcess, err := o.host.connectWithController(ctx)
	if err != nil {
		return err
	}
	defer stop()
	req, err := ask(h.ops, ctx, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "migration %s updated\n", name)
	if !o.wait && !inProcess {
		return nil
	}
	m, err := h.ops.WaitAcked(ctx, req)
	if err != nil {
		return err
	}
	return follow(ctx, out, h, name, m.Spec.Cancel)
}
