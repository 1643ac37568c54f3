package keystore

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/chaincfg"
)

func TestRoundTrip(t *testing.T) {
	for _, unenc := range []bool{false, true} {
		t.Run(fmt.Sprintf("unencrypted=%v", unenc), func(t *testing.T) {
			now := time.Date(2026, 3, 4, 5, 6, 7, 89, time.UTC)
			opts := SoftwareOptions{Unencrypted: unenc, KDF: cheapKDF, Now: func() time.Time { return now }}
			pass := testPass
			if unenc {
				pass = nil
			}
			dir := filepath.Join(t.TempDir(), "ks")
			s, err := CreateSoftware(dir, pass, opts)
			if err != nil {
				t.Fatal(err)
			}
			if s.Unencrypted() != unenc {
				t.Fatalf("Unencrypted() = %v", s.Unencrypted())
			}
			msg := []byte("hello anya")
			sigs := map[string][]byte{}
			// Create out of order: List must sort.
			for _, kt := range []KeyType{P256, Secp256k1, Ed25519} {
				id := "key-" + string(kt)
				g, err := s.Create(id, kt)
				if err != nil {
					t.Fatalf("Create %s: %v", kt, err)
				}
				if g.ID() != id || g.Type() != kt {
					t.Fatalf("signer %s/%s", g.ID(), g.Type())
				}
				if sigs[id], err = g.Sign(msg); err != nil {
					t.Fatal(err)
				}
				if !verify(t, g, msg, sigs[id]) {
					t.Fatalf("%s: fresh signature does not verify", kt)
				}
			}
			before := s.List()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if got := []string{before[0].ID, before[1].ID, before[2].ID}; !slices.IsSorted(got) {
				t.Fatalf("List not sorted: %v", got)
			}
			for _, ki := range before {
				if !ki.Created.Equal(now) {
					t.Fatalf("Created = %v, want %v", ki.Created, now)
				}
			}

			s2 := mustOpen(t, dir, pass, opts)
			after := s2.List()
			if len(after) != 3 {
				t.Fatalf("List after reopen: %d keys", len(after))
			}
			for i := range before {
				b, a := before[i], after[i]
				if b.ID != a.ID || b.Type != a.Type || !bytes.Equal(b.PublicKey, a.PublicKey) || !b.Created.Equal(a.Created) {
					t.Fatalf("key %d differs after reopen: %+v vs %+v", i, b, a)
				}
				g := mustSigner(t, s2, a.ID)
				if !verify(t, g, msg, sigs[a.ID]) {
					t.Fatalf("%s: old signature does not verify against reopened key", a.ID)
				}
				sig, err := g.Sign(msg)
				if err != nil {
					t.Fatal(err)
				}
				if !verify(t, g, msg, sig) {
					t.Fatalf("%s: signature after reopen does not verify", a.ID)
				}
				if !bytes.Equal(encodePub(t, g), a.PublicKey) {
					t.Fatalf("%s: PublicKey() does not match KeyInfo.PublicKey", a.ID)
				}
			}
		})
	}
}

// encodePub encodes g.PublicKey() as KeyInfo.PublicKey is encoded.
func encodePub(t testing.TB, g Signer) []byte {
	t.Helper()
	switch pub := g.PublicKey().(type) {
	case ed25519.PublicKey:
		return pub
	case *btcec.PublicKey:
		return pub.SerializeCompressed()
	case *ecdsa.PublicKey:
		return elliptic.MarshalCompressed(elliptic.P256(), pub.X, pub.Y)
	}
	t.Fatalf("unexpected %T", g.PublicKey())
	return nil
}

func TestSignaturesVerify(t *testing.T) {
	s := mustCreate(t, filepath.Join(t.TempDir(), "ks"), testPass, cheapOpts)
	wantLen := map[KeyType]int{Ed25519: 32, Secp256k1: 33, P256: 33}
	for _, kt := range allTypes {
		t.Run(string(kt), func(t *testing.T) {
			g, err := s.Create(string(kt), kt)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(encodePub(t, g)); n != wantLen[kt] {
				t.Fatalf("public key is %d bytes", n)
			}
			for _, msg := range [][]byte{nil, []byte("x"), bytes.Repeat([]byte("long message "), 1000)} {
				sig, err := g.Sign(msg)
				if err != nil {
					t.Fatal(err)
				}
				if len(sig) != 64 {
					t.Fatalf("signature is %d bytes", len(sig))
				}
				if !verify(t, g, msg, sig) {
					t.Fatal("signature does not verify")
				}
				tampered := append(slices.Clone(msg), '!')
				if verify(t, g, tampered, sig) {
					t.Fatal("signature verifies for a tampered message")
				}
				badSig := slices.Clone(sig)
				badSig[10] ^= 1
				if verify(t, g, msg, badSig) {
					t.Fatal("tampered signature verifies")
				}
			}
			// The public key returned is a copy the caller may change.
			if pub, ok := g.PublicKey().(ed25519.PublicKey); ok {
				pub[0] ^= 0xff
				if bytes.Equal(g.PublicKey().(ed25519.PublicKey), pub) {
					t.Fatal("PublicKey returns the signer's own slice")
				}
			}
		})
	}
}

func TestSecp256k1LowS(t *testing.T) {
	s := mustCreate(t, filepath.Join(t.TempDir(), "ks"), testPass, cheapOpts)
	g, err := s.Create("btc", Secp256k1)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 500 {
		msg := []byte(fmt.Sprintf("message %d", i))
		sig, err := g.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		var sc btcec.ModNScalar
		if sc.SetByteSlice(sig[32:]) || sc.IsOverHalfOrder() {
			t.Fatalf("signature %d is high-S", i)
		}
		if !verify(t, g, msg, sig) {
			t.Fatalf("signature %d does not verify", i)
		}
	}
}

func TestSchnorr(t *testing.T) {
	s := mustCreate(t, filepath.Join(t.TempDir(), "ks"), testPass, cheapOpts)
	for _, kt := range []KeyType{Ed25519, P256} {
		g, err := s.Create(string(kt), kt)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := g.(SchnorrSigner); ok {
			t.Fatalf("%s signer implements SchnorrSigner", kt)
		}
	}
	g, err := s.Create("btc", Secp256k1)
	if err != nil {
		t.Fatal(err)
	}
	ss, ok := g.(SchnorrSigner)
	if !ok {
		t.Fatal("secp256k1 signer does not implement SchnorrSigner")
	}
	// The signer from Signer() too.
	if _, ok := mustSigner(t, s, "btc").(SchnorrSigner); !ok {
		t.Fatal("Signer(btc) does not implement SchnorrSigner")
	}
	pub := g.PublicKey().(*btcec.PublicKey)
	xonly, err := schnorr.ParsePubKey(schnorr.SerializePubKey(pub))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		hash := sha256.Sum256([]byte{byte(i)})
		sigBytes, err := ss.SignSchnorr(hash[:])
		if err != nil {
			t.Fatal(err)
		}
		if len(sigBytes) != 64 {
			t.Fatalf("BIP-340 signature is %d bytes", len(sigBytes))
		}
		sig, err := schnorr.ParseSignature(sigBytes)
		if err != nil {
			t.Fatal(err)
		}
		if !sig.Verify(hash[:], xonly) {
			t.Fatal("BIP-340 signature does not verify")
		}
		other := sha256.Sum256([]byte{byte(i), 1})
		if sig.Verify(other[:], xonly) {
			t.Fatal("BIP-340 signature verifies for another hash")
		}
	}
	for _, n := range []int{0, 31, 33, 64} {
		if _, err := ss.SignSchnorr(make([]byte, n)); err == nil {
			t.Fatalf("SignSchnorr accepted %d bytes", n)
		}
	}
}

func TestWrongPassphrase(t *testing.T) {
	dir := storeWithKeys(t, cheapOpts)
	snap := dirSnapshot(t, dir)
	_, err := OpenSoftware(dir, []byte("wrong"), cheapOpts)
	wantErr(t, err, ErrWrongPassphrase)
	if errors.Is(err, ErrCorrupt) {
		t.Fatal("wrong passphrase reported as corrupt")
	}
	if !strings.Contains(err.Error(), dir) {
		t.Fatalf("error does not name the store: %v", err)
	}
	sameSnapshot(t, snap, dirSnapshot(t, dir))

	_, err = OpenSoftware(dir, nil, cheapOpts)
	wantErr(t, err, ErrNoPassphrase)
	sameSnapshot(t, snap, dirSnapshot(t, dir))

	// The right passphrase still works: nothing was damaged or left locked.
	mustOpen(t, dir, testPass, cheapOpts)
}

func TestCorrupt(t *testing.T) {
	cases := []struct {
		name   string
		unenc  bool
		edit   func(t *testing.T, m map[string]any)
		raw    func(b []byte) []byte
		reason string // part of the error message
	}{
		{name: "flipped private ciphertext", edit: func(t *testing.T, m map[string]any) {
			k := jsonKey(t, m, "secp256k1")
			k["private"] = flipHex(t, k["private"].(string), 40)
		}, reason: `key "secp256k1" does not authenticate`},
		{name: "flipped nonce", edit: func(t *testing.T, m map[string]any) {
			k := jsonKey(t, m, "ed25519")
			k["private"] = flipHex(t, k["private"].(string), 0)
		}, reason: `key "ed25519" does not authenticate`},
		{name: "edited public key", edit: func(t *testing.T, m map[string]any) {
			other, _ := btcec.NewPrivateKey()
			jsonKey(t, m, "secp256k1")["public_key"] = hex.EncodeToString(other.PubKey().SerializeCompressed())
		}, reason: `key "secp256k1" does not authenticate`},
		{name: "edited created", edit: func(t *testing.T, m map[string]any) {
			jsonKey(t, m, "p256")["created"] = "2001-01-01T00:00:00Z"
		}, reason: `key "p256" does not authenticate`},
		{name: "renamed key", edit: func(t *testing.T, m map[string]any) {
			jsonKey(t, m, "p256")["id"] = "p256-renamed"
		}, reason: `does not authenticate`},
		{name: "swapped types", edit: func(t *testing.T, m map[string]any) {
			// secp256k1 and P-256 keys have the same sizes.
			a, b := jsonKey(t, m, "p256"), jsonKey(t, m, "secp256k1")
			a["private"], b["private"] = b["private"], a["private"]
			a["public_key"], b["public_key"] = b["public_key"], a["public_key"]
			a["type"], b["type"] = b["type"], a["type"]
		}, reason: `does not authenticate`},
		{name: "flipped seed", edit: func(t *testing.T, m map[string]any) {
			m["seed"] = flipHex(t, m["seed"].(string), 30)
		}, reason: "seed does not authenticate"},
		{name: "flipped check", edit: func(t *testing.T, m map[string]any) {
			m["check"] = flipHex(t, m["check"].(string), 30)
		}, reason: "check value does not authenticate"},
		{name: "invalid public key", edit: func(t *testing.T, m map[string]any) {
			jsonKey(t, m, "secp256k1")["public_key"] = "02" + strings.Repeat("ff", 32)
		}, reason: "not a point on secp256k1"},
		{name: "duplicate id", edit: func(t *testing.T, m map[string]any) {
			jsonKey(t, m, "p256")["id"] = "ed25519"
		}, reason: "appears twice"},
		{name: "unknown version", edit: func(t *testing.T, m map[string]any) {
			m["version"] = 2
		}, reason: "unsupported version 2"},
		{name: "unknown field", edit: func(t *testing.T, m map[string]any) {
			m["extra"] = true
		}, reason: "unknown field"},
		{name: "missing kdf", edit: func(t *testing.T, m map[string]any) {
			delete(m, "kdf")
		}, reason: `without "kdf"`},
		{name: "huge kdf memory", edit: func(t *testing.T, m map[string]any) {
			m["kdf"].(map[string]any)["memory_kib"] = 1 << 30
		}, reason: "memory"},
		{name: "truncated", raw: func(b []byte) []byte { return b[:len(b)/2] }, reason: "truncated"},
		{name: "truncated to one byte", raw: func(b []byte) []byte { return b[:1] }, reason: "truncated"},
		{name: "empty", raw: func(b []byte) []byte { return nil }, reason: "empty"},
		{name: "garbage", raw: func(b []byte) []byte { return []byte("\x00\x01garbage") }, reason: "invalid JSON"},
		{name: "trailing data", raw: func(b []byte) []byte { return append(b, "{}"...) }, reason: "trailing data"},
		{name: "unencrypted edited public key", unenc: true, edit: func(t *testing.T, m map[string]any) {
			other, _ := btcec.NewPrivateKey()
			jsonKey(t, m, "secp256k1")["public_key"] = hex.EncodeToString(other.PubKey().SerializeCompressed())
		}, reason: "private key does not match its public key"},
		{name: "unencrypted bad scalar", unenc: true, edit: func(t *testing.T, m map[string]any) {
			jsonKey(t, m, "secp256k1")["private"] = strings.Repeat("ff", 32)
		}, reason: "not a valid secp256k1 scalar"},
		{name: "unencrypted short private", unenc: true, edit: func(t *testing.T, m map[string]any) {
			jsonKey(t, m, "ed25519")["private"] = "00"
		}, reason: "private key is 1 bytes"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := SoftwareOptions{Unencrypted: tc.unenc, KDF: cheapKDF}
			pass := testPass
			if tc.unenc {
				pass = nil
			}
			dir := storeWithKeys(t, opts)
			path := filepath.Join(dir, fileName)
			if tc.edit != nil {
				editJSON(t, dir, func(m map[string]any) { tc.edit(t, m) })
			} else {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, tc.raw(b), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			snap := dirSnapshot(t, dir)
			s, err := OpenSoftware(dir, pass, opts)
			if err == nil {
				s.Close()
				t.Fatal("corrupt store opened")
			}
			wantErr(t, err, ErrCorrupt)
			if errors.Is(err, ErrWrongPassphrase) {
				t.Fatal("corruption reported as wrong passphrase")
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("error %q should name %s and say %q", err, path, tc.reason)
			}
			sameSnapshot(t, snap, dirSnapshot(t, dir))
			// The lock was released.
			if _, err := OpenSoftware(dir, pass, opts); errors.Is(err, ErrLocked) {
				t.Fatal("failed open left the store locked")
			}
		})
	}
}

func TestReadPublicCorrupt(t *testing.T) {
	dir := storeWithKeys(t, cheapOpts)
	path := filepath.Join(dir, fileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b[:len(b)-20], 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = ReadPublic(dir)
	wantErr(t, err, ErrCorrupt)
}

func TestCreateOverExisting(t *testing.T) {
	dir := storeWithKeys(t, cheapOpts)
	snap := dirSnapshot(t, dir)
	for _, opts := range []SoftwareOptions{cheapOpts, {Unencrypted: true, KDF: cheapKDF}} {
		_, err := CreateSoftware(dir, []byte("other"), opts)
		wantErr(t, err, ErrExists)
		sameSnapshot(t, snap, dirSnapshot(t, dir))
	}
	// Also while the store is open.
	mustOpen(t, dir, testPass, cheapOpts)
	_, err := CreateSoftware(dir, testPass, cheapOpts)
	wantErr(t, err, ErrExists)
	sameSnapshot(t, snap, dirSnapshot(t, dir))
}

func TestLocked(t *testing.T) {
	dir := storeWithKeys(t, cheapOpts)
	s := mustOpen(t, dir, testPass, cheapOpts)
	_, err := OpenSoftware(dir, testPass, cheapOpts)
	wantErr(t, err, ErrLocked)
	if want := "keystore " + dir + " is in use by another process"; err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	// The holder still works.
	if _, err := mustSigner(t, s, "ed25519").Sign([]byte("m")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	mustOpen(t, dir, testPass, cheapOpts)

	// A store being created is locked too.
	dir2 := filepath.Join(t.TempDir(), "ks")
	mustCreate(t, dir2, testPass, cheapOpts)
	_, err = OpenSoftware(dir2, testPass, cheapOpts)
	wantErr(t, err, ErrLocked)
}

func TestUnencrypted(t *testing.T) {
	unenc := SoftwareOptions{Unencrypted: true, KDF: cheapKDF}
	dir := storeWithKeys(t, unenc)
	b, err := os.ReadFile(filepath.Join(dir, fileName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(`"encrypted": false`)) || bytes.Contains(b, []byte(`"kdf"`)) {
		t.Fatalf("unencrypted file header:\n%s", b)
	}
	snap := dirSnapshot(t, dir)

	_, err = OpenSoftware(dir, testPass, cheapOpts)
	wantErr(t, err, ErrModeMismatch)
	if !strings.Contains(err.Error(), "is unencrypted") {
		t.Fatalf("error %q should say the store is unencrypted", err)
	}
	sameSnapshot(t, snap, dirSnapshot(t, dir))

	s := mustOpen(t, dir, nil, unenc)
	if !s.Unencrypted() {
		t.Fatal("Unencrypted() = false")
	}
	g := mustSigner(t, s, "secp256k1")
	sig, err := g.Sign([]byte("m"))
	if err != nil || !verify(t, g, []byte("m"), sig) {
		t.Fatalf("sign: %v", err)
	}
	if _, err := s.Create("new", Ed25519); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = mustOpen(t, dir, nil, unenc)
	if len(s.List()) != 4 {
		t.Fatalf("List: %v", s.List())
	}
	s.Close()

	// An encrypted store is never opened as unencrypted.
	encDir := storeWithKeys(t, cheapOpts)
	snap = dirSnapshot(t, encDir)
	_, err = OpenSoftware(encDir, nil, unenc)
	wantErr(t, err, ErrModeMismatch)
	if !strings.Contains(err.Error(), "is encrypted and needs a passphrase") {
		t.Fatalf("error %q should say the store needs a passphrase", err)
	}
	_, err = OpenSoftware(encDir, testPass, unenc)
	wantErr(t, err, ErrModeMismatch)
	sameSnapshot(t, snap, dirSnapshot(t, encDir))
}

func TestReadPublic(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ks")
	s := mustCreate(t, dir, testPass, cheapOpts)
	for _, kt := range allTypes {
		if _, err := s.Create("k-"+string(kt), kt); err != nil {
			t.Fatal(err)
		}
	}
	// Works while the store is open (no lock) and without the passphrase.
	got, err := ReadPublic(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := s.List()
	if len(got) != len(want) {
		t.Fatalf("ReadPublic: %d keys, List: %d", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || got[i].Type != want[i].Type ||
			!bytes.Equal(got[i].PublicKey, want[i].PublicKey) || !got[i].Created.Equal(want[i].Created) {
			t.Fatalf("ReadPublic[%d] = %+v, List = %+v", i, got[i], want[i])
		}
	}
	s.Close()
	if got, err = ReadPublic(dir); err != nil || len(got) != 3 {
		t.Fatalf("ReadPublic after close: %v, %v", got, err)
	}
	_, err = ReadPublic(filepath.Join(t.TempDir(), "none"))
	wantErr(t, err, ErrNotFound)
}

func TestOpenNotFound(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")
	if Exists(dir) {
		t.Fatal("Exists on a missing directory")
	}
	_, err := OpenSoftware(dir, testPass, cheapOpts)
	wantErr(t, err, ErrNotFound)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenSoftware created %s", dir)
	}
	empty := t.TempDir()
	_, err = OpenSoftware(empty, testPass, cheapOpts)
	wantErr(t, err, ErrNotFound)
	if ents, _ := os.ReadDir(empty); len(ents) != 0 {
		t.Fatalf("OpenSoftware wrote into an empty directory: %v", ents)
	}
}

func TestCreateErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ks")
	_, err := CreateSoftware(dir, nil, cheapOpts)
	wantErr(t, err, ErrNoPassphrase)
	if _, err := CreateSoftware(dir, testPass, SoftwareOptions{KDF: KDFParams{Time: 1000}}); err == nil {
		t.Fatal("absurd KDF parameters accepted")
	}
	if Exists(dir) {
		t.Fatal("failed CreateSoftware left a store")
	}
	s := mustCreate(t, dir, testPass, cheapOpts)
	if !Exists(dir) {
		t.Fatal("Exists = false after create")
	}
	if _, err := s.Create("a", Ed25519); err != nil {
		t.Fatal(err)
	}
	snap := dirSnapshot(t, dir)
	_, err = s.Create("a", Secp256k1)
	wantErr(t, err, ErrExists)
	for _, id := range []string{"", "has space", "slash/", "ü", strings.Repeat("x", 65)} {
		if _, err := s.Create(id, Ed25519); err == nil {
			t.Fatalf("Create accepted id %q", id)
		}
	}
	if _, err := s.Create("b", KeyType("rsa")); err == nil {
		t.Fatal("Create accepted type rsa")
	}
	sameSnapshot(t, snap, dirSnapshot(t, dir)) // failed creates wrote nothing
	if _, err := s.Create(strings.Repeat("x", 64), Ed25519); err != nil {
		t.Fatalf("64-char id: %v", err)
	}
	_, err = s.Signer("missing")
	wantErr(t, err, ErrNotFound)
	if !strings.Contains(err.Error(), `"missing"`) {
		t.Fatalf("error does not name the id: %v", err)
	}

	g := mustSigner(t, s, "a")
	s.Close()
	_, err = g.Sign([]byte("m"))
	wantErr(t, err, ErrClosed)
	_, err = s.Create("c", Ed25519)
	wantErr(t, err, ErrClosed)
	_, err = s.Signer("a")
	wantErr(t, err, ErrClosed)
	_, err = s.MasterKey(&chaincfg.MainNetParams)
	wantErr(t, err, ErrClosed)
	if g.PublicKey() == nil || len(s.List()) != 2 {
		t.Fatal("public information lost at Close")
	}
}

func TestFileModes(t *testing.T) {
	dir := storeWithKeys(t, cheapOpts)
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", fi.Mode())
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Fatalf("%s mode %v", e.Name(), info.Mode())
		}
	}
	if !slices.Equal(names, []string{fileName, lockName}) {
		t.Fatalf("directory holds %v (temporary files left?)", names)
	}
	// An existing, too-open directory is tightened by CreateSoftware.
	loose := filepath.Join(t.TempDir(), "loose")
	if err := os.Mkdir(loose, 0o755); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, loose, testPass, cheapOpts)
	if fi, _ := os.Stat(loose); fi.Mode().Perm() != 0o700 {
		t.Fatalf("dir mode %v", fi.Mode())
	}
}

func TestEncryptedFileHoldsNoSecrets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ks")
	s := mustCreate(t, dir, testPass, cheapOpts)
	for _, kt := range allTypes {
		if _, err := s.Create(string(kt), kt); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, fileName))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range secrets(t, s) {
		if bytes.Contains(b, []byte(hex.EncodeToString(secret))) || bytes.Contains(b, secret) {
			t.Fatal("keystore file contains a plain secret")
		}
	}
	if bytes.Contains(b, testPass) {
		t.Fatal("keystore file contains the passphrase")
	}
}

// secrets returns the seed and every private key of s.
func secrets(t testing.TB, s *Software) [][]byte {
	t.Helper()
	out := [][]byte{bytes.Clone(s.seed)}
	for _, m := range s.keys {
		sec, err := m.secret()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, sec)
		if m.ed != nil {
			out = append(out, bytes.Clone(m.ed))
		}
	}
	return out
}

func TestRedaction(t *testing.T) {
	for _, unenc := range []bool{false, true} {
		opts := SoftwareOptions{Unencrypted: unenc, KDF: cheapKDF}
		s := mustCreate(t, filepath.Join(t.TempDir(), "ks"), testPass, opts)
		var values []any
		values = append(values, s)
		for _, kt := range allTypes {
			g, err := s.Create(string(kt), kt)
			if err != nil {
				t.Fatal(err)
			}
			values = append(values, g, mustSigner(t, s, string(kt)))
			if ss, ok := g.(*schnorrSigner); ok {
				values = append(values, *ss, ss.softSigner, *ss.softSigner)
			} else {
				values = append(values, *g.(*softSigner))
			}
			values = append(values, s.keys[string(kt)])
		}
		values = append(values, s.file)
		secs := secrets(t, s)
		for _, v := range values {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d"} {
				out := fmt.Sprintf(verb, v)
				for _, sec := range secs {
					for _, bad := range []string{hex.EncodeToString(sec), strings.ToUpper(hex.EncodeToString(sec)), fmt.Sprint(sec)[1 : len(fmt.Sprint(sec))-1]} {
						if strings.Contains(strings.ToLower(out), strings.ToLower(bad)) {
							t.Fatalf("%s of %T reveals a secret: %s", verb, v, out)
						}
					}
				}
			}
		}
		for _, v := range []fmt.Stringer{s, s.keys["ed25519"], mustSigner(t, s, "p256").(fmt.Stringer)} {
			if v.String() != "[redacted]" {
				t.Fatalf("String() = %q", v.String())
			}
		}
	}
}

func TestMasterKeyDeterministic(t *testing.T) {
	for _, unenc := range []bool{false, true} {
		opts := SoftwareOptions{Unencrypted: unenc, KDF: cheapKDF}
		pass := testPass
		dir := filepath.Join(t.TempDir(), "ks")
		s, err := CreateSoftware(dir, pass, opts)
		if err != nil {
			t.Fatal(err)
		}
		mk, err := s.MasterKey(&chaincfg.MainNetParams)
		if err != nil {
			t.Fatal(err)
		}
		if !mk.IsPrivate() {
			t.Fatal("master key is not private")
		}
		first := mk.String()
		mk.Zero()
		s.Close()

		s = mustOpen(t, dir, pass, opts)
		mk, err = s.MasterKey(&chaincfg.MainNetParams)
		if err != nil {
			t.Fatal(err)
		}
		if mk.String() != first {
			t.Fatal("master key changed across reopen")
		}
		mk.Zero()
		tn, err := s.MasterKey(&chaincfg.TestNet3Params)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tn.String(), "tprv") || !strings.HasPrefix(first, "xprv") {
			t.Fatal("network parameters not applied")
		}
		if _, err := s.MasterKey(nil); err == nil {
			t.Fatal("MasterKey(nil) succeeded")
		}

		other := mustCreate(t, filepath.Join(t.TempDir(), "ks"), pass, opts)
		mk2, err := other.MasterKey(&chaincfg.MainNetParams)
		if err != nil {
			t.Fatal(err)
		}
		if mk2.String() == first {
			t.Fatal("two stores share a seed")
		}
	}
}

func TestDefaultKDF(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ks")
	start := time.Now()
	s, err := CreateSoftware(dir, testPass, SoftwareOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create("node", Ed25519); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = mustOpen(t, dir, testPass, SoftwareOptions{})
	t.Logf("create+open with default KDF took %v", time.Since(start))
	if s.file.KDF.params() != DefaultKDFParams() {
		t.Fatalf("kdf = %+v, want %+v", s.file.KDF.params(), DefaultKDFParams())
	}
	if len(s.file.KDF.Salt) != saltLen {
		t.Fatalf("salt is %d bytes", len(s.file.KDF.Salt))
	}
	s.Close()
	_, err = OpenSoftware(dir, []byte("nope"), SoftwareOptions{})
	wantErr(t, err, ErrWrongPassphrase)
}

func TestInjectedRandomness(t *testing.T) {
	pubs := func() []KeyInfo {
		opts := SoftwareOptions{KDF: cheapKDF, Rand: detRand(7)}
		s := mustCreate(t, filepath.Join(t.TempDir(), "ks"), testPass, opts)
		for _, kt := range allTypes {
			if _, err := s.Create(string(kt), kt); err != nil {
				t.Fatal(err)
			}
		}
		return s.List()
	}
	a, b := pubs(), pubs()
	for i := range a {
		if !bytes.Equal(a[i].PublicKey, b[i].PublicKey) {
			t.Fatalf("%s: same Rand gave different keys", a[i].ID)
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	s := mustCreate(t, filepath.Join(t.TempDir(), "ks"), testPass, SoftwareOptions{KDF: cheapKDF, Rand: detRand(1)})
	var signers []Signer
	for _, kt := range allTypes {
		g, err := s.Create(string(kt), kt)
		if err != nil {
			t.Fatal(err)
		}
		signers = append(signers, g)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for w := range 8 {
		wg.Go(func() {
			for i := range 20 {
				g := signers[(w+i)%len(signers)]
				msg := []byte{byte(w), byte(i)}
				sig, err := g.Sign(msg)
				if err != nil || !verify(t, g, msg, sig) {
					errs <- fmt.Errorf("worker %d: sign %s: %v", w, g.ID(), err)
					return
				}
				if ss, ok := g.(SchnorrSigner); ok {
					h := sha256.Sum256(msg)
					if _, err := ss.SignSchnorr(h[:]); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 5 {
			if _, err := s.Create(fmt.Sprintf("extra-%d", i), Ed25519); err != nil {
				errs <- err
			}
			_ = s.List()
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(s.List()); n != 8 {
		t.Fatalf("List: %d keys", n)
	}
}
