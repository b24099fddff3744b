package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Dir is a Store in a local directory, one file per object.
type Dir struct {
	root string
}

var _ Store = (*Dir)(nil)

// NewDir returns a Store of the objects under root, creating it.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("create object directory: %w", err)
	}
	return &Dir{root: root}, nil
}

// String names the directory.
func (d *Dir) String() string { return "dir:" + d.root }

// path maps an object name into the directory, refusing names that would
// leave it.
func (d *Dir) path(name string) (string, error) {
	clean := filepath.Clean("/" + name)
	if name == "" || clean != "/"+name || strings.HasSuffix(name, "/") {
		return "", fmt.Errorf("invalid object name %q", name)
	}
	return filepath.Join(d.root, filepath.FromSlash(name)), nil
}

// Put writes a temporary file and renames it over the object.
func (d *Dir) Put(_ context.Context, name string, data []byte) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return fmt.Errorf("put %s: %w", name, err)
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), p)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("put %s: %w", name, err)
	}
	return nil
}

// Get reads the object's file.
func (d *Dir) Get(_ context.Context, name string) ([]byte, error) {
	p, err := d.path(name)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	return b, notFound(name, err)
}

// ReadRange fills p from off with a part of the object's file.
func (d *Dir) ReadRange(_ context.Context, name string, off int64, p []byte) error {
	path, err := d.path(name)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return notFound(name, err)
	}
	defer f.Close()
	if _, err := f.ReadAt(p, off); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("get %s: range %d+%d beyond its end", name, off, len(p))
		}
		return fmt.Errorf("get %s: %w", name, err)
	}
	return nil
}

// List walks the directory.
func (d *Dir) List(_ context.Context, prefix string) ([]Object, error) {
	var out []Object
	err := filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || strings.HasPrefix(e.Name(), ".put-") {
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		name := filepath.ToSlash(rel)
		if !strings.HasPrefix(name, prefix) {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		out = append(out, Object{Name: name, Size: info.Size()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Delete removes the object's file.
func (d *Dir) Delete(_ context.Context, name string) error {
	p, err := d.path(name)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// notFound wraps a missing file's error in ErrNotFound.
func notFound(name string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("get %s: %w", name, ErrNotFound)
	default:
		return fmt.Errorf("get %s: %w", name, err)
	}
}
