package planning

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/migrate"
)

// gib is the unit proposed capacities are rounded up to.
const gib = 1 << 30

// ProposeCapacity is the capacity a destination claim needs for used
// bytes of data: used plus headroom percent, rounded up to a whole GiB,
// and never below request (the source's request; zero when it has none).
func ProposeCapacity(used int64, headroom int32, request resource.Quantity) resource.Quantity {
	need := new(big.Int).Mul(big.NewInt(used), big.NewInt(100+int64(headroom)))
	need.Add(need, big.NewInt(100*gib-1))
	need.Quo(need, big.NewInt(100*gib)) // whole GiB, rounded up
	if need.Sign() == 0 {
		need.SetInt64(1) // data holds no block: the smallest whole GiB
	}
	gibs := int64(math.MaxInt64 / gib) // the most a quantity of bytes holds
	if need.IsInt64() && need.Int64() < gibs {
		gibs = need.Int64()
	}
	q := *resource.NewQuantity(gibs*gib, resource.BinarySI)
	if request.Cmp(q) > 0 {
		return request.DeepCopy()
	}
	return q
}

// applyUsage puts the measured usage of each claim (the plan's
// status.usage, which the plan's controller keeps) into the claim list,
// with its proposed capacity; with spec.autoResize the proposal becomes
// the target capacity of a claim the migration creates, unless the
// plan's override gives one (the user's explicit capacity wins).
func applyUsage(_ context.Context, p *ferryv1.Plan, _ migrate.Scope, _, _ *cluster.Clients, res *Result) error {
	measured := map[string]ferryv1.VolumeUsage{}
	for _, u := range p.Status.Usage {
		measured[u.Namespace+"/"+u.Name] = u.VolumeUsage
	}
	explicit := map[string]bool{}
	for _, o := range p.Spec.PersistentVolumeClaims {
		explicit[o.Namespace+"/"+o.Name] = o.TargetCapacity != nil
	}
	for i := range res.PVCs {
		c := &res.PVCs[i]
		u, ok := measured[c.Namespace+"/"+c.Name]
		if !ok {
			continue
		}
		c.Usage = u.DeepCopy()
		if !u.Known() {
			continue
		}
		proposal := ProposeCapacity(*u.UsedBytes, p.Spec.Headroom(), quantity(c.Capacity))
		c.ProposedCapacity = proposal.String()
		if p.Spec.AutoResize && !c.TargetExists && !explicit[c.Namespace+"/"+c.Name] {
			c.TargetCapacity = c.ProposedCapacity
		}
	}
	return nil
}

// checkCapacity refuses a plan whose copies would not fit: a claim to
// copy whose measured used bytes exceed the capacity of its destination
// claim (the target capacity, else the source's request), before any data
// moves. With spec.autoResize, a claim whose usage could not be measured
// and that has no explicit capacity is refused too: there is no figure to
// resize by. Without it, unknown usage does not block.
func checkCapacity(_ context.Context, p *ferryv1.Plan, _ migrate.Scope, _, _ *cluster.Clients, res *Result) error {
	var full, unknown []string
	for _, c := range res.Copied() {
		if !c.Usage.Known() {
			if p.Spec.AutoResize && !c.TargetExists && c.ProposedCapacity == "" && c.TargetCapacity == "" {
				unknown = append(unknown, unknownUsage(c))
			}
			continue
		}
		if msg := notFitting(c); msg != "" {
			full = append(full, msg)
		}
	}
	switch {
	case len(full) > 0:
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonInsufficientCapacity, Message: strings.Join(full, "; ")}
	case len(unknown) > 0:
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonUsageUnknown, Message: strings.Join(unknown, "; ")}
	}
	return nil
}

// targetCapacity is what the destination claim of c will have: its
// target capacity, else the source's request.
func targetCapacity(c ferryv1.PlanPVC) (resource.Quantity, bool) {
	s := c.TargetCapacity
	if s == "" {
		s = c.Capacity
	}
	q, err := resource.ParseQuantity(s)
	return q, err == nil
}

// notFitting says why the data of claim c does not fit its destination
// claim and what to do, or "".
func notFitting(c ferryv1.PlanPVC) string {
	target, ok := targetCapacity(c)
	used := *c.Usage.UsedBytes
	if !ok || target.Value() >= used {
		return ""
	}
	claim := c.Namespace + "/" + c.Name
	if c.TargetExists {
		return fmt.Sprintf("claim %s data holds %s, destination claim %s/%s has capacity %s: enlarge that claim to at least %s, or delete it so that Ferry creates one",
			claim, HumanBytes(used), c.TargetNamespace, c.TargetName, HumanBytes(target.Value()), c.ProposedCapacity)
	}
	return fmt.Sprintf("claim %s data holds %s, destination capacity %s: let Ferry resize it (--auto-resize, proposed %s) or give a capacity (--pvc %s:capacity=%s)",
		claim, HumanBytes(used), HumanBytes(target.Value()), c.ProposedCapacity, claim, c.ProposedCapacity)
}

// unknownUsage says that autoResize has no figure for claim c.
func unknownUsage(c ferryv1.PlanPVC) string {
	why := "it has not been measured"
	if c.Usage != nil && c.Usage.Unknown != "" {
		why = c.Usage.Unknown
	}
	claim := c.Namespace + "/" + c.Name
	return fmt.Sprintf("the used space of claim %s is unknown (%s), so --auto-resize cannot size it: give its capacity (--pvc %s:capacity=SIZE) or fix what stops the measurement",
		claim, why, claim)
}

// quantity parses s, zero when it is not a quantity.
func quantity(s string) resource.Quantity {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return resource.Quantity{}
	}
	return q
}

// HumanBytes writes n bytes in binary units with one decimal ("7.3 GiB").
func HumanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
