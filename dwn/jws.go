package dwn

import (
	"bytes"
	"container/list"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"time"

	"filippo.io/edwards25519"
	"github.com/btcsuite/btcd/btcec/v2"
	btcecdsa "github.com/btcsuite/btcd/btcec/v2/ecdsa"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/keystore"
)

// MaxJWSSize bounds the JSON text of a General JWS accepted by
// ParseGeneralJWS. An authorization JWS of the reference carries a payload
// of a few CIDs and one signature, well under 1 KiB.
const MaxJWSSize = 64 << 10

// JWS algorithm names written into the protected header by SignGeneralJWS.
// Verification ignores the header's alg: the resolved key's crv decides.
const (
	AlgEdDSA  = "EdDSA"
	AlgES256K = "ES256K"
	AlgES256  = "ES256"
)

// Error codes of a *JWSError. They are the DwnErrorCode names of
// dwn-sdk-js 0.5.2 (src/core/dwn-error.ts) for the same failures, so a
// reply's detail reads "<code>: <message>" as the reference's does.
const (
	// JWSCodeSchemaValidatorFailure: the JWS, its protected header or the
	// verification method it points to does not have the required shape
	// (the reference's JSON-schema failures).
	JWSCodeSchemaValidatorFailure = "SchemaValidatorFailure"
	// JWSCodeMoreThanOneSignature: more than one element in signatures.
	JWSCodeMoreThanOneSignature = "AuthenticationMoreThanOneSignatureNotSupported"
	// JWSCodeGetPublicKeyNotFound: the kid's DID does not resolve, or its
	// document has no verification method matching the kid.
	JWSCodeGetPublicKeyNotFound = "GeneralJwsVerifierGetPublicKeyNotFound"
	// JWSCodeInvalidSignature: the signature does not verify under the
	// resolved key (or the key or signature bytes are unusable).
	JWSCodeInvalidSignature = "GeneralJwsVerifierInvalidSignature"
	// JWSCodeUnsupportedCrv: the resolved key's crv is not Ed25519,
	// secp256k1 or P-256.
	JWSCodeUnsupportedCrv = "JwsVerifySignatureUnsupportedCrv"
	// JWSCodePayloadInvalid: the payload is not base64url of a JSON object
	// (DecodedPayloadObject).
	JWSCodePayloadInvalid = "JwsDecodePlainObjectPayloadInvalid"
)

// JWSError is a General JWS failure with a dwn-sdk-js error code (one of the
// JWSCode* constants). Callers switch on Code, or use errors.Is with a
// *JWSError holding only a Code.
type JWSError struct {
	Code    string
	Message string
	// Err is the underlying cause, if any (for example a *did.Error).
	Err error
}

// Error returns "<Code>: <Message>", the reference's detail string.
func (e *JWSError) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the underlying cause.
func (e *JWSError) Unwrap() error { return e.Err }

// Is reports whether target is a *JWSError with the same Code and either no
// Message or the same Message.
func (e *JWSError) Is(target error) bool {
	t, ok := target.(*JWSError)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

func jwsErr(code, format string, args ...any) *JWSError {
	return &JWSError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// GeneralJWS is a JWS in the General JSON serialization (RFC 7515 §7.2.1)
// as the DWN uses it for authorization: an attached base64url payload and
// signatures whose protected headers carry kid and alg. Its UnmarshalJSON is
// strict about members; Validate checks the rest of the shape.
type GeneralJWS struct {
	Payload    string           `json:"payload"`
	Signatures []SignatureEntry `json:"signatures"`
}

// SignatureEntry is one element of GeneralJWS.Signatures.
type SignatureEntry struct {
	Protected string `json:"protected"`
	Signature string `json:"signature"`
}

// ProtectedHeader is the decoded protected header of a SignatureEntry.
type ProtectedHeader struct {
	KID string `json:"kid"`
	Alg string `json:"alg"`
}

// ParseGeneralJWS decodes raw (at most MaxJWSSize bytes) as a General JWS
// and validates its shape (see Validate): exactly the members payload and
// signatures, exactly one signature, unpadded base64url everywhere and a
// protected header that is a JSON object with string kid and alg. The
// signature is not verified. Errors are *JWSError.
func ParseGeneralJWS(raw []byte) (*GeneralJWS, error) {
	if len(raw) > MaxJWSSize {
		return nil, jwsErr(JWSCodeSchemaValidatorFailure, "general JWS is %d bytes, more than the maximum %d", len(raw), MaxJWSSize)
	}
	var j GeneralJWS
	if err := json.Unmarshal(raw, &j); err != nil {
		if e, ok := err.(*JWSError); ok {
			return nil, e
		}
		return nil, &JWSError{Code: JWSCodeSchemaValidatorFailure, Message: "general JWS: " + err.Error(), Err: err}
	}
	if err := j.Validate(); err != nil {
		return nil, err
	}
	return &j, nil
}

// UnmarshalJSON decodes a JSON object whose members are exactly "payload"
// (a string) and "signatures" (an array of signature entries), matched
// case-sensitively as the reference's JSON schema does
// (additionalProperties:false). It does not check counts or encodings; see
// Validate.
func (j *GeneralJWS) UnmarshalJSON(b []byte) error {
	m, err := jwsObject(b, "general JWS", "payload", "signatures")
	if err != nil {
		return err
	}
	payload, err := jwsString(m["payload"], "payload")
	if err != nil {
		return err
	}
	sigs := bytes.TrimSpace(m["signatures"])
	if len(sigs) == 0 || sigs[0] != '[' {
		return jwsErr(JWSCodeSchemaValidatorFailure, "signatures must be an array")
	}
	var entries []SignatureEntry
	if err := json.Unmarshal(sigs, &entries); err != nil {
		if e, ok := err.(*JWSError); ok {
			return e
		}
		return &JWSError{Code: JWSCodeSchemaValidatorFailure, Message: "signatures: " + err.Error(), Err: err}
	}
	*j = GeneralJWS{Payload: payload, Signatures: entries}
	return nil
}

// UnmarshalJSON decodes a JSON object whose members are exactly "protected"
// and "signature", both strings. The reference's schema would let other
// members through; no DWN client writes any, and dropping them silently
// would change the message's CID, so they are refused.
func (s *SignatureEntry) UnmarshalJSON(b []byte) error {
	m, err := jwsObject(b, "signature entry", "protected", "signature")
	if err != nil {
		return err
	}
	p, err := jwsString(m["protected"], "protected")
	if err != nil {
		return err
	}
	sig, err := jwsString(m["signature"], "signature")
	if err != nil {
		return err
	}
	*s = SignatureEntry{Protected: p, Signature: sig}
	return nil
}

// jwsObject decodes b as a JSON object that has exactly the given
// members.
func jwsObject(b []byte, what string, members ...string) (map[string]json.RawMessage, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return nil, jwsErr(JWSCodeSchemaValidatorFailure, "%s must be a JSON object", what)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, &JWSError{Code: JWSCodeSchemaValidatorFailure, Message: what + ": " + err.Error(), Err: err}
	}
	for k := range m {
		known := false
		for _, want := range members {
			if k == want {
				known = true
				break
			}
		}
		if !known {
			return nil, jwsErr(JWSCodeSchemaValidatorFailure, "%s has an unexpected member %s", what, jwsQuote(k))
		}
	}
	for _, want := range members {
		if _, ok := m[want]; !ok {
			return nil, jwsErr(JWSCodeSchemaValidatorFailure, "%s lacks the member %q", what, want)
		}
	}
	return m, nil
}

// jwsString decodes raw as a JSON string (not null).
func jwsString(raw json.RawMessage, name string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '"' {
		return "", jwsErr(JWSCodeSchemaValidatorFailure, "%s must be a string", name)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", &JWSError{Code: JWSCodeSchemaValidatorFailure, Message: name + ": " + err.Error(), Err: err}
	}
	return s, nil
}

// jwsB64 is unpadded base64url that also refuses non-zero trailing bits, as
// the reference's decoder (multiformats base64url) does.
var jwsB64 = base64.RawURLEncoding.Strict()

// jwsDecodeB64 decodes an unpadded base64url field, naming it in errors.
func jwsDecodeB64(s, name string) ([]byte, error) {
	if s == "" {
		return nil, jwsErr(JWSCodeSchemaValidatorFailure, "%s is empty", name)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '=':
			return nil, jwsErr(JWSCodeSchemaValidatorFailure, "%s must be base64url without padding, found '=' at offset %d", name, i)
		default:
			return nil, jwsErr(JWSCodeSchemaValidatorFailure, "%s must be base64url (A-Z a-z 0-9 - _), found %q at offset %d", name, c, i)
		}
	}
	out, err := jwsB64.DecodeString(s)
	if err != nil {
		return nil, &JWSError{Code: JWSCodeSchemaValidatorFailure, Message: fmt.Sprintf("%s is not canonical base64url: %v", name, err), Err: err}
	}
	return out, nil
}

// Validate checks the shape of j: exactly one signature; payload,
// protected and signature are non-empty unpadded base64url; the protected
// header decodes to a JSON object with a non-empty string kid and a string
// alg. It is what ParseGeneralJWS checks after decoding, for a GeneralJWS
// that arrived inside a larger message.
func (j *GeneralJWS) Validate() error {
	if j == nil {
		return jwsErr(JWSCodeSchemaValidatorFailure, "general JWS is missing")
	}
	if _, err := j.entry(); err != nil {
		return err
	}
	if _, err := jwsDecodeB64(j.Payload, "payload"); err != nil {
		return err
	}
	if _, err := j.Header(); err != nil {
		return err
	}
	if _, err := jwsDecodeB64(j.Signatures[0].Signature, "signature"); err != nil {
		return err
	}
	return nil
}

// entry returns the single signature entry, or the reference's error for a
// count other than one.
func (j *GeneralJWS) entry() (*SignatureEntry, error) {
	switch n := len(j.Signatures); {
	case n == 0:
		// The reference's schema (minItems: 1) fails first.
		return nil, jwsErr(JWSCodeSchemaValidatorFailure, "signatures must not be empty")
	case n > 1:
		return nil, jwsErr(JWSCodeMoreThanOneSignature, "expected no more than 1 signature for authorization purpose, got %d", n)
	}
	return &j.Signatures[0], nil
}

// DecodedPayload returns the decoded payload bytes.
func (j *GeneralJWS) DecodedPayload() ([]byte, error) {
	return jwsDecodeB64(j.Payload, "payload")
}

// DecodedPayloadObject decodes the payload as a JSON object into
// map[string]json.RawMessage, failing with JWSCodePayloadInvalid as the
// reference's Jws.decodePlainObjectPayload does.
func (j *GeneralJWS) DecodedPayloadObject() (map[string]json.RawMessage, error) {
	p, err := jwsB64.DecodeString(j.Payload)
	if err != nil || j.Payload == "" {
		return nil, jwsErr(JWSCodePayloadInvalid, "payload is not a JSON object")
	}
	p = bytes.TrimSpace(p)
	var m map[string]json.RawMessage
	if len(p) == 0 || p[0] != '{' || json.Unmarshal(p, &m) != nil {
		return nil, jwsErr(JWSCodePayloadInvalid, "signed payload must be a plain object")
	}
	return m, nil
}

// Header decodes the protected header of the single signature. The header
// must be a JSON object whose kid is a non-empty string and whose alg is a
// string; other members are ignored, as by the reference.
func (j *GeneralJWS) Header() (ProtectedHeader, error) {
	e, err := j.entry()
	if err != nil {
		return ProtectedHeader{}, err
	}
	raw, err := jwsDecodeB64(e.Protected, "protected")
	if err != nil {
		return ProtectedHeader{}, err
	}
	m, err := jwsHeaderObject(raw)
	if err != nil {
		return ProtectedHeader{}, err
	}
	var h ProtectedHeader
	kid, ok := m["kid"]
	if !ok {
		return ProtectedHeader{}, jwsErr(JWSCodeSchemaValidatorFailure, "protected header lacks kid")
	}
	if h.KID, err = jwsString(kid, "protected header kid"); err != nil {
		return ProtectedHeader{}, err
	}
	if h.KID == "" {
		return ProtectedHeader{}, jwsErr(JWSCodeSchemaValidatorFailure, "protected header kid is empty")
	}
	alg, ok := m["alg"]
	if !ok {
		return ProtectedHeader{}, jwsErr(JWSCodeSchemaValidatorFailure, "protected header lacks alg")
	}
	if h.Alg, err = jwsString(alg, "protected header alg"); err != nil {
		return ProtectedHeader{}, err
	}
	return h, nil
}

func jwsHeaderObject(raw []byte) (map[string]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	var m map[string]json.RawMessage
	if len(raw) == 0 || raw[0] != '{' {
		return nil, jwsErr(JWSCodeSchemaValidatorFailure, "protected header is not a JSON object")
	}
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &JWSError{Code: JWSCodeSchemaValidatorFailure, Message: "protected header: " + err.Error(), Err: err}
	}
	return m, nil
}

// SignerDID returns the DID part of the kid (everything before the first
// '#'), the reference's Jws.getSignerDid. It does not verify anything.
func (j *GeneralJWS) SignerDID() (string, error) {
	h, err := j.Header()
	if err != nil {
		return "", err
	}
	return jwsKidDID(h.KID), nil
}

func jwsKidDID(kid string) string {
	d, _, _ := strings.Cut(kid, "#")
	return d
}

// SignGeneralJWS signs payload with s and returns a General JWS with one
// signature whose protected header is {"kid":kid,"alg":alg}, alg following
// the key type: EdDSA (Ed25519), ES256K (secp256k1) or ES256 (P-256). kid
// must be a DID URL naming s's key in the signer's DID document.
func SignGeneralJWS(payload []byte, kid string, s keystore.Signer) (*GeneralJWS, error) {
	if len(payload) == 0 {
		return nil, fmt.Errorf("dwn: sign JWS: empty payload")
	}
	if s == nil {
		return nil, fmt.Errorf("dwn: sign JWS: no signer")
	}
	if !strings.HasPrefix(kid, "did:") || !strings.Contains(kid, "#") {
		return nil, fmt.Errorf("dwn: sign JWS: kid %s is not a DID URL with a fragment", jwsQuote(kid))
	}
	var alg string
	switch s.Type() {
	case keystore.Ed25519:
		alg = AlgEdDSA
	case keystore.Secp256k1:
		alg = AlgES256K
	case keystore.P256:
		alg = AlgES256
	default:
		return nil, fmt.Errorf("dwn: sign JWS: unsupported key type %q", s.Type())
	}
	// encoding/json writes struct fields in order: kid, then alg, as the
	// reference's GeneralJwsBuilder does. HTML escaping is off so the header
	// reads as JSON.stringify would write it.
	var hdr bytes.Buffer
	enc := json.NewEncoder(&hdr)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ProtectedHeader{KID: kid, Alg: alg}); err != nil {
		return nil, fmt.Errorf("dwn: sign JWS: %w", err)
	}
	protected := jwsB64.EncodeToString(bytes.TrimSuffix(hdr.Bytes(), []byte("\n")))
	encPayload := jwsB64.EncodeToString(payload)
	sig, err := s.Sign([]byte(protected + "." + encPayload))
	if err != nil {
		return nil, fmt.Errorf("dwn: sign JWS with key %s: %w", s.ID(), err)
	}
	if len(sig) != 64 {
		return nil, fmt.Errorf("dwn: sign JWS with key %s: signature is %d bytes, want 64", s.ID(), len(sig))
	}
	return &GeneralJWS{
		Payload:    encPayload,
		Signatures: []SignatureEntry{{Protected: protected, Signature: jwsB64.EncodeToString(sig)}},
	}, nil
}

// Defaults of VerifierOptions.
const (
	// DefaultSignatureCacheTTL is how long a verified signature is
	// remembered: 600 s, as the reference's GeneralJwsVerifier.
	DefaultSignatureCacheTTL = 600 * time.Second
	// DefaultSignatureCacheEntries bounds the verified-signature cache.
	DefaultSignatureCacheEntries = 10_000
)

// VerifierOptions configures a Verifier.
type VerifierOptions struct {
	// CacheTTL is how long a successful verification is remembered; zero
	// means DefaultSignatureCacheTTL and a negative value disables the
	// cache.
	CacheTTL time.Duration
	// MaxEntries bounds the cache; zero means DefaultSignatureCacheEntries
	// and a negative value disables the cache. When full, the oldest entry
	// is dropped.
	MaxEntries int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier verifies General JWS signatures against keys found by resolving
// the kid's DID, and remembers successful verifications for a while. It is
// safe for concurrent use.
//
// As in the reference, a remembered verification stands for its TTL even
// if the DID document changes meanwhile; failures are never remembered.
type Verifier struct {
	resolver did.Resolver
	ttl      time.Duration
	max      int
	now      func() time.Time

	mu    sync.Mutex
	byKey map[[32]byte]*list.Element
	order list.List // of *jwsCacheEntry, oldest (soonest to expire) first

	// keys caches the public keys of did:key signers, by DID and kid, for
	// the signature cache's TTL (a did:key document is computed from the
	// DID alone); disabled with that cache.
	keysMu sync.RWMutex
	keys   map[string]cachedKey
}

type cachedKey struct {
	pub     any
	expires time.Time
}

// maxCachedKeys bounds Verifier.keys; the cache starts over when full.
const maxCachedKeys = 4096

type jwsCacheEntry struct {
	key     [32]byte
	expires time.Time
}

// NewVerifier returns a Verifier that resolves DIDs with r.
func NewVerifier(r did.Resolver, opts VerifierOptions) *Verifier {
	v := &Verifier{resolver: r, ttl: opts.CacheTTL, max: opts.MaxEntries, now: opts.Now}
	if v.ttl == 0 {
		v.ttl = DefaultSignatureCacheTTL
	}
	if v.max == 0 {
		v.max = DefaultSignatureCacheEntries
	}
	if v.ttl < 0 || v.max < 0 {
		v.ttl, v.max = 0, 0
	}
	if v.now == nil {
		v.now = time.Now
	}
	v.byKey = make(map[[32]byte]*list.Element)
	return v
}

// CacheLen returns the number of remembered verifications, expired ones
// included until they are dropped.
func (v *Verifier) CacheLen() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.order.Len()
}

// Verify checks the shape of j (Validate) and its single signature, and
// returns the signer's DID (the kid up to '#'). The key is the first
// verification method of the resolved DID document whose id is a suffix of
// the kid; it must be a JsonWebKey or JsonWebKey2020 method with a public
// JWK, and the JWK's crv, not the header's alg, picks the algorithm:
//
//   - Ed25519: RFC 8032 with the ZIP-215 rules of @noble/ed25519 2.0
//     (cofactored equation, non-canonical point encodings accepted, S < L);
//   - secp256k1: ECDSA over sha256(input), 64-byte r‖s, high S accepted;
//   - P-256: ECDSA over sha256(input), 64-byte r‖s or else ASN.1 DER.
//
// Failures are *JWSError, except a cancelled ctx, which is returned
// wrapped as is.
func (v *Verifier) Verify(ctx context.Context, j *GeneralJWS) (string, error) {
	if err := j.Validate(); err != nil {
		return "", err
	}
	h, _ := j.Header() // checked by Validate
	e := &j.Signatures[0]
	signer := jwsKidDID(h.KID)

	key := jwsCacheKey(h.KID, e.Protected, j.Payload, e.Signature)
	if v.cached(key) {
		return signer, nil
	}

	pub, err := v.publicKey(ctx, h.KID, signer)
	if err != nil {
		return "", err
	}
	sig, _ := jwsB64.DecodeString(e.Signature) // checked by Validate
	input := []byte(e.Protected + "." + j.Payload)
	if !jwsVerifySignature(pub, input, sig) {
		return "", jwsErr(JWSCodeInvalidSignature, "Signature verification failed for %s", signer)
	}
	v.remember(key)
	return signer, nil
}

// publicKey finds the key for kid (whose DID is signerDID), as the
// reference's GeneralJwsVerifier.getPublicKey and its schema checks.
func (v *Verifier) publicKey(ctx context.Context, kid, signerDID string) (any, error) {
	if v.ttl <= 0 || !strings.HasPrefix(signerDID, "did:key:") {
		return v.resolvePublicKey(ctx, kid, signerDID)
	}
	ck := signerDID + "\x00" + kid
	now := v.now()
	v.keysMu.RLock()
	c, ok := v.keys[ck]
	v.keysMu.RUnlock()
	if ok && now.Before(c.expires) {
		return c.pub, nil
	}
	pub, err := v.resolvePublicKey(ctx, kid, signerDID)
	if err != nil {
		return nil, err
	}
	v.keysMu.Lock()
	if v.keys == nil || len(v.keys) >= maxCachedKeys {
		v.keys = make(map[string]cachedKey)
	}
	v.keys[ck] = cachedKey{pub: pub, expires: now.Add(v.ttl)}
	v.keysMu.Unlock()
	return pub, nil
}

// resolvePublicKey resolves the signer's DID and decodes the key kid names.
func (v *Verifier) resolvePublicKey(ctx context.Context, kid, signerDID string) (any, error) {
	res := v.resolver.Resolve(ctx, signerDID)
	if err := res.Err(); err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, fmt.Errorf("dwn: resolving %s: %w", jwsQuote(signerDID), cerr)
		}
		return nil, &JWSError{
			Code:    JWSCodeGetPublicKeyNotFound,
			Message: fmt.Sprintf("public key needed to verify signature not found: resolving %s: %v", jwsQuote(signerDID), err),
			Err:     err,
		}
	}
	vm, err := res.Document.FindMethod(kid)
	if err != nil {
		return nil, &JWSError{
			Code:    JWSCodeGetPublicKeyNotFound,
			Message: "public key needed to verify signature not found in DID Document",
			Err:     err,
		}
	}
	if vm.Type != did.TypeJsonWebKey && vm.Type != did.TypeJsonWebKey2020 {
		return nil, jwsErr(JWSCodeSchemaValidatorFailure, "verification method %s: type must be JsonWebKey or JsonWebKey2020, got %s", jwsQuote(vm.ID), jwsQuote(vm.Type))
	}
	if vm.Controller == "" {
		return nil, jwsErr(JWSCodeSchemaValidatorFailure, "verification method %s has no controller", jwsQuote(vm.ID))
	}
	if vm.PublicKeyMultibase != "" {
		return nil, jwsErr(JWSCodeSchemaValidatorFailure, "verification method %s has publicKeyMultibase; only publicKeyJwk is allowed", jwsQuote(vm.ID))
	}
	if len(vm.PublicKeyJwk) == 0 {
		return nil, jwsErr(JWSCodeSchemaValidatorFailure, "verification method %s has no publicKeyJwk", jwsQuote(vm.ID))
	}
	var jwk struct {
		Kty json.RawMessage `json:"kty"`
		Crv json.RawMessage `json:"crv"`
		X   json.RawMessage `json:"x"`
		D   json.RawMessage `json:"d"`
	}
	if err := json.Unmarshal(vm.PublicKeyJwk, &jwk); err != nil {
		return nil, &JWSError{Code: JWSCodeSchemaValidatorFailure, Message: fmt.Sprintf("verification method %s: publicKeyJwk: %v", jwsQuote(vm.ID), err), Err: err}
	}
	if jwk.D != nil {
		return nil, jwsErr(JWSCodeSchemaValidatorFailure, "verification method %s: publicKeyJwk must not hold private key material", jwsQuote(vm.ID))
	}
	var crv string
	_ = json.Unmarshal(jwk.Crv, &crv)
	switch crv {
	case "Ed25519":
		// Decoded here rather than by VerificationMethod.PublicKey, which
		// insists on a canonical encoding that @noble/ed25519 does not.
		var x string
		if json.Unmarshal(jwk.X, &x) != nil {
			return nil, jwsErr(JWSCodeInvalidSignature, "verification method %s: Ed25519 x is not a string", jwsQuote(vm.ID))
		}
		raw, err := jwsB64.DecodeString(x)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			return nil, jwsErr(JWSCodeInvalidSignature, "verification method %s: Ed25519 x is not 32 bytes of base64url", jwsQuote(vm.ID))
		}
		return ed25519.PublicKey(raw), nil
	case "secp256k1", "P-256":
		pub, err := vm.PublicKey()
		if err != nil {
			return nil, &JWSError{Code: JWSCodeInvalidSignature, Message: fmt.Sprintf("unusable public key: %v", err), Err: err}
		}
		return pub, nil
	}
	return nil, jwsErr(JWSCodeUnsupportedCrv, "unsupported crv %s. crv must be one of Ed25519,secp256k1,P-256", jwsQuote(crv))
}

// jwsVerifySignature verifies sig over input with pub as decoded by publicKey.
func jwsVerifySignature(pub any, input, sig []byte) bool {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return verifyEd25519ZIP215(k, input, sig)
	case *btcec.PublicKey:
		if len(sig) != 64 {
			return false
		}
		var r, s btcec.ModNScalar
		if r.SetByteSlice(sig[:32]) || s.SetByteSlice(sig[32:]) || r.IsZero() || s.IsZero() {
			return false // r or s not in [1, n-1]
		}
		digest := sha256.Sum256(input)
		// btcec's Verify does not insist on low S, like the reference
		// (@noble/secp256k1 with lowS: false).
		return btcecdsa.NewSignature(&r, &s).Verify(digest[:], k)
	case *ecdsa.PublicKey:
		digest := sha256.Sum256(input)
		if len(sig) == 64 {
			r := new(big.Int).SetBytes(sig[:32])
			s := new(big.Int).SetBytes(sig[32:])
			return ecdsa.Verify(k, digest[:], r, s)
		}
		return ecdsa.VerifyASN1(k, digest[:], sig)
	}
	return false
}

// verifyEd25519ZIP215 is the verification of @noble/ed25519 2.0.0, the
// reference's: A and R may be non-canonical encodings of curve points, S
// must be below the group order, k = SHA-512(enc(R) ‖ enc(A) ‖ msg) with
// the points re-encoded canonically, and the check is cofactored:
// [8]([k]A + R − [S]B) = 0. Go's crypto/ed25519 is stricter (cofactorless,
// canonical encodings), so it would reject signatures the reference
// accepts.
func verifyEd25519ZIP215(pub ed25519.PublicKey, msg, sig []byte) bool {
	if len(pub) != ed25519.PublicKeySize || len(sig) != ed25519.SignatureSize {
		return false
	}
	A, err := new(edwards25519.Point).SetBytes(pub)
	if err != nil {
		return false
	}
	R, err := new(edwards25519.Point).SetBytes(sig[:32])
	if err != nil {
		return false
	}
	S, err := new(edwards25519.Scalar).SetCanonicalBytes(sig[32:])
	if err != nil {
		return false
	}
	h := sha512.New()
	h.Write(R.Bytes())
	h.Write(A.Bytes())
	h.Write(msg)
	k, err := new(edwards25519.Scalar).SetUniformBytes(h.Sum(nil))
	if err != nil {
		return false
	}
	negS := new(edwards25519.Scalar).Negate(S)
	// [k]A − [S]B + R
	p := new(edwards25519.Point).VarTimeDoubleScalarBaseMult(k, A, negS)
	p.Add(p, R)
	p.MultByCofactor(p)
	return p.Equal(edwards25519.NewIdentityPoint()) == 1
}

// jwsCacheKey is sha256 over the length-prefixed kid, protected header,
// payload and signature.
func jwsCacheKey(parts ...string) [32]byte {
	h := sha256.New()
	var n [8]byte
	for _, p := range parts {
		binary.BigEndian.PutUint64(n[:], uint64(len(p)))
		h.Write(n[:])
		h.Write([]byte(p))
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// cached reports whether key holds an unexpired verification.
func (v *Verifier) cached(key [32]byte) bool {
	if v.max == 0 {
		return false
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	el, ok := v.byKey[key]
	return ok && v.now().Before(el.Value.(*jwsCacheEntry).expires)
}

// remember stores key with a fresh expiry, dropping expired entries and,
// when full, the oldest. Entries are kept in expiry order (one TTL for
// all, refreshed entries move to the back), so both drops look only at the
// front.
func (v *Verifier) remember(key [32]byte) {
	if v.max == 0 {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	for front := v.order.Front(); front != nil; front = v.order.Front() {
		if now.Before(front.Value.(*jwsCacheEntry).expires) {
			break
		}
		v.drop(front)
	}
	if el, ok := v.byKey[key]; ok {
		el.Value.(*jwsCacheEntry).expires = now.Add(v.ttl)
		v.order.MoveToBack(el)
		return
	}
	for v.order.Len() >= v.max {
		v.drop(v.order.Front())
	}
	v.byKey[key] = v.order.PushBack(&jwsCacheEntry{key: key, expires: now.Add(v.ttl)})
}

func (v *Verifier) drop(el *list.Element) {
	delete(v.byKey, el.Value.(*jwsCacheEntry).key)
	v.order.Remove(el)
}

// jwsQuote formats a possibly long, untrusted input for an error message.
func jwsQuote(s string) string {
	const limit = 120
	if len(s) > limit {
		return fmt.Sprintf("%q…", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}
