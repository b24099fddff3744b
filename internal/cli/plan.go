package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/hooks"
	"ferry.dev/ferry/internal/ops"
	"ferry.dev/ferry/internal/planning"
)

func newPlanCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "plan", Short: "Create and inspect migration plans"}
	cmd.AddCommand(newPlanCreateCommand(), newPlanGrantCommand(), newPlanDescribeCommand(), newPlanListCommand(), newPlanDeleteCommand(),
		newPlanExportCommand(), newPlanDiffCommand())
	return cmd
}

type planCreateOptions struct {
	host             hostOptions
	name, from, to   string
	kind             string
	namespaces       []string
	selector         string
	include, exclude []string
	scMap            map[string]string
	routeDomains     map[string]string
	rewrites         []string
	pvcs             []string
	hooks            []string
	autoResize       bool
	verify           bool
	repository       string
	dataPath         string
	headroom         *int32 // nil: the plan's default
	headroomFlag     int32
	creds            credentialsFlags
}

func newPlanCreateCommand() *cobra.Command {
	o := &planCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create NAME --from SRC --to DST -n NS[:NEWNS]...",
		Short: "Create a plan and show what it will migrate",
		Example: `  ferry plan create shop --from src --to dst -n shop
  ferry plan create shop --from src --to dst -n shop:shop-v2 --storage-class-map standard=fast
  ferry plan create shop --from src --to dst -n shop --pvc shop/data:name=data-v2,class=fast,capacity=20Gi --pvc shop/cache:action=skip
  ferry plan create shop-state --type state --from src --to dst -n shop --pvc shop/data:name=shop-data
  ferry plan create shop --from src --to dst -n shop --auto-resize --resize-headroom 20
  ferry plan create shop --from src --to dst -n shop --hook flush:PreBackup --hook smoke:PostRestore
  ferry plan create shop --from src --to dst -n shop --repository s3 --data-path repository
  ferry plan create shop --from src --to dst -n shop --repository s3 --pvc shop/data:path=repository`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			if cmd.Flags().Changed("resize-headroom") {
				o.headroom = &o.headroomFlag
			}
			return o.run(cmd.Context(), cmd.OutOrStdout())
		},
	}
	o.host.bindFlags(cmd.Flags())
	f := cmd.Flags()
	f.StringVar(&o.from, "from", "", "source cluster (a registered Cluster)")
	f.StringVar(&o.to, "to", "", "destination cluster (a registered Cluster)")
	f.StringVar(&o.kind, "type", "full", "what to migrate: full (resources and data), state (only the claims' data, into claims that may exist on the destination) or storage-conversion (claims onto another class within one cluster: --from and --to the same)")
	f.StringSliceVarP(&o.namespaces, "namespace", "n", nil, "namespace to migrate, NAME or SOURCE:DESTINATION to rename; repeat for more")
	f.StringVarP(&o.selector, "selector", "l", "", "migrate only objects with these labels (e.g. app=shop)")
	f.StringSliceVar(&o.include, "include-kinds", nil, "migrate only these kinds (Kind or Kind.group)")
	f.StringSliceVar(&o.exclude, "exclude-kinds", nil, "never migrate these kinds (Kind or Kind.group)")
	f.Var(mappingFlag{&o.scMap}, "storage-class-map", "map source storage classes to destination ones, OLD=NEW")
	f.Var(mappingFlag{&o.routeDomains}, "route-domain-map", "map the source's router domain to the destination's, OLD=NEW (OpenShift Routes): generated Route hosts under OLD move to NEW instead of being dropped")
	f.StringSliceVar(&o.rewrites, "registry-rewrite", nil, "rewrite image references, FROM=TO prefix (e.g. 10.200.1.1:5000/=10.200.2.1:5000/)")
	f.StringArrayVar(&o.pvcs, "pvc", nil, "change one claim, NS/NAME:KEY=VALUE,... with keys action (copy, move or skip), name, class, capacity, access (modes joined by +), path (direct or repository) and verify (true or false); repeat for more")
	f.StringArrayVar(&o.hooks, "hook", nil, "run a hook (ferry hook create) at a phase, NAME:PHASE[:stages,cluster=source|destination,namespace=NS]; repeat for more, run in the given order within a phase")
	f.StringVar(&o.repository, "repository", "", "the Repository (ferry repository add) that volumes with data path repository go through")
	f.StringVar(&o.dataPath, "data-path", "", "how the volumes' data travels: direct (cluster to cluster, the default) or repository (through --repository, for clusters that cannot reach each other); a --pvc path=... wins")
	f.BoolVar(&o.verify, "verify", false, "verify every copied claim after its final copy (cutover, after quiesce): the BLAKE3 checksum of every file is compared on both sides, and a difference fails the copy naming the paths; --pvc NS/NAME:verify=true verifies one claim")
	f.BoolVar(&o.autoResize, "auto-resize", false, "give each claim Ferry creates its proposed capacity: the used bytes plus --resize-headroom, a whole GiB, never below the source's request (a --pvc capacity wins)")
	f.Int32Var(&o.headroomFlag, "resize-headroom", ferryv1.DefaultResizeHeadroomPercent, "room above the used bytes in a proposed capacity, in percent (0 to 1000)")
	o.creds.bind(f)
	return cmd
}

// run creates the plan and describes it once validated.
func (o *planCreateOptions) run(ctx context.Context, out io.Writer) error {
	p, err := o.plan()
	if err != nil {
		return err
	}
	h, stop, _, err := o.host.connectWithController(ctx)
	if err != nil {
		return err
	}
	defer stop()
	return createPlan(ctx, out, h, p, o.creds)
}

// plan builds the plan from the flags and validates it (ops.ValidatePlan).
func (o *planCreateOptions) plan() (*ferryv1.Plan, error) {
	if err := validateName(o.name); err != nil {
		return nil, err
	}
	if o.from == "" || o.to == "" {
		return nil, fmt.Errorf("name the source and destination clusters with --from and --to")
	}
	kind, err := parsePlanType(o.kind)
	if err != nil {
		return nil, err
	}
	p := &ferryv1.Plan{ObjectMeta: metav1.ObjectMeta{Name: o.name, Namespace: o.host.namespace},
		Spec: ferryv1.PlanSpec{Type: kind, SourceCluster: o.from, DestinationCluster: o.to, Namespaces: o.namespaces,
			IncludedKinds: o.include, ExcludedKinds: o.exclude, StorageClassMapping: o.scMap,
			RouteDomainMapping: o.routeDomains}}
	if o.headroom != nil && (*o.headroom < 0 || *o.headroom > 1000) {
		return nil, fmt.Errorf("--resize-headroom %d: give a percentage from 0 to 1000", *o.headroom)
	}
	p.Spec.AutoResize, p.Spec.ResizeHeadroomPercent, p.Spec.VerifyVolumes = o.autoResize, o.headroom, o.verify
	if p.Spec.DataPath, err = parseDataPath("--data-path", o.dataPath); err != nil {
		return nil, err
	}
	p.Spec.Repository = o.repository
	if o.selector != "" {
		sel, err := metav1.ParseToLabelSelector(o.selector)
		if err != nil {
			return nil, fmt.Errorf("--selector: %w", err)
		}
		p.Spec.LabelSelector = sel
	}
	for _, v := range o.pvcs {
		ov, err := parsePVCOverride(v)
		if err != nil {
			return nil, err
		}
		p.Spec.PersistentVolumeClaims = append(p.Spec.PersistentVolumeClaims, ov)
	}
	for _, v := range o.hooks {
		ref, err := parsePlanHook(v)
		if err != nil {
			return nil, err
		}
		p.Spec.Hooks = append(p.Spec.Hooks, ref)
	}
	for _, rw := range o.rewrites {
		from, to, ok := strings.Cut(rw, "=")
		if !ok || from == "" {
			return nil, fmt.Errorf("--registry-rewrite %q: use FROM=TO", rw)
		}
		p.Spec.RegistryRewrites = append(p.Spec.RegistryRewrites, ferryv1.RegistryRewrite{From: from, To: to})
	}
	if err := ops.ValidatePlan(p); err != nil {
		return nil, err
	}
	return p, nil
}

// parseDataPath checks a data path flag's value ("" stays "").
func parseDataPath(flag, s string) (ferryv1.DataPath, error) {
	switch p := ferryv1.DataPath(strings.ToLower(s)); p {
	case "", ferryv1.DataPathDirect, ferryv1.DataPathRepository:
		return p, nil
	}
	return "", fmt.Errorf("%s %q: use %s or %s", flag, s, ferryv1.DataPathDirect, ferryv1.DataPathRepository)
}

// parsePlanType maps the --type flag to a plan type.
func parsePlanType(s string) (ferryv1.PlanType, error) {
	switch strings.ToLower(s) {
	case "", "full":
		return ferryv1.PlanFull, nil
	case "state":
		return ferryv1.PlanState, nil
	case "storage-conversion", "storageconversion":
		return ferryv1.PlanStorageConversion, nil
	}
	return "", fmt.Errorf("--type %q: use full, state or storage-conversion", s)
}

// createPlan grants Ferry the plan's namespaces with the user's
// credentials, creates (or updates) the plan, waits for its validation and
// describes it (see ops.SubmitPlan); it fails when the plan is not Ready.
// Grants that fail are warnings: the validation says what is missing.
func createPlan(ctx context.Context, out io.Writer, h *host, p *ferryv1.Plan, creds credentialsFlags) error {
	sub, err := h.ops.SubmitPlan(ctx, p, creds.credentials(h))
	if err != nil {
		return err
	}
	for _, g := range sub.Granted {
		printGranted(out, g)
	}
	for _, err := range sub.GrantErrors {
		fmt.Fprintf(out, "warning: %v; once fixed, run `ferry plan grant %s`\n", err, p.Name)
	}
	if sub.Created {
		fmt.Fprintf(out, "plan %s created\n", p.Name)
	} else {
		fmt.Fprintf(out, "plan %s updated\n", p.Name)
	}
	describePlan(out, sub.Plan)
	return ops.PlanReady(sub.Plan)
}

type planDescribeOptions struct {
	host hostOptions
}

func newPlanDescribeCommand() *cobra.Command {
	o := &planDescribeOptions{}
	cmd := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show what a plan migrates, its volumes and its problems",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := o.host.connect()
			if err != nil {
				return err
			}
			p, err := h.ops.GetPlan(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			describePlan(cmd.OutOrStdout(), p)
			return nil
		},
	}
	o.host.bindFlags(cmd.Flags())
	return cmd
}

func describePlan(out io.Writer, p *ferryv1.Plan) {
	fmt.Fprintf(out, "Plan %s (%s): %s -> %s, namespaces %s\n", p.Name, p.Spec.Kind(), p.Spec.SourceCluster, p.Spec.DestinationCluster, strings.Join(p.Spec.Namespaces, ", "))
	fmt.Fprintf(out, "  Data path: %s\n", dataPathText(&p.Spec))
	for _, c := range p.Status.Conditions {
		fmt.Fprintf(out, "  %s: %s (%s) %s\n", c.Type, c.Status, c.Reason, c.Message)
	}
	if len(p.Status.ObjectCounts) > 0 {
		fmt.Fprintln(out, "Objects:")
		tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
		for _, k := range p.Status.ObjectCounts {
			fmt.Fprintf(tw, "  %s\t%d\n", k.Kind, k.Count)
		}
		_ = tw.Flush()
	}
	if len(p.Status.PersistentVolumeClaims) > 0 {
		describeVolumes(out, p)
	}
	if len(p.Status.Images) > 0 {
		fmt.Fprintf(out, "Images to copy (%d):\n", len(p.Status.Images))
		for _, im := range p.Status.Images {
			fmt.Fprintf(out, "  %s -> %s\n", im.Source, im.Destination)
		}
	}
	if len(p.Spec.Hooks) > 0 {
		describeHooks(out, p)
	}
	for _, w := range p.Status.Warnings {
		fmt.Fprintf(out, "Warning: %s\n", w)
	}
}

// describeHooks writes the plan's hooks by phase, in the order they run.
func describeHooks(out io.Writer, p *ferryv1.Plan) {
	fmt.Fprintln(out, "Hooks:")
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  PHASE\tHOOK\tCLUSTER\tNAMESPACE\tSTAGES")
	for _, ph := range []ferryv1.HookPhase{ferryv1.HookPreBackup, ferryv1.HookPostBackup, ferryv1.HookPreRestore, ferryv1.HookPostRestore,
		ferryv1.HookPreRollback, ferryv1.HookPostRollback} {
		for _, ref := range hooks.InPhase(p.Spec.Hooks, ph) {
			stages := "no"
			if ref.Stages {
				stages = "yes"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", ref.Phase, ref.Hook, orDash(string(ref.Cluster)), orDash(ref.Namespace), stages)
		}
	}
	_ = tw.Flush()
}

// describeVolumes writes the plan's claim list: per claim its class and
// action, the space its data takes (used), its request, the proposed
// capacity and what its target gets (a moved claim: the PV it binds to).
func describeVolumes(out io.Writer, p *ferryv1.Plan) {
	resize := "off"
	if p.Spec.AutoResize {
		resize = "on"
	}
	fmt.Fprintf(out, "Volumes (auto-resize %s, headroom %d%%):\n", resize, p.Spec.Headroom())
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	// The PATH column only when a claim goes through a repository.
	paths := p.Spec.UsesRepository()
	fmt.Fprintln(tw, "  CLAIM\tCLASS\tACTION\t"+ifTrue(paths, "PATH\t")+"USED\tREQUEST\tPROPOSED\tTARGET")
	for _, v := range p.Status.PersistentVolumeClaims {
		capacity := v.TargetCapacity
		if capacity == "" {
			capacity = v.Capacity
		}
		target := fmt.Sprintf("%s/%s (%s, %s", v.TargetNamespace, v.TargetName, v.TargetStorageClass, orDash(capacity))
		if v.Action == ferryv1.PVCActionMove {
			target = fmt.Sprintf("%s/%s (PV %s, %s", v.TargetNamespace, v.TargetName, v.SourceVolume, orDash(capacity))
		}
		if len(v.TargetAccessModes) > 0 {
			target += ", " + strings.Join(v.TargetAccessModes, "+")
		}
		if v.TargetExists {
			target += ", exists"
		}
		fmt.Fprintf(tw, "  %s/%s\t%s\t%s\t%s%s\t%s\t%s\t%s)\n", v.Namespace, v.Name, v.StorageClass, v.Action, ifTrue(paths, claimPath(v)+"\t"), usedText(v.Usage),
			orDash(v.Capacity), orDash(v.ProposedCapacity), target)
	}
	_ = tw.Flush()
	for _, v := range p.Status.PersistentVolumeClaims {
		if v.Usage != nil && v.Usage.Unknown != "" {
			fmt.Fprintf(out, "  %s/%s: used space unknown: %s\n", v.Namespace, v.Name, v.Usage.Unknown)
		}
		if line := ownersText(v.Usage); line != "" {
			fmt.Fprintf(out, "  %s/%s: %s\n", v.Namespace, v.Name, line)
		}
	}
}

// ownersText lists the owners a usage scan found and the identity a
// non-root mover takes (""  without owners): what the restricted Pod
// Security Standard changes.
func ownersText(u *ferryv1.VolumeUsage) string {
	if u == nil || len(u.Owners) == 0 {
		return ""
	}
	var owners []string
	for _, o := range u.Owners {
		owners = append(owners, fmt.Sprintf("%d:%d (%d files, %s)", o.UID, o.GID, o.Files, planning.HumanBytes(o.Bytes)))
	}
	if u.OtherOwners > 0 {
		owners = append(owners, fmt.Sprintf("%d other owners (%d files)", u.OtherOwners, u.OtherOwnerFiles))
	}
	s := "owners " + strings.Join(owners, ", ")
	if u.NonRoot != "" {
		s += "; a non-root mover runs as " + u.NonRoot
		if u.UnreadableFiles > 0 {
			s += fmt.Sprintf(" and cannot read %d files (%s, for one)", u.UnreadableFiles, u.UnreadableExample)
		}
	}
	return s
}

// claimPath is the data path of a claim of the list: "-" for one whose
// data is not copied.
func claimPath(v ferryv1.PlanPVC) string {
	switch {
	case v.Action != ferryv1.PVCActionCopy:
		return "-"
	case v.DataPath == "":
		return string(ferryv1.DataPathDirect)
	}
	return string(v.DataPath)
}

func ifTrue(cond bool, s string) string {
	if cond {
		return s
	}
	return ""
}

// usedText is a claim's measured used space, its inodes and how it was
// measured, "?" when unknown and "-" before the first measurement.
func usedText(u *ferryv1.VolumeUsage) string {
	switch {
	case u == nil:
		return "-"
	case !u.Known():
		return "?"
	}
	s := planning.HumanBytes(*u.UsedBytes)
	if u.UsedInodes != nil {
		s += fmt.Sprintf(", %d inodes", *u.UsedInodes)
	}
	return s + " (" + strings.ToLower(string(u.Method)) + ")"
}

// dataPathText is the plan's data path, its repository and the claims
// that take the other path.
func dataPathText(s *ferryv1.PlanSpec) string {
	path := s.DataPath
	if path == "" {
		path = ferryv1.DataPathDirect
	}
	text := string(path)
	if s.Repository != "" {
		text += ", repository " + s.Repository
	}
	var other []string
	for _, o := range s.PersistentVolumeClaims {
		if o.DataPath != "" && o.DataPath != path {
			other = append(other, fmt.Sprintf("%s/%s %s", o.Namespace, o.Name, o.DataPath))
		}
	}
	if len(other) > 0 {
		text += " (claims: " + strings.Join(other, ", ") + ")"
	}
	return text
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// parsePVCOverride parses a --pvc value, NS/NAME:KEY=VALUE,...
func parsePVCOverride(v string) (ferryv1.PVCOverride, error) {
	bad := func(format string, args ...any) (ferryv1.PVCOverride, error) {
		return ferryv1.PVCOverride{}, fmt.Errorf("--pvc %q: "+format+" (use NS/NAME:KEY=VALUE,... with keys action, name, class, capacity, access, path, verify)", append([]any{v}, args...)...)
	}
	claim, changes, _ := strings.Cut(v, ":")
	ns, name, ok := strings.Cut(claim, "/")
	if !ok || ns == "" || name == "" {
		return bad("name the claim as NAMESPACE/NAME")
	}
	o := ferryv1.PVCOverride{Namespace: ns, Name: name}
	if changes == "" {
		return bad("no change given")
	}
	for kv := range strings.SplitSeq(changes, ",") {
		key, val, ok := strings.Cut(kv, "=")
		if !ok || val == "" {
			return bad("%q is not KEY=VALUE", kv)
		}
		switch key {
		case "action":
			o.Action = ferryv1.PVCAction(val)
		case "name":
			o.TargetName = val
		case "class":
			o.TargetStorageClass = val
		case "capacity":
			q, err := resource.ParseQuantity(val)
			if err != nil {
				return bad("capacity %q: %v", val, err)
			}
			if q.Sign() <= 0 {
				return bad("capacity %q: give a size above zero, e.g. 10Gi", val)
			}
			o.TargetCapacity = &q
		case "access":
			o.TargetAccessModes = strings.Split(val, "+")
		case "path":
			p, err := parseDataPath("path", val)
			if err != nil {
				return bad("%v", err)
			}
			o.DataPath = p
		case "verify":
			b, err := strconv.ParseBool(val)
			if err != nil {
				return bad("verify %q: give true or false", val)
			}
			o.Verify = b
		default:
			return bad("unknown key %q", key)
		}
	}
	return o, nil
}
