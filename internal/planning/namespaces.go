package planning

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/resources/migrate"
)

// maxForeign is how many foreign objects a conflict names.
const maxForeign = 5

// checkSameNamespace rejects, within one cluster, a namespace migrated
// onto itself.
func checkSameNamespace(_ context.Context, p *ferryv1.Plan, s migrate.Scope, _, _ *cluster.Clients, res *Result) error {
	if p.Spec.SourceCluster != p.Spec.DestinationCluster {
		return nil
	}
	for _, m := range s.Namespaces {
		if m.Source == m.Destination {
			res.Problem = &cluster.Problem{Reason: ferryv1.ReasonInvalidSpec, Message: fmt.Sprintf(
				"namespace %s would be migrated onto itself: within one cluster, rename it (%s:NEW-NAME)", m.Source, m.Source)}
		}
	}
	return nil
}

// checkSourceNamespaces requires that the source namespaces exist.
func checkSourceNamespaces(ctx context.Context, _ *ferryv1.Plan, s migrate.Scope, src, _ *cluster.Clients, res *Result) error {
	var missing []string
	for _, m := range s.Namespaces {
		_, err := src.Kube.CoreV1().Namespaces().Get(ctx, m.Source, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			missing = append(missing, m.Source)
		} else if apierrors.IsForbidden(err) && src.AsUser {
			continue // not the user's: checkSourceAccess says so
		} else if err != nil {
			return fmt.Errorf("get namespace %s on cluster %s: %w", m.Source, src.Name, err)
		}
	}
	if len(missing) > 0 {
		res.Problem = &cluster.Problem{Reason: ferryv1.ReasonNamespaceNotFound, Message: fmt.Sprintf(
			"namespace %s does not exist on source cluster %s: fix the plan's namespaces", strings.Join(missing, ", "), src.Name)}
	}
	return nil
}

// checkConflicts rejects a destination namespace that this plan did not
// create and that holds objects of others; the objects every namespace
// gets (kube-root-ca.crt, service account tokens) do not count.
func checkConflicts(ctx context.Context, p *ferryv1.Plan, s migrate.Scope, _, dst *cluster.Clients, res *Result) error {
	for _, m := range s.Namespaces {
		ns, err := dst.Kube.CoreV1().Namespaces().Get(ctx, m.Destination, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (apierrors.IsForbidden(err) && dst.AsUser) {
			continue // a namespace the user may not read is refused by the access checks
		}
		if err != nil {
			return fmt.Errorf("get namespace %s on cluster %s: %w", m.Destination, dst.Name, err)
		}
		if ns.Labels[ferryv1.LabelPlan] == p.Name {
			continue
		}
		foreign, err := foreignObjects(ctx, dst, m.Destination, p.Name)
		if err != nil {
			return err
		}
		if len(foreign) > 0 {
			res.Problem = &cluster.Problem{Reason: ferryv1.ReasonNamespaceConflict, Message: fmt.Sprintf(
				"namespace %s on destination cluster %s already holds objects Ferry did not create (%s): migrate into another namespace (%s:NEW-NAME) or empty it",
				m.Destination, dst.Name, strings.Join(foreign, ", "), m.Source)}
			return nil
		}
	}
	return nil
}

// foreignObjects names up to maxForeign objects in namespace ns of the
// destination that carry no label of plan, of the kinds a migration
// usually brings.
func foreignObjects(ctx context.Context, dst *cluster.Clients, ns, plan string) ([]string, error) {
	notOurs, _ := labels.Parse(ferryv1.LabelPlan + "!=" + plan)
	opts := metav1.ListOptions{LabelSelector: notOurs.String(), Limit: 50}
	var found []string
	cms, err := dst.Kube.CoreV1().ConfigMaps(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("list configmaps in %s: %w", ns, err)
	}
	for _, o := range cms.Items {
		if o.Name != "kube-root-ca.crt" {
			found = append(found, "ConfigMap "+o.Name)
		}
	}
	secrets, err := dst.Kube.CoreV1().Secrets(ns).List(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("list secrets in %s: %w", ns, err)
	}
	for _, o := range secrets.Items {
		// Ferry's own Secrets (a namespace admin's Cluster tokens, when
		// their namespace on the host is also the destination) are no
		// application's.
		if o.Type != corev1.SecretTypeServiceAccountToken && o.Labels[ferryv1.LabelManagedBy] != ferryv1.ManagedByValue {
			found = append(found, "Secret "+o.Name)
		}
	}
	for _, f := range []func() ([]string, error){
		func() ([]string, error) {
			l, err := dst.Kube.AppsV1().Deployments(ns).List(ctx, opts)
			return kindNames("Deployment", l, err)
		},
		func() ([]string, error) {
			l, err := dst.Kube.AppsV1().StatefulSets(ns).List(ctx, opts)
			return kindNames("StatefulSet", l, err)
		},
		func() ([]string, error) {
			l, err := dst.Kube.CoreV1().Services(ns).List(ctx, opts)
			return kindNames("Service", l, err)
		},
		func() ([]string, error) {
			l, err := dst.Kube.CoreV1().PersistentVolumeClaims(ns).List(ctx, opts)
			return kindNames("PersistentVolumeClaim", l, err)
		},
	} {
		n, err := f()
		if err != nil {
			return nil, err
		}
		found = append(found, n...)
	}
	return truncate(found, maxForeign), nil
}

// truncate keeps the first n names and says how many more there are.
func truncate(names []string, n int) []string {
	if len(names) <= n {
		return names
	}
	return append(names[:n:n], fmt.Sprintf("and %d more", len(names)-n))
}

// kindNames lists "Kind name" for the items of any typed list.
func kindNames(kind string, list runtime.Object, err error) ([]string, error) {
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", kind, err)
	}
	items, err := apimeta.ExtractList(list)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, it := range items {
		a, err := apimeta.Accessor(it)
		if err != nil {
			return nil, err
		}
		out = append(out, kind+" "+a.GetName())
	}
	return out, nil
}
