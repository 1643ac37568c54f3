package keystore

// On-disk format of keystore.json, version 1:
//
//	{
//	  "version": 1,
//	  "encrypted": true,
//	  "kdf": {"name": "argon2id", "time": 2, "memory_kib": 65536, "threads": 2, "salt": "<hex>"},
//	  "check": "<hex nonce||ciphertext of checkPlaintext>",
//	  "seed": "<hex nonce||ciphertext of the BIP-32 seed>",
//	  "keys": [
//	    {"id": "node", "type": "ed25519", "public_key": "<hex>",
//	     "created": "2026-01-02T03:04:05.123456789Z", "private": "<hex nonce||ciphertext>"}
//	  ]
//	}
//
// Every sealed value is a 24-byte XChaCha20-Poly1305 nonce followed by the
// ciphertext and its 16-byte tag, under the key argon2id(passphrase, salt).
// The additional data is a domain label plus, for keys, the length-prefixed
// id, type, public key and creation time exactly as stored. Private keys are
// 32-byte secrets: the Ed25519 seed (RFC 8032), or the secp256k1 or P-256
// scalar, big-endian. In an unencrypted store ("encrypted": false) there is
// no kdf and no check, and seed and private hold the plain secrets.

import (
	"bytes"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/btcsuite/btcd/btcec/v2"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

const (
	fileName      = "keystore.json"
	lockName      = "keystore.lock"
	formatVersion = 1
	kdfName       = "argon2id"
	maxFileSize   = 16 << 20

	secretLen   = 32 // every private key is a 32-byte secret
	seedLen     = 32 // generated BIP-32 seed
	minSeedLen  = 16 // BIP-32 bounds, for seeds a later version may import
	maxSeedLen  = 64
	saltLen     = 32
	minSaltLen  = 16
	maxSaltLen  = 64
	aeadKeyLen  = chacha20poly1305.KeySize
	nonceLen    = chacha20poly1305.NonceSizeX
	tagLen      = chacha20poly1305.Overhead
	sealedExtra = nonceLen + tagLen

	// Bounds on KDF parameters read from a file, so a damaged or hostile
	// file cannot make Open allocate without limit.
	maxKDFTime      = 64
	maxKDFMemoryKiB = 1 << 20 // 1 GiB
	maxKDFThreads   = 64
)

// checkPlaintext is the known value sealed in "check".
var checkPlaintext = []byte("anya keystore check v1")

// Additional-data labels.
const (
	aadCheck = "anya-keystore/v1/check"
	aadSeed  = "anya-keystore/v1/seed"
	aadKey   = "anya-keystore/v1/key"
)

// KDFParams are the argon2id parameters used to derive the sealing key from
// the passphrase. They are chosen at creation and stored in the file.
type KDFParams struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32 // memory in KiB
	Threads   uint8  // parallelism
}

// DefaultKDFParams returns the parameters used when SoftwareOptions.KDF is
// zero: 2 passes over 64 MiB with 2 threads. Unlocking then costs about
// 45 ms and 64 MiB on a 2-core amd64 server, several times that on a small
// ARM board.
func DefaultKDFParams() KDFParams {
	return KDFParams{Time: 2, MemoryKiB: 64 * 1024, Threads: 2}
}

// withDefaults fills zero fields from DefaultKDFParams.
func (p KDFParams) withDefaults() KDFParams {
	d := DefaultKDFParams()
	if p.Time == 0 {
		p.Time = d.Time
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = d.MemoryKiB
	}
	if p.Threads == 0 {
		p.Threads = d.Threads
	}
	return p
}

// check validates the parameters' bounds.
func (p KDFParams) check() error {
	switch {
	case p.Time < 1 || p.Time > maxKDFTime:
		return fmt.Errorf("argon2id time %d out of range 1-%d", p.Time, maxKDFTime)
	case p.Threads < 1 || p.Threads > maxKDFThreads:
		return fmt.Errorf("argon2id threads %d out of range 1-%d", p.Threads, maxKDFThreads)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxKDFMemoryKiB:
		return fmt.Errorf("argon2id memory %d KiB out of range %d-%d", p.MemoryKiB, 8*uint32(p.Threads), maxKDFMemoryKiB)
	}
	return nil
}

// hexBytes is a byte slice stored as a hex string.
type hexBytes []byte

// MarshalText implements encoding.TextMarshaler.
func (h hexBytes) MarshalText() ([]byte, error) {
	return hex.AppendEncode(nil, h), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (h *hexBytes) UnmarshalText(b []byte) error {
	out := make([]byte, hex.DecodedLen(len(b)))
	if _, err := hex.Decode(out, b); err != nil {
		clear(out)
		return errors.New("invalid hex")
	}
	*h = out
	return nil
}

// diskKDF is the "kdf" object.
type diskKDF struct {
	Name      string   `json:"name"`
	Time      uint32   `json:"time"`
	MemoryKiB uint32   `json:"memory_kib"`
	Threads   uint8    `json:"threads"`
	Salt      hexBytes `json:"salt"`
}

func (k *diskKDF) params() KDFParams {
	return KDFParams{Time: k.Time, MemoryKiB: k.MemoryKiB, Threads: k.Threads}
}

// diskKey is one entry of "keys".
type diskKey struct {
	ID        string   `json:"id"`
	Type      KeyType  `json:"type"`
	PublicKey hexBytes `json:"public_key"`
	Created   string   `json:"created"`
	Private   hexBytes `json:"private"`
}

// diskFile is keystore.json.
type diskFile struct {
	Version   int       `json:"version"`
	Encrypted *bool     `json:"encrypted"`
	KDF       *diskKDF  `json:"kdf,omitempty"`
	Check     hexBytes  `json:"check,omitempty"`
	Seed      hexBytes  `json:"seed"`
	Keys      []diskKey `json:"keys"`
}

func (f *diskFile) encrypted() bool { return f.Encrypted != nil && *f.Encrypted }

// String implements fmt.Stringer so that the file (which holds secrets in
// an unencrypted store) never prints.
func (f diskFile) String() string { return redacted }

// GoString implements fmt.GoStringer.
func (f diskFile) GoString() string { return redacted }

// Format implements fmt.Formatter; every verb prints "[redacted]".
func (f diskFile) Format(st fmt.State, verb rune) { formatRedacted(st, verb) }

// clone returns a copy of f whose Keys slice can be appended to without
// touching f. The byte slices are shared.
func (f *diskFile) clone() *diskFile {
	c := *f
	c.Keys = slices.Clone(f.Keys)
	return &c
}

// wipe clears the secrets in f (plain ones in an unencrypted store).
func (f *diskFile) wipe() {
	clear(f.Seed)
	for i := range f.Keys {
		clear(f.Keys[i].Private)
	}
}

// infos returns the public description of every key, sorted by ID.
func (f *diskFile) infos() []KeyInfo {
	out := make([]KeyInfo, 0, len(f.Keys))
	for _, k := range f.Keys {
		out = append(out, k.info())
	}
	return out
}

// info returns the public description of k; decodeFile has checked that
// Created parses.
func (k *diskKey) info() KeyInfo {
	created, _ := time.Parse(time.RFC3339Nano, k.Created)
	return KeyInfo{ID: k.ID, Type: k.Type, PublicKey: bytes.Clone(k.PublicKey), Created: created}
}

// encodeFile serialises f. The result holds plain secrets for an
// unencrypted store; the caller clears it after writing.
func encodeFile(f *diskFile) ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// decodeFile parses and checks keystore.json. It never panics; its errors
// describe what is wrong and the caller wraps them with ErrCorrupt and the
// path. It checks everything that can be checked without the passphrase.
func decodeFile(data []byte) (*diskFile, error) {
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("file is larger than %d bytes", maxFileSize)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("file is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f diskFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("invalid JSON: %s", jsonReason(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		f.wipe()
		return nil, errors.New("trailing data after the JSON object")
	}
	if err := f.validate(); err != nil {
		f.wipe()
		return nil, err
	}
	slices.SortFunc(f.Keys, func(a, b diskKey) int { return strings.Compare(a.ID, b.ID) })
	return &f, nil
}

// jsonReason shortens encoding/json errors; they never contain secret
// values, only offsets, types and field names.
func jsonReason(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "truncated"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// validate checks the structure of a decoded file.
func (f *diskFile) validate() error {
	if f.Version != formatVersion {
		return fmt.Errorf("unsupported version %d (want %d)", f.Version, formatVersion)
	}
	if f.Encrypted == nil {
		return errors.New(`missing "encrypted"`)
	}
	secretSize := func(n int) int { return n } // plain
	if f.encrypted() {
		if f.KDF == nil {
			return errors.New(`encrypted store without "kdf"`)
		}
		if f.KDF.Name != kdfName {
			return fmt.Errorf("unknown kdf %q (want %s)", f.KDF.Name, kdfName)
		}
		if err := f.KDF.params().check(); err != nil {
			return err
		}
		if n := len(f.KDF.Salt); n < minSaltLen || n > maxSaltLen {
			return fmt.Errorf("kdf salt is %d bytes (want %d-%d)", n, minSaltLen, maxSaltLen)
		}
		if len(f.Check) != len(checkPlaintext)+sealedExtra {
			return fmt.Errorf("check value is %d bytes (want %d)", len(f.Check), len(checkPlaintext)+sealedExtra)
		}
		secretSize = func(n int) int { return n + sealedExtra }
	} else {
		if f.KDF != nil {
			return errors.New(`unencrypted store with "kdf"`)
		}
		if f.Check != nil {
			return errors.New(`unencrypted store with "check"`)
		}
	}
	if n := len(f.Seed); n < secretSize(minSeedLen) || n > secretSize(maxSeedLen) {
		return fmt.Errorf("seed is %d bytes (want %d-%d)", n, secretSize(minSeedLen), secretSize(maxSeedLen))
	}
	seen := make(map[string]bool, len(f.Keys))
	for i := range f.Keys {
		k := &f.Keys[i]
		if err := ValidateID(k.ID); err != nil {
			return fmt.Errorf("key %d: invalid id %q", i, k.ID)
		}
		if seen[k.ID] {
			return fmt.Errorf("key %q appears twice", k.ID)
		}
		seen[k.ID] = true
		if !k.Type.valid() {
			return fmt.Errorf("key %q: unknown type %q", k.ID, k.Type)
		}
		if err := checkPublicKey(k.Type, k.PublicKey); err != nil {
			return fmt.Errorf("key %q: %w", k.ID, err)
		}
		if _, err := time.Parse(time.RFC3339Nano, k.Created); err != nil {
			return fmt.Errorf("key %q: invalid created time %q", k.ID, k.Created)
		}
		if len(k.Private) != secretSize(secretLen) {
			return fmt.Errorf("key %q: private key is %d bytes (want %d)", k.ID, len(k.Private), secretSize(secretLen))
		}
	}
	return nil
}

// checkPublicKey checks the encoding of a stored public key.
func checkPublicKey(t KeyType, pub []byte) error {
	switch t {
	case Ed25519:
		if len(pub) != ed25519.PublicKeySize {
			return fmt.Errorf("public key is %d bytes (want %d)", len(pub), ed25519.PublicKeySize)
		}
	case Secp256k1:
		if len(pub) != btcec.PubKeyBytesLenCompressed {
			return fmt.Errorf("public key is %d bytes (want %d)", len(pub), btcec.PubKeyBytesLenCompressed)
		}
		if _, err := btcec.ParsePubKey(pub); err != nil {
			return errors.New("public key is not a point on secp256k1")
		}
	case P256:
		if len(pub) != 33 {
			return fmt.Errorf("public key is %d bytes (want 33)", len(pub))
		}
		if x, _ := elliptic.UnmarshalCompressed(elliptic.P256(), pub); x == nil {
			return errors.New("public key is not a point on P-256")
		}
	default:
		return fmt.Errorf("unknown type %q", t)
	}
	return nil
}

// deriveKey runs argon2id. The caller clears the result.
func deriveKey(passphrase []byte, k *diskKDF) []byte {
	return argon2.IDKey(passphrase, k.Salt, k.Time, k.MemoryKiB, k.Threads, aeadKeyLen)
}

// seal encrypts plain under key and returns nonce||ciphertext. The
// cipher keeps its own copy of the key, which cannot be cleared; it is
// dropped right after use.
func seal(key []byte, r io.Reader, plain, aad []byte) ([]byte, error) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	out := make([]byte, nonceLen, nonceLen+len(plain)+tagLen)
	if _, err := io.ReadFull(r, out); err != nil {
		return nil, fmt.Errorf("keystore: read random nonce: %w", err)
	}
	return aead.Seal(out, out[:nonceLen], plain, aad), nil
}

// open decrypts nonce||ciphertext. It reports false if authentication
// fails.
func open(key, sealed, aad []byte) ([]byte, bool) {
	aead, err := chacha20poly1305.NewX(key)
	if err != nil || len(sealed) < sealedExtra {
		return nil, false
	}
	plain, err := aead.Open(nil, sealed[:nonceLen], sealed[nonceLen:], aad)
	return plain, err == nil
}

// keyAAD binds a sealed private key to its clear metadata.
func keyAAD(k *diskKey) []byte {
	var b []byte
	b = append(b, aadKey...)
	for _, f := range [][]byte{[]byte(k.ID), []byte(k.Type), k.PublicKey, []byte(k.Created)} {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, f...)
	}
	return b
}

// unlocked is what unseal recovers from a file.
type unlocked struct {
	seed []byte
	keys map[string]*keyMaterial
}

// wipe clears everything in u.
func (u *unlocked) wipe() {
	clear(u.seed)
	for _, m := range u.keys {
		m.zero()
	}
}

// errBadKey is returned by unseal when the check value and the seed both
// fail to authenticate: the passphrase is wrong.
var errBadKey = errors.New("check value does not authenticate")

// unseal recovers the seed and private keys of f. key is nil for an
// unencrypted store. Apart from errBadKey, its errors describe corruption.
// Every private key is checked against its stored public key.
func unseal(f *diskFile, key []byte) (*unlocked, error) {
	u := &unlocked{keys: make(map[string]*keyMaterial, len(f.Keys))}
	ok := false
	defer func() {
		if !ok {
			u.wipe()
		}
	}()
	if f.encrypted() {
		if len(key) != aeadKeyLen {
			return nil, errors.New("no sealing key")
		}
		check, checkOK := open(key, f.Check, []byte(aadCheck))
		seed, seedOK := open(key, f.Seed, []byte(aadSeed))
		u.seed = seed
		switch {
		case !checkOK && !seedOK:
			return nil, errBadKey
		case !checkOK:
			return nil, errors.New("check value does not authenticate (the passphrase opens the seed)")
		case !bytes.Equal(check, checkPlaintext):
			return nil, errors.New("check value has the wrong contents")
		case !seedOK:
			return nil, errors.New("seed does not authenticate")
		}
	} else {
		u.seed = bytes.Clone(f.Seed)
	}
	for i := range f.Keys {
		k := &f.Keys[i]
		secret := k.Private
		if f.encrypted() {
			var good bool
			secret, good = open(key, k.Private, keyAAD(k))
			if !good {
				return nil, fmt.Errorf("key %q does not authenticate (its ciphertext or id, type, public key or created time was changed)", k.ID)
			}
		}
		m, err := newKeyMaterial(k.Type, secret)
		if f.encrypted() {
			clear(secret)
		}
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", k.ID, err)
		}
		if !bytes.Equal(m.publicBytes(), k.PublicKey) {
			m.zero()
			return nil, fmt.Errorf("key %q: private key does not match its public key", k.ID)
		}
		u.keys[k.ID] = m
	}
	ok = true
	return u, nil
}
