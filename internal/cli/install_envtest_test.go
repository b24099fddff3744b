//go:build envtest

package cli

import (
	"context"
	"strconv"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"ferry.dev/ferry/config"
)

// TestInstallKeepsNewerCRDs checks that installing the CRDs (here by
// `ferry hook create`) leaves a CRD of a newer schema version alone and
// replaces an older one.
func TestInstallKeepsNewerCRDs(t *testing.T) {
	ctx := context.Background()
	const name = "hooks.ferry.dev"
	mark := func(version int) {
		t.Helper()
		var crd apiextensionsv1.CustomResourceDefinition
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &crd); err != nil {
			t.Fatal(err)
		}
		metav1.SetMetaDataAnnotation(&crd.ObjectMeta, config.AnnotationSchemaVersion, strconv.Itoa(version))
		crd.Spec.Versions[0].AdditionalPrinterColumns = nil
		if err := env.Client.Update(ctx, &crd); err != nil {
			t.Fatal(err)
		}
	}
	columns := func() (int, string) {
		var crd apiextensionsv1.CustomResourceDefinition
		if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &crd); err != nil {
			t.Fatal(err)
		}
		return len(crd.Spec.Versions[0].AdditionalPrinterColumns), crd.Annotations[config.AnnotationSchemaVersion]
	}
	flags, _ := hostFlags(t)
	create := func() {
		t.Helper()
		if _, stderr, err := ferry(t, append(append([]string{"hook", "create", "h", "--image", "busybox"}, flags...), "--", "true")...); err != nil {
			t.Fatalf("hook create: %v\n%s", err, stderr)
		}
	}
	mark(config.SchemaVersion + 1)
	create()
	if n, v := columns(); n != 0 || v != strconv.Itoa(config.SchemaVersion+1) {
		t.Errorf("a newer CRD was replaced: %d printer columns, schema version %s", n, v)
	}
	mark(config.SchemaVersion - 1)
	create()
	if n, v := columns(); n == 0 || v != strconv.Itoa(config.SchemaVersion) {
		t.Errorf("an older CRD was not updated: %d printer columns, schema version %s", n, v)
	}
}
