package transform

import "testing"

func TestRBACTransform(t *testing.T) {
	moved := &Context{NamespaceMap: map[string]string{"shop": "shop-new"}}
	subjects := func(sa1ns, sa2ns string) []interface{} {
		return []interface{}{
			map[string]interface{}{"kind": "ServiceAccount", "name": "web", "namespace": sa1ns},
			map[string]interface{}{"kind": "ServiceAccount", "name": "ci", "namespace": sa2ns},
			map[string]interface{}{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"},
			map[string]interface{}{"kind": "Group", "name": "shop", "apiGroup": "rbac.authorization.k8s.io"},
		}
	}
	roleRef := map[string]interface{}{"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}
	cases := []transformCase{
		{
			name: "RoleBinding subjects are mapped",
			tc:   moved,
			in: newObject("rbac.authorization.k8s.io/v1", "RoleBinding", "shop", "read").
				set(roleRef, "roleRef").set(subjects("shop", "tools"), "subjects").obj(),
			want: newObject("rbac.authorization.k8s.io/v1", "RoleBinding", "shop", "read").
				set(roleRef, "roleRef").set(subjects("shop-new", "tools"), "subjects").obj(),
		},
		{
			name: "ClusterRoleBinding subjects are mapped",
			tc:   moved,
			in: newObject("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "read").
				set(subjects("tools", "shop"), "subjects").obj(),
			want: newObject("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "read").
				set(subjects("tools", "shop-new"), "subjects").obj(),
		},
		{
			name: "binding without subjects",
			tc:   moved,
			in:   newObject("rbac.authorization.k8s.io/v1", "RoleBinding", "shop", "empty").obj(),
			want: newObject("rbac.authorization.k8s.io/v1", "RoleBinding", "shop", "empty").obj(),
		},
	}
	runCases(t, &rbacTransform{}, cases)
}
