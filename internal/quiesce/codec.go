package quiesce

import (
	"encoding/json"
	"fmt"
	"strconv"

	ferryv1 "ferry.dev/ferry/api/v1alpha1"
)

// This file is the codec of the annotations Quiesce records: how the
// original value of each field it changes is written into its annotation
// and read back. Unquiesce reads them to restore the source; the resource
// transforms read them to give the destination the values from before
// quiesce. Both use these functions, so the format lives here only.

// Annotations are the annotations Quiesce sets on a workload and
// Unquiesce removes: ferryv1.AnnotationQuiescedBy and one original-value
// annotation per kind.
var Annotations = []string{
	ferryv1.AnnotationQuiescedBy,
	ferryv1.AnnotationOriginalReplicas,
	ferryv1.AnnotationOriginalSuspend,
	ferryv1.AnnotationOriginalNodeSelector,
	ferryv1.AnnotationOriginalWhenScaled,
}

// EncodeReplicas returns the value of ferryv1.AnnotationOriginalReplicas
// for replicas: the number, or "" when unset.
func EncodeReplicas(r *int32) string {
	if r == nil {
		return ""
	}
	return strconv.FormatInt(int64(*r), 10)
}

// DecodeReplicas parses what EncodeReplicas returned.
func DecodeReplicas(s string) (*int32, error) {
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 32)
	if err != nil || n < 0 {
		return nil, fmt.Errorf("parse replicas %q: not a non-negative 32-bit number", s)
	}
	r := int32(n)
	return &r, nil
}

// EncodeSuspend returns the value of ferryv1.AnnotationOriginalSuspend for
// suspend: "true", "false", or "" when unset.
func EncodeSuspend(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// DecodeSuspend parses what EncodeSuspend returned.
func DecodeSuspend(s string) (*bool, error) {
	var b bool
	switch s {
	case "":
		return nil, nil
	case "true":
		b = true
	case "false":
		b = false
	default:
		return nil, fmt.Errorf("parse suspend %q: want \"true\", \"false\" or \"\"", s)
	}
	return &b, nil
}

// EncodeNodeSelector returns the value of
// ferryv1.AnnotationOriginalNodeSelector for a node selector: JSON with
// sorted keys, or "" for a nil map.
func EncodeNodeSelector(m map[string]string) (string, error) {
	if m == nil {
		return "", nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return "", fmt.Errorf("encode node selector: %w", err)
	}
	return string(b), nil
}

// DecodeNodeSelector parses what EncodeNodeSelector returned.
func DecodeNodeSelector(s string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("parse node selector %q: %w", s, err)
	}
	return m, nil
}
