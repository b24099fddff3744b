package migrationctl

import (
	"testing"

	"ferry.dev/ferry/internal/volumes"
)

// TestTraffic: a finished copy says what it sent and did, not only the
// bytes it covered.
func TestTraffic(t *testing.T) {
	tests := []struct {
		name string
		v    volumes.VolumeProgress
		want string
	}{
		{"fresh", volumes.VolumeProgress{BytesSent: 3 << 20}, "sent 3.0 MiB"},
		{"incremental", volumes.VolumeProgress{BytesSent: 16 << 20, Skipped: 1200, Deleted: 13, Partial: 1, Reused: 2},
			"sent 16.0 MiB, 1200 unchanged, 13 deleted, 1 kept in part for the next round, 2 renamed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := traffic(tt.v); got != tt.want {
				t.Errorf("traffic = %q, want %q", got, tt.want)
			}
		})
	}
}
