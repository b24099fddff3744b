package repository

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/zeebo/blake3"
)

// KeySize is the size of a repository key.
const KeySize = 32

// ErrTampered is wrapped by the errors of data that does not open under
// the repository's key: changed, truncated, moved or sealed under another
// key.
var ErrTampered = errors.New("data does not authenticate (tampered with, damaged, or sealed under another key)")

// Key is a repository key. Every key the repository uses is derived from
// it.
type Key [KeySize]byte

// NewKey returns a random key.
func NewKey() (Key, error) {
	var k Key
	if _, err := rand.Read(k[:]); err != nil {
		return k, fmt.Errorf("generate repository key: %w", err)
	}
	return k, nil
}

// ParseKey checks that b is a key.
func ParseKey(b []byte) (Key, error) {
	var k Key
	if len(b) != KeySize {
		return k, fmt.Errorf("a repository key has %d bytes, not %d", KeySize, len(b))
	}
	copy(k[:], b)
	return k, nil
}

// keys are what a Key derives.
type keys struct {
	aead   cipher.AEAD
	idKey  [32]byte
	seed   [32]byte
	nonces int
}

// derive derives the sealing key, the blob naming key and the chunker
// seed from k.
func derive(k Key) (*keys, error) {
	var enc [32]byte
	out := &keys{}
	blake3.DeriveKey("ferry repository 2026-12 sealing key", k[:], enc[:])
	blake3.DeriveKey("ferry repository 2026-12 blob id key", k[:], out.idKey[:])
	blake3.DeriveKey("ferry repository 2026-12 chunker seed", k[:], out.seed[:])
	block, err := aes.NewCipher(enc[:])
	if err != nil {
		return nil, fmt.Errorf("derive repository keys: %w", err)
	}
	if out.aead, err = cipher.NewGCM(block); err != nil {
		return nil, fmt.Errorf("derive repository keys: %w", err)
	}
	out.nonces = out.aead.NonceSize()
	return out, nil
}

// overhead is what sealing adds to a plaintext.
func (k *keys) overhead() int { return k.nonces + k.aead.Overhead() }

// seal appends nonce, ciphertext and tag of plaintext to dst; aad binds
// the ciphertext to its place (a blob's ID, an object's kind).
func (k *keys) seal(dst, plaintext, aad []byte) []byte {
	nonce := make([]byte, k.nonces)
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("read random nonce: %v", err)) // crypto/rand does not fail on Linux
	}
	dst = append(dst, nonce...)
	return k.aead.Seal(dst, nonce, plaintext, aad)
}

// open authenticates and decrypts what seal made, appending the
// plaintext to dst.
func (k *keys) open(dst, sealed, aad []byte) ([]byte, error) {
	if len(sealed) < k.overhead() {
		return nil, fmt.Errorf("%w: %d bytes is too short", ErrTampered, len(sealed))
	}
	out, err := k.aead.Open(dst, sealed[:k.nonces], sealed[k.nonces:], aad)
	if err != nil {
		return nil, ErrTampered
	}
	return out, nil
}

// blobID names data: its BLAKE3 hash keyed with the repository's ID key,
// so names say nothing about content to whoever lacks the key.
func (k *keys) blobID(data []byte) ID {
	h, err := blake3.NewKeyed(k.idKey[:])
	if err != nil {
		panic(fmt.Sprintf("keyed BLAKE3 with a 32-byte key: %v", err))
	}
	_, _ = h.Write(data)
	var id ID
	h.Sum(id[:0])
	return id
}
