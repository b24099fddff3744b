package repository

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// ID names a blob, a pack or a snapshot.
type ID [32]byte

// String is the ID in hex.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Short is the first eight hex digits, for messages.
func (id ID) Short() string { return id.String()[:8] }

// IsZero reports the zero ID.
func (id ID) IsZero() bool { return id == ID{} }

// ParseID reads an ID written by String.
func ParseID(s string) (ID, error) {
	var id ID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("%q is not a repository ID", s)
	}
	copy(id[:], b)
	return id, nil
}

// randomID returns a random ID, for objects named by nothing else.
func randomID() ID {
	var id ID
	if _, err := rand.Read(id[:]); err != nil {
		panic(fmt.Sprintf("read random ID: %v", err))
	}
	return id
}
