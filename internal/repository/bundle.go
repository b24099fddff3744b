package repository

import (
	"context"
	"fmt"
	"strings"
)

// bundlePrefix holds the resource bundles of migrations.
const bundlePrefix = "bundles/"

func bundleAAD(name string) []byte { return []byte("ferry bundle " + name) }

// checkBundleName accepts names of slash-separated parts of letters,
// digits, '-', '_' and '.', none empty or dots only.
func checkBundleName(name string) error {
	for part := range strings.SplitSeq(name, "/") {
		if part == "" || strings.Trim(part, ".") == "" || strings.IndexFunc(part, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
		}) >= 0 {
			return fmt.Errorf("invalid bundle name %q", name)
		}
	}
	return nil
}

// SaveBundle stores data (a migration's resource bundle) under name,
// compressed and sealed like a blob.
func (r *Repository) SaveBundle(ctx context.Context, name string, data []byte) error {
	if err := checkBundleName(name); err != nil {
		return err
	}
	enc, _ := coders()
	plain := enc.EncodeAll(data, nil)
	if err := r.store.Put(ctx, bundlePrefix+name, r.keys.seal(nil, plain, bundleAAD(name))); err != nil {
		return fmt.Errorf("write bundle %s: %w", name, err)
	}
	return nil
}

// LoadBundle returns what SaveBundle stored under name.
func (r *Repository) LoadBundle(ctx context.Context, name string) ([]byte, error) {
	if err := checkBundleName(name); err != nil {
		return nil, err
	}
	b, err := r.store.Get(ctx, bundlePrefix+name)
	if err != nil {
		return nil, fmt.Errorf("read bundle %s: %w", name, err)
	}
	plain, err := r.keys.open(nil, b, bundleAAD(name))
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w", name, err)
	}
	_, dec := coders()
	data, err := dec.DecodeAll(plain, nil)
	if err != nil {
		return nil, fmt.Errorf("bundle %s: %w: %w", name, ErrTampered, err)
	}
	return data, nil
}

// DeleteBundles removes the bundles whose names start with prefix.
func (r *Repository) DeleteBundles(ctx context.Context, prefix string) error {
	objs, err := r.store.List(ctx, bundlePrefix+prefix)
	if err != nil {
		return fmt.Errorf("list bundles: %w", err)
	}
	for _, o := range objs {
		if err := r.store.Delete(ctx, o.Name); err != nil {
			return fmt.Errorf("delete bundle: %w", err)
		}
	}
	return nil
}
