package images

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// countingRegistry is go-containerregistry's in-memory registry behind a
// counter of uploaded bytes (PATCH and PUT bodies of blob uploads).
type countingRegistry struct {
	*httptest.Server
	uploaded atomic.Int64
}

func newRegistry(t *testing.T) *countingRegistry {
	t.Helper()
	r := &countingRegistry{}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if strings.Contains(req.URL.Path, "/blobs/uploads/") && req.ContentLength != 0 && (req.Method == http.MethodPatch || req.Method == http.MethodPut) {
			req.Body = &countingBody{ReadCloser: req.Body, n: &r.uploaded}
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(r.Close)
	return r
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}

func (r *countingRegistry) host() string { return strings.TrimPrefix(r.URL, "http://") }

func (r *countingRegistry) endpoint() *Endpoint { return &Endpoint{Address: r.host(), Insecure: true} }

func push(t *testing.T, ref string, t2 remote.Taggable) {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Push(r, t2); err != nil {
		t.Fatal(err)
	}
}

func mustParse(t *testing.T, s string) Ref {
	t.Helper()
	r, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func platformIndex(t *testing.T) v1.ImageIndex {
	t.Helper()
	var idx v1.ImageIndex = mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, arch := range []string{"amd64", "arm64", "s390x"} {
		img, err := random.Image(1000, 3)
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: arch}}})
	}
	return idx
}

func TestCopyIndexByTag(t *testing.T) {
	src, dst := newRegistry(t), newRegistry(t)
	idx := platformIndex(t)
	push(t, src.host()+"/shop/web:v1", idx)
	want, _ := idx.Digest()
	c := &Copier{Source: src.endpoint(), Destination: dst.endpoint()}
	var reports int
	p, err := c.Copy(context.Background(), mustParse(t, "reg.example/shop/web:v1"), mustParse(t, "reg.example/shop-moved/web:v1"), func(Progress) { reports++ })
	if err != nil {
		t.Fatal(err)
	}
	if p.Digest != want.String() {
		t.Errorf("digest %s, want the source's %s", p.Digest, want)
	}
	// 3 images of 3 layers and a config each.
	if p.BlobsTotal != 12 || p.BlobsDone != 12 || p.Manifests != 4 {
		t.Errorf("progress %+v, want 12 of 12 blobs and 4 manifests", p)
	}
	if p.BytesSent != p.BytesTotal || p.BytesTotal < 9000 || dst.uploaded.Load() != p.BytesSent {
		t.Errorf("sent %d of %d bytes, the destination received %d: want everything sent once", p.BytesSent, p.BytesTotal, dst.uploaded.Load())
	}
	if reports != 12 {
		t.Errorf("%d progress reports, want one per blob", reports)
	}
	got, err := remote.Index(nameRef(t, dst.host()+"/shop-moved/web:v1"))
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := got.Digest(); d != want {
		t.Errorf("destination index %s, want %s", d, want)
	}
	im, _ := got.IndexManifest()
	for _, m := range im.Manifests {
		img, err := got.Image(m.Digest)
		if err != nil {
			t.Fatal(err)
		}
		ls, _ := img.Layers()
		for _, l := range ls {
			rc, err := l.Compressed()
			if err != nil {
				t.Fatalf("layer of %s on the destination: %v", m.Platform, err)
			}
			_ = rc.Close()
		}
	}

	before := dst.uploaded.Load()
	again, err := c.Copy(context.Background(), mustParse(t, "reg.example/shop/web:v1"), mustParse(t, "reg.example/shop-moved/web:v1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.BytesSent != 0 || again.BlobsDone != again.BlobsTotal || dst.uploaded.Load() != before {
		t.Errorf("second copy %+v, destination received %d more bytes: want nothing sent", again, dst.uploaded.Load()-before)
	}
}

func TestCopyResumesAndSharesBlobs(t *testing.T) {
	src, dst := newRegistry(t), newRegistry(t)
	base, err := random.Image(5000, 2)
	if err != nil {
		t.Fatal(err)
	}
	extra, _ := random.Layer(700, types.DockerLayer)
	app, err := mutate.AppendLayers(base, extra)
	if err != nil {
		t.Fatal(err)
	}
	push(t, src.host()+"/shop/base:v1", base)
	push(t, src.host()+"/shop/app:v1", app)
	appDigest, _ := app.Digest()
	c := &Copier{Source: src.endpoint(), Destination: dst.endpoint()}
	if _, err := c.Copy(context.Background(), mustParse(t, "reg.example/shop/base:v1"), mustParse(t, "reg.example/shop/base:v1"), nil); err != nil {
		t.Fatal(err)
	}
	// The destination has the base layers in shop/base only; the app's
	// copy into the same repository path finds them by HEAD only when
	// they are there, so copy it into shop/base's repository by digest.
	byDigest := mustParse(t, "reg.example/shop/app@"+appDigest.String())
	intoBase := mustParse(t, "reg.example/shop/base@"+appDigest.String())
	p, err := c.Copy(context.Background(), byDigest, intoBase, nil)
	if err != nil {
		t.Fatal(err)
	}
	rawCfg, _ := app.RawConfigFile()
	cfgSize := int64(len(rawCfg))
	extraSize, _ := extra.Size()
	if p.BytesSent != extraSize+cfgSize || p.BlobsTotal != 4 {
		t.Errorf("copy of an image sharing 2 layers: %+v, want only the new layer (%d) and config (%d) sent", p, extraSize, cfgSize)
	}
	if p.Digest != appDigest.String() {
		t.Errorf("digest %s, want %s", p.Digest, appDigest)
	}
	if _, err := remote.Image(nameRef(t, dst.host()+"/shop/base@"+appDigest.String())); err != nil {
		t.Errorf("image by digest on the destination: %v", err)
	}
}

func TestCopyFailures(t *testing.T) {
	src, dst := newRegistry(t), newRegistry(t)
	c := &Copier{Source: src.endpoint(), Destination: dst.endpoint()}
	_, err := c.Copy(context.Background(), mustParse(t, "reg.example/shop/gone:v1"), mustParse(t, "reg.example/shop/gone:v1"), nil)
	var ce *Error
	if !errors.As(err, &ce) || ce.Side != "source" || Classify(err) != FailNotFound {
		t.Fatalf("copy of a missing image: %v (class %s), want a source not-found error", err, Classify(err))
	}
	if msg := Explain(err, "src", "dst"); !strings.Contains(msg, "shop/gone:v1") || !strings.Contains(msg, "not found on the source registry") {
		t.Errorf("Explain = %q", msg)
	}
	down := &Copier{Source: src.endpoint(), Destination: &Endpoint{Address: "127.0.0.1:1", Insecure: true}}
	img, _ := random.Image(10, 1)
	push(t, src.host()+"/a:v1", img)
	_, err = down.Copy(context.Background(), mustParse(t, "reg.example/a:v1"), mustParse(t, "reg.example/a:v1"), nil)
	if Classify(err) != FailNetwork || !strings.Contains(Explain(err, "src", "dst"), "cannot reach the destination registry of cluster dst") {
		t.Errorf("copy to a registry that is down: %v → %q", err, Explain(err, "src", "dst"))
	}
}

// basicAuth demands user:pass on every request.
func basicAuth(h http.Handler, user, pass string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pass {
			w.Header().Set("WWW-Authenticate", `Basic realm="test"`)
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}`))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func TestCheck(t *testing.T) {
	srv := httptest.NewTLSServer(basicAuth(registry.New(registry.Logger(log.New(io.Discard, "", 0))), "ferry", "s3cret"))
	defer srv.Close()
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	host := strings.TrimPrefix(srv.URL, "https://")
	withCA, err := NewTransport(ca, false)
	if err != nil {
		t.Fatal(err)
	}
	noCA, _ := NewTransport(nil, false)
	tests := []struct {
		name   string
		e      *Endpoint
		reason string
	}{
		{"right password and CA", &Endpoint{Address: host, Transport: withCA, Auth: &authn.Basic{Username: "ferry", Password: "s3cret"}}, ""},
		{"wrong password", &Endpoint{Address: host, Transport: withCA, Auth: &authn.Basic{Username: "ferry", Password: "wrong"}}, ferryv1.ReasonRegistryUnauthorized},
		{"no credentials", &Endpoint{Address: host, Transport: withCA}, ferryv1.ReasonRegistryUnauthorized},
		{"unknown CA", &Endpoint{Address: host, Transport: noCA, Auth: &authn.Basic{Username: "ferry", Password: "s3cret"}}, ferryv1.ReasonRegistryTLS},
		{"nothing listens", &Endpoint{Address: "127.0.0.1:1", Transport: withCA}, ferryv1.ReasonRegistryUnreachable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(context.Background(), tt.e, "c1")
			var ce *CheckError
			switch {
			case tt.reason == "" && err != nil:
				t.Fatalf("Check: %v", err)
			case tt.reason != "" && (!errors.As(err, &ce) || ce.Reason != tt.reason):
				t.Fatalf("Check: %v, want reason %s", err, tt.reason)
			case tt.reason != "" && !strings.Contains(ce.Message, "c1"):
				t.Errorf("message %q does not name the cluster", ce.Message)
			}
			if err != nil && strings.Contains(err.Error(), "s3cret") {
				t.Errorf("the message shows the password: %v", err)
			}
		})
	}
}

func TestAuthFromSecret(t *testing.T) {
	if _, err := AuthFromSecret(map[string][]byte{"username": []byte("u")}); err == nil || !strings.Contains(err.Error(), "password") {
		t.Errorf("a Secret without password: %v", err)
	}
	a, err := AuthFromSecret(map[string][]byte{"token": []byte("t")})
	if err != nil {
		t.Fatal(err)
	}
	if cfg, _ := a.Authorization(); cfg.RegistryToken != "t" {
		t.Errorf("token auth %+v", cfg)
	}
}

func nameRef(t *testing.T, s string) name.Reference {
	t.Helper()
	r, err := name.ParseReference(s, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
