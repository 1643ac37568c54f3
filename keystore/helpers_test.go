package keystore

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	btcecdsa "github.com/btcsuite/btcd/btcec/v2/ecdsa"
)

var (
	testPass = []byte("correct horse battery staple")
	// cheapKDF keeps tests fast; one test uses the defaults.
	cheapKDF  = KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}
	cheapOpts = SoftwareOptions{KDF: cheapKDF}
	allTypes  = []KeyType{Ed25519, Secp256k1, P256}
)

// detRand returns a deterministic random source for reproducible stores.
func detRand(seed byte) *rand.ChaCha8 {
	var s [32]byte
	s[0] = seed
	return rand.NewChaCha8(s)
}

// mustCreate creates a store and closes it at the end of the test.
func mustCreate(t testing.TB, dir string, pass []byte, opts SoftwareOptions) *Software {
	t.Helper()
	s, err := CreateSoftware(dir, pass, opts)
	if err != nil {
		t.Fatalf("CreateSoftware: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// mustOpen opens a store and closes it at the end of the test.
func mustOpen(t testing.TB, dir string, pass []byte, opts SoftwareOptions) *Software {
	t.Helper()
	s, err := OpenSoftware(dir, pass, opts)
	if err != nil {
		t.Fatalf("OpenSoftware: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustSigner(t testing.TB, s Keystore, id string) Signer {
	t.Helper()
	g, err := s.Signer(id)
	if err != nil {
		t.Fatalf("Signer(%q): %v", id, err)
	}
	return g
}

// storeWithKeys makes a closed store in a new directory holding one key of
// every type, with IDs equal to the type names, and returns the directory.
func storeWithKeys(t testing.TB, opts SoftwareOptions) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "keystore")
	pass := testPass
	if opts.Unencrypted {
		pass = nil
	}
	s, err := CreateSoftware(dir, pass, opts)
	if err != nil {
		t.Fatalf("CreateSoftware: %v", err)
	}
	for _, kt := range allTypes {
		if _, err := s.Create(string(kt), kt); err != nil {
			t.Fatalf("Create %s: %v", kt, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	return dir
}

// verify checks sig over msg with the standard verifier for g's type.
func verify(t testing.TB, g Signer, msg, sig []byte) bool {
	t.Helper()
	h := sha256.Sum256(msg)
	switch pub := g.PublicKey().(type) {
	case ed25519.PublicKey:
		if g.Type() != Ed25519 {
			t.Fatalf("%s signer returned ed25519.PublicKey", g.Type())
		}
		return ed25519.Verify(pub, msg, sig)
	case *btcec.PublicKey:
		if g.Type() != Secp256k1 || len(sig) != 64 {
			t.Fatalf("type %s, sig %d bytes", g.Type(), len(sig))
		}
		var r, s btcec.ModNScalar
		if r.SetByteSlice(sig[:32]) || s.SetByteSlice(sig[32:]) {
			return false
		}
		return btcecdsa.NewSignature(&r, &s).Verify(h[:], pub)
	case *ecdsa.PublicKey:
		if g.Type() != P256 || len(sig) != 64 {
			t.Fatalf("type %s, sig %d bytes", g.Type(), len(sig))
		}
		r := new(big.Int).SetBytes(sig[:32])
		s := new(big.Int).SetBytes(sig[32:])
		return ecdsa.Verify(pub, h[:], r, s)
	default:
		t.Fatalf("unexpected public key type %T", pub)
	}
	return false
}

// dirSnapshot returns the contents of every file in dir.
func dirSnapshot(t testing.TB, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string][]byte)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func sameSnapshot(t testing.TB, want, got map[string][]byte) {
	t.Helper()
	if len(want) != len(got) {
		t.Fatalf("directory changed: %d files before, %d after", len(want), len(got))
	}
	for name, b := range want {
		if !bytes.Equal(b, got[name]) {
			t.Fatalf("file %s changed", name)
		}
	}
}

// editJSON rewrites keystore.json in dir through a generic JSON tree.
func editJSON(t testing.TB, dir string, edit func(m map[string]any)) {
	t.Helper()
	path := filepath.Join(dir, fileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// jsonKey returns the "keys" entry with the given id.
func jsonKey(t testing.TB, m map[string]any, id string) map[string]any {
	t.Helper()
	for _, k := range m["keys"].([]any) {
		km := k.(map[string]any)
		if km["id"] == id {
			return km
		}
	}
	t.Fatalf("no key %q in file", id)
	return nil
}

// flipHex flips the low bit of the byte at index i of a hex string.
func flipHex(t testing.TB, s string, i int) string {
	t.Helper()
	b := []byte(s)
	c := b[2*i+1]
	const digits = "0123456789abcdef"
	idx := bytes.IndexByte([]byte(digits), c)
	if idx < 0 {
		t.Fatalf("not lower-case hex: %q", s)
	}
	b[2*i+1] = digits[idx^1]
	return string(b)
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error = %v, want %v", err, target)
	}
}
