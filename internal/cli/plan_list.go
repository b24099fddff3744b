package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/ops"
)

type planListOptions struct {
	host hostOptions
}

func newPlanListCommand() *cobra.Command {
	o := &planListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the plans with their state and latest migration",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout())
		},
	}
	o.host.bindFlags(cmd.Flags())
	return cmd
}

func (o *planListOptions) run(ctx context.Context, out io.Writer) error {
	h, err := o.host.connect()
	if err != nil {
		return err
	}
	plans, err := h.ops.ListPlans(ctx)
	if err != nil {
		return err
	}
	ms, err := h.ops.ListMigrations(ctx, "")
	if err != nil {
		return err
	}
	byPlan := map[string][]ferryv1.Migration{}
	for _, m := range ms {
		byPlan[m.Spec.Plan] = append(byPlan[m.Spec.Plan], m)
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSOURCE\tDESTINATION\tNAMESPACES\tREADY\tLATEST MIGRATION")
	for _, p := range plans {
		ready := "Unknown"
		if c := meta.FindStatusCondition(p.Status.Conditions, ferryv1.ConditionReady); c != nil {
			ready = string(c.Status)
		}
		latest := ""
		if m := ops.Latest(byPlan[p.Name]); m != nil {
			latest = fmt.Sprintf("%s (%s)", m.Name, m.Status.Phase)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Name, p.Spec.SourceCluster, p.Spec.DestinationCluster,
			strings.Join(p.Spec.Namespaces, ","), ready, latest)
	}
	return tw.Flush()
}

type planDeleteOptions struct {
	host  hostOptions
	wait  bool
	creds credentialsFlags
}

func newPlanDeleteCommand() *cobra.Command {
	o := &planDeleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a plan and its migrations; those not finished undo what they did first",
		Long: `Delete a plan from the host. The controller deletes the plan's migrations
first: those not finished (running or failed) are canceled, which undoes
what they did on both clusters; finished ones (a cutover that succeeded)
change nothing on the clusters, so roll back first to undo a cutover.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout(), args[0])
		},
	}
	o.host.bindFlags(cmd.Flags())
	cmd.Flags().BoolVarP(&o.wait, "wait", "w", false, "wait until the plan and its migrations are gone, then remove Ferry's grants in its namespaces")
	o.creds.bind(cmd.Flags())
	return cmd
}

func (o *planDeleteOptions) run(ctx context.Context, out io.Writer, name string) error {
	h, stop, inProcess, err := o.host.connectWithController(ctx)
	if err != nil {
		return err
	}
	defer stop()
	p, err := h.ops.GetPlan(ctx, name)
	if err != nil {
		return err
	}
	d, err := h.ops.DeletePlan(ctx, name)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "plan %s deleting, with its %d migrations\n", name, len(d.Migrations))
	if len(d.Undone) > 0 {
		fmt.Fprintf(out, "not finished, undoing what they did first: %s\n", strings.Join(d.Undone, ", "))
	}
	if !o.wait && !inProcess {
		fmt.Fprintf(out, "Ferry's grants in the plan's namespaces stay (its migrations need them to undo what they did): `ferry plan delete %s --wait` also removes them\n", name)
		return nil
	}
	if err := h.ops.WaitPlanDeleted(ctx, name); err != nil {
		return err
	}
	fmt.Fprintf(out, "plan %s deleted\n", name)
	return revokePlan(ctx, out, h, p, o.creds)
}

// revokePlan removes the grants of a deleted plan with the user's
// credentials; credentials it does not have are a warning.
func revokePlan(ctx context.Context, out io.Writer, h *host, p *ferryv1.Plan, f credentialsFlags) error {
	var creds ops.PlanCredentials
	var errs []string
	var err error
	if creds.Source, err = userConfig(ctx, h, p.Spec.SourceCluster, f.fromKubeconfig, f.fromContext); err != nil {
		errs = append(errs, err.Error())
	}
	if creds.Destination, err = userConfig(ctx, h, p.Spec.DestinationCluster, f.toKubeconfig, f.toContext); err != nil {
		errs = append(errs, err.Error())
	}
	n, err := h.ops.RevokePlan(ctx, p, creds)
	if err != nil {
		errs = append(errs, err.Error())
	}
	fmt.Fprintf(out, "Ferry's grants of plan %s removed (%d)\n", p.Name, n)
	if len(errs) > 0 {
		fmt.Fprintf(out, "warning: some grants may remain (RoleBindings labeled %s=%s): %s\n", ferryv1.LabelGrantPlan, p.Name, strings.Join(errs, "; "))
	}
	return nil
}
