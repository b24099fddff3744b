package console

import (
	"encoding/json"
	"errors"
	"net/http"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// httpError is an error with the HTTP status it answers.
type httpError struct {
	code int
	err  error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

// withStatus gives err the status code, unless it carries the API
// server's own status (a 404 stays a 404).
func withStatus(code int, err error) error {
	if err == nil {
		return nil
	}
	return &httpError{code: code, err: err}
}

// badRequest is err as a 400.
func badRequest(err error) error { return &httpError{code: http.StatusBadRequest, err: err} }

// statusOf maps an error to its HTTP status: an httpError's own, else the
// API server's status (not found, forbidden, conflict, invalid), else 500.
func statusOf(err error) int {
	var s apierrors.APIStatus
	if errors.As(err, &s) {
		if code := apiCode(s); code != 0 {
			return code
		}
	}
	var he *httpError
	if errors.As(err, &he) {
		return he.code
	}
	return http.StatusInternalServerError
}

// apiCode maps the API server's status to the console's codes, 0 for
// one that is not a client's fault.
func apiCode(s apierrors.APIStatus) int {
	switch code := int(s.Status().Code); code {
	case http.StatusNotFound, http.StatusForbidden, http.StatusConflict, http.StatusBadRequest:
		return code
	case http.StatusUnprocessableEntity:
		return http.StatusBadRequest
	case http.StatusUnauthorized:
		return http.StatusForbidden // the console's own identity, not the session
	}
	return 0
}

// writeError answers {"error": msg}.
func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// writeJSON answers v as JSON.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
