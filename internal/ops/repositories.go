package ops

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/objstore"
	"ferry.dev/ferry/internal/repoaccess"
	"ferry.dev/ferry/internal/repository"
)

// Credentials are the keys of an S3 service.
type Credentials struct {
	AccessKeyID, SecretAccessKey string
}

// ParseCredentials reads an AWS-style credentials file (as Velero's
// --secret-file takes): the section [default], or the file's only
// section, or key lines without a section, with the keys
// aws_access_key_id and aws_secret_access_key. Blank lines and lines
// starting with # or ; are skipped. Errors never quote a value.
func ParseCredentials(r io.Reader) (Credentials, error) {
	sections := map[string]map[string]string{}
	var order []string
	cur := ""
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
			continue
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			cur = strings.TrimSpace(strings.TrimPrefix(strings.TrimSuffix(line, "]"), "["))
			cur = strings.TrimPrefix(cur, "profile ")
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return Credentials{}, fmt.Errorf("credentials line %d: want KEY = VALUE or [SECTION]", n)
		}
		if sections[cur] == nil {
			sections[cur] = map[string]string{}
			order = append(order, cur)
		}
		sections[cur][strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
	if err := sc.Err(); err != nil {
		return Credentials{}, fmt.Errorf("read credentials: %w", err)
	}
	keys, ok := sections["default"]
	if !ok {
		if len(order) != 1 {
			return Credentials{}, fmt.Errorf("credentials: no [default] section among %d sections; name the one to use [default]", len(order))
		}
		keys = sections[order[0]]
	}
	c := Credentials{AccessKeyID: keys[ferryv1.RepositoryAccessKeyID], SecretAccessKey: keys[ferryv1.RepositorySecretAccessKey]}
	if c.AccessKeyID == "" || c.SecretAccessKey == "" {
		return Credentials{}, fmt.Errorf("credentials: give both %s and %s", ferryv1.RepositoryAccessKeyID, ferryv1.RepositorySecretAccessKey)
	}
	return c, nil
}

// RepositoryRegistration is what adding a repository takes.
type RepositoryRegistration struct {
	// Name of the Repository on the host.
	Name string
	// Spec of the repository; its Secret references are set by
	// AddRepository.
	Spec ferryv1.RepositorySpec
	// Credentials are stored in the Secret NAME-credentials.
	Credentials Credentials
	// Key, when set, is the encryption key to import (an existing
	// repository's, RepositoryKeySize bytes); else a repository that has
	// none gets a random one. It is stored in the Secret NAME-key.
	Key []byte
}

// Secret names of a repository.
func repositorySecrets(name string) (credentials, key string) {
	return name + "-credentials", name + "-key"
}

// Validate says what is wrong with the registration, if anything.
func (r RepositoryRegistration) Validate() error {
	if err := ValidateName(r.Name); err != nil {
		return err
	}
	if err := ValidateName(r.Name + "-credentials"); err != nil {
		return fmt.Errorf("repository name %q is too long: %w", r.Name, err)
	}
	if r.Key != nil && len(r.Key) != ferryv1.RepositoryKeySize {
		return fmt.Errorf("the key file holds %d bytes: a repository key is %d bytes", len(r.Key), ferryv1.RepositoryKeySize)
	}
	if r.Credentials.AccessKeyID == "" || r.Credentials.SecretAccessKey == "" {
		return fmt.Errorf("give the repository's credentials (--credentials-file)")
	}
	_, err := objstore.NewS3(objstore.Config{Endpoint: r.Spec.Endpoint, Bucket: r.Spec.Bucket, CABundle: r.Spec.CABundle,
		Insecure: r.Spec.InsecureSkipTLSVerify})
	if err != nil {
		return fmt.Errorf("repository %s: %w", r.Name, err)
	}
	return nil
}

// AddRepository stores the repository's credentials and key in Secrets
// and creates the Repository, or updates one of that name; the
// controller checks it (WaitRepositoryChecked). An existing key is kept,
// and a different one to import is refused: the data written under the
// old key would be lost.
func (o *Client) AddRepository(ctx context.Context, r RepositoryRegistration) (*ferryv1.Repository, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	credName, keyName := repositorySecrets(r.Name)
	if err := o.storeRepositoryKey(ctx, r.Name, keyName, r.Key); err != nil {
		return nil, err
	}
	if err := o.putSecret(ctx, credName, map[string][]byte{
		ferryv1.RepositoryAccessKeyID:     []byte(r.Credentials.AccessKeyID),
		ferryv1.RepositorySecretAccessKey: []byte(r.Credentials.SecretAccessKey),
	}); err != nil {
		return nil, fmt.Errorf("store credentials of repository %s: %w", r.Name, err)
	}
	repo := &ferryv1.Repository{ObjectMeta: metav1.ObjectMeta{Name: r.Name, Namespace: o.namespace}}
	_, err := controllerutil.CreateOrUpdate(ctx, o.c, repo, func() error {
		repo.Spec = r.Spec
		repo.Spec.CredentialsSecretRef = ferryv1.SecretReference{Name: credName}
		repo.Spec.KeySecretRef = ferryv1.SecretReference{Name: keyName}
		// A new value asks for a check now, even when nothing changed.
		metav1.SetMetaDataAnnotation(&repo.ObjectMeta, ferryv1.AnnotationValidate, time.Now().UTC().Format(time.RFC3339Nano))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store repository %s: %w", r.Name, err)
	}
	return repo, nil
}

// storeRepositoryKey creates the key Secret with key (a random one when
// nil) unless it exists; an existing Secret with another key than key is
// an error.
func (o *Client) storeRepositoryKey(ctx context.Context, repo, name string, key []byte) error {
	var cur corev1.Secret
	err := o.c.Get(ctx, o.key(name), &cur)
	switch {
	case err == nil:
		if key != nil && !bytes.Equal(cur.Data[ferryv1.RepositoryKey], key) {
			return fmt.Errorf("repository %s has another key already (Secret %s): what was written under it could not be read any more; delete the repository first (ferry repository delete %s) to start over with this key", repo, name, repo)
		}
		return nil
	case !apierrors.IsNotFound(err):
		return fmt.Errorf("get key of repository %s: %w", repo, err)
	}
	if key == nil {
		key = make([]byte, ferryv1.RepositoryKeySize)
		if _, err := rand.Read(key); err != nil {
			return fmt.Errorf("make a key for repository %s: %w", repo, err)
		}
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.namespace,
		Labels: map[string]string{ferryv1.LabelManagedBy: ferryv1.ManagedByValue}}, Data: map[string][]byte{ferryv1.RepositoryKey: key}}
	if err := o.c.Create(ctx, s); err != nil {
		return fmt.Errorf("store key of repository %s: %w", repo, err)
	}
	return nil
}

// putSecret creates or replaces the data of a Secret of Ferry's namespace.
func (o *Client) putSecret(ctx context.Context, name string, data map[string][]byte) error {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: o.namespace}}
	_, err := controllerutil.CreateOrUpdate(ctx, o.c, s, func() error {
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		s.Labels[ferryv1.LabelManagedBy] = ferryv1.ManagedByValue
		s.Data = data
		return nil
	})
	return err
}

// RepositoryCheckTimeout bounds WaitRepositoryChecked.
const RepositoryCheckTimeout = 45 * time.Second

// WaitRepositoryChecked waits until the controller has checked the
// repository's current spec after since (its Secrets may have changed
// without the spec), and returns it.
func (o *Client) WaitRepositoryChecked(ctx context.Context, name string, since time.Time) (*ferryv1.Repository, error) {
	var r ferryv1.Repository
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, RepositoryCheckTimeout, true, func(ctx context.Context) (bool, error) {
		if err := o.c.Get(ctx, o.key(name), &r); err != nil {
			return false, nil
		}
		_, current := repoaccess.Ready(&r)
		return current && r.Status.LastChecked != nil && !r.Status.LastChecked.Time.Before(since.Truncate(time.Second)), nil
	})
	if err != nil {
		return nil, fmt.Errorf("repository %s was not checked within %s; is the controller running? (`ferry controller`): %w", name, RepositoryCheckTimeout, err)
	}
	return &r, nil
}

// GetRepository returns the repository name.
func (o *Client) GetRepository(ctx context.Context, name string) (*ferryv1.Repository, error) {
	var r ferryv1.Repository
	if err := o.c.Get(ctx, o.key(name), &r); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("repository %s not found in %s: add it with `ferry repository add`: %w", name, o.namespace, err)
		}
		return nil, fmt.Errorf("get repository %s: %w", name, err)
	}
	return &r, nil
}

// ListRepositories returns every repository, by name.
func (o *Client) ListRepositories(ctx context.Context) ([]ferryv1.Repository, error) {
	var l ferryv1.RepositoryList
	if err := o.c.List(ctx, &l, client.InNamespace(o.namespace)); err != nil {
		return nil, fmt.Errorf("list repositories: %w", err)
	}
	return l.Items, nil
}

// DeleteRepository deletes a repository and the Secrets Ferry made for
// it (its credentials and its key: keep a copy of the key to read the
// bucket's data again); it refuses while a plan names it, but for plans
// being deleted. The bucket's objects stay.
func (o *Client) DeleteRepository(ctx context.Context, name string) error {
	r, err := o.GetRepository(ctx, name)
	if err != nil {
		return err
	}
	plans, err := o.ListPlans(ctx)
	if err != nil {
		return err
	}
	var users []string
	for _, p := range plans {
		// A plan being deleted waits to remove its snapshots; deleting
		// the repository lets it go without (the bucket keeps them).
		if p.Spec.Repository == name && p.DeletionTimestamp == nil {
			users = append(users, p.Name)
		}
	}
	if len(users) > 0 {
		return fmt.Errorf("repository %s is in plans %v: delete them first, or create them again without --repository %s", name, users, name)
	}
	if err := o.c.Delete(ctx, r); client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("delete repository %s: %w", name, err)
	}
	for _, ref := range []string{r.Spec.CredentialsSecretRef.Name, r.Spec.KeySecretRef.Name} {
		if err := o.deleteManagedSecret(ctx, ref); err != nil {
			return fmt.Errorf("delete Secret %s of repository %s: %w", ref, name, err)
		}
	}
	return nil
}

// deleteManagedSecret deletes a Secret Ferry made (a user's own is left).
func (o *Client) deleteManagedSecret(ctx context.Context, name string) error {
	if name == "" {
		return nil
	}
	var s corev1.Secret
	if err := o.c.Get(ctx, o.key(name), &s); err != nil {
		return client.IgnoreNotFound(err)
	}
	if s.Labels[ferryv1.LabelManagedBy] != ferryv1.ManagedByValue {
		return nil
	}
	return client.IgnoreNotFound(o.c.Delete(ctx, &s))
}

// PruneRepository removes from the repository's bucket what no snapshot
// uses (see repository.Prune); it fails while backups or restores run.
func (o *Client) PruneRepository(ctx context.Context, name string) (repository.PruneResult, error) {
	r, err := o.GetRepository(ctx, name)
	if err != nil {
		return repository.PruneResult{}, err
	}
	rp, err := repoaccess.OpenRepository(ctx, o.c, r)
	if err != nil {
		return repository.PruneResult{}, fmt.Errorf("open repository %s: %w", name, err)
	}
	return rp.Prune(ctx)
}
