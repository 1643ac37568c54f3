package dwn

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseGeneralJWS checks that parsing never panics, that what parses
// re-encodes to something that parses to the same value, and that Verify
// over an offline registry never panics on it.
func FuzzParseGeneralJWS(f *testing.F) {
	raw, err := os.ReadFile(filepath.Join("testdata", "jws", "sdk-signed.json"))
	if err != nil {
		f.Fatal(err)
	}
	var fx jwsFixtures
	if err := json.Unmarshal(raw, &fx); err != nil {
		f.Fatal(err)
	}
	for _, c := range fx.Cases {
		f.Add([]byte(c.JWS))
	}
	for _, c := range fx.Rejects {
		f.Add([]byte(c.JWS))
	}
	f.Add([]byte(`{"payload":"e30","signatures":[{"protected":"e30","signature":"AA"}]}`))
	f.Add([]byte(`{"payload":"e30=","signatures":[]}`))
	f.Add([]byte(`{"payload":null,"signatures":[null]}`))
	f.Add([]byte(`[`))
	v := NewVerifier(jwsRegistry(), VerifierOptions{MaxEntries: 16})
	f.Fuzz(func(t *testing.T, b []byte) {
		j, err := ParseGeneralJWS(b)
		if err != nil {
			if _, ok := err.(*JWSError); !ok {
				t.Fatalf("error %v is %T, not *JWSError", err, err)
			}
			return
		}
		if _, err := j.SignerDID(); err != nil {
			t.Fatalf("parsed JWS has no signer: %v", err)
		}
		if _, err := j.DecodedPayload(); err != nil {
			t.Fatalf("parsed JWS has an undecodable payload: %v", err)
		}
		_, _ = j.DecodedPayloadObject()
		out, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		j2, err := ParseGeneralJWS(out)
		if err != nil {
			t.Fatalf("re-encoded JWS does not parse: %v\n%s", err, out)
		}
		if j2.Payload != j.Payload || j2.Signatures[0] != j.Signatures[0] {
			t.Fatal("round trip changed the JWS")
		}
		_, _ = v.Verify(context.Background(), j)
	})
}
