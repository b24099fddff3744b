package quiesce

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestEmptyNamespace checks that nothing runs on an empty namespace, which
// a client would take as all namespaces; the nil client would panic if used.
func TestEmptyNamespace(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		call func() error
	}{
		{name: "Quiesce", call: func() error { _, err := Quiesce(ctx, nil, "", "m1"); return err }},
		{name: "Unquiesce", call: func() error { _, err := Unquiesce(ctx, nil, ""); return err }},
		{name: "Running", call: func() error { _, err := Running(ctx, nil, ""); return err }},
		{name: "Wait", call: func() error { return Wait(ctx, nil, "", time.Second) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(); !errors.Is(err, errNoNamespace) {
				t.Fatalf("error = %v, want %v", err, errNoNamespace)
			}
		})
	}
}
