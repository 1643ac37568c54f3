package node

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/keystore"
	"github.com/anya-org/anya/p2p"
)

// CreateDIDRequest asks for a new key and the DID over it.
type CreateDIDRequest struct {
	Method string `json:"method"` // key or jwk
	Curve  string `json:"curve"`  // ed25519, secp256k1 or p256
}

// CreatedDID is a DID over a key that was just made in the keystore.
type CreatedDID struct {
	DID   string `json:"did"`
	KeyID string `json:"keyId"`
	Curve string `json:"curve"`
}

// KeyView is what the API shows of a key: never its secret.
type KeyView struct {
	ID        string `json:"id"`
	Type      string `json:"type"`
	PublicKey string `json:"publicKey"`
}

// withDefaults fills in method key and curve ed25519.
func (r CreateDIDRequest) withDefaults() CreateDIDRequest {
	if r.Method == "" {
		r.Method = "key"
	}
	if r.Curve == "" {
		r.Curve = string(keystore.Ed25519)
	}
	return r
}

// Validate reports a method or curve that CreateDID would refuse.
func (r CreateDIDRequest) Validate() error {
	r = r.withDefaults()
	if r.Method != "key" && r.Method != "jwk" {
		return fmt.Errorf("method %q is not key or jwk", r.Method)
	}
	_, err := keystore.ParseKeyType(r.Curve)
	return err
}

// CreateDID makes a key of the curve in the keystore and returns the did:key
// or did:jwk over it.
func CreateDID(ks keystore.Keystore, req CreateDIDRequest) (CreatedDID, error) {
	if err := req.Validate(); err != nil {
		return CreatedDID{}, err
	}
	req = req.withDefaults()
	newDID := did.NewKey
	if req.Method == "jwk" {
		newDID = did.NewJWK
	}
	kt, _ := keystore.ParseKeyType(req.Curve)
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		return CreatedDID{}, err
	}
	id := fmt.Sprintf("did-%s-%s-%s", req.Method, kt, hex.EncodeToString(suffix))
	signer, err := ks.Create(id, kt)
	if err != nil {
		return CreatedDID{}, err
	}
	d, err := newDID(signer.PublicKey())
	if err != nil {
		return CreatedDID{}, err
	}
	return CreatedDID{DID: d, KeyID: id, Curve: string(kt)}, nil
}

func keyViews(keys []keystore.KeyInfo) []KeyView {
	out := make([]KeyView, len(keys))
	for i, k := range keys {
		out[i] = KeyView{ID: k.ID, Type: string(k.Type), PublicKey: hex.EncodeToString(k.PublicKey)}
	}
	return out
}

// Identity is the node's DID and peer ID, read from the keystore's public
// part without the passphrase.
type Identity struct {
	DID    string `json:"did"`
	PeerID string `json:"peerId"`
}

// ReadIdentity reads a data directory's identity offline.
func ReadIdentity(dataDir string) (Identity, error) {
	if !Initialised(dataDir) {
		return Identity{}, fmt.Errorf("%s: %w", dataDir, ErrNotInitialised)
	}
	keys, err := keystore.ReadPublic(KeystorePath(dataDir))
	if err != nil {
		return Identity{}, err
	}
	for _, k := range keys {
		if k.ID != NodeKeyID {
			continue
		}
		if k.Type != keystore.Ed25519 || len(k.PublicKey) != ed25519.PublicKeySize {
			return Identity{}, fmt.Errorf("node key in %s is %s, want ed25519", KeystorePath(dataDir), k.Type)
		}
		pub := ed25519.PublicKey(k.PublicKey)
		d, err := did.NewKey(pub)
		if err != nil {
			return Identity{}, err
		}
		pid, err := p2p.PeerID(pub)
		if err != nil {
			return Identity{}, err
		}
		return Identity{DID: d, PeerID: pid.String()}, nil
	}
	return Identity{}, errors.New("keystore has no node key " + NodeKeyID)
}

// OpenKeystore opens a data directory's keystore for offline commands; it
// fails with keystore.ErrLocked while a daemon holds it.
func OpenKeystore(dataDir string, cfg Config) (keystore.Keystore, error) {
	if !Initialised(dataDir) {
		return nil, fmt.Errorf("%s: %w", dataDir, ErrNotInitialised)
	}
	pass, err := passphrase(dataDir, cfg.Keystore, false)
	if err != nil {
		return nil, err
	}
	defer clear(pass)
	return keystore.OpenSoftware(KeystorePath(dataDir), pass, keystore.SoftwareOptions{Unencrypted: cfg.Keystore.Unencrypted})
}
