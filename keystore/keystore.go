package keystore

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// KeyType names a signature algorithm and curve.
type KeyType string

// The supported key types.
const (
	Ed25519   KeyType = "ed25519"
	Secp256k1 KeyType = "secp256k1"
	P256      KeyType = "p256"
)

// ParseKeyType parses a key type name as written in configuration or on the
// command line: "ed25519", "secp256k1", "p256" or "p-256", in any case.
func ParseKeyType(s string) (KeyType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "ed25519":
		return Ed25519, nil
	case "secp256k1":
		return Secp256k1, nil
	case "p256", "p-256":
		return P256, nil
	}
	return "", fmt.Errorf("keystore: unknown key type %q (want ed25519, secp256k1 or p256)", s)
}

// valid reports whether t is one of the supported key types.
func (t KeyType) valid() bool {
	return t == Ed25519 || t == Secp256k1 || t == P256
}

// Errors returned by this package, wrapped with context. Compare with
// errors.Is.
var (
	// ErrNotFound: no keystore in the directory, or no key with that ID.
	ErrNotFound = errors.New("not found")
	// ErrExists: a keystore is already in the directory, or the key ID is
	// taken.
	ErrExists = errors.New("already exists")
	// ErrWrongPassphrase: the passphrase does not unlock the keystore.
	ErrWrongPassphrase = errors.New("wrong passphrase")
	// ErrCorrupt: the keystore file is damaged or was tampered with. The
	// wrapping error names the file and what is wrong.
	ErrCorrupt = errors.New("corrupt")
	// ErrLocked: another process has the keystore open. The message reads
	// "keystore <dir> is in use by another process".
	ErrLocked = errors.New("in use by another process")
	// ErrModeMismatch: the store is encrypted and the configuration says
	// unencrypted, or the reverse.
	ErrModeMismatch = errors.New("encryption mode does not match the configuration")
	// ErrNoPassphrase: an encrypted store needs a passphrase and none was
	// given.
	ErrNoPassphrase = errors.New("no passphrase")
	// ErrClosed: the keystore was closed.
	ErrClosed = errors.New("keystore is closed")
)

// Signer signs with one key held by a keystore; the private key never
// leaves it. Signers are safe for concurrent use.
type Signer interface {
	// ID returns the key's ID in its keystore.
	ID() string
	// Type returns the key's type.
	Type() KeyType
	// PublicKey returns ed25519.PublicKey, *btcec.PublicKey (btcec/v2), or
	// *ecdsa.PublicKey (P-256).
	PublicKey() crypto.PublicKey
	// Sign signs msg. Ed25519: RFC 8032 over msg, 64 bytes. secp256k1:
	// ECDSA over sha256(msg), 64-byte r||s, always low-S. P-256: ECDSA
	// over sha256(msg), 64-byte r||s.
	Sign(msg []byte) ([]byte, error)
}

// SchnorrSigner is implemented by secp256k1 signers that can make BIP-340
// signatures.
type SchnorrSigner interface {
	Signer
	// SignSchnorr signs a 32-byte hash and returns a 64-byte BIP-340
	// signature. Any other input length is an error.
	SignSchnorr(hash []byte) ([]byte, error)
}

// KeyInfo is the public description of a key.
type KeyInfo struct {
	ID   string
	Type KeyType
	// PublicKey is 32 bytes for Ed25519, and a 33-byte compressed SEC1
	// point for secp256k1 and P-256.
	PublicKey []byte
	Created   time.Time
}

// Keystore is what the node uses; the software store implements it now,
// PKCS#11 later.
type Keystore interface {
	// Create makes a new key. It fails with ErrExists if id is taken.
	Create(id string, t KeyType) (Signer, error)
	// Signer returns the signer for id, or ErrNotFound.
	Signer(id string) (Signer, error)
	// List describes all keys, sorted by ID.
	List() []KeyInfo
	// Close zeroes the secrets held in memory and releases the store.
	Close() error
}

// MaxIDLen is the maximum length of a key ID.
const MaxIDLen = 64

// ValidateID checks that id is 1-64 characters from [a-zA-Z0-9._-].
func ValidateID(id string) error {
	if id == "" || len(id) > MaxIDLen {
		return fmt.Errorf("keystore: invalid key ID %q: want 1-%d characters", id, MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '_', c == '-':
		default:
			return fmt.Errorf("keystore: invalid key ID %q: character %q not in [a-zA-Z0-9._-]", id, c)
		}
	}
	return nil
}

// redacted is what secret-holding values print.
const redacted = "[redacted]"

// formatRedacted implements fmt.Formatter for secret-holding types: every
// verb, including %d and %x which bypass String, prints "[redacted]".
func formatRedacted(f fmt.State, _ rune) {
	io.WriteString(f, redacted)
}
