package repository

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"ferry.dev/ferry/internal/objstore"
)

// Access is what a mover needs to open a repository: where it is, its
// credentials and its key. It travels as a file of a Secret mounted into
// the mover pod, never in flags, the environment or a log.
type Access struct {
	Store objstore.Config `json:"store"`
	Key   []byte          `json:"key"`
}

// AccessFile is the name of the Access file in a mover's Secret.
const AccessFile = "access.json"

// ReadAccess reads an Access file.
func ReadAccess(path string) (Access, error) {
	var a Access
	b, err := os.ReadFile(path)
	if err != nil {
		return a, fmt.Errorf("read repository access: %w", err)
	}
	if err := json.Unmarshal(b, &a); err != nil {
		return a, fmt.Errorf("repository access %s: %w", path, err)
	}
	return a, nil
}

// OpenAccess opens the repository an Access names.
func OpenAccess(ctx context.Context, a Access) (*Repository, error) {
	key, err := ParseKey(a.Key)
	if err != nil {
		return nil, err
	}
	store, err := objstore.NewS3(a.Store)
	if err != nil {
		return nil, err
	}
	return Open(ctx, store, key)
}
