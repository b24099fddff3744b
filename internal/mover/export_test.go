package mover

import (
	"context"
	"net"
)

// ForceNamedTemps makes s write small files under named temporary files,
// as on file systems without O_TMPFILE.
func ForceNamedTemps(s *Server) { s.root.ForceNamedTemps() }

// SetMaxListingBytes lowers the sender's bound on one destination listing
// until the returned function restores it. Tests using it must not run in
// parallel with syncs.
func SetMaxListingBytes(n int64) (restore func()) {
	old := maxListingBytes
	maxListingBytes = n
	return func() { maxListingBytes = old }
}

// ContentReads returns how many bytes of file content both sides of this
// process have read to compare or checksum (not to send) so far. Tests
// using it must not run in parallel with syncs.
func ContentReads() int64 { return contentReads.Load() }

// LocalWrapped is Local with the sender's end of every connection wrapped
// by wrap.
func LocalWrapped(ctx context.Context, dst string, opts Options, wrap func(net.Conn) net.Conn) (Progress, error) {
	return local(ctx, dst, opts, wrap)
}
