package objstore

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// Config says how to reach an S3 bucket.
type Config struct {
	// Endpoint is the service's URL, http:// or https://, without a path.
	Endpoint string
	// Bucket holds the objects.
	Bucket string
	// Prefix is the folder of the bucket the store's names are relative
	// to; "" for the whole bucket.
	Prefix string
	// Region of the bucket; us-east-1 when empty.
	Region string
	// PathStyle addresses the bucket as ENDPOINT/BUCKET, else as
	// BUCKET.ENDPOINT (virtual-host style).
	PathStyle bool
	// Insecure skips verification of the endpoint's certificate.
	Insecure bool
	// CABundle, when set, is the PEM bundle that signs the endpoint's
	// certificate, added to the system's roots.
	CABundle []byte
	// AccessKey and SecretKey authenticate the requests (signature v4).
	AccessKey, SecretKey string
	// MaxRetries is how many times a failed request is tried in all; 0
	// means minio-go's default (10). A check wants 1, to answer quickly.
	MaxRetries int
}

// S3 is a Store in an S3 bucket, one object per name under its prefix.
type S3 struct {
	client *minio.Client
	core   minio.Core // the same client, for GETs whose bodies are read directly
	bucket string
	prefix string
	desc   string
}

var _ Store = (*S3)(nil)

// NewS3 returns the Store cfg describes. It does not contact the service:
// [Check] does.
func NewS3(cfg Config) (*S3, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &CheckError{Reason: ferryv1.ReasonRepositoryInvalid, Message: fmt.Sprintf(
			"endpoint %q is not an http:// or https:// URL: give the S3 service's URL, e.g. https://s3.example.com", cfg.Endpoint)}
	}
	if strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		return nil, &CheckError{Reason: ferryv1.ReasonRepositoryInvalid, Message: fmt.Sprintf(
			"endpoint %q has a path: give the service's URL alone, and the bucket and prefix apart", cfg.Endpoint)}
	}
	if cfg.Bucket == "" {
		return nil, &CheckError{Reason: ferryv1.ReasonRepositoryInvalid, Message: "no bucket given"}
	}
	secure := u.Scheme == "https"
	tr, err := minio.DefaultTransport(secure)
	if err != nil {
		return nil, fmt.Errorf("s3 transport: %w", err)
	}
	if secure {
		tc, err := tlsConfig(cfg)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = tc
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       secure,
		Transport:    tr,
		Region:       region,
		BucketLookup: lookup,
		MaxRetries:   cfg.MaxRetries,
	})
	if err != nil {
		return nil, &CheckError{Reason: ferryv1.ReasonRepositoryInvalid, Message: fmt.Sprintf("endpoint %q: %v", cfg.Endpoint, err)}
	}
	prefix := strings.Trim(cfg.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	desc := "s3://" + path.Join(cfg.Bucket, prefix) + " at " + u.Scheme + "://" + u.Host
	return &S3{client: c, core: minio.Core{Client: c}, bucket: cfg.Bucket, prefix: prefix, desc: desc}, nil
}

// tlsConfig trusts the system's roots and the CA bundle, or nothing at
// all with Insecure.
func tlsConfig(cfg Config) (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.Insecure {
		tc.InsecureSkipVerify = true //nolint:gosec // asked for by the user
		return tc, nil
	}
	if len(cfg.CABundle) == 0 {
		return tc, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(cfg.CABundle) {
		return nil, &CheckError{Reason: ferryv1.ReasonRepositoryInvalid, Message: "the CA bundle holds no PEM certificate: give the PEM file of the CA that signs the endpoint's certificate"}
	}
	tc.RootCAs = pool
	return tc, nil
}

// String names the bucket, prefix and endpoint, never the keys.
func (s *S3) String() string { return s.desc }

// key maps a name to the bucket's key.
func (s *S3) key(name string) (string, error) {
	if name == "" || strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || path.Clean(name) != name ||
		name == ".." || strings.HasPrefix(name, "../") {
		return "", fmt.Errorf("invalid object name %q", name)
	}
	return s.prefix + name, nil
}

// Put uploads the object in one request (or a multipart upload for large
// data, which S3 completes atomically). The payload is not hashed for the
// signature (UNSIGNED-PAYLOAD): what Ferry stores is sealed and checked
// when read, and hashing every byte with SHA-256 cost a tenth of a
// backup's CPU; the CRC32C checksum still guards the transfer.
func (s *S3) Put(ctx context.Context, name string, data []byte) error {
	k, err := s.key(name)
	if err != nil {
		return err
	}
	_, err = s.client.PutObject(ctx, s.bucket, k, bytes.NewReader(data), int64(len(data)),
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableContentSha256: true})
	if err != nil {
		return fmt.Errorf("put %s in %s: %w", name, s, err)
	}
	return nil
}

// Get downloads the whole object.
func (s *S3) Get(ctx context.Context, name string) ([]byte, error) {
	body, info, err := s.open(ctx, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, err
	}
	defer body.Close()
	b := make([]byte, 0, max(info.Size, 0)+1)
	for {
		n, err := body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return nil, s.wrap("get", name, err)
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// ReadRange fills p from off with a ranged GET.
func (s *S3) ReadRange(ctx context.Context, name string, off int64, p []byte) error {
	if off < 0 || len(p) == 0 {
		return fmt.Errorf("get %s: invalid range %d+%d", name, off, len(p))
	}
	var o minio.GetObjectOptions
	if err := o.SetRange(off, off+int64(len(p))-1); err != nil {
		return fmt.Errorf("get %s: %w", name, err)
	}
	body, _, err := s.open(ctx, name, o)
	if err != nil {
		return err
	}
	defer body.Close()
	n, err := io.ReadFull(body, p)
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("get %s: range %d+%d beyond its end (got %d bytes)", name, off, len(p), n)
	}
	if err != nil {
		return s.wrap("get", name, err)
	}
	// Reading the end of the body lets the connection be reused.
	if _, err := body.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		return fmt.Errorf("get %s: the server sent more than the range %d+%d", name, off, len(p))
	}
	return nil
}

// open sends a GET (of a range, with o) and returns the response's body,
// read straight from the connection.
func (s *S3) open(ctx context.Context, name string, o minio.GetObjectOptions) (io.ReadCloser, minio.ObjectInfo, error) {
	k, err := s.key(name)
	if err != nil {
		return nil, minio.ObjectInfo{}, err
	}
	body, info, _, err := s.core.GetObject(ctx, s.bucket, k, o)
	if err != nil {
		return nil, minio.ObjectInfo{}, s.wrap("get", name, err)
	}
	return body, info, nil
}

// wrap adds ErrNotFound to the error of a missing object.
func (s *S3) wrap(op, name string, err error) error {
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && (resp.Code == "NoSuchKey" || resp.StatusCode == 404 && resp.Code != "NoSuchBucket") {
		return fmt.Errorf("%s %s in %s: %w", op, name, s, ErrNotFound)
	}
	return fmt.Errorf("%s %s in %s: %w", op, name, s, err)
}

// List lists the objects under the store's prefix whose names start with
// prefix; S3 lists keys in byte order.
func (s *S3) List(ctx context.Context, prefix string) ([]Object, error) {
	var out []Object
	for info := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if info.Err != nil {
			return nil, fmt.Errorf("list %q in %s: %w", prefix, s, info.Err)
		}
		out = append(out, Object{Name: strings.TrimPrefix(info.Key, s.prefix), Size: info.Size})
	}
	return out, nil
}

// Delete removes the object; S3 answers a missing one with success.
func (s *S3) Delete(ctx context.Context, name string) error {
	k, err := s.key(name)
	if err != nil {
		return err
	}
	if err := s.client.RemoveObject(ctx, s.bucket, k, minio.RemoveObjectOptions{}); err != nil {
		var resp minio.ErrorResponse
		if errors.As(err, &resp) && resp.Code == "NoSuchKey" {
			return nil
		}
		return fmt.Errorf("delete %s in %s: %w", name, s, err)
	}
	return nil
}
