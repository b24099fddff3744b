package volumes

import (
	"strings"
	"testing"
	"time"
)

func TestValidateTransfers(t *testing.T) {
	ok := Transfer{SourceNamespace: "a", SourceClaim: "c", DestinationNamespace: "b", DestinationClaim: "c"}
	tests := []struct {
		name      string
		transfers []Transfer
		wantErr   string
	}{
		{"ok", []Transfer{ok}, ""},
		{"no transfers", nil, ""},
		{"empty claim", []Transfer{{SourceNamespace: "a", DestinationNamespace: "b", DestinationClaim: "c"}}, "claims are required"},
		{"same source twice", []Transfer{ok, {SourceNamespace: "a", SourceClaim: "c", DestinationNamespace: "b", DestinationClaim: "d"}}, "source claim a/c is listed twice"},
		{"same destination twice", []Transfer{ok, {SourceNamespace: "a", SourceClaim: "e", DestinationNamespace: "b", DestinationClaim: "c"}}, "destination claim b/c is listed twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := validateTransfers(tt.transfers)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("validateTransfers = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestRetryPause(t *testing.T) {
	tests := []struct {
		pol     Policy
		attempt int
		want    time.Duration
	}{
		{Policy{}, 1, DefaultRetryPause},
		{Policy{}, 2, 4 * DefaultRetryPause},
		{Policy{RetryPause: time.Second}, 3, 16 * time.Second},
		{Policy{RetryPause: time.Second}, 0, time.Second},
		{Policy{RetryPause: time.Second}, 50, time.Second << 16},
	}
	for _, tt := range tests {
		if got := tt.pol.retryPause(tt.attempt); got != tt.want {
			t.Errorf("%+v.retryPause(%d) = %s, want %s", tt.pol, tt.attempt, got, tt.want)
		}
	}
}
