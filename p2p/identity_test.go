package p2p

import (
	"crypto/ed25519"
	"errors"
	"testing"

	"github.com/anya-org/anya/keystore"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

func newStore(t *testing.T) *keystore.Software {
	t.Helper()
	ks, err := keystore.CreateSoftware(t.TempDir(), []byte("p2p test"), keystore.SoftwareOptions{KDF: keystore.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	return ks
}

func TestIdentityKeyNeverExportsTheSecret(t *testing.T) {
	ks := newStore(t)
	s, err := ks.Create("node", keystore.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	key, err := IdentityKey(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := key.Raw(); !errors.Is(err, ErrKeyNotExportable) {
		t.Fatalf("Raw: want ErrKeyNotExportable, got %v", err)
	}
	if _, err := crypto.MarshalPrivateKey(key); err == nil {
		t.Fatalf("MarshalPrivateKey exported the identity key")
	}
	msg := []byte("noise-libp2p-static-key:example")
	sig, err := key.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := key.GetPublic().Verify(msg, sig); !ok || err != nil {
		t.Fatalf("libp2p cannot verify the keystore's signature: %v", err)
	}
	if ok, _ := key.GetPublic().Verify([]byte("other"), sig); ok {
		t.Fatalf("signature verified over another message")
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := PeerID(s.PublicKey().(ed25519.PublicKey))
	if err != nil || pid != id {
		t.Fatalf("PeerID from the public key %s differs from the host's %s (%v)", pid, id, err)
	}
	if !key.Equals(key) {
		t.Fatalf("a key must equal itself")
	}
	other, _ := ks.Create("other", keystore.Ed25519)
	otherKey, _ := IdentityKey(other)
	if key.Equals(otherKey) {
		t.Fatalf("different keys compare equal")
	}
}

func TestIdentityKeyRefusesOtherCurves(t *testing.T) {
	ks := newStore(t)
	for _, kt := range []keystore.KeyType{keystore.Secp256k1, keystore.P256} {
		s, err := ks.Create(string(kt), kt)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := IdentityKey(s); err == nil {
			t.Fatalf("IdentityKey accepted a %s key", kt)
		}
	}
}

func TestQUICKeysAreStablePerIdentity(t *testing.T) {
	ks := newStore(t)
	a, _ := ks.Create("a", keystore.Ed25519)
	b, _ := ks.Create("b", keystore.Ed25519)
	srk1, tgk1, err := quicKeys(a)
	if err != nil {
		t.Fatal(err)
	}
	srk2, tgk2, _ := quicKeys(a)
	srk3, tgk3, _ := quicKeys(b)
	if srk1 != srk2 || tgk1 != tgk2 {
		t.Fatalf("QUIC keys change between derivations of one identity")
	}
	if srk1 == srk3 || tgk1 == tgk3 || [32]byte(srk1) == [32]byte(tgk1) {
		t.Fatalf("QUIC keys collide across identities or purposes")
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := good
	bad.Bootstrap = []string{"/ip4/127.0.0.1/tcp/4420"}
	if err := bad.Validate(); err == nil {
		t.Fatalf("a bootstrap address without /p2p/ must be refused")
	}
	bad = good
	bad.ConnsHigh = 1
	if err := bad.Validate(); err == nil {
		t.Fatalf("conns_high below conns_low must be refused")
	}
}
