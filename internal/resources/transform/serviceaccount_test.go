package transform

import "testing"

func TestServiceAccountTransform(t *testing.T) {
	tokenSecrets := []interface{}{
		map[string]interface{}{"name": "default-token-abcde"},
	}
	cases := []transformCase{
		{
			name:     "generated default ServiceAccount",
			in:       forServiceAccount("shop", "default").set(tokenSecrets, "secrets").obj(),
			wantSkip: true,
		},
		{
			name: "default ServiceAccount with OpenShift's generated fields",
			in: forServiceAccount("shop", "default").
				annotations("openshift.io/internal-registry-pull-secret-ref", "default-dockercfg-x7k2p").
				set([]interface{}{map[string]interface{}{"name": "default-dockercfg-x7k2p"}}, "imagePullSecrets").obj(),
			wantSkip: true,
		},
		{
			name: "default ServiceAccount with user image pull secrets is kept without secrets",
			in: forServiceAccount("shop", "default").
				set([]interface{}{map[string]interface{}{"name": "regcred"}}, "imagePullSecrets").
				set(tokenSecrets, "secrets").obj(),
			want: forServiceAccount("shop", "default").
				set([]interface{}{map[string]interface{}{"name": "regcred"}}, "imagePullSecrets").obj(),
		},
		{
			name: "default ServiceAccount with labels is kept",
			in:   forServiceAccount("shop", "default").labels("team", "a").obj(),
			want: forServiceAccount("shop", "default").labels("team", "a").obj(),
		},
		{
			name: "default ServiceAccount with user annotations is kept",
			in:   forServiceAccount("shop", "default").annotations("eks.amazonaws.com/role-arn", "arn:x").obj(),
			want: forServiceAccount("shop", "default").annotations("eks.amazonaws.com/role-arn", "arn:x").obj(),
		},
		{
			name: "other ServiceAccount loses only its token secrets",
			in: forServiceAccount("shop", "web").
				set([]interface{}{
					map[string]interface{}{"name": "web-token-q2w3e"},
					map[string]interface{}{"name": "web-extra"},
				}, "secrets").
				set([]interface{}{map[string]interface{}{"name": "regcred"}}, "imagePullSecrets").obj(),
			want: forServiceAccount("shop", "web").
				set([]interface{}{map[string]interface{}{"name": "web-extra"}}, "secrets").
				set([]interface{}{map[string]interface{}{"name": "regcred"}}, "imagePullSecrets").obj(),
		},
		{
			name: "secrets removed when only tokens were listed",
			in: forServiceAccount("shop", "web").
				set([]interface{}{map[string]interface{}{"name": "web-token-q2w3e"}}, "secrets").obj(),
			want: forServiceAccount("shop", "web").obj(),
		},
		{
			name: "token of another ServiceAccount is kept",
			in: forServiceAccount("shop", "web").
				set([]interface{}{map[string]interface{}{"name": "api-token-q2w3e"}}, "secrets").obj(),
			want: forServiceAccount("shop", "web").
				set([]interface{}{map[string]interface{}{"name": "api-token-q2w3e"}}, "secrets").obj(),
		},
	}
	runCases(t, &serviceAccountTransform{}, cases)
}
