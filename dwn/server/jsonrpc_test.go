package server

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"testing"
	"unicode/utf8"
)

func TestParseRequest(t *testing.T) {
	ok := []struct {
		in     string
		method string
		id     string
		sub    string
	}{
		{`{"jsonrpc":"2.0","id":"a","method":"dwn.processMessage","params":{"target":"did:x","message":{}}}`, MethodProcessMessage, `"a"`, ""},
		{`{"jsonrpc":"2.0","id":12,"method":"rpc.subscribe.close","params":{},"subscription":{"id":"s"}}`, MethodSubscribeClose, `12`, `"s"`},
		{` {"method":"x","id":null} `, "x", `null`, ""},
		{`{}`, "", ``, ""},
	}
	for _, tc := range ok {
		req, err := ParseRequest([]byte(tc.in))
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if req.Method != tc.method || string(req.ID) != tc.id {
			t.Fatalf("%s: method %q id %s", tc.in, req.Method, req.ID)
		}
		if tc.sub != "" && (req.Subscription == nil || string(req.Subscription.ID) != tc.sub) {
			t.Fatalf("%s: subscription %+v", tc.in, req.Subscription)
		}
	}
	for _, in := range []string{``, `  `, `{`, `null`, `"s"`, `[]`, `{"method":5}`, `{"id":{}}`, `{"id":[1]}`, `{"id":true}`,
		`{"subscription":{"id":{}}}`, `{"params":{}} x`} {
		_, err := ParseRequest([]byte(in))
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeBadRequest {
			t.Fatalf("%q: %v, want a -50400 error", in, err)
		}
	}
}

func TestResponseID(t *testing.T) {
	for _, id := range []string{``, `null`} {
		if got := responseID(&Request{ID: json.RawMessage(id)}); !uuidRE.Match(got) {
			t.Fatalf("id %q answered with %s", id, got)
		}
	}
	if got := responseID(&Request{ID: json.RawMessage(`0`)}); string(got) != `0` {
		t.Fatalf("id 0 answered with %s", got)
	}
}

func TestSubKey(t *testing.T) {
	if subKey(json.RawMessage(`"a"`)) != subKey(json.RawMessage(`"\u0061"`)) {
		t.Fatal(`"a" and "\u0061" are one id`)
	}
	if subKey(json.RawMessage(`"1"`)) == subKey(json.RawMessage(`1`)) {
		t.Fatal(`"1" and 1 are two ids`)
	}
}

func TestASCIIJSON(t *testing.T) {
	v := map[string]string{"s": "héllo 😀 \u2028 <&>", "k": "plain"}
	b, err := asciiJSON(v)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range b {
		if c >= utf8.RuneSelf || c < 0x20 {
			t.Fatalf("byte %#x in %s", c, b)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, v) {
		t.Fatalf("%s decodes to %v (%v)", b, back, err)
	}
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"example.com":                     "http://example.com",
		"example.com/p/":                  "http://example.com/p",
		"HTTPS://Example.COM/Path/?a=1#f": "https://example.com/Path",
		"https://social.example/v1":       "https://social.example/v1",
		"did:example:123":                 "did:example:123",
		"urn:uuid:1234":                   "urn:uuid:1234",
	} {
		got, err := normalizeURL(in)
		if err != nil || got != want {
			t.Fatalf("normalizeURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

func TestDotParams(t *testing.T) {
	q, _ := url.ParseQuery("filter.a=1&filter.b.c=2&filter=x&dateSort=d&t=1&t=2&filter.a.z=3")
	got := dotParams(q)
	want := map[string]any{
		"filter":   "x", // "filter" sorts first and keeps its plain value
		"dateSort": "d",
		"t":        []string{"1", "2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
	q, _ = url.ParseQuery("filter.a=1&filter.b.c=2&filter.a.z=3")
	got = dotParams(q)
	want = map[string]any{"filter": map[string]any{"a": "1", "b": map[string]any{"c": "2"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%v", got)
	}
}

// FuzzParseRequest checks that no dwn-request header or frame panics the
// parser, that what it accepts is a request it can answer, and that
// re-encoding an accepted request parses to the same request.
func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{
		`{"jsonrpc":"2.0","id":"a","method":"dwn.processMessage","params":{"target":"did:x","message":{"descriptor":{"interface":"Records","method":"Query"}}}}`,
		`{"jsonrpc":"2.0","id":1,"method":"rpc.subscribe.dwn.processMessage","params":{"target":"did:x","message":{}},"subscription":{"id":"s"}}`,
		`{"method":"rpc.subscribe.close","params":{},"subscription":{"id":null}}`,
		`{"id":1e400}`, `null`, `"x"`, `{`, ``, `{"params":"\ud800"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := ParseRequest(b)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeBadRequest || req != nil {
				t.Fatalf("error %v is not a -50400 *Error", err)
			}
			return
		}
		if _, err := json.Marshal(failure(responseID(req), rpcErr(CodeMethodNotFound, "%s", req.Method))); err != nil {
			t.Fatalf("cannot answer %q: %v", b, err)
		}
		if len(req.Params) > 0 {
			_, _ = parseProcessParams(req.Params, 1<<20)
		}
		again, err := json.Marshal(req)
		if err != nil {
			t.Fatalf("re-encoding %q: %v", b, err)
		}
		req2, err := ParseRequest(again)
		if err != nil {
			t.Fatalf("re-encoded %s does not parse: %v", again, err)
		}
		if req2.Method != req.Method || subKeyOrEmpty(req2.ID) != subKeyOrEmpty(req.ID) {
			t.Fatalf("%q became %s", b, again)
		}
	})
}

func subKeyOrEmpty(id json.RawMessage) string {
	if len(id) == 0 {
		return ""
	}
	return subKey(id)
}
