package mover

import (
	"context"
	"fmt"

	"ferry.dev/ferry/internal/mover/wire"
)

// dirOpsPerRequest bounds how many directory updates share one request.
const dirOpsPerRequest = 512

// finalize runs after all file data is acknowledged: it creates the
// pending hardlinks (their targets now exist), then applies directory
// attributes in walk post-order, deepest first, so that nothing written
// later changes a directory's mtime or needs write permission in it.
func (s *sender) finalize(ctx context.Context) error {
	var ops opBatch
	for _, l := range s.links.pending {
		if s.links.isFailed(l.key) {
			s.warn("hardlink target was not copied; link skipped", l.path, nil)
			continue
		}
		ops.add(wire.Op{Kind: wire.OpLink, Path: l.path, Target: l.target})
		if len(ops.ops) >= dirOpsPerRequest {
			if err := s.sendOps(&ops); err != nil {
				return fmt.Errorf("create hardlinks: %w", err)
			}
		}
	}
	if err := s.sendOps(&ops); err != nil {
		return fmt.Errorf("create hardlinks: %w", err)
	}
	for _, p := range s.laterRemoves {
		ops.add(wire.Op{Kind: wire.OpRemove, Path: p})
		if len(ops.ops) >= dirOpsPerRequest {
			if err := s.sendOps(&ops); err != nil {
				return fmt.Errorf("remove renamed files' old names: %w", err)
			}
		}
	}
	if err := s.sendOps(&ops); err != nil {
		return fmt.Errorf("remove renamed files' old names: %w", err)
	}
	err := s.dirs.each(func(op wire.Op) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		ops.add(op)
		if len(ops.ops) < dirOpsPerRequest {
			return nil
		}
		return s.sendOps(&ops)
	})
	if err == nil {
		err = s.sendOps(&ops)
	}
	if err != nil {
		return fmt.Errorf("apply directory attributes: %w", err)
	}
	return nil
}
