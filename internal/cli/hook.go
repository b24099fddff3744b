package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func newHookCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "hook", Short: "Create and inspect hooks: your own steps at fixed points of a migration"}
	cmd.AddCommand(newHookCreateCommand(), newHookListCommand(), newHookDeleteCommand())
	return cmd
}

type hookCreateOptions struct {
	host           hostOptions
	image, script  string
	exec, pod      string
	container      string
	cluster        string
	namespace      string
	serviceAccount string
	env            []string
	claims         []string
	timeout        time.Duration
	retries        int32
	onError        string
}

func newHookCreateCommand() *cobra.Command {
	o := &hookCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create NAME (--image IMAGE | --exec SELECTOR | --exec-pod POD) [flags] [-- COMMAND [ARG...]]",
		Short: "Create or replace a hook: a Job, or a command run in running pods",
		Long: `Create a hook, or replace the hook of that name. A Job hook (--image)
runs COMMAND (or --script, or the image's entrypoint) as a Kubernetes Job on
one side of the plan; an exec hook (--exec SELECTOR or --exec-pod POD) runs
COMMAND in each selected running pod, like kubectl exec. Plans run hooks at
their phases: ferry plan create ... --hook NAME:PHASE.

Every hook is told its migration's context through environment variables
(FERRY_PLAN, FERRY_MIGRATION, FERRY_MIGRATION_TYPE, FERRY_HOOK,
FERRY_HOOK_PHASE, FERRY_NAMESPACES, FERRY_SOURCE_CLUSTER,
FERRY_DESTINATION_CLUSTER); see docs/hooks.md.`,
		Example: `  ferry hook create flush --image postgres:15 --claim data:/var/lib/postgresql -- sh -c 'sync'
  ferry hook create checkpoint --exec app=db --container db -- psql -c CHECKPOINT
  ferry hook create smoke --image curlimages/curl --cluster destination --timeout 2m -- curl -fsS http://web/healthz`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var command []string
			if n := cmd.ArgsLenAtDash(); n >= 0 {
				command, args = args[n:], args[:n]
			}
			if len(args) != 1 {
				return fmt.Errorf("give one hook name, and the command after --")
			}
			return o.run(cmd.Context(), cmd.OutOrStdout(), args[0], command)
		},
	}
	o.host.bindFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&o.image, "image", "", "run the hook as a Job of this image")
	f.StringVar(&o.script, "script", "", "a Job hook's shell script, run by /bin/sh -c instead of a command")
	f.StringVar(&o.exec, "exec", "", "run the command in the running pods this label selector selects (e.g. app=db)")
	f.StringVar(&o.pod, "exec-pod", "", "run the command in this running pod")
	f.StringVar(&o.container, "container", "", "an exec hook's container (the pod's first when empty)")
	f.StringVar(&o.cluster, "cluster", "", "where the hook runs unless the plan says: source or destination (default: the phase's side)")
	f.StringVar(&o.namespace, "namespace", "", "namespace where the hook runs unless the plan says (default: the plan's first namespace)")
	f.StringVar(&o.serviceAccount, "service-account", "", "a Job hook's service account")
	f.StringArrayVar(&o.env, "env", nil, "a Job hook's environment variable, NAME=VALUE; repeat for more")
	f.StringArrayVar(&o.claims, "claim", nil, "mount a claim of the hook's namespace into a Job hook, CLAIM:PATH[:ro]; repeat for more")
	f.DurationVar(&o.timeout, "timeout", 0, "how long one run may take (default 30m for Jobs, 1m for exec)")
	f.Int32Var(&o.retries, "retries", 0, "runs again after a failure, this many times")
	f.StringVar(&o.onError, "on-error", "Fail", "what a failure does: Fail (the migration fails at the hook) or Continue")
	return cmd
}

func (o *hookCreateOptions) run(ctx context.Context, out io.Writer, name string, command []string) error {
	spec, err := o.spec(command)
	if err != nil {
		return err
	}
	h, err := o.host.connect()
	if err != nil {
		return err
	}
	if err := h.install(ctx); err != nil {
		return err
	}
	hook, err := h.ops.NewHook(name, spec)
	if err != nil {
		return err
	}
	created, err := h.ops.ApplyHook(ctx, hook)
	if err != nil {
		return err
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	_, err = fmt.Fprintf(out, "hook %s %s\n", name, verb)
	return err
}

// spec builds the hook's spec from the flags.
func (o *hookCreateOptions) spec(command []string) (ferryv1.HookSpec, error) {
	s := ferryv1.HookSpec{Retries: o.retries, Cluster: ferryv1.HookSide(o.cluster), Namespace: o.namespace}
	switch o.cluster {
	case "", string(ferryv1.HookSource), string(ferryv1.HookDestination):
	default:
		return s, fmt.Errorf("--cluster %q: use source or destination", o.cluster)
	}
	switch strings.ToLower(o.onError) {
	case "", "fail":
		s.OnError = ferryv1.HookFail
	case "continue":
		s.OnError = ferryv1.HookContinue
	default:
		return s, fmt.Errorf("--on-error %q: use Fail or Continue", o.onError)
	}
	if o.timeout != 0 {
		s.Timeout = &metav1.Duration{Duration: o.timeout}
	}
	kinds := 0
	for _, set := range []bool{o.image != "", o.exec != "", o.pod != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return s, fmt.Errorf("give one of --image (a Job hook), --exec SELECTOR or --exec-pod POD (an exec hook)")
	}
	if o.image == "" {
		return o.execSpec(s, command)
	}
	return o.jobSpec(s, command)
}

func (o *hookCreateOptions) execSpec(s ferryv1.HookSpec, command []string) (ferryv1.HookSpec, error) {
	if o.script != "" || len(o.env) > 0 || len(o.claims) > 0 || o.serviceAccount != "" {
		return s, fmt.Errorf("--script, --env, --claim and --service-account are for Job hooks (--image)")
	}
	if len(command) == 0 {
		return s, fmt.Errorf("an exec hook needs its command after --")
	}
	e := &ferryv1.ExecHook{PodName: o.pod, Container: o.container, Command: command}
	if o.exec != "" {
		sel, err := metav1.ParseToLabelSelector(o.exec)
		if err != nil {
			return s, fmt.Errorf("--exec %q: %w", o.exec, err)
		}
		e.Selector = sel
	}
	s.Exec = e
	return s, nil
}

func (o *hookCreateOptions) jobSpec(s ferryv1.HookSpec, command []string) (ferryv1.HookSpec, error) {
	if o.container != "" {
		return s, fmt.Errorf("--container is for exec hooks")
	}
	if o.script != "" && len(command) > 0 {
		return s, fmt.Errorf("give a --script or a command after --, not both")
	}
	j := &ferryv1.JobHook{Image: o.image, Script: o.script, ServiceAccountName: o.serviceAccount}
	if len(command) > 0 {
		j.Command = command
	}
	for _, kv := range o.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return s, fmt.Errorf("--env %q: use NAME=VALUE", kv)
		}
		j.Env = append(j.Env, corev1.EnvVar{Name: k, Value: v})
	}
	for _, c := range o.claims {
		parts := strings.Split(c, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !strings.HasPrefix(parts[1], "/") || (len(parts) == 3 && parts[2] != "ro") {
			return s, fmt.Errorf("--claim %q: use CLAIM:/PATH or CLAIM:/PATH:ro", c)
		}
		j.Claims = append(j.Claims, ferryv1.HookClaim{Name: parts[0], MountPath: parts[1], ReadOnly: len(parts) == 3})
	}
	s.Job = j
	return s, nil
}

type hookListOptions struct{ host hostOptions }

func newHookListCommand() *cobra.Command {
	o := &hookListOptions{}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the hooks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := o.host.connect()
			if err != nil {
				return err
			}
			l, err := h.ops.ListHooks(cmd.Context())
			if err != nil {
				return err
			}
			listHooks(cmd.OutOrStdout(), l)
			return nil
		},
	}
	o.host.bindFlags(cmd.Flags())
	return cmd
}

func listHooks(out io.Writer, l []ferryv1.Hook) {
	if len(l) == 0 {
		fmt.Fprintln(out, "no hooks: create one with `ferry hook create NAME --image IMAGE -- COMMAND`")
		return
	}
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tRUNS\tTIMEOUT\tRETRIES\tON ERROR")
	for i := range l {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\n", l[i].Name, hookKind(&l[i].Spec), hookRuns(&l[i].Spec), hookTimeout(&l[i].Spec), l[i].Spec.Retries, orDash(string(l[i].Spec.OnError)))
	}
	_ = tw.Flush()
}

func hookKind(s *ferryv1.HookSpec) string {
	if s.Exec != nil {
		return "exec"
	}
	return "job"
}

// hookRuns says what a hook runs, shortly.
func hookRuns(s *ferryv1.HookSpec) string {
	switch {
	case s.Exec != nil:
		where := s.Exec.PodName
		if s.Exec.Selector != nil {
			where = metav1.FormatLabelSelector(s.Exec.Selector)
		}
		return fmt.Sprintf("%s in %s", strings.Join(s.Exec.Command, " "), where)
	case s.Job != nil && s.Job.Script != "":
		return s.Job.Image + ": script"
	case s.Job != nil:
		return strings.TrimSpace(s.Job.Image + " " + strings.Join(s.Job.Command, " "))
	}
	return "-"
}

func hookTimeout(s *ferryv1.HookSpec) string {
	if s.Timeout == nil {
		return "default"
	}
	return s.Timeout.Duration.String()
}

type hookDeleteOptions struct{ host hostOptions }

func newHookDeleteCommand() *cobra.Command {
	o := &hookDeleteOptions{}
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a hook that no plan runs",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := o.host.connect()
			if err != nil {
				return err
			}
			if err := h.ops.DeleteHook(cmd.Context(), args[0]); err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "hook %s deleted\n", args[0])
			return err
		},
	}
	o.host.bindFlags(cmd.Flags())
	return cmd
}

// parsePlanHook parses a --hook value, NAME:PHASE[:OPTION,...] with
// options stages, cluster=source|destination and namespace=NS.
func parsePlanHook(v string) (ferryv1.PlanHook, error) {
	bad := func(format string, args ...any) (ferryv1.PlanHook, error) {
		return ferryv1.PlanHook{}, fmt.Errorf("--hook %q: "+format+" (use NAME:PHASE[:stages,cluster=source|destination,namespace=NS])", append([]any{v}, args...)...)
	}
	parts := strings.SplitN(v, ":", 3)
	if len(parts) < 2 || parts[0] == "" {
		return bad("name the hook and its phase")
	}
	ref := ferryv1.PlanHook{Hook: parts[0]}
	phase, ok := hookPhase(parts[1])
	if !ok {
		return bad("unknown phase %q: use PreBackup, PostBackup, PreRestore, PostRestore, PreRollback or PostRollback", parts[1])
	}
	ref.Phase = phase
	if len(parts) == 3 {
		for opt := range strings.SplitSeq(parts[2], ",") {
			key, val, _ := strings.Cut(opt, "=")
			switch {
			case key == "stages" && val == "":
				ref.Stages = true
			case key == "cluster" && (val == string(ferryv1.HookSource) || val == string(ferryv1.HookDestination)):
				ref.Cluster = ferryv1.HookSide(val)
			case key == "namespace" && val != "":
				ref.Namespace = val
			default:
				return bad("unknown option %q", opt)
			}
		}
	}
	return ref, nil
}

// hookPhase finds a phase by its name, in any case.
func hookPhase(s string) (ferryv1.HookPhase, bool) {
	for _, p := range []ferryv1.HookPhase{ferryv1.HookPreBackup, ferryv1.HookPostBackup, ferryv1.HookPreRestore, ferryv1.HookPostRestore,
		ferryv1.HookPreRollback, ferryv1.HookPostRollback} {
		if strings.EqualFold(s, string(p)) {
			return p, true
		}
	}
	return "", false
}
