package did_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anya-org/anya/did"
)

// webServer serves DID documents on an httptest TLS server on 127.0.0.1 and
// returns the did:web prefix for it ("did:web:127.0.0.1%3A<port>").
func webServer(t *testing.T, handler http.HandlerFunc) (string, *http.Client) {
	t.Helper()
	srv := httptest.NewTLSServer(handler)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	return "did:web:" + strings.ReplaceAll(u.Host, ":", "%3A"), srv.Client()
}

func webDoc(id string) string {
	return fmt.Sprintf(`{"@context":["https://www.w3.org/ns/did/v1"],"id":%q,"verificationMethod":[{"id":"%s#0","type":"JsonWebKey","controller":%q,"publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}}],"authentication":["%s#0"]}`, id, id, id, id)
}

func TestWeb(t *testing.T) {
	var base string
	var hits atomic.Int32
	base, client := webServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		switch r.URL.Path {
		case "/.well-known/did.json":
			fmt.Fprint(w, webDoc(base))
		case "/user/alice/did.json":
			fmt.Fprint(w, webDoc(base+":user:alice"))
		case "/wrong/did.json":
			fmt.Fprint(w, webDoc(base+":someone-else"))
		case "/big/did.json":
			fmt.Fprint(w, `{"id":"`+strings.Repeat("a", did.DefaultWebMaxBytes)+`"}`)
		case "/garbage/did.json":
			fmt.Fprint(w, `{"id":`)
		case "/boom/did.json":
			http.Error(w, "boom", http.StatusInternalServerError)
		case "/slow/did.json":
			time.Sleep(200 * time.Millisecond)
			fmt.Fprint(w, webDoc(base+":slow"))
		default:
			http.NotFound(w, r)
		}
	})
	reg := did.NewRegistry(did.RegistryConfig{HTTPClient: client, WebTimeout: 50 * time.Millisecond})

	for _, id := range []string{base, base + ":user:alice"} {
		res := mustResolve(t, reg, id)
		vm, err := res.Document.FindMethod(id + "#0")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := vm.PublicKey(); err != nil {
			t.Error(err)
		}
		b, _ := json.Marshal(res)
		if !strings.HasPrefix(string(b), `{"@context":"https://w3id.org/did-resolution/v1","didResolutionMetadata":{},"didDocument":{`) {
			t.Errorf("resolution JSON %s", b)
		}
	}

	cases := []struct{ path, code, msg string }{
		{":wrong", did.CodeInvalidDIDDocument, "has id"},
		{":big", did.CodeInvalidDIDDocument, "exceeds the 65536-byte limit"},
		{":garbage", did.CodeInvalidDIDDocument, "not a valid DID document"},
		{":missing", did.CodeNotFound, "404"},
		{":boom", did.CodeInternalError, "500"},
		{":slow", did.CodeInternalError, "no answer within 50ms"},
	}
	for _, c := range cases {
		err := reg.Resolve(ctx, base+c.path).Err()
		var e *did.Error
		if !errors.As(err, &e) || e.Code != c.code || !strings.Contains(e.Message, c.msg) {
			t.Errorf("%s: %v; want %s containing %q", c.path, err, c.code, c.msg)
		}
	}
}

func TestWebHTTPSOnly(t *testing.T) {
	// A plain HTTP server cannot be reached: the URL is always https.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	id := "did:web:" + strings.ReplaceAll(u.Host, ":", "%3A")
	reg := did.NewRegistry(did.RegistryConfig{WebTimeout: time.Second})
	if err := reg.Resolve(ctx, id).Err(); !errors.Is(err, did.ErrInternalError) {
		t.Errorf("plain HTTP server: %v", err)
	}
	// A redirect to http:// is refused.
	var base string
	base, client := webServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, srv.URL+"/.well-known/did.json", http.StatusFound)
	})
	reg = did.NewRegistry(did.RegistryConfig{HTTPClient: client})
	if err := reg.Resolve(ctx, base).Err(); err == nil || !strings.Contains(err.Error(), "non-HTTPS") {
		t.Errorf("redirect to http: %v", err)
	}
}

func TestWebURL(t *testing.T) {
	for in, want := range map[string]string{
		"did:web:w3c-ccg.github.io":                       "https://w3c-ccg.github.io/.well-known/did.json",
		"did:web:w3c-ccg.github.io:user:alice":            "https://w3c-ccg.github.io/user/alice/did.json",
		"did:web:example.com%3A3000:user:alice":           "https://example.com:3000/user/alice/did.json",
		"did:web:127.0.0.1%3A8443":                        "https://127.0.0.1:8443/.well-known/did.json",
		"did:web:example.com:a%20b":                       "https://example.com/a%20b/did.json",
		"did:web:localhost%3A8443:path%2Fsmuggled":        "",
		"did:web:example.com%2Fevil":                      "",
		"did:web:user%40example.com":                      "",
		"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3dj": "",
	} {
		got, err := did.WebURL(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("WebURL(%s) = %q, %v; want %q", in, got, err, want)
		}
	}
}
