package objstore

import (
	"context"
	"errors"
)

// ErrNotFound is wrapped by the error of Get, ReadRange and Delete for an
// object that does not exist.
var ErrNotFound = errors.New("object not found")

// Store is a flat space of named objects.
type Store interface {
	// Put stores data under name, replacing what was there.
	Put(ctx context.Context, name string, data []byte) error
	// Get returns the whole object.
	Get(ctx context.Context, name string) ([]byte, error)
	// ReadRange fills p with the object's bytes from off; a range
	// beyond the object's end is an error.
	ReadRange(ctx context.Context, name string, off int64, p []byte) error
	// List returns the objects whose names start with prefix, sorted by
	// name.
	List(ctx context.Context, prefix string) ([]Object, error)
	// Delete removes the object; a missing one is no error.
	Delete(ctx context.Context, name string) error
	// String names the store in messages, without credentials
	// ("s3://bucket/prefix at https://host").
	String() string
}

// Object is one listed object.
type Object struct {
	Name string
	Size int64
}
