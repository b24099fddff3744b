package objstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

func TestClassifyResponse(t *testing.T) {
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		code, reason, mentions string
	}{
		{"NoSuchBucket", ferryv1.ReasonRepositoryBucketMissing, "does not exist"},
		{"InvalidAccessKeyId", ferryv1.ReasonRepositoryCredentials, "InvalidAccessKeyId"},
		{"SignatureDoesNotMatch", ferryv1.ReasonRepositoryCredentials, "secret key"},
		{"AccessDenied", ferryv1.ReasonRepositoryPermission, "may not write objects"},
		{"InternalError", ferryv1.ReasonRepositoryUnreachable, "InternalError"},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			resp := minio.ErrorResponse{Code: tt.code, Message: "AKIASECRET in the message", StatusCode: 403}
			err := Classify(d, "write objects", fmt.Errorf("put x: %w", resp))
			var ce *CheckError
			if !errors.As(err, &ce) || ce.Reason != tt.reason || !strings.Contains(ce.Message, tt.mentions) {
				t.Fatalf("Classify = %v, want %s mentioning %q", err, tt.reason, tt.mentions)
			}
			if strings.Contains(ce.Message, "AKIASECRET") {
				t.Errorf("the service's message, which may hold a key, is in %q", ce.Message)
			}
		})
	}
}

func TestCheckDir(t *testing.T) {
	d, err := NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := Check(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	if l, err := d.List(context.Background(), ""); err != nil || len(l) != 0 {
		t.Errorf("objects left after the check: %+v, %v", l, err)
	}
}
