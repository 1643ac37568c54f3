package did

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"fmt"

	"filippo.io/edwards25519"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/multiformats/go-multibase"
	"github.com/multiformats/go-multicodec"
	"github.com/multiformats/go-varint"
)

// KeyResolver resolves did:key offline. Its zero value is ready to use.
type KeyResolver struct{}

// Offline reports that did:key documents come from the DID alone.
func (KeyResolver) Offline() bool { return true }

// Resolve implements Resolver for did:key.
func (KeyResolver) Resolve(_ context.Context, did string) *Resolution {
	return resolveOffline(did, "key", keyDocument)
}

// resolveOffline parses did, checks its method, and builds its document
// from the DID alone.
func resolveOffline(did, method string, build func(Parsed) (*Document, error)) *Resolution {
	p, err := Parse(did)
	if err != nil {
		return failureFrom(err)
	}
	if p.Method != method {
		return Failure(CodeMethodNotSupported, "did:%s resolver cannot resolve method %s", method, quote(p.Method))
	}
	doc, err := build(p)
	if err != nil {
		return failureFrom(err)
	}
	return Success(doc)
}

// keyKind describes one supported did:key multicodec.
type keyKind struct {
	name   string
	length int // raw key length after the multicodec prefix
}

var keyKinds = map[multicodec.Code]keyKind{
	multicodec.Ed25519Pub:   {"ed25519-pub", ed25519.PublicKeySize},
	multicodec.Secp256k1Pub: {"secp256k1-pub", btcec.PubKeyBytesLenCompressed},
	multicodec.P256Pub:      {"p256-pub", 33},
	multicodec.X25519Pub:    {"x25519-pub", 32},
}

// keyDocument builds the @web5/dids-shaped document of a parsed did:key.
func keyDocument(p Parsed) (*Document, error) {
	bad := func(format string, args ...any) (*Document, error) {
		return nil, &Error{Code: CodeInvalidDID, Message: fmt.Sprintf("invalid did:key %s: ", quote(p.DID)) + fmt.Sprintf(format, args...)}
	}
	if p.ID[0] != 'z' {
		return bad(`identifier must be base58btc multibase (start with "z")`)
	}
	enc, data, err := multibase.Decode(p.ID)
	if err != nil || enc != multibase.Base58BTC {
		return bad("identifier is not valid base58btc")
	}
	code, n, err := varint.FromUvarint(data)
	if err != nil {
		return bad("bad multicodec varint prefix: %v", err)
	}
	kind, ok := keyKinds[multicodec.Code(code)]
	if !ok {
		return bad("unsupported multicodec 0x%x (supported: ed25519-pub 0xed, secp256k1-pub 0xe7, p256-pub 0x1200, x25519-pub 0xec)", code)
	}
	raw := data[n:]
	if len(raw) != kind.length {
		return bad("%s key is %d bytes, want %d", kind.name, len(raw), kind.length)
	}
	var jwk []byte
	switch multicodec.Code(code) {
	case multicodec.Ed25519Pub:
		if err := checkEd25519(raw); err != nil {
			return bad("%v", err)
		}
		jwk = okpJWK("Ed25519", raw)
	case multicodec.X25519Pub:
		if _, err := ecdh.X25519().NewPublicKey(raw); err != nil {
			return bad("x25519-pub key: %v", err)
		}
		jwk = okpJWK("X25519", raw)
	case multicodec.Secp256k1Pub:
		pk, err := btcec.ParsePubKey(raw)
		if err != nil {
			return bad("secp256k1-pub key is not a point on the curve: %v", err)
		}
		u := pk.SerializeUncompressed()
		jwk = ecJWK("secp256k1", u[1:33], u[33:65])
	case multicodec.P256Pub:
		x, y := elliptic.UnmarshalCompressed(elliptic.P256(), raw)
		if x == nil {
			return bad("p256-pub key is not a compressed point on the curve")
		}
		var xb, yb [32]byte
		jwk = ecJWK("P-256", x.FillBytes(xb[:]), y.FillBytes(yb[:]))
	}
	vmID := p.DID + "#" + p.ID
	ref := []Reference{{ID: vmID}}
	doc := &Document{
		Context: Contexts{ContextDIDv1, ContextJWS2020},
		ID:      p.DID,
		VerificationMethod: []VerificationMethod{{
			ID:           vmID,
			Type:         TypeJsonWebKey2020,
			Controller:   p.DID,
			PublicKeyJwk: jwk,
		}},
	}
	if multicodec.Code(code) == multicodec.X25519Pub {
		// An X25519 key can only agree on keys; @web5/dids lists it under the
		// signing relationships too, which no verifier can use.
		doc.KeyAgreement = ref
		return doc, nil
	}
	doc.Authentication = ref
	doc.AssertionMethod = []Reference{{ID: vmID}}
	doc.CapabilityInvocation = []Reference{{ID: vmID}}
	doc.CapabilityDelegation = []Reference{{ID: vmID}}
	return doc, nil
}

// checkEd25519 accepts exactly the encodings @noble/curves accepts in strict
// mode: a point on the curve in its canonical encoding.
func checkEd25519(raw []byte) error {
	pt, err := new(edwards25519.Point).SetBytes(raw)
	if err != nil {
		return fmt.Errorf("ed25519-pub key is not a point on the curve")
	}
	if string(pt.Bytes()) != string(raw) {
		return fmt.Errorf("ed25519-pub key is not canonically encoded")
	}
	return nil
}

var b64 = base64.RawURLEncoding

// okpJWK returns {"kty":"OKP","crv":crv,"x":…,"kid":thumbprint}, the member
// order of @web5/crypto's bytesToPublicKey.
func okpJWK(crv string, x []byte) []byte {
	xs := b64.EncodeToString(x)
	kid := thumbprintOKP(crv, xs)
	out := make([]byte, 0, 128)
	out = append(out, `{"kty":"OKP","crv":"`...)
	out = append(out, crv...)
	out = append(out, `","x":"`...)
	out = append(out, xs...)
	out = append(out, `","kid":"`...)
	out = append(out, kid...)
	return append(out, `"}`...)
}

// ecJWK returns {"kty":"EC","crv":crv,"x":…,"y":…,"kid":thumbprint}.
func ecJWK(crv string, x, y []byte) []byte {
	xs, ys := b64.EncodeToString(x), b64.EncodeToString(y)
	kid := thumbprintEC(crv, xs, ys)
	out := make([]byte, 0, 192)
	out = append(out, `{"kty":"EC","crv":"`...)
	out = append(out, crv...)
	out = append(out, `","x":"`...)
	out = append(out, xs...)
	out = append(out, `","y":"`...)
	out = append(out, ys...)
	out = append(out, `","kid":"`...)
	out = append(out, kid...)
	return append(out, `"}`...)
}

// thumbprintOKP is the RFC 7638 thumbprint of an OKP key, the same bytes
// jwx hashes (tested against Thumbprint).
func thumbprintOKP(crv, x string) string {
	h := sha256.New()
	h.Write([]byte(`{"crv":"` + crv + `","kty":"OKP","x":"` + x + `"}`))
	return b64.EncodeToString(h.Sum(nil))
}

// thumbprintEC is the RFC 7638 thumbprint of an EC key.
func thumbprintEC(crv, x, y string) string {
	h := sha256.New()
	h.Write([]byte(`{"crv":"` + crv + `","kty":"EC","x":"` + x + `","y":"` + y + `"}`))
	return b64.EncodeToString(h.Sum(nil))
}

// NewKey returns the did:key of pub: an ed25519.PublicKey, a
// *btcec.PublicKey (secp256k1), an *ecdsa.PublicKey on P-256 or an
// *ecdh.PublicKey on X25519.
func NewKey(pub crypto.PublicKey) (string, error) {
	var code multicodec.Code
	var raw []byte
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return "", fmt.Errorf("did: ed25519 public key is %d bytes, want %d", len(k), ed25519.PublicKeySize)
		}
		code, raw = multicodec.Ed25519Pub, k
	case *btcec.PublicKey:
		if k == nil {
			return "", fmt.Errorf("did: nil secp256k1 public key")
		}
		code, raw = multicodec.Secp256k1Pub, k.SerializeCompressed()
	case *ecdsa.PublicKey:
		if k == nil || k.Curve != elliptic.P256() {
			return "", fmt.Errorf("did: ecdsa public key must be on P-256")
		}
		u, err := k.Bytes()
		if err != nil {
			return "", fmt.Errorf("did: P-256 public key: %w", err)
		}
		x, y := u[1:33], u[33:]
		raw = append([]byte{0x02 | y[31]&1}, x...)
		code = multicodec.P256Pub
	case *ecdh.PublicKey:
		if k == nil || k.Curve() != ecdh.X25519() {
			return "", fmt.Errorf("did: ecdh public key must be X25519")
		}
		code, raw = multicodec.X25519Pub, k.Bytes()
	default:
		return "", fmt.Errorf("did: unsupported public key type %T (want ed25519.PublicKey, *btcec.PublicKey, P-256 *ecdsa.PublicKey or X25519 *ecdh.PublicKey)", pub)
	}
	data := append(varint.ToUvarint(uint64(code)), raw...)
	id, err := multibase.Encode(multibase.Base58BTC, data)
	if err != nil {
		return "", fmt.Errorf("did: %w", err)
	}
	return "did:key:" + id, nil
}
