package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/ops"
)

type migrateOptions struct {
	plan                        planCreateOptions
	fromKubeconfig, fromContext string
	toKubeconfig, toContext     string
	noStage                     bool
}

func newMigrateCommand() *cobra.Command {
	o := &migrateOptions{}
	cmd := &cobra.Command{
		Use:   "migrate --from SRC --to DST -n NS[:NEWNS]...",
		Short: "Register the clusters, plan, stage and cut over in one command",
		Long: `Migrate namespaces in one command: registers the source and destination
clusters when --from-kubeconfig / --to-kubeconfig are given, creates (or
updates) the plan, runs a stage migration and then the cutover, showing
progress all along.`,
		Example: `  ferry migrate --from src --from-kubeconfig .localclusters/src/kubeconfig \
                --to dst --to-kubeconfig .localclusters/dst/kubeconfig -n demo`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.Context(), cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	o.plan.host.bindFlags(f)
	f.StringVar(&o.plan.name, "plan", "", "name of the plan (default: the first namespace)")
	f.StringVar(&o.plan.from, "from", "", "source cluster")
	f.StringVar(&o.plan.to, "to", "", "destination cluster")
	f.StringSliceVarP(&o.plan.namespaces, "namespace", "n", nil, "namespace to migrate, NAME or SOURCE:DESTINATION; repeat for more")
	f.StringVarP(&o.plan.selector, "selector", "l", "", "migrate only objects with these labels")
	f.StringSliceVar(&o.plan.exclude, "exclude-kinds", nil, "never migrate these kinds")
	f.Var(mappingFlag{&o.plan.scMap}, "storage-class-map", "map storage classes, OLD=NEW")
	f.StringSliceVar(&o.plan.rewrites, "registry-rewrite", nil, "rewrite image references, FROM=TO prefix")
	f.StringVar(&o.fromKubeconfig, "from-kubeconfig", "", "kubeconfig of the source, to register it and grant Ferry the plan's namespaces there")
	f.StringVar(&o.fromContext, "from-context", "", "context in --from-kubeconfig")
	f.StringVar(&o.toKubeconfig, "to-kubeconfig", "", "kubeconfig of the destination, to register it and grant Ferry the plan's namespaces there")
	f.StringVar(&o.toContext, "to-context", "", "context in --to-kubeconfig")
	f.BoolVar(&o.noStage, "no-stage", false, "skip the stage migration and cut over at once")
	return cmd
}

func (o *migrateOptions) run(ctx context.Context, out io.Writer) error {
	if o.plan.name == "" && len(o.plan.namespaces) > 0 {
		o.plan.name, _, _ = strings.Cut(o.plan.namespaces[0], ":")
	}
	p, err := o.plan.plan()
	if err != nil {
		return err
	}
	h, err := o.plan.host.connect()
	if err != nil {
		return err
	}
	if err := o.register(ctx, out, h); err != nil {
		return err
	}
	stop, _, err := h.ensureController(ctx)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintln(out, "==> plan")
	creds := credentialsFlags{fromKubeconfig: o.fromKubeconfig, fromContext: o.fromContext, toKubeconfig: o.toKubeconfig, toContext: o.toContext}
	if err := createPlan(ctx, out, h, p, creds); err != nil {
		return err
	}
	types := []ferryv1.MigrationType{ferryv1.MigrationStage, ferryv1.MigrationCutover}
	if o.noStage {
		types = types[1:]
	}
	for _, t := range types {
		fmt.Fprintf(out, "==> %s\n", t)
		m, err := h.ops.StartMigration(ctx, p.Name, t, ops.StartOptions{})
		if err != nil {
			return err
		}
		if err := follow(ctx, out, h, m.Name, false); err != nil {
			return fmt.Errorf("%w; undo with `ferry rollback %s`", err, p.Name)
		}
	}
	fmt.Fprintf(out, "==> done: %s migrated from %s to %s\n", p.Spec.Namespaces, p.Spec.SourceCluster, p.Spec.DestinationCluster)
	return nil
}

// register adds the clusters given with kubeconfigs, unless registered.
func (o *migrateOptions) register(ctx context.Context, out io.Writer, h *host) error {
	for _, c := range []struct{ name, kubeconfig, context string }{
		{o.plan.from, o.fromKubeconfig, o.fromContext}, {o.plan.to, o.toKubeconfig, o.toContext},
	} {
		var existing ferryv1.Cluster
		err := h.c.Get(ctx, client.ObjectKey{Namespace: h.namespace, Name: c.name}, &existing)
		if err == nil && c.kubeconfig == "" {
			continue
		}
		if err != nil && !apierrors.IsNotFound(err) && !isNoMatch(err) {
			return err
		}
		if c.kubeconfig == "" {
			return fmt.Errorf("cluster %s is not registered: give its kubeconfig (--from-kubeconfig / --to-kubeconfig) or run `ferry cluster add %s`", c.name, c.name)
		}
		fmt.Fprintf(out, "==> register cluster %s\n", c.name)
		add := &clusterAddOptions{host: o.plan.host, name: c.name, kubeconfig: c.kubeconfig, context: c.context, role: "both"}
		if err := add.run(ctx, out); err != nil {
			return err
		}
	}
	return nil
}
