package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/pflag"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/config"
	"ferry.dev/ferry/internal/cluster"
	"ferry.dev/ferry/internal/controller"
	"ferry.dev/ferry/internal/ops"
	"ferry.dev/ferry/internal/userconfig"
)

// hostOptions are the flags that pick the host cluster, as kubectl does.
type hostOptions struct {
	kubeconfig string
	context    string
	namespace  string
}

func (o *hostOptions) bindFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig of the host cluster (default: $KUBECONFIG or ~/.kube/config)")
	fs.StringVar(&o.context, "context", "", "kubeconfig context of the host cluster")
	fs.StringVar(&o.namespace, "ferry-namespace", ops.Namespace(), "namespace of Ferry's objects on the host cluster (default from $FERRY_NAMESPACE, else ferry-system)")
}

// restConfig loads the host cluster's configuration.
func (o *hostOptions) restConfig() (*rest.Config, error) {
	return loadConfig(o.kubeconfig, o.context)
}

func loadConfig(path, context string) (*rest.Config, error) {
	return userconfig.Load(path, context)
}

// host is a connection to the host cluster.
type host struct {
	cfg       *rest.Config
	c         client.Client
	namespace string
	ops       *ops.Client
}

func (o *hostOptions) connect() (*host, error) {
	cfg, err := o.restConfig()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: cluster.Scheme()})
	if err != nil {
		return nil, fmt.Errorf("connect to the host cluster: %w", err)
	}
	return &host{cfg: cfg, c: c, namespace: o.namespace, ops: ops.New(c, o.namespace)}, nil
}

// install creates Ferry's namespace and CRDs on the host when missing or
// older, and waits until the CRDs are served.
func (h *host) install(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: h.namespace}}
	if err := h.c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create namespace %s on the host: %w", h.namespace, err)
	}
	crds, err := config.CRDObjects()
	if err != nil {
		return err
	}
	for _, crd := range crds {
		if err := h.putCRD(ctx, crd); err != nil {
			return fmt.Errorf("install CRD %s: %w", crd.Name, err)
		}
		if err := h.waitEstablished(ctx, crd.Name); err != nil {
			return err
		}
	}
	return nil
}

// putCRD creates the CRD, or updates it to this version of Ferry's,
// unless the host's is of a newer schema (config.SchemaVersion): that one
// is left as it is, with a warning, so that an older binary never drops
// the fields of a newer one.
func (h *host) putCRD(ctx context.Context, crd *apiextensionsv1.CustomResourceDefinition) error {
	ours := strconv.Itoa(config.SchemaVersion)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var existing apiextensionsv1.CustomResourceDefinition
		err := h.c.Get(ctx, client.ObjectKey{Name: crd.Name}, &existing)
		if apierrors.IsNotFound(err) {
			c := crd.DeepCopy()
			metav1.SetMetaDataAnnotation(&c.ObjectMeta, config.AnnotationSchemaVersion, ours)
			return h.c.Create(ctx, c)
		}
		if err != nil {
			return err
		}
		theirs, _ := strconv.Atoi(existing.Annotations[config.AnnotationSchemaVersion])
		if theirs > config.SchemaVersion {
			slog.Warn("the host's CRD is newer than this ferry binary; left as it is: update ferry", "crd", crd.Name, "host", theirs, "ours", config.SchemaVersion)
			return nil
		}
		if theirs == config.SchemaVersion && equality.Semantic.DeepEqual(existing.Spec, crd.Spec) {
			return nil
		}
		existing.Spec = crd.Spec
		metav1.SetMetaDataAnnotation(&existing.ObjectMeta, config.AnnotationSchemaVersion, ours)
		return h.c.Update(ctx, &existing)
	})
}

func (h *host) waitEstablished(ctx context.Context, name string) error {
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := h.c.Get(ctx, client.ObjectKey{Name: name}, &crd); err != nil {
			return false, nil
		}
		for _, c := range crd.Status.Conditions {
			if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
				return true, nil
			}
		}
		return false, nil
	})
}

// controllerRunning reports whether a controller holds a fresh lease.
func (h *host) controllerRunning(ctx context.Context) bool {
	var l coordinationv1.Lease
	if err := h.c.Get(ctx, client.ObjectKey{Namespace: h.namespace, Name: controller.LeaderElectionID}, &l); err != nil {
		return false
	}
	if l.Spec.HolderIdentity == nil || *l.Spec.HolderIdentity == "" || l.Spec.RenewTime == nil || l.Spec.LeaseDurationSeconds == nil {
		return false
	}
	return time.Since(l.Spec.RenewTime.Time) < time.Duration(*l.Spec.LeaseDurationSeconds)*time.Second
}

// connectWithController connects to the host and makes sure a controller
// runs there (see ensureController); stop ends an in-process one.
func (o *hostOptions) connectWithController(ctx context.Context) (h *host, stop func(), inProcess bool, err error) {
	if h, err = o.connect(); err != nil {
		return nil, nil, false, err
	}
	stop, inProcess, err = h.ensureController(ctx)
	return h, stop, inProcess, err
}

// ensureController makes sure a controller runs: when none does, it
// installs the CRDs and starts one in this process, logging through the
// context's logger (see --log-level); stop ends it cleanly.
func (h *host) ensureController(ctx context.Context) (stop func(), inProcess bool, err error) {
	if h.controllerRunning(ctx) {
		return func() {}, false, nil
	}
	if err := h.install(ctx); err != nil {
		return nil, false, err
	}
	log := logr.FromContextOrDiscard(ctx)
	image, err := h.moverImage(ctx, os.Getenv("FERRY_MOVER_IMAGE"), nil)
	if err != nil {
		return nil, false, err
	}
	mgr, err := controller.NewManager(h.cfg, controller.Options{Namespace: h.namespace, ReleaseOnCancel: true, MoverImage: image, Logger: log})
	if err != nil {
		return nil, false, err
	}
	mctx, cancel := context.WithCancel(logr.NewContext(context.Background(), log))
	done := make(chan struct{})
	var startErr error
	go func() {
		defer close(done)
		if startErr = mgr.Start(mctx); startErr != nil {
			log.Error(startErr, "in-process controller stopped")
		}
	}()
	select {
	case <-mgr.Elected():
	case <-done:
		cancel()
		if startErr == nil {
			startErr = errors.New("no error given")
		}
		return nil, false, fmt.Errorf("the in-process controller stopped before it became the leader: %w", startErr)
	case <-time.After(30 * time.Second):
		beginStop(ctx)
		cancel()
		<-done
		return nil, false, fmt.Errorf("another controller holds the lease %s/%s: wait for it or stop it", h.namespace, controller.LeaderElectionID)
	}
	log.V(1).Info("started the controller in this process", "namespace", h.namespace)
	return func() { beginStop(ctx); cancel(); <-done }, true, nil
}

// moverImage picks the data movers' image (see ops.MoverImage), else
// what fallback (when not nil) finds, and logs where it came from;
// without one, it warns that volume copies will fail and says how to set
// one.
func (h *host) moverImage(ctx context.Context, explicit string, fallback func() string) (string, error) {
	log := logr.FromContextOrDiscard(ctx)
	image, source, err := h.ops.MoverImage(ctx, explicit)
	if err != nil {
		return "", err
	}
	if image == "" && fallback != nil {
		image, source = fallback(), "the controller's own image"
	}
	if image == "" {
		slog.Warn("no mover image: copies of volume data will fail; set one with `ferry config set mover-image IMAGE`, --mover-image or FERRY_MOVER_IMAGE")
		return "", nil
	}
	log.Info("data movers run this image", "image", image, "from", source)
	return image, nil
}
