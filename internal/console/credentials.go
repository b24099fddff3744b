package console

import (
	"context"
	"fmt"

	"k8s.io/client-go/rest"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/ops"
	"ferry.dev/ferry/internal/userconfig"
)

// credentials returns the user's own credentials of a plan's clusters,
// for its grants: the request's token for the cluster when given, else
// the session's token on the host (ModeToken) or the kubeconfigs the CLI
// would use (ModeLocal).
func (s *Server) credentials(ss *session, tokens map[string]string) ops.CredentialsFunc {
	return func(ctx context.Context, p *ferryv1.Plan) (ops.PlanCredentials, error) {
		var out ops.PlanCredentials
		var err error
		if out.Source, err = s.userConfig(ctx, ss, p.Spec.SourceCluster, tokens); err != nil {
			return out, err
		}
		if p.Spec.DestinationCluster != p.Spec.SourceCluster {
			out.Destination, err = s.userConfig(ctx, ss, p.Spec.DestinationCluster, tokens)
		}
		return out, err
	}
}

// userConfig is the user's configuration of one registered cluster.
func (s *Server) userConfig(ctx context.Context, ss *session, name string, tokens map[string]string) (*rest.Config, error) {
	cl, err := s.ops.GetCluster(ctx, name)
	if err != nil {
		return nil, err
	}
	if tok := tokens[name]; tok != "" {
		return s.withUserToken(cl, tok), nil
	}
	switch {
	case s.opts.Mode == ModeToken && cl.Spec.IsHost:
		return s.withUserToken(cl, ss.token), nil
	case s.opts.Mode == ModeToken:
		return nil, fmt.Errorf("no token of yours for cluster %s: give one in the request's credentials (%q: TOKEN); it grants Ferry the plan's namespaces there", name, name)
	case s.opts.UserConfig != nil:
		return s.opts.UserConfig(ctx, name)
	}
	return userconfig.ForCluster(ctx, s.opts.Host, s.client, s.opts.Namespace, name)
}

// withUserToken reaches the cluster with the user's token alone.
func (s *Server) withUserToken(cl *ferryv1.Cluster, token string) *rest.Config {
	if cl.Spec.IsHost && cl.Spec.URL == "" {
		cfg := rest.AnonymousClientConfig(s.opts.Host)
		cfg.BearerToken = token
		return cfg
	}
	return &rest.Config{Host: cl.Spec.URL, BearerToken: token,
		TLSClientConfig: rest.TLSClientConfig{CAData: cl.Spec.CABundle, Insecure: cl.Spec.Insecure}}
}
