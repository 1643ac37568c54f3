package did_test

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/anya-org/anya/did"
	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/mr-tron/base58"
)

var ctx = context.Background()

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// asJSON round-trips v through JSON into generic values for comparison.
func asJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func mustResolve(t *testing.T, r did.Resolver, id string) *did.Resolution {
	t.Helper()
	res := r.Resolve(ctx, id)
	if err := res.Err(); err != nil {
		t.Fatalf("Resolve(%s): %v", id, err)
	}
	if res.Document.ID != id {
		t.Fatalf("Resolve(%s): document id %s", id, res.Document.ID)
	}
	return res
}

func TestDIDKeyVectors(t *testing.T) {
	var v struct {
		Ed25519, X25519, Secp256k1 []struct{ DID, PublicKeyBase58 string }
		P256                       []struct{ DID, X, Y string }
	}
	readJSON(t, "testdata/didkey-vectors.json", &v)
	reg := did.NewRegistry(did.RegistryConfig{})
	b64 := base64.RawURLEncoding

	for _, c := range v.Ed25519 {
		raw, _ := base58.Decode(c.PublicKeyBase58)
		res := mustResolve(t, reg, c.DID)
		pk, err := res.Document.VerificationMethod[0].PublicKey()
		if err != nil || !reflect.DeepEqual(pk, ed25519.PublicKey(raw)) {
			t.Errorf("%s: key %x, %v; want %x", c.DID, pk, err, raw)
		}
		if got, _ := did.NewKey(ed25519.PublicKey(raw)); got != c.DID {
			t.Errorf("NewKey = %s, want %s", got, c.DID)
		}
	}
	for _, c := range v.X25519 {
		raw, _ := base58.Decode(c.PublicKeyBase58)
		res := mustResolve(t, reg, c.DID)
		vm := res.Document.VerificationMethod[0]
		var jwk map[string]string
		json.Unmarshal(vm.PublicKeyJwk, &jwk)
		if jwk["crv"] != "X25519" || jwk["x"] != b64.EncodeToString(raw) {
			t.Errorf("%s: jwk %v", c.DID, jwk)
		}
		if len(res.Document.KeyAgreement) != 1 || res.Document.Authentication != nil || res.Document.AssertionMethod != nil {
			t.Errorf("%s: X25519 must be keyAgreement only: %+v", c.DID, res.Document)
		}
		pub, _ := ecdh.X25519().NewPublicKey(raw)
		if got, _ := did.NewKey(pub); got != c.DID {
			t.Errorf("NewKey = %s, want %s", got, c.DID)
		}
	}
	for _, c := range v.Secp256k1 {
		raw, _ := base58.Decode(c.PublicKeyBase58)
		res := mustResolve(t, reg, c.DID)
		pk, err := res.Document.VerificationMethod[0].PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		bk := pk.(*btcec.PublicKey)
		if string(bk.SerializeCompressed()) != string(raw) {
			t.Errorf("%s: key %x want %x", c.DID, bk.SerializeCompressed(), raw)
		}
		if got, _ := did.NewKey(bk); got != c.DID {
			t.Errorf("NewKey = %s, want %s", got, c.DID)
		}
	}
	for _, c := range v.P256 {
		res := mustResolve(t, reg, c.DID)
		var jwk map[string]string
		json.Unmarshal(res.Document.VerificationMethod[0].PublicKeyJwk, &jwk)
		if jwk["kty"] != "EC" || jwk["crv"] != "P-256" || jwk["x"] != c.X || jwk["y"] != c.Y {
			t.Errorf("%s: jwk %v", c.DID, jwk)
		}
		pk, err := res.Document.VerificationMethod[0].PublicKey()
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := did.NewKey(pk); got != c.DID {
			t.Errorf("NewKey = %s, want %s", got, c.DID)
		}
	}
}

// TestWeb5Golden compares whole resolution results with ones @web5/dids
// 1.2.0 produced (see testdata/SOURCE.txt).
func TestWeb5Golden(t *testing.T) {
	var golden map[string]json.RawMessage
	readJSON(t, "testdata/web5-golden.json", &golden)
	reg := did.NewRegistry(did.RegistryConfig{})
	for id, want := range golden {
		var w any
		json.Unmarshal(want, &w)
		got := asJSON(t, reg.Resolve(ctx, id))
		if !reflect.DeepEqual(got, w) {
			gb, _ := json.MarshalIndent(got, "", " ")
			t.Errorf("%s:\n got %s\nwant %s", id, gb, want)
		}
	}
}

func TestErrorCodes(t *testing.T) {
	reg := did.NewRegistry(did.RegistryConfig{})
	ed := "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	b58 := func(b ...byte) string { return "did:key:z" + base58.Encode(b) }
	jwk := func(s string) string { return "did:jwk:" + base64.RawURLEncoding.EncodeToString([]byte(s)) }
	// An Ed25519 encoding whose y is p (not canonical) and one off the curve.
	nonCanon := append([]byte{0xed, 0x01, 0xed}, append(bytesRepeat(0xff, 30), 0x7f)...)
	offCurve := append([]byte{0xed, 0x01, 0x02}, bytesRepeat(0, 31)...)
	cases := []struct{ did, code, msg string }{
		{"", did.CodeInvalidDID, "empty DID"},
		{"not a did", did.CodeInvalidDID, `does not start with "did:"`},
		{"did:key", did.CodeInvalidDID, `no ":" after the method name`},
		{"did::abc", did.CodeInvalidDID, "empty method name"},
		{"did:KEY:abc", did.CodeInvalidDID, "lowercase letters and digits"},
		{"did:key:", did.CodeInvalidDID, "empty method-specific identifier"},
		{"did:key:abc:", did.CodeInvalidDID, `ends with ":"`},
		{"did:key:a%zz", did.CodeInvalidDID, "bad percent-encoding"},
		{"did:key:a b", did.CodeInvalidDID, "not allowed"},
		{ed + "#" + ed[8:], did.CodeInvalidDID, "DID URL"},
		{ed + "/path", did.CodeInvalidDID, "DID URL"},
		{"did:key:" + strings.Repeat("z", did.MaxDIDLength), did.CodeInvalidDID, "longer than"},
		{"did:foo:bar", did.CodeMethodNotSupported, `method "foo" is not supported (supported: jwk, key, web)`},
		{"did:dht:abc", did.CodeMethodNotSupported, "dht"},
		{"did:key:abc", did.CodeInvalidDID, `start with "z"`},
		{"did:key:z0OIl", did.CodeInvalidDID, "not valid base58btc"},
		{"did:key:z6Mk", did.CodeInvalidDID, "unsupported multicodec"},
		{b58(0xed, 0x01, 0x00), did.CodeInvalidDID, "ed25519-pub key is 1 bytes, want 32"},
		{b58(0x80), did.CodeInvalidDID, "varint"},
		{b58(0x12, 0x34), did.CodeInvalidDID, "unsupported multicodec 0x12"},
		{b58(append([]byte{0xe7, 0x01, 0x04}, bytesRepeat(1, 64)...)...), did.CodeInvalidDID, "secp256k1-pub key is 65 bytes, want 33"},
		{b58(append([]byte{0xe7, 0x01, 0x02}, bytesRepeat(0xff, 32)...)...), did.CodeInvalidDID, "not a point on the curve"},
		{b58(append([]byte{0x80, 0x24, 0x02}, bytesRepeat(0xff, 32)...)...), did.CodeInvalidDID, "p256-pub key is not a compressed point"},
		{b58(nonCanon...), did.CodeInvalidDID, "not canonically encoded"},
		{b58(offCurve...), did.CodeInvalidDID, "not a point on the curve"},
		{"did:jwk:!!", did.CodeInvalidDID, "not allowed"},
		{"did:jwk:a", did.CodeInvalidDID, "not unpadded base64url"},
		{jwk("1"), did.CodeInvalidDID, "does not decode to a JSON object"},
		{jwk("null"), did.CodeInvalidDID, `no string member "kty"`},
		{jwk(`{"crv":"Ed25519"}`), did.CodeInvalidDID, `no string member "kty"`},
		{jwk(`{"kty":"OKP","crv":"Ed25519","x":"AA","d":"AA"}`), did.CodeInvalidDID, "private key material"},
		{"did:web:", did.CodeInvalidDID, "empty method-specific identifier"},
		{"did:web:%40evil", did.CodeInvalidDID, "not allowed in a host"},
		{"did:web:example.com:..", did.CodeInvalidDID, "dot segment"},
		{"did:web:example.com::a", did.CodeInvalidDID, "empty"},
	}
	for _, c := range cases {
		res := reg.Resolve(ctx, c.did)
		err := res.Err()
		var e *did.Error
		if !errors.As(err, &e) {
			t.Errorf("Resolve(%.60q) = %v, want code %s", c.did, err, c.code)
			continue
		}
		if e.Code != c.code || !strings.Contains(e.Message, c.msg) {
			t.Errorf("Resolve(%.60q) = %v; want code %s, message containing %q", c.did, err, c.code, c.msg)
		}
		if res.Document != nil || res.Context != did.ResolutionContext || res.ResolutionMetadata.ErrorMessage == "" {
			t.Errorf("Resolve(%.60q): bad failure shape %+v", c.did, res)
		}
		if !errors.Is(err, &did.Error{Code: c.code}) {
			t.Errorf("errors.Is(%v, code %s) = false", err, c.code)
		}
	}
	if !errors.Is(reg.Resolve(ctx, "did:x:y").Err(), did.ErrMethodNotSupported) || errors.Is(reg.Resolve(ctx, "did:x:y").Err(), did.ErrNotFound) {
		t.Error("sentinel matching is wrong")
	}
	// The failure shape serialises like @web5/dids: didDocument null.
	b, _ := json.Marshal(reg.Resolve(ctx, "did:key:abc"))
	if !strings.Contains(string(b), `"didDocument":null`) || !strings.Contains(string(b), `"error":"invalidDid"`) || !strings.Contains(string(b), `"didDocumentMetadata":{}`) {
		t.Errorf("failure JSON %s", b)
	}
}

func bytesRepeat(b byte, n int) []byte {
	out := make([]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

func TestJWKUse(t *testing.T) {
	reg := did.NewRegistry(did.RegistryConfig{})
	mk := func(use string) *did.Document {
		s := `{"kty":"OKP","crv":"X25519","x":"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"` + use + `}`
		return mustResolve(t, reg, "did:jwk:"+base64.RawURLEncoding.EncodeToString([]byte(s))).Document
	}
	if d := mk(""); len(d.Authentication) != 1 || len(d.KeyAgreement) != 1 {
		t.Errorf("no use: %+v", d)
	}
	if d := mk(`,"use":"sig"`); len(d.Authentication) != 1 || d.KeyAgreement != nil {
		t.Errorf("use sig: %+v", d)
	}
	if d := mk(`,"use":"enc"`); d.Authentication != nil || d.AssertionMethod != nil || d.CapabilityInvocation != nil || d.CapabilityDelegation != nil || len(d.KeyAgreement) != 1 {
		t.Errorf("use enc: %+v", d)
	}
	// Members are kept verbatim, in order, compacted.
	s := "{ \"kty\" : \"OKP\", \"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\",\"alg\":\"EdDSA\",\"ext\":{\"a\":[1,2]} }"
	d := mustResolve(t, reg, "did:jwk:"+base64.RawURLEncoding.EncodeToString([]byte(s))).Document
	if got := string(d.VerificationMethod[0].PublicKeyJwk); got != `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","alg":"EdDSA","ext":{"a":[1,2]}}` {
		t.Errorf("publicKeyJwk = %s", got)
	}
}

func TestNewKeyNewJWKRoundTrip(t *testing.T) {
	reg := did.NewRegistry(did.RegistryConfig{})
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	k1, _ := btcec.NewPrivateKey()
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, pub := range []any{edPub, k1.PubKey(), &p256.PublicKey} {
		for _, mk := range []func(any) (string, error){
			func(p any) (string, error) { return did.NewKey(p) },
			func(p any) (string, error) { return did.NewJWK(p) },
		} {
			id, err := mk(pub)
			if err != nil {
				t.Fatal(err)
			}
			res := mustResolve(t, reg, id)
			vm := res.Document.VerificationMethod[0]
			got, err := vm.PublicKey()
			if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			if eq, ok := got.(interface{ Equal(any) bool }); ok && !eq.Equal(pub) {
				t.Errorf("%s: key %v, want %v", id, got, pub)
			}
			if bk, ok := got.(*btcec.PublicKey); ok && !bk.IsEqual(pub.(*btcec.PublicKey)) {
				t.Errorf("%s: secp256k1 key differs", id)
			}
			// kid is the RFC 7638 thumbprint, as jwx computes it.
			var m map[string]any
			json.Unmarshal(vm.PublicKeyJwk, &m)
			tp, err := did.Thumbprint(vm.PublicKeyJwk)
			if err != nil || m["kid"] != tp {
				t.Errorf("%s: kid %v, thumbprint %s %v", id, m["kid"], tp, err)
			}
			if _, err := res.Document.FindMethod(vm.ID); err != nil {
				t.Error(err)
			}
		}
	}
	if _, err := did.NewKey("nope"); err == nil {
		t.Error("NewKey(string) succeeded")
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := did.NewJWK(&p384.PublicKey); err == nil {
		t.Error("NewJWK(P-384) succeeded")
	}
}

func TestFindMethod(t *testing.T) {
	doc := &did.Document{ID: "did:jwk:abc", VerificationMethod: []did.VerificationMethod{{ID: "#0"}}}
	if _, err := doc.FindMethod("did:jwk:abc#0"); err != nil {
		t.Error(err)
	}
	if _, err := doc.FindMethod("did:jwk:abc#1"); err == nil {
		t.Error("matched #1")
	}
}

func TestPublicKeyRejectsPrivate(t *testing.T) {
	vm := did.VerificationMethod{ID: "x", PublicKeyJwk: json.RawMessage(`{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","d":"AA"}`)}
	if _, err := vm.PublicKey(); err == nil || !strings.Contains(err.Error(), "private") {
		t.Errorf("PublicKey with d: %v", err)
	}
}

func TestDocumentJSONRoundTrip(t *testing.T) {
	in := `{"@context":"https://www.w3.org/ns/did/v1","id":"did:web:x","verificationMethod":[{"id":"#k","type":"JsonWebKey2020","controller":"did:web:x","publicKeyJwk":{"kty":"OKP"}}],"authentication":["#k",{"id":"#e","type":"JsonWebKey","controller":"did:web:x","publicKeyJwk":{"kty":"EC"}}],"service":[{"id":"#dwn","type":"DecentralizedWebNode","serviceEndpoint":["https://dwn.example"]}]}`
	var d did.Document
	if err := json.Unmarshal([]byte(in), &d); err != nil {
		t.Fatal(err)
	}
	if d.Authentication[1].Embedded == nil || d.Authentication[0].ID != "#k" || d.Context[0] != "https://www.w3.org/ns/did/v1" {
		t.Errorf("decoded %+v", d)
	}
	out, _ := json.Marshal(&d)
	want := strings.Replace(in, `"@context":"https://www.w3.org/ns/did/v1"`, `"@context":["https://www.w3.org/ns/did/v1"]`, 1)
	if string(out) != want {
		t.Errorf("round trip\n got %s\nwant %s", out, want)
	}
}

func TestConfig(t *testing.T) {
	c := did.DefaultConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := c.CacheTTL.UnmarshalText([]byte("90s")); err != nil || c.CacheTTL.Std().Seconds() != 90 {
		t.Fatalf("UnmarshalText: %v %v", c.CacheTTL, err)
	}
	if b, _ := c.CacheTTL.MarshalText(); string(b) != "1m30s" {
		t.Errorf("MarshalText = %s", b)
	}
	if err := c.WebTimeout.UnmarshalText([]byte("soon")); err == nil {
		t.Error("parsed 'soon'")
	}
	bad := did.Config{}
	err := bad.Validate()
	if err == nil || !strings.Contains(err.Error(), "did.cache_ttl: must be > 0") || !strings.Contains(err.Error(), "did.web_timeout: must be > 0") {
		t.Errorf("Validate = %v", err)
	}
}
