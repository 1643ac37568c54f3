package p2p

import (
	"crypto/ed25519"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"

	"github.com/anya-org/anya/keystore"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/crypto/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/quic-go/quic-go"
	"golang.org/x/crypto/hkdf"
)

// ErrKeyNotExportable is returned by the identity key's Raw: the private key
// stays in the keystore.
var ErrKeyNotExportable = errors.New("p2p: the host identity key is held by the keystore and cannot be exported")

// signerKey adapts an Ed25519 keystore.Signer to libp2p's crypto.PrivKey.
// Every signature goes through the keystore; Raw always fails, so nothing in
// libp2p can copy the private key (see hsm.md: QUIC keys are derived below).
type signerKey struct {
	signer keystore.Signer
	pub    crypto.PubKey
}

// IdentityKey wraps an Ed25519 signer as a libp2p private key.
func IdentityKey(s keystore.Signer) (crypto.PrivKey, error) {
	if s.Type() != keystore.Ed25519 {
		return nil, fmt.Errorf("p2p: identity key %q is %s, want ed25519", s.ID(), s.Type())
	}
	raw, ok := s.PublicKey().(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("p2p: identity key %q has public key type %T", s.ID(), s.PublicKey())
	}
	pub, err := crypto.UnmarshalEd25519PublicKey(raw)
	if err != nil {
		return nil, fmt.Errorf("p2p: identity key %q: %w", s.ID(), err)
	}
	return &signerKey{signer: s, pub: pub}, nil
}

// PeerID returns the peer ID of an Ed25519 public key.
func PeerID(pub ed25519.PublicKey) (peer.ID, error) {
	k, err := crypto.UnmarshalEd25519PublicKey(pub)
	if err != nil {
		return "", err
	}
	return peer.IDFromPublicKey(k)
}

func (k *signerKey) Sign(msg []byte) ([]byte, error) { return k.signer.Sign(msg) }
func (k *signerKey) GetPublic() crypto.PubKey        { return k.pub }
func (k *signerKey) Type() pb.KeyType                { return pb.KeyType_Ed25519 }
func (k *signerKey) Raw() ([]byte, error)            { return nil, ErrKeyNotExportable }

// Equals compares public keys; libp2p's default would call Raw.
func (k *signerKey) Equals(o crypto.Key) bool {
	other, ok := o.(crypto.PrivKey)
	if !ok {
		return false
	}
	return k.pub.Equals(other.GetPublic())
}

// quicKeys derives QUIC's stateless-reset and token keys from a deterministic
// Ed25519 signature over a fixed label, so they are secret, stable across
// restarts, and need no access to the raw private key.
func quicKeys(s keystore.Signer) (quic.StatelessResetKey, quic.TokenGeneratorKey, error) {
	var srk quic.StatelessResetKey
	var tgk quic.TokenGeneratorKey
	sig, err := s.Sign([]byte("anya/p2p/quic-keys/v1"))
	if err != nil {
		return srk, tgk, fmt.Errorf("p2p: derive QUIC keys: %w", err)
	}
	secret := sha256.Sum256(sig)
	clear(sig)
	defer clear(secret[:])
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret[:], nil, []byte("libp2p quic stateless reset key")), srk[:]); err != nil {
		return srk, tgk, err
	}
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret[:], nil, []byte("libp2p quic token generator key")), tgk[:]); err != nil {
		return srk, tgk, err
	}
	return srk, tgk, nil
}
