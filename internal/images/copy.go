package images

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"golang.org/x/sync/errgroup"
)

// DefaultJobs is how many blobs a copy sends at once.
const DefaultJobs = 4

// Progress is the state of one image copy. Blobs (layers and configs)
// the destination had, or that were mounted from another of its
// repositories, count as done and are not sent.
type Progress struct {
	// Digest of the manifest or index copied.
	Digest                  string
	BlobsDone, BlobsTotal   int64
	BytesDone, BytesTotal   int64
	BytesSent               int64
	BlobsMounted, Manifests int64
}

// Copier copies images from one registry to another. It remembers which
// blobs it saw in which destination repository, so that a later copy
// into another repository mounts them instead of sending them again; use
// one Copier for the images of one migration step.
type Copier struct {
	Source, Destination *Endpoint
	// Jobs bounds the blobs sent at once; DefaultJobs when 0.
	Jobs int

	mu    sync.Mutex
	known map[string]string // blob digest → destination repository holding it
	auth  map[string]*http.Client
}

// manifestNode is a manifest or index read from the source.
type manifestNode struct {
	digest    v1.Hash
	mediaType types.MediaType
	raw       []byte
	blobs     []v1.Descriptor
	children  []*manifestNode
}

func (n *manifestNode) RawManifest() ([]byte, error)        { return n.raw, nil }
func (n *manifestNode) MediaType() (types.MediaType, error) { return n.mediaType, nil }

// Copy copies the image from (on Source) to to (on Destination): a tag is
// resolved once to its digest and that manifest is written under to's
// tag; a digest stays the digest. An index is copied whole. report, when
// not nil, is called after each blob with the progress so far.
func (c *Copier) Copy(ctx context.Context, from, to Ref, report func(Progress)) (Progress, error) {
	jobs := c.Jobs
	if jobs <= 0 {
		jobs = DefaultJobs
	}
	puller, err := remote.NewPuller(c.Source.options(ctx, jobs)...)
	if err != nil {
		return Progress{}, err
	}
	pusher, err := remote.NewPusher(c.Destination.options(ctx, jobs)...)
	if err != nil {
		return Progress{}, err
	}
	srcRef, err := c.Source.ref(from)
	if err != nil {
		return Progress{}, fmt.Errorf("source reference: %w", err)
	}
	root, err := c.read(ctx, puller, srcRef.Context(), srcRef)
	if err != nil {
		return Progress{}, &Error{Side: "source", Image: srcRef.String(), Err: err}
	}
	p := Progress{Digest: root.digest.String()}
	blobs := map[v1.Hash]v1.Descriptor{}
	var order []v1.Hash
	root.walk(func(n *manifestNode) {
		p.Manifests++
		for _, b := range n.blobs {
			if _, ok := blobs[b.Digest]; !ok {
				blobs[b.Digest] = b
				order = append(order, b.Digest)
				p.BlobsTotal++
				p.BytesTotal += b.Size
			}
		}
	})
	dstRepo, err := c.Destination.repo(to.Path)
	if err != nil {
		return p, fmt.Errorf("destination repository: %w", err)
	}
	dstRef, err := c.Destination.ref(to)
	if err != nil {
		return p, fmt.Errorf("destination reference: %w", err)
	}
	// The destination accepted this manifest only with all its blobs and
	// children: nothing to send.
	if d, err := remote.Head(dstRef, c.Destination.options(ctx, jobs)...); err == nil && d.Digest == root.digest {
		p.BlobsDone, p.BytesDone = p.BlobsTotal, p.BytesTotal
		c.remember(dstRepo.RepositoryStr(), order)
		if report != nil {
			report(p)
		}
		return p, nil
	}
	hc, err := c.client(ctx, dstRepo)
	if err != nil {
		return p, &Error{Side: "destination", Image: dstRef.String(), Err: err}
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(jobs)
	for _, h := range order {
		d := blobs[h]
		g.Go(func() error {
			how, err := c.copyBlob(gctx, hc, puller, pusher, srcRef.Context(), dstRepo, d)
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			p.BlobsDone++
			p.BytesDone += d.Size
			switch how {
			case blobSent:
				p.BytesSent += d.Size
			case blobMounted:
				p.BlobsMounted++
			}
			if report != nil {
				report(p)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return p, &Error{Side: "destination", Image: dstRef.String(), Err: err}
	}
	if err := c.putManifests(ctx, pusher, dstRepo, dstRef, root); err != nil {
		return p, &Error{Side: "destination", Image: dstRef.String(), Err: err}
	}
	c.remember(dstRepo.RepositoryStr(), order)
	return p, nil
}

// read fetches the manifest ref and, for an index, every child manifest.
func (c *Copier) read(ctx context.Context, puller *remote.Puller, repo name.Repository, ref name.Reference) (*manifestNode, error) {
	d, err := puller.Get(ctx, ref)
	if err != nil {
		return nil, err
	}
	n := &manifestNode{digest: d.Digest, mediaType: d.MediaType, raw: d.Manifest}
	switch {
	case d.MediaType.IsIndex():
		im, err := v1.ParseIndexManifest(bytes.NewReader(d.Manifest))
		if err != nil {
			return nil, fmt.Errorf("parse index %s: %w", d.Digest, err)
		}
		for _, m := range im.Manifests {
			if !m.MediaType.IsIndex() && !m.MediaType.IsImage() && !isManifest(m.MediaType) {
				n.blobs = append(n.blobs, m) // an artifact that is a blob
				continue
			}
			child, err := c.read(ctx, puller, repo, repo.Digest(m.Digest.String()))
			if err != nil {
				return nil, fmt.Errorf("child %s of index %s: %w", m.Digest, d.Digest, err)
			}
			n.children = append(n.children, child)
		}
	case d.MediaType.IsSchema1():
		return nil, fmt.Errorf("manifest %s is Docker schema 1, which cannot be copied by digest; push the image again with a current client", d.Digest)
	default:
		m, err := v1.ParseManifest(bytes.NewReader(d.Manifest))
		if err != nil {
			return nil, fmt.Errorf("parse manifest %s: %w", d.Digest, err)
		}
		n.blobs = append(n.blobs, m.Config)
		for _, l := range m.Layers {
			if len(l.URLs) > 0 {
				continue // foreign layers stay where they are
			}
			n.blobs = append(n.blobs, l)
		}
	}
	return n, nil
}

func isManifest(mt types.MediaType) bool {
	return mt == types.OCIManifestSchema1 || mt == types.DockerManifestSchema2
}

func (n *manifestNode) walk(f func(*manifestNode)) {
	f(n)
	for _, c := range n.children {
		c.walk(f)
	}
}

type blobOutcome int

const (
	blobPresent blobOutcome = iota
	blobMounted
	blobSent
)

// copyBlob makes one blob present in dst: already there, mounted from
// another repository of the destination, or sent.
func (c *Copier) copyBlob(ctx context.Context, hc *http.Client, puller *remote.Puller, pusher *remote.Pusher, src, dst name.Repository, d v1.Descriptor) (blobOutcome, error) {
	ok, err := blobExists(ctx, hc, dst, d.Digest)
	if err != nil {
		return 0, err
	}
	if ok {
		return blobPresent, nil
	}
	if from := c.holder(d.Digest.String()); from != "" && from != dst.RepositoryStr() {
		if mounted, err := mountBlob(ctx, hc, dst, from, d.Digest); err != nil {
			return 0, err
		} else if mounted {
			return blobMounted, nil
		}
	}
	l, err := puller.Layer(ctx, src.Digest(d.Digest.String()))
	if err != nil {
		return 0, fmt.Errorf("blob %s: %w", d.Digest, err)
	}
	if err := pusher.Upload(ctx, dst, sourceBlob{Layer: l, d: d}); err != nil {
		return 0, fmt.Errorf("send blob %s: %w", d.Digest, err)
	}
	return blobSent, nil
}

// sourceBlob is a blob of the source that is not mountable on the
// destination (the library would try to mount it from the source's
// repository name, which is not where the destination keeps it).
type sourceBlob struct {
	v1.Layer
	d v1.Descriptor
}

func (b sourceBlob) Digest() (v1.Hash, error)            { return b.d.Digest, nil }
func (b sourceBlob) Size() (int64, error)                { return b.d.Size, nil }
func (b sourceBlob) MediaType() (types.MediaType, error) { return b.d.MediaType, nil }

// putManifests writes the children of an index by digest, then the root
// under its reference, all with the source's bytes.
func (c *Copier) putManifests(ctx context.Context, pusher *remote.Pusher, repo name.Repository, ref name.Reference, n *manifestNode) error {
	for _, ch := range n.children {
		if err := c.putManifests(ctx, pusher, repo, repo.Digest(ch.digest.String()), ch); err != nil {
			return err
		}
	}
	if err := pusher.Put(ctx, ref, n); err != nil {
		return fmt.Errorf("put manifest %s: %w", n.digest, err)
	}
	return nil
}

func (c *Copier) remember(repo string, blobs []v1.Hash) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.known == nil {
		c.known = map[string]string{}
	}
	for _, h := range blobs {
		if _, ok := c.known[h.String()]; !ok {
			c.known[h.String()] = repo
		}
	}
}

func (c *Copier) holder(digest string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.known[digest]
}

// client is an authenticated HTTP client for blob checks and mounts in
// repo: push and pull there, pull in the repositories it may mount from.
func (c *Copier) client(ctx context.Context, repo name.Repository) (*http.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if hc, ok := c.auth[repo.RepositoryStr()]; ok {
		return hc, nil
	}
	scopes := []string{repo.Scope(transport.PushScope)}
	seen := map[string]bool{repo.RepositoryStr(): true}
	for _, r := range c.known {
		if !seen[r] {
			seen[r] = true
			scopes = append(scopes, repo.Registry.Repo(r).Scope(transport.PullScope))
		}
	}
	t, err := transport.NewWithContext(ctx, repo.Registry, c.Destination.auth(), c.Destination.transport(), scopes)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: t}
	if c.auth == nil {
		c.auth = map[string]*http.Client{}
	}
	c.auth[repo.RepositoryStr()] = hc
	return hc, nil
}

func blobURL(repo name.Repository, path string) *url.URL {
	return &url.URL{Scheme: repo.Scheme(), Host: repo.RegistryStr(), Path: "/v2/" + repo.RepositoryStr() + path}
}

// blobExists asks the destination for the blob (HEAD).
func blobExists(ctx context.Context, hc *http.Client, repo name.Repository, h v1.Hash) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, blobURL(repo, "/blobs/"+h.String()).String(), nil)
	if err != nil {
		return false, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusNotFound:
		return false, nil
	}
	return false, transport.CheckError(resp, http.StatusOK, http.StatusNotFound)
}

// mountBlob asks the destination to mount the blob from another of its
// repositories; false when it did not (when it opened an upload instead,
// that upload is canceled).
func mountBlob(ctx context.Context, hc *http.Client, repo name.Repository, from string, h v1.Hash) (bool, error) {
	u := blobURL(repo, "/blobs/uploads/")
	u.RawQuery = url.Values{"mount": {h.String()}, "from": {from}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
	if err != nil {
		return false, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	defer drain(resp)
	switch resp.StatusCode {
	case http.StatusCreated:
		return true, nil
	case http.StatusAccepted:
		if loc := resp.Header.Get("Location"); loc != "" {
			cancelUpload(ctx, hc, resp.Request.URL, loc)
		}
	}
	// Not mounted (a registry may also refuse it, e.g. a token without
	// pull access to the other repository): the blob is sent instead.
	return false, nil
}

func cancelUpload(ctx context.Context, hc *http.Client, base *url.URL, loc string) {
	u, err := base.Parse(loc)
	if err != nil {
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u.String(), nil)
	if err != nil {
		return
	}
	if resp, err := hc.Do(req); err == nil {
		drain(resp)
	}
}

func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
}

// Error is a failed copy of one image.
type Error struct {
	// Side is "source" or "destination".
	Side  string
	Image string
	Err   error
}

func (e *Error) Error() string { return e.Side + " " + e.Image + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }
