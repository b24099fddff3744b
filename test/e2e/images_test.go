//go:build e2e

package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/crypto/bcrypt"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/test/harness"
)

// registerWithRegistries registers the test bed's clusters once more, as
// img-src and img-dst, each with its own registry (plain HTTP).
func registerWithRegistries(t *testing.T, src, dst *harness.Cluster, flags ...string) {
	t.Helper()
	mustFerry(t, append([]string{"cluster", "add", "img-src", "--kubeconfig", src.Kubeconfig, "--registry", src.Registry, "--registry-insecure"}, flags...)...)
	mustFerry(t, append([]string{"cluster", "add", "img-dst", "--kubeconfig", dst.Kubeconfig, "--registry", dst.Registry, "--registry-insecure"}, flags...)...)
}

// testImage is the test bed's tools image (busybox) with random layers
// added, so it runs and is new to every registry.
func testImage(t *testing.T, base v1.Image, sizes ...int64) v1.Image {
	t.Helper()
	img := base
	for _, n := range sizes {
		l, err := random.Layer(n, types.DockerLayer)
		if err != nil {
			t.Fatal(err)
		}
		if img, err = mutate.AppendLayers(img, l); err != nil {
			t.Fatal(err)
		}
	}
	return img
}

// platformIndex is an OCI index of amd64 (runnable) and two random
// images for other platforms.
func platformIndex(t *testing.T, amd64 v1.Image) v1.ImageIndex {
	t.Helper()
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: amd64, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	for _, arch := range []string{"arm64", "s390x"} {
		img, err := random.Image(20000, 2)
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	return idx
}

func ref(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func digestOf(t *testing.T, d interface{ Digest() (v1.Hash, error) }) string {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h.String()
}

// deleteManifests removes test images from a registry (its blobs stay
// until the registry's garbage collection).
func deleteManifests(t *testing.T, opts []remote.Option, refs ...string) {
	for _, r := range refs {
		if d, err := remote.Head(ref(t, r), opts...); err == nil {
			_ = remote.Delete(ref(t, r).Context().Digest(d.Digest.String()), opts...)
		}
	}
}

func imageStatus(m *ferryv1.Migration, source string) *ferryv1.ImageStatus {
	for i := range m.Status.Images {
		if m.Status.Images[i].Source == source {
			return &m.Status.Images[i]
		}
	}
	return nil
}

// TestImagesCopiedAndRewritten migrates a namespace (renamed) whose
// Deployment runs a multi-platform index by tag with an init container
// from a second repository sharing its base layers, and whose CronJob
// names an image by digest, all from the source's registry. The stage
// copies the three images whole; a new tag pushed before the cutover is
// all the cutover sends; the pods on the destination run from the
// destination's registry with the same digests; rollback leaves the
// copies.
func TestImagesCopiedAndRewritten(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	registerWithRegistries(t, src, dst)
	ctx := context.Background()
	ns := src.Namespace(t, "img-e2e")
	moved := ns + "-moved"
	plan := "img-e2e"
	tools, err := remote.Image(ref(t, src.Image(t, "tools")))
	if err != nil {
		t.Fatal(err)
	}
	webV1 := platformIndex(t, testImage(t, tools, 300000, 200000))
	initImg := testImage(t, tools, 100000)
	jobImg := testImage(t, tools, 50000)
	srcWeb, srcInit, srcJob := src.Registry+"/"+ns+"/web", src.Registry+"/"+ns+"/init", src.Registry+"/"+ns+"/job"
	dstWeb, dstInit, dstJob := dst.Registry+"/"+moved+"/web", dst.Registry+"/"+moved+"/init", dst.Registry+"/"+moved+"/job"
	for r, img := range map[string]remote.Taggable{srcWeb + ":v1": webV1, srcInit + ":v1": initImg} {
		if err := remote.Push(ref(t, r), img); err != nil {
			t.Fatal(err)
		}
	}
	jobDigest := digestOf(t, jobImg)
	if err := remote.Write(ref(t, srcJob+"@"+jobDigest), jobImg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		deletePlan(t, plan)
		deleteNamespace(t, dst, moved)
		deleteManifests(t, nil, srcWeb+":v1", srcWeb+":v2", srcInit+":v1", srcJob+"@"+jobDigest,
			dstWeb+":v1", dstWeb+":v2", dstInit+":v1", dstJob+"@"+jobDigest)
	})

	labels := map[string]string{"app": "web"}
	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](1), Selector: &metav1.LabelSelector{MatchLabels: labels},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: corev1.PodSpec{
			InitContainers: []corev1.Container{{Name: "init", Image: srcInit + ":v1", Command: []string{"true"}}},
			Containers:     []corev1.Container{{Name: "web", Image: srcWeb + ":v1", Command: []string{"sleep", "3600"}}}}}}}
	createOrFail(t, src, src.Kube.AppsV1().Deployments(ns).Create, d)
	cj := &batchv1.CronJob{ObjectMeta: metav1.ObjectMeta{Name: "job"}, Spec: batchv1.CronJobSpec{Schedule: "0 0 1 1 *",
		JobTemplate: batchv1.JobTemplateSpec{Spec: batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "job", Image: srcJob + "@" + jobDigest, Command: []string{"true"}}}}}}}}}
	createOrFail(t, src, src.Kube.BatchV1().CronJobs(ns).Create, cj)
	waitUntil(t, src, "web running on src", func(ctx context.Context) (bool, string) {
		s := podsState(ctx, src, ns, d.Spec.Selector)
		return strings.Contains(s, "Running"), s
	})

	out := mustFerry(t, "plan", "create", plan, "--from", "img-src", "--to", "img-dst", "-n", ns+":"+moved)
	for _, line := range []string{"Images to copy (3):", srcWeb + ":v1 -> " + dstWeb + ":v1", srcInit + ":v1 -> " + dstInit + ":v1",
		srcJob + "@" + jobDigest + " -> " + dstJob + "@" + jobDigest} {
		if !strings.Contains(out, line) {
			t.Errorf("plan create does not list %q", line)
		}
	}
	stage := migration(t, createdMigration(t, mustFerry(t, "stage", plan, "--wait")))
	if s := step(stage, "CopyImages"); s == nil || s.Phase != ferryv1.StepSucceeded || !strings.Contains(s.Message, "3 of 3 images copied") {
		t.Fatalf("stage CopyImages: %+v", s)
	}
	want := map[string]struct{ dest, digest string }{
		srcWeb + ":v1":           {dst.Registry + "/" + moved + "/web:v1", digestOf(t, webV1)},
		srcInit + ":v1":          {dst.Registry + "/" + moved + "/init:v1", digestOf(t, initImg)},
		srcJob + "@" + jobDigest: {dst.Registry + "/" + moved + "/job@" + jobDigest, jobDigest},
	}
	for source, w := range want {
		st := imageStatus(stage, source)
		if st == nil || st.Phase != "Succeeded" || st.Destination != w.dest || st.Digest != w.digest || st.LayersDone != st.LayersTotal || st.BytesDone != st.BytesTotal {
			t.Errorf("stage image %s: %+v, want Succeeded to %s with digest %s", source, st, w.dest, w.digest)
			continue
		}
		if h, err := remote.Head(ref(t, w.dest)); err != nil || h.Digest.String() != w.digest {
			t.Errorf("%s on dst: %v %v, want digest %s", w.dest, h, err, w.digest)
		}
		t.Logf("stage %s: %d/%d layers, %d bytes, %d sent", source, st.LayersDone, st.LayersTotal, st.BytesTotal, st.BytesSent)
	}
	// The three images share the tools layers: the first copied sends
	// them, the two others mount them from its repository on the
	// destination and send only their own layers and configs.
	mounted := 0
	for source := range want {
		if st := imageStatus(stage, source); st != nil && st.BytesSent < st.BytesTotal/2 {
			mounted++
		}
	}
	if mounted != 2 {
		t.Errorf("%d images sent less than half their bytes, want 2: the shared base layers should be sent once", mounted)
	}
	idx, err := remote.Index(ref(t, dstWeb+":v1"))
	if err != nil {
		t.Fatal(err)
	}
	im, _ := idx.IndexManifest()
	if len(im.Manifests) != 3 {
		t.Errorf("index on dst has %d manifests, want the 3 platforms", len(im.Manifests))
	}
	for _, m := range im.Manifests {
		img, err := idx.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		ls, _ := img.Layers()
		for _, l := range ls {
			dg, _ := l.Digest()
			if _, err := remote.Layer(ref(t, dstWeb).Context().Digest(dg.String())); err != nil {
				t.Errorf("layer %s of %s missing on dst: %v", dg, m.Platform, err)
			}
		}
	}

	// A new tag between stage and cutover: web:v2 adds one layer.
	webV2 := platformIndex(t, testImage(t, mustImage(t, webV1, 0), 70000))
	if err := remote.Push(ref(t, srcWeb+":v2"), webV2); err != nil {
		t.Fatal(err)
	}
	d, err = src.Kube.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	d.Spec.Template.Spec.Containers[0].Image = srcWeb + ":v2"
	if _, err := src.Kube.AppsV1().Deployments(ns).Update(ctx, d, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	cut := migration(t, createdMigration(t, mustFerry(t, "cutover", plan, "--wait")))
	for _, s := range cut.Status.Itinerary {
		t.Logf("cutover step %-20s %s: %s", s.Name, s.Phase, s.Message)
	}
	if ci, q := stepIndex(cut, "CopyImages"), stepIndex(cut, "Quiesce"); ci < 0 || ci > q || ci > stepIndex(cut, "PrePullImages") {
		t.Errorf("CopyImages at %d, Quiesce at %d: the copy must come before the pre-pull and the downtime", ci, q)
	}
	for _, source := range []string{srcInit + ":v1", srcJob + "@" + jobDigest} {
		if st := imageStatus(cut, source); st == nil || st.Phase != "Succeeded" || st.BytesSent != 0 {
			t.Errorf("cutover re-sent %s: %+v", source, st)
		}
	}
	v2 := imageStatus(cut, srcWeb+":v2")
	if v2 == nil || v2.Phase != "Succeeded" || v2.Digest != digestOf(t, webV2) || v2.BytesSent == 0 || v2.BytesSent >= v2.BytesTotal/2 {
		t.Errorf("cutover web:v2: %+v, want only its new layers sent (well under half of its bytes)", v2)
	}

	// The destination's pods run from the destination's registry, with
	// the digests of the source.
	sel := &metav1.LabelSelector{MatchLabels: labels}
	waitUntil(t, dst, "web running on dst", func(ctx context.Context) (bool, string) {
		s := podsState(ctx, dst, moved, sel)
		return strings.Contains(s, "Running"), s
	})
	pods, err := dst.Kube.CoreV1().Pods(moved).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	if err != nil || len(pods.Items) == 0 {
		t.Fatalf("pods on dst: %v", err)
	}
	p := pods.Items[0]
	if got := p.Spec.Containers[0].Image; got != dstWeb+":v2" {
		t.Errorf("web container image on dst %q, want %q", got, dstWeb+":v2")
	}
	if got := p.Spec.InitContainers[0].Image; got != dstInit+":v1" {
		t.Errorf("init container image on dst %q, want %q", got, dstInit+":v1")
	}
	for _, cs := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
		t.Logf("dst container %s image %s id %s", cs.Name, cs.Image, cs.ImageID)
		if !strings.HasPrefix(cs.ImageID, dst.Registry+"/"+moved+"/") {
			t.Errorf("container %s runs image %s, not one from the destination's registry", cs.Name, cs.ImageID)
		}
	}
	if id := p.Status.ContainerStatuses[0].ImageID; !strings.HasSuffix(id, digestOf(t, webV2)) {
		t.Errorf("web runs %s, want the digest %s", id, digestOf(t, webV2))
	}
	dcj, err := dst.Kube.BatchV1().CronJobs(moved).Get(ctx, "job", metav1.GetOptions{})
	if err != nil || dcj.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Image != dstJob+"@"+jobDigest {
		t.Errorf("CronJob on dst: %v %v", err, dcj)
	}

	mustFerry(t, "rollback", plan, "--wait")
	if h, err := remote.Head(ref(t, dstWeb+":v2")); err != nil || h.Digest.String() != digestOf(t, webV2) {
		t.Errorf("rollback removed the copied image %s: %v", dstWeb+":v2", err)
	}
}

func mustImage(t *testing.T, idx v1.ImageIndex, i int) v1.Image {
	t.Helper()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	img, err := idx.Image(im.Manifests[i].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func stepIndex(m *ferryv1.Migration, name string) int {
	for i, s := range m.Status.Itinerary {
		if s.Name == name {
			return i
		}
	}
	return -1
}

// authRegistry is Debian's docker-registry with htpasswd basic auth and
// TLS from its own CA, on a free port of 127.0.0.1, for one test.
type authRegistry struct {
	host, caFile string
	ca           []byte
	user, pass   string
}

func startAuthRegistry(t *testing.T) *authRegistry {
	t.Helper()
	bin, err := exec.LookPath("docker-registry")
	if err != nil {
		t.Skip("docker-registry is not installed (Debian package docker-registry)")
	}
	dir := t.TempDir()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	host := l.Addr().String()
	l.Close()
	r := &authRegistry{host: host, user: "ferry", pass: "pw-" + harness.Suffix()}
	r.ca = writeCerts(t, dir)
	r.caFile = filepath.Join(dir, "ca.pem")
	hash, err := bcrypt.GenerateFromPassword([]byte(r.pass), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	must(t, os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(r.user+":"+string(hash)+"\n"), 0o600))
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  tls:
    certificate: %s
    key: %s
auth:
  htpasswd:
    realm: ferry-test
    path: %s
`, filepath.Join(dir, "data"), host, filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"), filepath.Join(dir, "htpasswd"))
	must(t, os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600))
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	log := &harness.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	must(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_, _ = cmd.Process.Wait()
		if t.Failed() {
			t.Logf("auth registry log:\n%s", log.String())
		}
	})
	err = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(context.Context) (bool, error) {
		c, err := net.Dial("tcp", host)
		if err == nil {
			c.Close()
		}
		return err == nil, nil
	})
	if err != nil {
		t.Fatalf("auth registry did not listen on %s: %s", host, log.String())
	}
	return r
}

func (r *authRegistry) options(t *testing.T) []remote.Option {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(r.ca)
	tr := remote.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig.RootCAs = pool
	return []remote.Option{remote.WithTransport(tr), remote.WithAuth(&authn.Basic{Username: r.user, Password: r.pass})}
}

// writeCerts writes ca.pem, server.pem and server.key (for 127.0.0.1)
// into dir and returns the CA's PEM.
func writeCerts(t *testing.T, dir string) []byte {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ferry test registry CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	must(t, os.WriteFile(filepath.Join(dir, "ca.pem"), caPEM, 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "server.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	must(t, os.WriteFile(filepath.Join(dir, "server.key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	return caPEM
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// registryCondition waits until the Cluster's RegistryReady condition
// has the reason and returns it.
func registryCondition(t *testing.T, cluster, reason string) *metav1.Condition {
	t.Helper()
	var cond *metav1.Condition
	err := wait.PollUntilContextTimeout(context.Background(), 500*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		var c ferryv1.Cluster
		if err := hostClient(t).Get(ctx, client.ObjectKey{Namespace: ferryNS, Name: cluster}, &c); err != nil {
			return false, nil
		}
		cond = meta.FindStatusCondition(c.Status.Conditions, ferryv1.ConditionRegistryReady)
		return cond != nil && cond.Reason == reason, nil
	})
	if err != nil {
		t.Fatalf("cluster %s: RegistryReady %+v, want reason %s", cluster, cond, reason)
	}
	return cond
}

// TestImageCopyAuth: a source registry with basic auth and TLS from its
// own CA. A wrong password shows on the Cluster (RegistryReady) and fails
// CopyImages naming the image and the fix; with the Secret fixed, a retry
// copies the image, digest identical.
func TestImageCopyAuth(t *testing.T) {
	withController(t)
	src, dst := harness.Local(t, "src"), harness.Local(t, "dst")
	reg := startAuthRegistry(t)
	ctx := context.Background()
	ns := src.Namespace(t, "img-auth")
	plan := "img-auth"
	cluster := "img-auth-" + harness.Suffix()
	img := testImage(t, empty.Image, 40000, 30000)
	img, err := mutate.ConfigFile(img, &v1.ConfigFile{OS: "linux", Architecture: "amd64"})
	if err != nil {
		t.Fatal(err)
	}
	source := reg.host + "/" + ns + "/app:v1"
	if err := remote.Write(ref(t, source), img, reg.options(t)...); err != nil {
		t.Fatal(err)
	}
	dstRef := dst.Registry + "/" + ns + "/app:v1"
	t.Cleanup(func() {
		deletePlan(t, plan)
		deleteNamespace(t, dst, ns)
		_ = hostClient(t).Delete(ctx, &ferryv1.Cluster{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: cluster}})
		_ = hostClient(t).Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: "registry-" + cluster}})
		_ = hostClient(t).Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ferryNS, Name: "cluster-" + cluster}})
		deleteManifests(t, nil, dstRef)
	})
	mustFerry(t, "cluster", "add", "img-dst", "--kubeconfig", dst.Kubeconfig, "--registry", dst.Registry, "--registry-insecure")
	wrong := filepath.Join(t.TempDir(), "registry.env")
	must(t, os.WriteFile(wrong, []byte("username="+reg.user+"\npassword=wrong-"+reg.pass+"\n"), 0o600))
	out, err := ferry(t, "cluster", "add", cluster, "--kubeconfig", src.Kubeconfig, "--registry", reg.host,
		"--registry-ca", reg.caFile, "--registry-credentials-file", wrong)
	if err == nil || !strings.Contains(out, "RegistryReady: False (RegistryUnauthorized)") {
		t.Fatalf("cluster add with a wrong password: %v\n%s", err, out)
	}
	if strings.Contains(out, reg.pass) {
		t.Errorf("the output shows the password")
	}
	cond := registryCondition(t, cluster, ferryv1.ReasonRegistryUnauthorized)
	if !strings.Contains(cond.Message, "credentialsSecretRef") || strings.Contains(cond.Message, reg.pass) {
		t.Errorf("RegistryReady message %q", cond.Message)
	}

	d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "app"}, Spec: appsv1.DeploymentSpec{
		Replicas: ptr.To[int32](0), Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "app"}},
		Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "app"}}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Image: source}}}}}}
	createOrFail(t, src, src.Kube.AppsV1().Deployments(ns).Create, d)
	mustFerry(t, "plan", "create", plan, "--from", cluster, "--to", "img-dst", "-n", ns)
	out, _ = ferry(t, "stage", plan, "--wait")
	name := createdMigration(t, out)
	m := migration(t, name)
	s := step(m, "CopyImages")
	if s == nil || s.Phase != ferryv1.StepFailed || !strings.Contains(s.Message, source) || !strings.Contains(s.Message, "rejected the credentials") {
		t.Fatalf("CopyImages with a wrong password: %+v", s)
	}
	if st := imageStatus(m, source); st == nil || st.Phase != "Failed" || !strings.Contains(st.Message, "credentialsSecretRef") {
		t.Errorf("image status %+v", st)
	}

	var sec corev1.Secret
	must(t, hostClient(t).Get(ctx, client.ObjectKey{Namespace: ferryNS, Name: "registry-" + cluster}, &sec))
	sec.Data["password"] = []byte(reg.pass)
	must(t, hostClient(t).Update(ctx, &sec))
	registryCondition(t, cluster, ferryv1.ReasonReady)
	mustFerry(t, "retry", name)
	waitMigration(t, name, "stage to succeed after the retry", func(m *ferryv1.Migration) bool { return m.Status.ObservedRetry != "" && m.Stopped() })
	m = migration(t, name)
	if st := imageStatus(m, source); st == nil || st.Phase != "Succeeded" || st.Digest != digestOf(t, img) {
		t.Fatalf("after the retry: %+v (step %+v)", st, step(m, "CopyImages"))
	}
	if h, err := remote.Head(ref(t, dstRef)); err != nil || h.Digest.String() != digestOf(t, img) {
		t.Errorf("%s on dst: %v, want digest %s", dstRef, err, digestOf(t, img))
	}
}
