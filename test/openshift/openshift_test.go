package openshift

import "testing"

func TestCRDsDecode(t *testing.T) {
	crds, err := CRDs()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{
		SCCs.Resource + "." + SCCs.Group:                           true,
		Routes.Resource + "." + Routes.Group:                       true,
		DeploymentConfigs.Resource + "." + DeploymentConfigs.Group: true,
		ImageStreams.Resource + "." + ImageStreams.Group:           true,
	}
	for _, c := range crds {
		if !want[c.Name] {
			t.Errorf("unexpected CRD %s", c.Name)
		}
		delete(want, c.Name)
		if c.Spec.Names.Plural+"."+c.Spec.Group != c.Name {
			t.Errorf("CRD %s: name is not plural.group", c.Name)
		}
	}
	for n := range want {
		t.Errorf("CRD %s missing", n)
	}
}
