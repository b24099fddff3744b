package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
)

type planGrantOptions struct {
	host  hostOptions
	creds credentialsFlags
}

func newPlanGrantCommand() *cobra.Command {
	o := &planGrantOptions{}
	cmd := &cobra.Command{
		Use:   "grant NAME",
		Short: "Grant Ferry the plan's namespaces on its clusters, with your own credentials",
		Long: `Grant Ferry's service account its namespace roles in the plan's namespaces:
ferry-source-namespace in the source namespaces (and those of source
hooks), ferry-destination-namespace in the destination namespaces (created
when missing, labeled as the plan's). ` + "`ferry plan create`" + ` does it; run it
again after a rollback deleted the destination namespaces, or with other
credentials. See docs/rbac.md.`,
		Example: `  ferry plan grant shop
  ferry plan grant shop --from-kubeconfig src.yaml --to-kubeconfig dst.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), args[0])
		},
	}
	o.host.bindFlags(cmd.Flags())
	o.creds.bind(cmd.Flags())
	return cmd
}

func (o *planGrantOptions) run(ctx context.Context, out io.Writer, name string) error {
	h, err := o.host.connect()
	if err != nil {
		return err
	}
	p, err := h.ops.GetPlan(ctx, name)
	if err != nil {
		return err
	}
	if err := grantPlan(ctx, out, h, p, o.creds, true); err != nil {
		return err
	}
	// Validate the plan again: its Ready condition may have said that
	// Ferry lacked these rights.
	if _, err := h.ops.ApplyPlan(ctx, p); err != nil {
		return err
	}
	fmt.Fprintf(out, "plan %s validates again: ferry plan describe %s\n", name, name)
	return nil
}
