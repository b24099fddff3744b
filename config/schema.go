package config

import (
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
)

// SchemaVersion numbers the CRDs' schema: it grows by one whenever the
// CRDs change (TestSchemaVersion checks SchemaHash). An install records it
// on each CRD (AnnotationSchemaVersion) and never replaces a CRD of a
// higher version, so that an older ferry binary (a CLI on a laptop, a
// second installation) cannot drop the fields a newer controller writes.
const SchemaVersion = 9

// SchemaHash is the SHA-256 of the embedded CRD files as of SchemaVersion.
const SchemaHash = "93bc67e5885a6109c972dfee463a3074f6f1dc4b3401ca5c55bbb7b4f3c5a779"

// AnnotationSchemaVersion holds a CRD's SchemaVersion on the host.
const AnnotationSchemaVersion = "ferry.dev/schema-version"

// CRDHash returns the SHA-256 of the embedded CRD files, in name order.
func CRDHash() (string, error) {
	files, err := fs.Glob(CRDs, "crd/*.yaml")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	for _, f := range files {
		b, err := fs.ReadFile(CRDs, f)
		if err != nil {
			return "", err
		}
		h.Write([]byte(f))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
