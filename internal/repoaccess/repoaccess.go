// Package repoaccess opens the object store of a Repository: its spec and
// the keys of its credentials Secret make an objstore.Config, and its key
// Secret holds the encryption key. The controller's check, the CLI and
// the data path all open a repository through it.
//
// # Caveats
//
// The keys are read from the Secrets each time and never kept, logged or
// put in an error's message.
package repoaccess

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/objstore"
	"ferry.dev/ferry/internal/repository"
)

// CheckTimeout bounds one check of a repository.
const CheckTimeout = 20 * time.Second

// Config returns the objstore configuration of the repository, with the
// keys of its credentials Secret. A missing Secret or key is a
// *objstore.CheckError of reason SecretMissing.
func Config(ctx context.Context, c client.Reader, r *ferryv1.Repository) (objstore.Config, error) {
	cfg := objstore.Config{Endpoint: r.Spec.Endpoint, Bucket: r.Spec.Bucket, Prefix: r.Spec.Prefix, Region: r.Spec.Region,
		PathStyle: r.Spec.PathStyle, Insecure: r.Spec.InsecureSkipTLSVerify, CABundle: r.Spec.CABundle}
	data, err := secretData(ctx, c, r, "credentials", r.Spec.CredentialsSecretRef.Name, ferryv1.RepositoryAccessKeyID, ferryv1.RepositorySecretAccessKey)
	if err != nil {
		return cfg, err
	}
	cfg.AccessKey, cfg.SecretKey = string(data[ferryv1.RepositoryAccessKeyID]), string(data[ferryv1.RepositorySecretAccessKey])
	return cfg, nil
}

// Open returns the repository's store.
func Open(ctx context.Context, c client.Reader, r *ferryv1.Repository) (*objstore.S3, error) {
	cfg, err := Config(ctx, c, r)
	if err != nil {
		return nil, err
	}
	return objstore.NewS3(cfg)
}

// Key returns the repository's encryption key (RepositoryKeySize bytes).
func Key(ctx context.Context, c client.Reader, r *ferryv1.Repository) ([]byte, error) {
	data, err := secretData(ctx, c, r, "key", r.Spec.KeySecretRef.Name, ferryv1.RepositoryKey)
	if err != nil {
		return nil, err
	}
	key := data[ferryv1.RepositoryKey]
	if len(key) != ferryv1.RepositoryKeySize {
		return nil, &objstore.CheckError{Reason: ferryv1.ReasonRepositorySecretMissing, Message: fmt.Sprintf(
			"key %s of Secret %s holds %d bytes, not %d: import the repository's key again (ferry repository add %s ... --key-file FILE)",
			ferryv1.RepositoryKey, r.Spec.KeySecretRef.Name, len(key), ferryv1.RepositoryKeySize, r.Name)}
	}
	return key, nil
}

// secretData reads the Secret name of the repository's namespace and
// checks it has the keys.
func secretData(ctx context.Context, c client.Reader, r *ferryv1.Repository, what, name string, keys ...string) (map[string][]byte, error) {
	missing := func(why string) error {
		return &objstore.CheckError{Reason: ferryv1.ReasonRepositorySecretMissing, Message: fmt.Sprintf(
			"the %s Secret %s %s: add the repository again (ferry repository add %s ...), which stores it", what, name, why, r.Name)}
	}
	if name == "" {
		return nil, missing("is not named in the spec")
	}
	var s corev1.Secret
	err := c.Get(ctx, client.ObjectKey{Namespace: r.Namespace, Name: name}, &s)
	if apierrors.IsNotFound(err) {
		return nil, missing("does not exist in " + r.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s Secret %s of repository %s: %w", what, name, r.Name, err)
	}
	for _, k := range keys {
		if len(s.Data[k]) == 0 {
			return nil, missing("has no key " + k)
		}
	}
	return s.Data, nil
}

// Check opens the repository and checks its store (objstore.Check),
// within CheckTimeout. The condition is Ready True, or False with the
// reason and a message that says what to do; err is only for what kept
// the check from running (the API server failing).
func Check(ctx context.Context, c client.Reader, r *ferryv1.Repository) (metav1.Condition, error) {
	cond := metav1.Condition{Type: ferryv1.ConditionReady, ObservedGeneration: r.Generation, Status: metav1.ConditionFalse}
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	cfg, err := Config(ctx, c, r)
	if err == nil {
		_, err = Key(ctx, c, r)
	}
	var s *objstore.S3
	if err == nil {
		cfg.MaxRetries = 1
		s, err = objstore.NewS3(cfg)
	}
	if err == nil {
		err = objstore.Check(ctx, s)
	}
	var ce *objstore.CheckError
	switch {
	case err == nil:
		cond.Status, cond.Reason = metav1.ConditionTrue, ferryv1.ReasonReady
		cond.Message = s.String() + " can be listed, written, read and deleted from"
		return cond, nil
	case errors.As(err, &ce):
		cond.Reason, cond.Message = ce.Reason, ce.Message
		return cond, nil
	}
	return cond, err
}

// Ready reports the repository's Ready condition as the controller last
// set it, and whether it describes the current spec.
func Ready(r *ferryv1.Repository) (cond *metav1.Condition, current bool) {
	cond = meta.FindStatusCondition(r.Status.Conditions, ferryv1.ConditionReady)
	return cond, cond != nil && cond.ObservedGeneration == r.Generation
}

// OpenRepository opens the replication repository in the Repository's
// store with its key, loading its index.
func OpenRepository(ctx context.Context, c client.Reader, r *ferryv1.Repository) (*repository.Repository, error) {
	s, err := Open(ctx, c, r)
	if err != nil {
		return nil, err
	}
	key, err := Key(ctx, c, r)
	if err != nil {
		return nil, err
	}
	k, err := repository.ParseKey(key)
	if err != nil {
		return nil, err
	}
	return repository.Open(ctx, s, k)
}
