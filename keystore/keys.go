package keystore

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/btcsuite/btcd/btcec/v2"
	btcecdsa "github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
)

// keyMaterial is one private key in memory. Exactly one of ed, k1 and p256
// is set, according to t.
type keyMaterial struct {
	t    KeyType
	ed   ed25519.PrivateKey
	k1   *btcec.PrivateKey
	p256 *ecdsa.PrivateKey
	pub  []byte // encoded as in KeyInfo.PublicKey
	// pubKey is the public key as a Go value; it outlives zero.
	pubKey crypto.PublicKey
}

// String implements fmt.Stringer so that key material never prints.
func (m keyMaterial) String() string { return redacted }

// GoString implements fmt.GoStringer.
func (m keyMaterial) GoString() string { return redacted }

// Format implements fmt.Formatter; every verb prints "[redacted]".
func (m keyMaterial) Format(f fmt.State, verb rune) { formatRedacted(f, verb) }

// newKeyMaterial parses a 32-byte secret: an Ed25519 seed, or a secp256k1
// or P-256 scalar. It does not keep secret.
func newKeyMaterial(t KeyType, secret []byte) (*keyMaterial, error) {
	if len(secret) != secretLen {
		return nil, fmt.Errorf("private key is %d bytes (want %d)", len(secret), secretLen)
	}
	m := &keyMaterial{t: t}
	switch t {
	case Ed25519:
		m.ed = ed25519.NewKeyFromSeed(secret)
		m.pub = append([]byte(nil), m.ed[ed25519.SeedSize:]...)
		m.pubKey = ed25519.PublicKey(m.pub)
	case Secp256k1:
		var s btcec.ModNScalar
		overflow := s.SetByteSlice(secret)
		if overflow || s.IsZero() {
			s.Zero()
			return nil, errors.New("private key is not a valid secp256k1 scalar")
		}
		m.k1 = btcec.PrivKeyFromScalar(&s)
		s.Zero()
		pk := m.k1.PubKey()
		m.pub = pk.SerializeCompressed()
		m.pubKey = pk
	case P256:
		k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), secret)
		if err != nil {
			return nil, errors.New("private key is not a valid P-256 scalar")
		}
		m.p256 = k
		raw, err := k.PublicKey.Bytes()
		if err != nil || len(raw) != 65 {
			return nil, errors.New("cannot encode P-256 public key")
		}
		m.pub = make([]byte, 33)
		m.pub[0] = 2 | raw[64]&1
		copy(m.pub[1:], raw[1:33])
		pk := k.PublicKey
		m.pubKey = &pk
	default:
		return nil, fmt.Errorf("unknown key type %q", t)
	}
	return m, nil
}

// generateKey makes a new key of type t from r.
func generateKey(t KeyType, r io.Reader) (*keyMaterial, error) {
	if !t.valid() {
		return nil, fmt.Errorf("keystore: unknown key type %q (want ed25519, secp256k1 or p256)", t)
	}
	buf := make([]byte, secretLen)
	defer clear(buf)
	// A random 32-byte value is a valid scalar except with probability
	// below 2^-32 (P-256) or 2^-127 (secp256k1); retry a few times.
	for range 8 {
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("keystore: read random key: %w", err)
		}
		if m, err := newKeyMaterial(t, buf); err == nil {
			return m, nil
		}
	}
	return nil, errors.New("keystore: random source keeps producing invalid keys")
}

// secret returns the 32-byte serialisation of the private key. The caller
// clears it.
func (m *keyMaterial) secret() ([]byte, error) {
	switch m.t {
	case Ed25519:
		return m.ed.Seed(), nil
	case Secp256k1:
		b := m.k1.Key.Bytes()
		out := append([]byte(nil), b[:]...)
		clear(b[:])
		return out, nil
	case P256:
		return m.p256.Bytes()
	}
	return nil, fmt.Errorf("unknown key type %q", m.t)
}

// publicBytes returns the encoded public key.
func (m *keyMaterial) publicBytes() []byte { return m.pub }

// publicKey returns the public key as a Go value. It works after zero.
func (m *keyMaterial) publicKey() crypto.PublicKey {
	switch pk := m.pubKey.(type) {
	case ed25519.PublicKey:
		return ed25519.PublicKey(bytes.Clone(pk))
	case *ecdsa.PublicKey:
		c := *pk
		return &c
	}
	return m.pubKey // *btcec.PublicKey is immutable
}

// sign implements Signer.Sign.
func (m *keyMaterial) sign(msg []byte) ([]byte, error) {
	switch m.t {
	case Ed25519:
		return ed25519.Sign(m.ed, msg), nil
	case Secp256k1:
		h := sha256.Sum256(msg)
		sig := btcecdsa.Sign(m.k1, h[:])
		r, s := sig.R(), sig.S()
		if s.IsOverHalfOrder() {
			s.Negate()
		}
		out := make([]byte, 64)
		rb, sb := r.Bytes(), s.Bytes()
		copy(out, rb[:])
		copy(out[32:], sb[:])
		return out, nil
	case P256:
		h := sha256.Sum256(msg)
		r, s, err := ecdsa.Sign(rand.Reader, m.p256, h[:])
		if err != nil {
			return nil, fmt.Errorf("keystore: P-256 sign: %w", err)
		}
		out := make([]byte, 64)
		r.FillBytes(out[:32])
		s.FillBytes(out[32:])
		return out, nil
	}
	return nil, fmt.Errorf("keystore: unknown key type %q", m.t)
}

// signSchnorr makes a BIP-340 signature of a 32-byte hash with auxiliary
// randomness read from r.
func (m *keyMaterial) signSchnorr(hash []byte, r io.Reader) ([]byte, error) {
	if m.t != Secp256k1 {
		return nil, fmt.Errorf("keystore: %s keys cannot make BIP-340 signatures", m.t)
	}
	if len(hash) != 32 {
		return nil, fmt.Errorf("keystore: BIP-340 signing needs a 32-byte hash, got %d bytes", len(hash))
	}
	var aux [32]byte
	if _, err := io.ReadFull(r, aux[:]); err != nil {
		return nil, fmt.Errorf("keystore: read random: %w", err)
	}
	sig, err := schnorr.Sign(m.k1, hash, schnorr.CustomNonce(aux))
	if err != nil {
		return nil, fmt.Errorf("keystore: BIP-340 sign: %w", err)
	}
	return sig.Serialize(), nil
}

// zero clears the private key as far as the libraries allow. crypto/ecdsa
// keeps the P-256 scalar in an internal form that cannot be cleared; the
// key is dropped instead.
func (m *keyMaterial) zero() {
	clear(m.ed)
	m.ed = nil
	if m.k1 != nil {
		m.k1.Zero()
		m.k1 = nil
	}
	m.p256 = nil
}
