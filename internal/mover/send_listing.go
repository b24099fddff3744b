package mover

import (
	"fmt"

	"ferry.dev/ferry/internal/mover/wire"
)

// maxListingBytes bounds the memory of one destination listing on the
// sender, which holds it while it walks the directory: about a million
// entries of short names. A receiver that streams a listing without end
// fails the sync with ErrListingTooLarge instead of growing the sender.
// A variable so that tests can lower it.
var maxListingBytes int64 = 256 << 20

// listEntryCost is what one listing entry costs in the sender's map by
// name, beyond its name, symlink target and xattr digest: the entry (144
// bytes), its key and the map's slack and growth.
const listEntryCost = 256

// listingBudget counts what a listing being received costs.
type listingBudget struct {
	left    int64
	entries int
}

func newListingBudget() *listingBudget { return &listingBudget{left: maxListingBytes} }

// charge accounts for one received entry; it fails once the listing
// exceeds maxListingBytes.
func (b *listingBudget) charge(e *wire.Entry) error {
	b.entries++
	b.left -= listEntryCost + int64(len(e.Name)+len(e.Meta.Target)+len(e.XattrSum))
	if b.left < 0 {
		return fmt.Errorf("%w: more than %d MiB after %d entries", ErrListingTooLarge, maxListingBytes>>20, b.entries)
	}
	return nil
}
