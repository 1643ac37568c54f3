package conformance_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/anya-org/anya/did"
)

const wantGenerator = "@web5/dids 1.2.0"

type entry struct {
	Kind       string          `json:"kind"`
	DID        string          `json:"did"`
	Resolution json.RawMessage `json:"resolution"`
}

type reference struct {
	Generator string  `json:"generator"`
	Valid     []entry `json:"valid"`
	Invalid   []entry `json:"invalid"`
	Divergent []entry `json:"divergent"`
}

// skipOrFail skips the test, or fails it when ANYA_REQUIRE_CONFORMANCE=1.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("ANYA_REQUIRE_CONFORMANCE") == "1" {
		t.Fatalf("%s (ANYA_REQUIRE_CONFORMANCE=1)", msg)
	}
	t.Skip(msg)
}

// generate runs gen.mjs and returns its reference results.
func generate(t *testing.T) reference {
	t.Helper()
	node := os.Getenv("ANYA_CONFORMANCE_NODE")
	_, statErr := os.Stat(filepath.Join("node_modules", "@web5", "dids", "package.json"))
	switch {
	case node == "" && statErr != nil:
		skipOrFail(t, "conformance/did: node_modules is missing and ANYA_CONFORMANCE_NODE is unset; run `npm ci` in conformance/did")
	case statErr != nil:
		t.Fatalf("conformance/did: ANYA_CONFORMANCE_NODE=%s but node_modules is missing; run `npm ci` in conformance/did", node)
	case node == "":
		node = "node"
	}
	if _, err := exec.LookPath(node); err != nil {
		skipOrFail(t, "conformance/did: no Node binary %q: %v", node, err)
	}
	n := os.Getenv("ANYA_CONFORMANCE_N")
	if n == "" {
		n = "10"
	}
	out := filepath.Join(t.TempDir(), "reference.json")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "gen.mjs", out, n)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s gen.mjs: %v\n%s", node, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var ref reference
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatalf("gen.mjs output: %v", err)
	}
	if ref.Generator != wantGenerator {
		t.Fatalf("generator %q, want %q: reinstall with `npm ci`", ref.Generator, wantGenerator)
	}
	if len(ref.Valid) == 0 || len(ref.Invalid) == 0 {
		t.Fatalf("gen.mjs produced %d valid and %d invalid DIDs", len(ref.Valid), len(ref.Invalid))
	}
	return ref
}

func decode(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func generic(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, b)
}

// diff returns the indented JSON of want and got with the first differing
// line marked.
func diff(want, got any) string {
	wb, _ := json.MarshalIndent(want, "", "  ")
	gb, _ := json.MarshalIndent(got, "", "  ")
	wl, gl := strings.Split(string(wb), "\n"), strings.Split(string(gb), "\n")
	var sb strings.Builder
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			fmt.Fprintf(&sb, "first difference at line %d:\n- web5: %s\n+ anya: %s\n", i+1, w, g)
			break
		}
	}
	fmt.Fprintf(&sb, "web5:\n%s\nanya:\n%s", wb, gb)
	return sb.String()
}

// webCodeToAnya maps @web5/dids error codes that are not W3C resolution
// errors to the code Anya uses.
var webCodeToAnya = map[string]string{
	"invalidPublicKey":       did.CodeInvalidDID,
	"invalidPublicKeyLength": did.CodeInvalidDID,
}

func TestConformance(t *testing.T) {
	ref := generate(t)
	ctx := context.Background()
	reg := did.NewRegistry(did.RegistryConfig{})

	t.Run("valid", func(t *testing.T) {
		kinds := map[string]int{}
		for _, e := range ref.Valid {
			kinds[e.Kind]++
			want := decode(t, e.Resolution)
			res := reg.Resolve(ctx, e.DID)
			if err := res.Err(); err != nil {
				t.Errorf("%s %s: %v", e.Kind, e.DID, err)
				continue
			}
			got := generic(t, res)
			wantDoc := want.(map[string]any)["didDocument"]
			if gotDoc := generic(t, res.Document); !reflect.DeepEqual(gotDoc, wantDoc) {
				t.Errorf("%s %s: documents differ\n%s", e.Kind, e.DID, diff(wantDoc, gotDoc))
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s %s: resolution results differ\n%s", e.Kind, e.DID, diff(want, got))
			}

			// The same public key gives the same DID string.
			var refRes did.Resolution
			if err := json.Unmarshal(e.Resolution, &refRes); err != nil || refRes.Document == nil {
				t.Fatalf("%s: reference resolution: %v", e.DID, err)
			}
			pub, err := refRes.Document.VerificationMethod[0].PublicKey()
			if err != nil {
				t.Errorf("%s: public key from the web5 JWK: %v", e.DID, err)
				continue
			}
			var again string
			if strings.HasPrefix(e.Kind, "key-") {
				again, err = did.NewKey(pub)
			} else {
				again, err = did.NewJWK(pub)
			}
			if err != nil || again != e.DID {
				t.Errorf("%s: New%s = %s, %v; web5 created %s", e.Kind, strings.ToUpper(e.Kind[:3]), again, err, e.DID)
			}
		}
		for _, k := range []string{"key-Ed25519", "key-secp256k1", "jwk-Ed25519", "jwk-secp256k1", "jwk-P-256"} {
			if kinds[k] == 0 {
				t.Errorf("no %s DIDs in the reference", k)
			}
		}
		t.Logf("%d valid DIDs match (%v)", len(ref.Valid), kinds)
	})

	t.Run("invalid", func(t *testing.T) {
		for _, e := range ref.Invalid {
			var want did.Resolution
			if err := json.Unmarshal(e.Resolution, &want); err != nil {
				t.Fatal(err)
			}
			wantCode := want.ResolutionMetadata.Error
			if c, ok := webCodeToAnya[wantCode]; ok {
				wantCode = c
			}
			res := reg.Resolve(ctx, e.DID)
			var de *did.Error
			if err := res.Err(); !errors.As(err, &de) || de.Code != wantCode {
				t.Errorf("%q: anya %v; web5 %s (%s)", e.DID, err, want.ResolutionMetadata.Error, want.ResolutionMetadata.ErrorMessage)
				continue
			}
			if res.ResolutionMetadata.ErrorMessage == "" || res.Document != nil || res.Context != want.Context {
				t.Errorf("%q: failure shape %+v", e.DID, res)
			}
		}
	})

	t.Run("divergent", func(t *testing.T) {
		web5 := map[string]did.Resolution{}
		for _, e := range ref.Divergent {
			var r did.Resolution
			if err := json.Unmarshal(e.Resolution, &r); err != nil {
				t.Fatal(err)
			}
			web5[e.DID] = r
		}
		if len(web5) != 4 {
			t.Fatalf("want 4 divergent DIDs, got %d", len(web5))
		}
		for id, w := range web5 {
			res := reg.Resolve(ctx, id)
			switch {
			case strings.HasPrefix(id, "did:key:zDn"):
				// P-256 did:key: web5 cannot resolve it; Anya can.
				if w.ResolutionMetadata.Error != did.CodeInvalidDID || res.Err() != nil {
					t.Errorf("P-256 %s: web5 %q, anya %v", id, w.ResolutionMetadata.Error, res.Err())
				}
			case strings.HasPrefix(id, "did:key:z6LS"):
				// X25519 did:key: same verification method, keyAgreement only.
				if w.Err() != nil || res.Err() != nil {
					t.Fatalf("X25519 %s: web5 %v, anya %v", id, w.Err(), res.Err())
				}
				if g, x := generic(t, res.Document.VerificationMethod), generic(t, w.Document.VerificationMethod); !reflect.DeepEqual(g, x) {
					t.Errorf("X25519 %s: verification methods differ\n%s", id, diff(x, g))
				}
				if len(w.Document.Authentication) != 1 || res.Document.Authentication != nil || len(res.Document.KeyAgreement) != 1 {
					t.Errorf("X25519 %s: web5 authentication %v; anya authentication %v keyAgreement %v", id, w.Document.Authentication, res.Document.Authentication, res.Document.KeyAgreement)
				}
			case strings.Contains(id, "#"):
				// DID URL: web5 strips the fragment; Anya refuses, and the
				// DID alone resolves to web5's result.
				if !errors.Is(res.Err(), did.ErrInvalidDID) || w.Err() != nil {
					t.Errorf("DID URL %s: web5 %v, anya %v", id, w.Err(), res.Err())
				}
				plain, _, _ := strings.Cut(id, "#")
				if g, x := generic(t, reg.Resolve(ctx, plain)), decode(t, mustJSON(t, w)); !reflect.DeepEqual(g, x) {
					t.Errorf("DID %s: results differ\n%s", plain, diff(x, g))
				}
			case strings.HasPrefix(id, "did:jwk:"):
				// A did:jwk that is not a JWK object: web5 accepts, Anya refuses.
				if w.Err() != nil || !errors.Is(res.Err(), did.ErrInvalidDID) {
					t.Errorf("did:jwk non-object %s: web5 %v, anya %v", id, w.Err(), res.Err())
				}
			default:
				t.Errorf("unexpected divergent DID %s", id)
			}
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRFC7638Thumbprint checks did.Thumbprint against the example of RFC
// 7638 §3.1 (testdata/SOURCE.txt).
func TestRFC7638Thumbprint(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "rfc7638.json"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := did.Thumbprint(b)
	if err != nil {
		t.Fatal(err)
	}
	if want := "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"; got != want {
		t.Errorf("Thumbprint = %s, want %s", got, want)
	}
}
