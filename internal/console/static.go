package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"strings"

	"github.com/andybalholm/brotli"
)

// Cache-Control values: files whose names carry a content hash never
// change; index.html (and anything unhashed) is checked on every load.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheNoCache   = "no-cache"
)

// minCompress is the size under which a file is served as it is.
const minCompress = 512

// hashedName matches the file names the frontend build gives its
// content-hashed outputs: a dash or dot, then 8 or more characters of
// [A-Za-z0-9_-], before the extension (index-B7cd3_aZ.js).
var hashedName = regexp.MustCompile(`[.-][A-Za-z0-9_-]{8,}\.[a-z0-9]+$`)

// asset is one file of the built application, with its compressed forms
// (nil when compressing does not pay).
type asset struct {
	name        string
	contentType string
	cache       string
	etag        string
	raw, gz, br []byte
}

// staticFiles serves the built application from memory, precompressed
// once at start.
type staticFiles struct {
	files map[string]*asset
	index *asset // nil when the assets were not built
}

// newStaticFiles reads every file of dist (a tree whose root holds
// index.html) and compresses those worth it with gzip and brotli.
func newStaticFiles(dist fs.FS) (*staticFiles, error) {
	s := &staticFiles{files: map[string]*asset{}}
	err := fs.WalkDir(dist, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(d.Name(), ".") {
			return err
		}
		raw, err := fs.ReadFile(dist, p)
		if err != nil {
			return fmt.Errorf("read asset %s: %w", p, err)
		}
		a, err := newAsset(p, raw)
		if err != nil {
			return err
		}
		s.files["/"+p] = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.index = s.files["/index.html"]
	return s, nil
}

// newAsset describes one file and compresses it.
func newAsset(name string, raw []byte) (*asset, error) {
	a := &asset{name: name, raw: raw, cache: cacheNoCache, contentType: mime.TypeByExtension(path.Ext(name))}
	if a.contentType == "" {
		a.contentType = http.DetectContentType(raw)
	}
	if hashedName.MatchString(path.Base(name)) {
		a.cache = cacheImmutable
	}
	a.etag = fmt.Sprintf(`"%x"`, contentHash(raw))
	if len(raw) < minCompress || !compressible(a.contentType) {
		return a, nil
	}
	var err error
	if a.gz, err = gzipBytes(raw); err != nil {
		return nil, fmt.Errorf("gzip asset %s: %w", name, err)
	}
	if a.br, err = brotliBytes(raw); err != nil {
		return nil, fmt.Errorf("brotli asset %s: %w", name, err)
	}
	return a, nil
}

// compressible says whether a content type is text-like.
func compressible(ct string) bool {
	for _, p := range []string{"text/", "application/javascript", "application/json", "image/svg+xml", "application/wasm", "font/ttf", "application/manifest+json"} {
		if strings.HasPrefix(ct, p) {
			return true
		}
	}
	return false
}

func gzipBytes(raw []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func brotliBytes(raw []byte) ([]byte, error) {
	var b bytes.Buffer
	w := brotli.NewWriterLevel(&b, brotli.BestCompression)
	if _, err := w.Write(raw); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ServeHTTP serves a file of the application, or index.html for any
// other path (the application routes in the browser), or a page saying
// the assets were not built.
func (s *staticFiles) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "the console's pages are read with GET")
		return
	}
	a, ok := s.files[path.Clean("/"+r.URL.Path)]
	if !ok {
		a = s.index
	}
	if a == nil {
		notBuilt(w)
		return
	}
	a.serve(w, r)
}

// serve writes the asset in the best encoding the request accepts.
func (a *asset) serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", a.cache)
	h.Add("Vary", "Accept-Encoding")
	body, enc := a.raw, ""
	switch {
	case a.br != nil && accepts(r, "br"):
		body, enc = a.br, "br"
	case a.gz != nil && accepts(r, "gzip"):
		body, enc = a.gz, "gzip"
	}
	etag := a.etag
	if enc != "" {
		h.Set("Content-Encoding", enc)
		etag = strings.TrimSuffix(etag, `"`) + "-" + enc + `"`
	}
	h.Set("ETag", etag)
	if match := r.Header.Get("If-None-Match"); match != "" && match == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// accepts reports whether the request's Accept-Encoding takes enc (with a
// non-zero quality).
func accepts(r *http.Request, enc string) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), enc) {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}

// notBuiltPage is served at / when the binary holds no built assets.
const notBuiltPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ferry console: assets not built</title></head>
<body><h1>Ferry's console assets were not built</h1>
<p>This ferry binary was built without the web console's pages. Run <code>make build</code>
in Ferry's source tree (it builds web/ with npm and embeds it), then start the console again.
The API under <code>/api/</code> works without them.</p></body></html>
`

func notBuilt(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", cacheNoCache)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(notBuiltPage))
}

// contentHash is the first 16 bytes of the SHA-256 of b, for ETags.
func contentHash(b []byte) []byte {
	h := sha256.Sum256(b)
	return h[:16]
}
