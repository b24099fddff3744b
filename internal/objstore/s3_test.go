package objstore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
	"ferry.dev/ferry/internal/objstore"
	"ferry.dev/ferry/test/harness/s3server"
)

func TestS3Store(t *testing.T) {
	srv := s3server.Start(t, s3server.Options{})
	srv.MakeBucket(t, "repo")
	ctx := context.Background()
	cfg := srv.Config("repo")
	cfg.Prefix = "one/"
	s, err := objstore.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if str := s.String(); strings.Contains(str, srv.AccessKey) || strings.Contains(str, srv.SecretKey) || !strings.Contains(str, "s3://repo/one") {
		t.Errorf("String() = %q: want the bucket and prefix, no keys", str)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB
	for name, data := range map[string][]byte{"packs/a": big, "packs/b": []byte("bee"), "index/x": []byte("ix")} {
		if err := s.Put(ctx, name, data); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get(ctx, "packs/a")
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Get = %d bytes, %v; want the 4 MiB put", len(got), err)
	}
	checkRanges(ctx, t, s, big)
	list, err := s.List(ctx, "packs/")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0] != (objstore.Object{Name: "packs/a", Size: int64(len(big))}) || list[1] != (objstore.Object{Name: "packs/b", Size: 3}) {
		t.Errorf("List(packs/) = %+v", list)
	}
	// Another prefix of the same bucket sees none of it.
	cfg.Prefix = "two"
	other, err := objstore.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if l, err := other.List(ctx, ""); err != nil || len(l) != 0 {
		t.Errorf("List of another prefix = %+v, %v; want nothing", l, err)
	}
	if _, err := other.Get(ctx, "packs/b"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get of a missing object: %v, want ErrNotFound", err)
	}
	if err := other.ReadRange(ctx, "packs/b", 0, make([]byte, 1)); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("ReadRange of a missing object: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, "packs/b"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "packs/b"); err != nil {
		t.Errorf("Delete of a missing object: %v", err)
	}
	if _, err := s.Get(ctx, "packs/b"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := s.Put(ctx, "../escape", nil); err == nil {
		t.Error("Put of ../escape succeeded")
	}
}

// TestS3Restart stops the server and starts it again: what was stored
// stays, and requests fail while it is away.
func TestS3Restart(t *testing.T) {
	srv := s3server.Start(t, s3server.Options{})
	srv.MakeBucket(t, "repo")
	ctx := context.Background()
	cfg := srv.Config("repo")
	cfg.MaxRetries = 1
	s, err := objstore.NewS3(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "kept", []byte("kept")); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "lost", []byte("x")); err == nil {
		t.Error("Put with the server stopped succeeded")
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Get(ctx, "kept"); err != nil || string(b) != "kept" {
		t.Errorf("Get after restart = %q, %v", b, err)
	}
}

func TestCheck(t *testing.T) {
	srv := s3server.Start(t, s3server.Options{IAMDir: t.TempDir()})
	srv.MakeBucket(t, "repo")
	if err := srv.CreateUser(context.Background(), "limited", "limited-secret", "user"); err != nil {
		t.Fatal(err)
	}
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	good := srv.Config("repo")
	good.MaxRetries = 1
	change := func(f func(*objstore.Config)) objstore.Config {
		c := good
		f(&c)
		return c
	}
	tests := []struct {
		name     string
		cfg      objstore.Config
		reason   string
		mentions string
	}{
		{"good", good, "", ""},
		{"good with a prefix", change(func(c *objstore.Config) { c.Prefix = "team/a" }), "", ""},
		{"wrong secret key", change(func(c *objstore.Config) { c.SecretKey = "wrong-secret" }), ferryv1.ReasonRepositoryCredentials, "credentials file"},
		{"unknown access key", change(func(c *objstore.Config) { c.AccessKey = "nobody" }), ferryv1.ReasonRepositoryCredentials, "credentials file"},
		{"a user without rights on the bucket", change(func(c *objstore.Config) { c.AccessKey, c.SecretKey = "limited", "limited-secret" }),
			ferryv1.ReasonRepositoryPermission, "may not list objects"},
		{"missing bucket", change(func(c *objstore.Config) { c.Bucket = "gone" }), ferryv1.ReasonRepositoryBucketMissing, "create it"},
		{"closed port", change(func(c *objstore.Config) { c.Endpoint = "http://127.0.0.1:1" }), ferryv1.ReasonRepositoryUnreachable, "port"},
		{"host that does not resolve", change(func(c *objstore.Config) { c.Endpoint = "http://ferry-no-such-host.invalid:7070" }), ferryv1.ReasonRepositoryDNS, "ferry-no-such-host.invalid"},
		{"unknown CA", change(func(c *objstore.Config) { c.Endpoint = tlsSrv.URL }), ferryv1.ReasonRepositoryTLS, "--ca-file"},
		{"plain HTTP server on https", change(func(c *objstore.Config) { c.Endpoint = strings.Replace(srv.URL, "http:", "https:", 1) }), ferryv1.ReasonRepositoryTLS, "http://"},
		{"not a URL", change(func(c *objstore.Config) { c.Endpoint = "s3.example.com" }), ferryv1.ReasonRepositoryInvalid, "http:// or https://"},
		{"a URL with a path", change(func(c *objstore.Config) { c.Endpoint = srv.URL + "/repo" }), ferryv1.ReasonRepositoryInvalid, "path"},
		{"a CA bundle that is not PEM", change(func(c *objstore.Config) { c.Endpoint = tlsSrv.URL; c.CABundle = []byte("nope") }), ferryv1.ReasonRepositoryInvalid, "PEM"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			s, err := objstore.NewS3(tt.cfg)
			if err == nil {
				err = objstore.Check(ctx, s)
			}
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			var ce *objstore.CheckError
			if !errors.As(err, &ce) || ce.Reason != tt.reason || !strings.Contains(ce.Message, tt.mentions) {
				t.Fatalf("Check = %v, want reason %s mentioning %q", err, tt.reason, tt.mentions)
			}
			if strings.Contains(ce.Message, good.SecretKey) || strings.Contains(ce.Message, "wrong-secret") {
				t.Errorf("the message shows a key: %s", ce.Message)
			}
		})
	}
	// A good check leaves no test object behind.
	s, err := objstore.NewS3(good)
	if err != nil {
		t.Fatal(err)
	}
	if l, err := s.List(context.Background(), ""); err != nil || len(l) != 0 {
		t.Errorf("objects left after the checks: %+v, %v", l, err)
	}
}
