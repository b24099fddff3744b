package moverpod

import (
	"testing"

	"ferry.dev/ferry/internal/volumes"
)

func TestTransferName(t *testing.T) {
	// Parts are separated, so shifting characters between them changes the hash.
	if shortHash("ab", "c") == shortHash("a", "bc") {
		t.Error("shortHash ignores part boundaries")
	}
	a := volumes.Transfer{SourceNamespace: "ns", SourceClaim: "ab", DestinationNamespace: "ns", DestinationClaim: "c"}
	b := volumes.Transfer{SourceNamespace: "ns", SourceClaim: "a", DestinationNamespace: "ns", DestinationClaim: "bc"}
	if TransferName("m", a) == TransferName("m", b) || TransferName("m", a) == TransferName("n", a) {
		t.Error("two transfers share a name")
	}
	if n := TransferName("m", a); len(n) != 22 {
		t.Errorf("TransferName = %q, want 22 characters", n)
	}
}
