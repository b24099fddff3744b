package console

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/ops"
	"ferry.dev/ferry/internal/userconfig"
)

// apiRoutes is the API of docs/console.md, each with the access it needs
// (ModeToken checks it by SubjectAccessReview). /api/events checks the
// list verb of each kind itself.
func (s *Server) apiRoutes() []route {
	const get, post, put, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	return []route{
		{method: get, pattern: "/api/session", handle: s.getSession},
		{method: del, pattern: "/api/session", handle: s.endSession},
		{method: get, pattern: "/api/clusters", verb: "list", resource: "clusters", handle: s.listClusters},
		{method: post, pattern: "/api/clusters", verb: "create", resource: "clusters", handle: s.addCluster},
		{method: del, pattern: "/api/clusters/{name}", verb: "delete", resource: "clusters", nameParam: "name", handle: s.deleteCluster},
		{method: get, pattern: "/api/clusters/{name}/namespaces", verb: "get", resource: "clusters", nameParam: "name", handle: s.clusterNamespaces},
		{method: get, pattern: "/api/repositories", verb: "list", resource: "repositories", handle: s.listRepositories},
		{method: post, pattern: "/api/repositories", verb: "create", resource: "repositories", handle: s.addRepository},
		{method: del, pattern: "/api/repositories/{name}", verb: "delete", resource: "repositories", nameParam: "name", handle: s.deleteRepository},
		{method: get, pattern: "/api/hooks", verb: "list", resource: "hooks", handle: s.listHooks},
		{method: get, pattern: "/api/plans", verb: "list", resource: "plans", handle: s.listPlans},
		{method: post, pattern: "/api/plans", verb: "create", resource: "plans", handle: s.createPlan},
		{method: get, pattern: "/api/plans/{name}", verb: "get", resource: "plans", nameParam: "name", handle: s.getPlan},
		{method: put, pattern: "/api/plans/{name}", verb: "update", resource: "plans", nameParam: "name", handle: s.updatePlan},
		{method: del, pattern: "/api/plans/{name}", verb: "delete", resource: "plans", nameParam: "name", handle: s.deletePlan},
		{method: get, pattern: "/api/plans/{name}/review", verb: "get", resource: "plans", nameParam: "name", handle: s.reviewPlan},
		{method: post, pattern: "/api/plans/{name}/migrations", verb: "create", resource: "migrations", handle: s.startMigration},
		{method: get, pattern: "/api/migrations", verb: "list", resource: "migrations", handle: s.listMigrations},
		{method: get, pattern: "/api/migrations/{name}", verb: "get", resource: "migrations", nameParam: "name", handle: s.getMigration},
		{method: post, pattern: "/api/migrations/{name}/cancel", verb: "patch", resource: "migrations", nameParam: "name", handle: s.cancelMigration},
		{method: post, pattern: "/api/migrations/{name}/retry", verb: "patch", resource: "migrations", nameParam: "name", handle: s.retryMigration},
		{method: get, pattern: "/api/migrations/{name}/report", verb: "get", resource: "migrations", nameParam: "name", handle: s.migrationReport},
		{method: get, pattern: "/api/migrations/{name}/debug", verb: "get", resource: "migrations", nameParam: "name", handle: s.migrationDebug},
		{method: get, pattern: "/api/events", handle: s.streamEvents},
	}
}

// list is the answer of a list: {"items": [...]}.
type list[T any] struct {
	Items []T `json:"items"`
}

func answerList[T any](c *call, items []T, err error) error {
	if err != nil {
		return err
	}
	if items == nil {
		items = []T{}
	}
	writeJSON(c.w, http.StatusOK, list[T]{Items: items})
	return nil
}

// withKind sets the apiVersion and kind that a typed client's objects
// lack, so that answers read as `kubectl get -o json`.
func withKind(tm *metav1.TypeMeta, kind string) {
	tm.APIVersion, tm.Kind = ferryv1.GroupVersion.String(), kind
}

// warn adds a Warning header (RFC 7234 code 299, as the Kubernetes API
// server sends them) for something the request did not achieve.
func warn(w http.ResponseWriter, msg string) {
	w.Header().Add("Warning", fmt.Sprintf("299 ferry %q", msg))
}

func (s *Server) listClusters(c *call) error {
	items, err := s.ops.ListClusters(c.ctx())
	for i := range items {
		withKind(&items[i].TypeMeta, "Cluster")
	}
	return answerList(c, items, err)
}

func (s *Server) listRepositories(c *call) error {
	items, err := s.ops.ListRepositories(c.ctx())
	for i := range items {
		withKind(&items[i].TypeMeta, "Repository")
	}
	return answerList(c, items, err)
}

func (s *Server) listHooks(c *call) error {
	items, err := s.ops.ListHooks(c.ctx())
	for i := range items {
		withKind(&items[i].TypeMeta, "Hook")
	}
	return answerList(c, items, err)
}

func (s *Server) listPlans(c *call) error {
	items, err := s.ops.ListPlans(c.ctx())
	for i := range items {
		withKind(&items[i].TypeMeta, "Plan")
	}
	return answerList(c, items, err)
}

func (s *Server) listMigrations(c *call) error {
	plan := c.r.URL.Query().Get("plan")
	if plan != "" {
		if err := ops.ValidateName(plan); err != nil {
			return badRequest(fmt.Errorf("?plan=: %w", err))
		}
	}
	items, err := s.ops.ListMigrations(c.ctx(), plan)
	for i := range items {
		withKind(&items[i].TypeMeta, "Migration")
	}
	return answerList(c, items, err)
}

// clusterRequest is the body of POST /api/clusters.
type clusterRequest struct {
	Name         string `json:"name"`
	Server       string `json:"server"`
	Token        string `json:"token"`
	CABundle     string `json:"caBundle"`
	Insecure     bool   `json:"insecure"`
	Role         string `json:"role"`
	MoverService string `json:"moverService"`
	// MoverIngressClass and MoverIngressDomain go with moverService Ingress.
	MoverIngressClass   string           `json:"moverIngressClass"`
	MoverIngressDomain  string           `json:"moverIngressDomain"`
	Registry            *registryRequest `json:"registry"`
	ClusterScopedWrites bool             `json:"clusterScopedWrites"`
	// TokenTTL is Ferry's token's lifetime, a Go duration ("24h").
	TokenTTL string `json:"tokenTTL"`
	// AsUser stores the given token itself (a namespace admin's own) as
	// `ferry cluster add --as-user` does, instead of creating Ferry's
	// service account with it.
	AsUser bool `json:"asUser"`
	// Kubeconfig and Context (ModeLocal only) name a kubeconfig file of
	// the console's machine instead of server and token; it is recorded
	// for the grants of later plans, as `ferry cluster add` does.
	Kubeconfig string `json:"kubeconfig"`
	Context    string `json:"context"`
}

// registryRequest is a cluster's image registry.
type registryRequest struct {
	Address           string `json:"address"`
	InternalAddress   string `json:"internalAddress"`
	Insecure          bool   `json:"insecure"`
	CABundle          string `json:"caBundle"`
	CredentialsSecret string `json:"credentialsSecret"`
	// Username and Password, or Token, are stored in the Secret
	// registry-NAME.
	Username string `json:"username"`
	Password string `json:"password"`
	Token    string `json:"token"`
}

// registration turns the request into an ops registration.
func (s *Server) registration(req clusterRequest) (ops.ClusterRegistration, error) {
	r := ops.ClusterRegistration{Name: req.Name, Role: req.Role, MoverService: req.MoverService,
		MoverIngressClass: req.MoverIngressClass, MoverIngressDomain: req.MoverIngressDomain, ClusterScopedWrites: req.ClusterScopedWrites, AsUser: req.AsUser}
	if r.Role == "" {
		r.Role = ops.RoleBoth
	}
	if req.TokenTTL != "" {
		d, err := time.ParseDuration(req.TokenTTL)
		if err != nil {
			return r, fmt.Errorf("tokenTTL %q: give a duration such as 24h", req.TokenTTL)
		}
		r.TokenTTL = d
	}
	if rg := req.Registry; rg != nil && rg.Address != "" {
		r.Registry = &ferryv1.RegistrySpec{Address: rg.Address, InternalAddress: rg.InternalAddress, Insecure: rg.Insecure}
		if rg.CABundle != "" {
			r.Registry.CABundle = []byte(rg.CABundle)
		}
		if rg.CredentialsSecret != "" {
			r.Registry.CredentialsSecretRef = &ferryv1.SecretReference{Name: rg.CredentialsSecret}
		}
		creds := map[string][]byte{}
		for k, v := range map[string]string{"username": rg.Username, "password": rg.Password, "token": rg.Token} {
			if v != "" {
				creds[k] = []byte(v)
			}
		}
		if len(creds) > 0 {
			if rg.CredentialsSecret != "" {
				return r, errors.New("registry: give credentialsSecret or the credentials, not both")
			}
			r.RegistryCredentials = creds
		}
	}
	cfg, err := s.targetConfig(req)
	if err != nil {
		return r, err
	}
	r.Config = cfg
	r.IsHost = cfg.Host == s.opts.Host.Host
	return r, r.Validate()
}

// targetConfig is how the registration reaches the cluster: its API URL
// and an administrator's token, or (ModeLocal) a kubeconfig.
func (s *Server) targetConfig(req clusterRequest) (*rest.Config, error) {
	if req.Kubeconfig != "" || req.Context != "" {
		if s.opts.Mode != ModeLocal {
			return nil, errors.New("kubeconfig: files are read only by a local console (`ferry console`); give server and token")
		}
		return userconfig.Load(req.Kubeconfig, req.Context)
	}
	if req.Server == "" || req.Token == "" {
		return nil, errors.New("give the cluster's API URL (server) and a token of an administrator there (token); it is used for the registration only and never stored")
	}
	cfg := &rest.Config{Host: req.Server, BearerToken: req.Token, TLSClientConfig: rest.TLSClientConfig{Insecure: req.Insecure}}
	if req.CABundle != "" {
		cfg.CAData = []byte(req.CABundle)
	}
	return cfg, nil
}

// addCluster is POST /api/clusters: `ferry cluster add`.
func (s *Server) addCluster(c *call) error {
	var req clusterRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	r, err := s.registration(req)
	if err != nil {
		return badRequest(err)
	}
	reg, err := s.ops.RegisterCluster(c.ctx(), r)
	if err != nil {
		return withStatus(http.StatusBadRequest, err)
	}
	if req.Kubeconfig != "" || req.Context != "" {
		if err := userconfig.Remember(userconfig.Key(s.opts.Host.Host, s.opts.Namespace, req.Name), req.Kubeconfig, req.Context); err != nil {
			warn(c.w, "the kubeconfig was not recorded for later grants: "+err.Error())
		}
	}
	if p := reg.Problem; p != nil {
		warn(c.w, fmt.Sprintf("Ready: False (%s): %s", p.Reason, p.Message))
	}
	if p := reg.RegistryProblem; p != nil {
		warn(c.w, fmt.Sprintf("RegistryReady: False (%s): %s", p.Reason, p.Message))
	}
	s.log.Info("cluster registered from the console", "cluster", req.Name, "user", c.ss.user.Username)
	cl := reg.Cluster
	if got, err := s.ops.GetCluster(c.ctx(), req.Name); err == nil {
		cl = got
	}
	withKind(&cl.TypeMeta, "Cluster")
	writeJSON(c.w, http.StatusCreated, cl)
	return nil
}

func (s *Server) deleteCluster(c *call) error {
	name := c.r.PathValue("name")
	if err := s.ops.DeleteCluster(c.ctx(), name); err != nil {
		return withStatus(http.StatusConflict, err)
	}
	s.log.Info("cluster removed from the console", "cluster", name, "user", c.ss.user.Username)
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

// repositoryRequest is the body of POST /api/repositories.
type repositoryRequest struct {
	Name      string `json:"name"`
	Endpoint  string `json:"endpoint"`
	Bucket    string `json:"bucket"`
	Prefix    string `json:"prefix"`
	Region    string `json:"region"`
	PathStyle bool   `json:"pathStyle"`
	Insecure  bool   `json:"insecure"`
	CABundle  string `json:"caBundle"`
	AccessKey string `json:"accessKey"`
	SecretKey string `json:"secretKey"`
}

// addRepository is POST /api/repositories: `ferry repository add`, and
// the controller's check of it.
func (s *Server) addRepository(c *call) error {
	var req repositoryRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	r := ops.RepositoryRegistration{Name: req.Name, Spec: ferryv1.RepositorySpec{Endpoint: req.Endpoint, Bucket: req.Bucket,
		Prefix: req.Prefix, Region: req.Region, PathStyle: req.PathStyle, InsecureSkipTLSVerify: req.Insecure},
		Credentials: ops.Credentials{AccessKeyID: req.AccessKey, SecretAccessKey: req.SecretKey}}
	if req.CABundle != "" {
		r.Spec.CABundle = []byte(req.CABundle)
	}
	if err := r.Validate(); err != nil {
		return badRequest(err)
	}
	since := time.Now()
	if _, err := s.ops.AddRepository(c.ctx(), r); err != nil {
		return withStatus(http.StatusBadRequest, err)
	}
	repo, err := s.ops.WaitRepositoryChecked(c.ctx(), req.Name, since)
	if err != nil {
		return err
	}
	withKind(&repo.TypeMeta, "Repository")
	writeJSON(c.w, http.StatusCreated, repo)
	return nil
}

func (s *Server) deleteRepository(c *call) error {
	if err := s.ops.DeleteRepository(c.ctx(), c.r.PathValue("name")); err != nil {
		return withStatus(http.StatusConflict, err)
	}
	c.w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) getPlan(c *call) error {
	p, err := s.ops.GetPlan(c.ctx(), c.r.PathValue("name"))
	if err != nil {
		return err
	}
	withKind(&p.TypeMeta, "Plan")
	writeJSON(c.w, http.StatusOK, p)
	return nil
}

// planRequest is the body of POST and PUT /api/plans.
type planRequest struct {
	Name string           `json:"name"`
	Spec ferryv1.PlanSpec `json:"spec"`
	// Credentials are tokens of the user on the plan's clusters, by
	// Cluster name, with which Ferry is granted the plan's namespaces
	// there (docs/rbac.md); each is sent only to its own cluster and
	// never stored. Without one: the session's token on the host
	// (ModeToken), the kubeconfigs `ferry cluster add` recorded (ModeLocal).
	Credentials map[string]string `json:"credentials"`
}

func (s *Server) createPlan(c *call) error {
	var req planRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	if _, err := s.ops.GetPlan(c.ctx(), req.Name); err == nil {
		return withStatus(http.StatusConflict, fmt.Errorf("plan %s exists: change it with PUT /api/plans/%s, or choose another name", req.Name, req.Name))
	}
	return s.submitPlan(c, req, http.StatusCreated)
}

func (s *Server) updatePlan(c *call) error {
	var req planRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	name := c.r.PathValue("name")
	if req.Name != "" && req.Name != name {
		return badRequest(fmt.Errorf("the body names plan %s, the path %s: a plan cannot be renamed", req.Name, name))
	}
	req.Name = name
	if _, err := s.ops.GetPlan(c.ctx(), name); err != nil {
		return err
	}
	return s.submitPlan(c, req, http.StatusOK)
}

// submitPlan grants, creates or updates and validates the plan
// (ops.SubmitPlan) and answers it; failed grants are Warning headers (the
// plan's Ready condition says what they cost).
func (s *Server) submitPlan(c *call, req planRequest, code int) error {
	p, err := s.ops.NewPlan(req.Name, req.Spec)
	if err != nil {
		return badRequest(err)
	}
	sub, err := s.ops.SubmitPlan(c.ctx(), p, s.credentials(c.ss, req.Credentials))
	if err != nil {
		return err
	}
	for _, err := range sub.GrantErrors {
		warn(c.w, err.Error())
	}
	s.log.Info("plan submitted from the console", "plan", req.Name, "created", sub.Created, "user", c.ss.user.Username)
	withKind(&sub.Plan.TypeMeta, "Plan")
	writeJSON(c.w, code, sub.Plan)
	return nil
}

func (s *Server) deletePlan(c *call) error {
	name := c.r.PathValue("name")
	if _, err := s.ops.DeletePlan(c.ctx(), name); err != nil {
		return err
	}
	s.log.Info("plan deleted from the console", "plan", name, "user", c.ss.user.Username)
	c.w.WriteHeader(http.StatusAccepted)
	return nil
}

// migrationRequest is the body of POST /api/plans/{name}/migrations.
type migrationRequest struct {
	Type ferryv1.MigrationType `json:"type"`
	// Quiesce stops the source application in a cutover (the default).
	Quiesce *bool `json:"quiesce"`
	// Credentials are as in planRequest, for the grants made again
	// before the migration (a rollback deleted the destination's).
	Credentials map[string]string `json:"credentials"`
}

func (s *Server) startMigration(c *call) error {
	var req migrationRequest
	if err := c.decode(&req); err != nil {
		return err
	}
	switch req.Type {
	case ferryv1.MigrationStage, ferryv1.MigrationCutover, ferryv1.MigrationRollback:
	default:
		return badRequest(fmt.Errorf("type %q: use %s, %s or %s", req.Type, ferryv1.MigrationStage, ferryv1.MigrationCutover, ferryv1.MigrationRollback))
	}
	plan := c.r.PathValue("name")
	if active, err := s.ops.Blocker(c.ctx(), plan, ""); err != nil {
		return err
	} else if active != "" {
		return withStatus(http.StatusConflict, fmt.Errorf("migration %s of plan %s is running: wait until it ends, or cancel it", active, plan))
	}
	if res, err := s.ops.Regrant(c.ctx(), plan, s.credentials(c.ss, req.Credentials)); err != nil && res.WasNotGranted {
		warn(c.w, err.Error())
	}
	opts := ops.StartOptions{NoQuiesce: req.Quiesce != nil && !*req.Quiesce}
	m, err := s.ops.StartMigration(c.ctx(), plan, req.Type, opts)
	if err != nil {
		return err
	}
	s.log.Info("migration started from the console", "migration", m.Name, "plan", plan, "type", req.Type, "user", c.ss.user.Username)
	withKind(&m.TypeMeta, "Migration")
	writeJSON(c.w, http.StatusCreated, m)
	return nil
}

func (s *Server) getMigration(c *call) error {
	m, err := s.ops.GetMigration(c.ctx(), c.r.PathValue("name"))
	if err != nil {
		return err
	}
	withKind(&m.TypeMeta, "Migration")
	writeJSON(c.w, http.StatusOK, m)
	return nil
}

func (s *Server) cancelMigration(c *call) error {
	name := c.r.PathValue("name")
	if _, err := s.ops.CancelMigration(c.ctx(), name); err != nil {
		return withStatus(http.StatusConflict, err)
	}
	s.log.Info("migration cancel asked from the console", "migration", name, "user", c.ss.user.Username)
	return s.getMigration(c)
}

func (s *Server) retryMigration(c *call) error {
	name := c.r.PathValue("name")
	if _, err := s.ops.RetryMigration(c.ctx(), name); err != nil {
		return withStatus(http.StatusConflict, err)
	}
	s.log.Info("migration retry asked from the console", "migration", name, "user", c.ss.user.Username)
	return s.getMigration(c)
}

// sortedNames returns the keys of m, sorted.
func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
