package did

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// JWKResolver resolves did:jwk offline. Its zero value is ready to use.
type JWKResolver struct{}

// Offline reports that did:jwk documents come from the DID alone.
func (JWKResolver) Offline() bool { return true }

// Resolve implements Resolver for did:jwk.
func (JWKResolver) Resolve(_ context.Context, did string) *Resolution {
	return resolveOffline(did, "jwk", jwkDocument)
}

// jwkDocument builds the @web5/dids-shaped document of a parsed did:jwk.
func jwkDocument(p Parsed) (*Document, error) {
	bad := func(format string, args ...any) (*Document, error) {
		return nil, &Error{Code: CodeInvalidDID, Message: fmt.Sprintf("invalid did:jwk %s: ", quote(p.DID)) + fmt.Sprintf(format, args...)}
	}
	raw, err := b64.DecodeString(p.ID)
	if err != nil {
		return bad("identifier is not unpadded base64url: %v", err)
	}
	var members struct {
		Kty any             `json:"kty"`
		Use any             `json:"use"`
		D   json.RawMessage `json:"d"`
	}
	if err := json.Unmarshal(raw, &members); err != nil {
		return bad("identifier does not decode to a JSON object: %v", err)
	}
	if s, ok := members.Kty.(string); !ok || s == "" {
		return bad(`JWK has no string member "kty"`)
	}
	if members.D != nil {
		return bad(`JWK holds private key material (member "d")`)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return bad("JWK is not valid JSON: %v", err)
	}
	vmID := p.DID + "#0"
	doc := &Document{
		Context: Contexts{ContextDIDv1},
		ID:      p.DID,
		VerificationMethod: []VerificationMethod{{
			ID:           vmID,
			Type:         TypeJsonWebKey,
			Controller:   p.DID,
			PublicKeyJwk: compact.Bytes(),
		}},
	}
	// As @web5/dids: "use":"sig" drops keyAgreement, "use":"enc" keeps only
	// keyAgreement, anything else lists the key under all five.
	use, _ := members.Use.(string)
	if use != "enc" {
		doc.Authentication = []Reference{{ID: vmID}}
		doc.AssertionMethod = []Reference{{ID: vmID}}
		doc.CapabilityInvocation = []Reference{{ID: vmID}}
		doc.CapabilityDelegation = []Reference{{ID: vmID}}
	}
	if use != "sig" {
		doc.KeyAgreement = []Reference{{ID: vmID}}
	}
	return doc, nil
}

// NewJWK returns the did:jwk of pub (ed25519.PublicKey, *btcec.PublicKey,
// P-256 *ecdsa.PublicKey), with the JWK members and member order that
// @web5/dids 1.2.0 DidJwk.create writes, so the DID strings are identical:
//
//	Ed25519:   {"crv","kty","x","kid","alg":"EdDSA"}
//	secp256k1: {"kty","crv","x","y","kid","alg":"ES256K"}
//	P-256:     {"kty","crv","x","y","kid","alg":"ES256"}
//
// kid is the RFC 7638 thumbprint.
func NewJWK(pub crypto.PublicKey) (string, error) {
	var out []byte
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", fmt.Errorf("did: ed25519 public key is %d bytes, want %d", len(k), ed25519.PublicKeySize)
		}
		x := b64.EncodeToString(k)
		out = fmt.Appendf(nil, `{"crv":"Ed25519","kty":"OKP","x":"%s","kid":"%s","alg":"EdDSA"}`, x, thumbprintOKP("Ed25519", x))
	case *btcec.PublicKey:
		if k == nil {
			return "", fmt.Errorf("did: nil secp256k1 public key")
		}
		u := k.SerializeUncompressed()
		out = ecJWKAlg("secp256k1", "ES256K", u[1:33], u[33:])
	case *ecdsa.PublicKey:
		if k == nil || k.Curve != elliptic.P256() {
			return "", fmt.Errorf("did: ecdsa public key must be on P-256")
		}
		u, err := k.Bytes()
		if err != nil {
			return "", fmt.Errorf("did: P-256 public key: %w", err)
		}
		out = ecJWKAlg("P-256", "ES256", u[1:33], u[33:])
	default:
		return "", fmt.Errorf("did: unsupported public key type %T (want ed25519.PublicKey, *btcec.PublicKey or P-256 *ecdsa.PublicKey)", pub)
	}
	return "did:jwk:" + b64.EncodeToString(out), nil
}

func ecJWKAlg(crv, alg string, x, y []byte) []byte {
	xs, ys := b64.EncodeToString(x), b64.EncodeToString(y)
	return fmt.Appendf(nil, `{"kty":"EC","crv":"%s","x":"%s","y":"%s","kid":"%s","alg":"%s"}`, crv, xs, ys, thumbprintEC(crv, xs, ys), alg)
}

// Thumbprint returns the RFC 7638 SHA-256 thumbprint of a JWK (JSON), base64url
// without padding. It uses jwx for the key types jwx knows and, for EC curves
// jwx does not know (secp256k1 without the jwx_es256k build tag), hashes the
// RFC 7638 members crv, kty, x, y itself.
func Thumbprint(jwkJSON []byte) (string, error) {
	key, err := jwk.ParseKey(jwkJSON)
	if err == nil {
		var tp []byte
		if tp, err = key.Thumbprint(crypto.SHA256); err == nil {
			return b64.EncodeToString(tp), nil
		}
	}
	var m struct {
		Kty string `json:"kty"`
		Crv string `json:"crv"`
		X   string `json:"x"`
		Y   string `json:"y"`
	}
	if jerr := json.Unmarshal(jwkJSON, &m); jerr != nil || m.Kty != "EC" || m.Crv == "" || m.X == "" || m.Y == "" {
		return "", fmt.Errorf("did: JWK thumbprint: %w", err)
	}
	// RFC 7638 §3.2: required members in lexicographic order, no whitespace.
	canon, _ := json.Marshal(struct {
		Crv string `json:"crv"`
		Kty string `json:"kty"`
		X   string `json:"x"`
		Y   string `json:"y"`
	}{m.Crv, m.Kty, m.X, m.Y})
	sum := sha256.Sum256(canon)
	return b64.EncodeToString(sum[:]), nil
}

// PublicKey decodes the verification method's publicKeyJwk into an
// ed25519.PublicKey (OKP Ed25519), a *btcec.PublicKey (EC secp256k1), an
// *ecdsa.PublicKey (EC P-256) or an *ecdh.PublicKey (OKP X25519), checking
// lengths and that the point is on the curve. A JWK holding private key
// material ("d") is refused.
func (vm *VerificationMethod) PublicKey() (crypto.PublicKey, error) {
	if len(vm.PublicKeyJwk) == 0 {
		return nil, fmt.Errorf("did: verification method %s has no publicKeyJwk", vm.ID)
	}
	var k struct {
		Kty string          `json:"kty"`
		Crv string          `json:"crv"`
		X   string          `json:"x"`
		Y   string          `json:"y"`
		D   json.RawMessage `json:"d"`
	}
	if err := json.Unmarshal(vm.PublicKeyJwk, &k); err != nil {
		return nil, fmt.Errorf("did: verification method %s: publicKeyJwk: %w", vm.ID, err)
	}
	if k.D != nil {
		return nil, fmt.Errorf("did: verification method %s: publicKeyJwk holds private key material", vm.ID)
	}
	fail := func(format string, args ...any) (crypto.PublicKey, error) {
		return nil, fmt.Errorf("did: verification method %s: %s %s key: %s", vm.ID, k.Kty, k.Crv, fmt.Sprintf(format, args...))
	}
	x, err := b64.DecodeString(k.X)
	if err != nil {
		return fail("x is not base64url: %v", err)
	}
	var y []byte
	if k.Kty == "EC" {
		if y, err = b64.DecodeString(k.Y); err != nil {
			return fail("y is not base64url: %v", err)
		}
		if len(x) != 32 || len(y) != 32 {
			return fail("x and y must be 32 bytes, got %d and %d", len(x), len(y))
		}
	}
	switch {
	case k.Kty == "OKP" && k.Crv == "Ed25519":
		if len(x) != ed25519.PublicKeySize {
			return fail("x is %d bytes, want 32", len(x))
		}
		if err := checkEd25519(x); err != nil {
			return fail("%v", err)
		}
		return ed25519.PublicKey(x), nil
	case k.Kty == "OKP" && k.Crv == "X25519":
		pk, err := ecdh.X25519().NewPublicKey(x)
		if err != nil {
			return fail("%v", err)
		}
		return pk, nil
	case k.Kty == "EC" && k.Crv == "secp256k1":
		pk, err := btcec.ParsePubKey(append(append([]byte{4}, x...), y...))
		if err != nil {
			return fail("%v", err)
		}
		return pk, nil
	case k.Kty == "EC" && k.Crv == "P-256":
		pk, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), append(append([]byte{4}, x...), y...))
		if err != nil {
			return fail("%v", err)
		}
		return pk, nil
	}
	return fail("unsupported key type")
}
