package objstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"

	"github.com/minio/minio-go/v7"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// CheckPrefix is the folder of the test objects [Check] writes; a
// repository's own objects never start with it.
const CheckPrefix = ".ferry-check/"

// CheckError is why a store cannot be used. Reason is one of the
// Repository reasons of api/v1alpha1 (ReasonRepositoryDNS and the
// others); Message says what failed and what to do, and never holds a
// key.
type CheckError struct {
	Reason  string
	Message string
}

func (e *CheckError) Error() string { return e.Reason + ": " + e.Message }

// Check lists the store's test folder, writes a test object, reads it
// back and deletes it: what a repository needs of its bucket. A failure
// is a *CheckError naming its cause.
func Check(ctx context.Context, s Store) error {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("test object name: %w", err)
	}
	name := CheckPrefix + hex.EncodeToString(b[:])
	data := []byte("ferry repository check\n")
	if _, err := s.List(ctx, CheckPrefix); err != nil {
		return Classify(s, "list objects", err)
	}
	if err := s.Put(ctx, name, data); err != nil {
		return Classify(s, "write objects", err)
	}
	got, err := s.Get(ctx, name)
	if err != nil {
		_ = s.Delete(ctx, name)
		return Classify(s, "read objects", err)
	}
	if !bytes.Equal(got, data) {
		_ = s.Delete(ctx, name)
		return &CheckError{Reason: ferryv1.ReasonRepositoryPermission, Message: fmt.Sprintf(
			"%s returned other bytes than were written to %s: check that the endpoint is an S3 service that stores objects as given", s, name)}
	}
	if err := s.Delete(ctx, name); err != nil {
		return Classify(s, "delete objects", err)
	}
	return nil
}

// Classify turns the error of operation op ("write objects") on store s
// into a *CheckError (an error that is one already is returned as it is).
func Classify(s Store, op string, err error) error {
	var ce *CheckError
	if errors.As(err, &ce) {
		return ce
	}
	var resp minio.ErrorResponse
	if errors.As(err, &resp) && resp.Code != "" {
		return classifyResponse(s, op, resp)
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return &CheckError{Reason: ferryv1.ReasonRepositoryDNS, Message: fmt.Sprintf(
			"host %s does not resolve (%s): check the endpoint's host name, and the DNS of where Ferry runs", dns.Name, dns.Err)}
	}
	if isTLS(err) {
		return &CheckError{Reason: ferryv1.ReasonRepositoryTLS, Message: fmt.Sprintf(
			"TLS with %s failed (%v): give the PEM file of the CA that signs its certificate (--ca-file), use the endpoint's http:// URL if it speaks plain HTTP, or --insecure to skip verification", s, rootCause(err))}
	}
	if isUnreachable(err) {
		return &CheckError{Reason: ferryv1.ReasonRepositoryUnreachable, Message: fmt.Sprintf(
			"nothing answers at %s (%v): check the endpoint's address and port, that the service runs, and that no firewall stands between it and Ferry", s, rootCause(err))}
	}
	return &CheckError{Reason: ferryv1.ReasonRepositoryUnreachable, Message: fmt.Sprintf(
		"could not %s in %s: %v", op, s, err)}
}

// classifyResponse names the S3 error codes a check meets; their
// messages are left out (some services echo the access key).
func classifyResponse(s Store, op string, resp minio.ErrorResponse) error {
	switch resp.Code {
	case "NoSuchBucket":
		return &CheckError{Reason: ferryv1.ReasonRepositoryBucketMissing, Message: fmt.Sprintf(
			"the bucket of %s does not exist: create it, or give the right bucket name", s)}
	// XAdminUserNotFound is versitygw's answer to an unknown access key.
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken", "InvalidSecurity", "AuthorizationHeaderMalformed", "XAdminUserNotFound":
		return &CheckError{Reason: ferryv1.ReasonRepositoryCredentials, Message: fmt.Sprintf(
			"%s rejected the credentials (%s): check the access key and secret key of the credentials file, and add the repository again with it (ferry repository add NAME ... --credentials-file FILE)", s, resp.Code)}
	case "AccessDenied", "AllAccessDisabled", "AccountProblem":
		return &CheckError{Reason: ferryv1.ReasonRepositoryPermission, Message: fmt.Sprintf(
			"the credentials may not %s in %s (%s): grant them list, read, write and delete on the bucket (s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject)", op, s, resp.Code)}
	}
	return &CheckError{Reason: ferryv1.ReasonRepositoryUnreachable, Message: fmt.Sprintf(
		"could not %s in %s: the service answered %s (HTTP %d)", op, s, resp.Code, resp.StatusCode)}
}

func isTLS(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		header   tls.RecordHeaderError
		alert    tls.AlertError
	)
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &header) || errors.As(err, &alert) ||
		// net/http's answer to plain HTTP on an https URL is not a type.
		strings.Contains(err.Error(), "server gave HTTP response to HTTPS client")
}

func isUnreachable(err error) bool {
	var op *net.OpError
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &op)
}

// rootCause is the innermost error, without the request's URL.
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return err
		}
		err = next
	}
}
