package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/kustomize"
	"ferry.dev/ferry/internal/resources/migrate"
)

func newPlanExportCommand() *cobra.Command {
	var h hostOptions
	var dir string
	cmd := &cobra.Command{
		Use:   "export NAME --dir DIR",
		Short: "Write a Full plan's objects, as Ferry would apply them, as a kustomize directory for a CD tool",
		Long: `Export writes every object that a cutover of the plan would apply on the
destination, transformed as it would apply it (namespaces renamed, classes
mapped, images rewritten, ...), one file per object, with a kustomization.yaml:
ready to commit for Argo CD or Flux, or to apply with kubectl apply -k.
Cluster-scoped dependencies (CRDs, ClusterRoles, ClusterRoleBindings) go
to DIR/_cluster, apart. Nothing changes on either cluster. With a State
plan of the same namespaces, this is the whole GitOps flow: export,
commit, let the CD tool deploy, migrate the state.`,
		Example: `  ferry plan export shop --dir gitops/shop && kubectl apply -k gitops/shop`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return fmt.Errorf("name the directory to write with --dir")
			}
			host, err := h.connect()
			if err != nil {
				return err
			}
			out, err := kustomize.Create(dir)
			if err != nil {
				return err
			}
			report, err := host.ops.ExportPlan(cmd.Context(), cluster.NewRegistry(host.cfg, host.c), args[0], out.Add)
			if err == nil {
				err = out.Close()
			}
			if err != nil {
				return err
			}
			printExport(cmd.OutOrStdout(), dir, report)
			return nil
		},
	}
	h.bindFlags(cmd.Flags())
	cmd.Flags().StringVar(&dir, "dir", "", "directory to write, new or empty")
	return cmd
}

func printExport(out io.Writer, dir string, r *migrate.Report) {
	fmt.Fprintf(out, "%d objects written to %s\n", r.Applied(), dir)
	for _, s := range r.Objects() {
		fmt.Fprintf(out, "  left out: %s %s/%s: %s\n", s.Kind, s.Namespace, s.Name, s.Reason)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(out, "Warning: %s\n", w)
	}
}

func newPlanDiffCommand() *cobra.Command {
	var h hostOptions
	var all bool
	cmd := &cobra.Command{
		Use:   "diff NAME",
		Short: "Show what a cutover of a Full plan would create and change on the destination, by dry runs",
		Long: `Diff compares every object a cutover of the plan would apply with what the
destination holds, by a server-side dry run of each apply: created, changed
(with a unified diff of its fields) or unchanged. Ferry's own labels
(ferry.dev/...) are not compared. Nothing changes on either cluster.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			host, err := h.connect()
			if err != nil {
				return err
			}
			changes, err := host.ops.DiffPlan(cmd.Context(), cluster.NewRegistry(host.cfg, host.c), args[0])
			if err != nil {
				return err
			}
			printDiff(cmd.OutOrStdout(), changes, all)
			return nil
		},
	}
	h.bindFlags(cmd.Flags())
	cmd.Flags().BoolVar(&all, "all", false, "list unchanged objects too")
	return cmd
}

func printDiff(out io.Writer, changes []migrate.Change, all bool) {
	counts := map[ferryv1.ObjectAction]int{}
	for _, c := range changes {
		counts[c.Action]++
		if c.Action == ferryv1.ObjectUnchanged && !all {
			continue
		}
		name := c.Name
		if c.Namespace != "" {
			name = c.Namespace + "/" + c.Name
		}
		line := fmt.Sprintf("%s %s %s", diffWord(c.Action), c.Kind, name)
		if c.Note != "" {
			line += ": " + c.Note
		}
		fmt.Fprintln(out, line)
		if c.Diff != "" {
			fmt.Fprint(out, c.Diff)
		}
	}
	fmt.Fprintf(out, "%d to create, %d to change, %d unchanged, %d left out\n", counts[ferryv1.ObjectCreated],
		counts[ferryv1.ObjectUpdated], counts[ferryv1.ObjectUnchanged], counts[ferryv1.ObjectSkipped])
}

func diffWord(a ferryv1.ObjectAction) string {
	switch a {
	case ferryv1.ObjectCreated:
		return "create"
	case ferryv1.ObjectUpdated:
		return "change"
	case ferryv1.ObjectUnchanged:
		return "unchanged"
	}
	return "left out"
}
