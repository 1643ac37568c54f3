package server

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/anya-org/anya/dwn"
)

var timestampRE = regexp.MustCompile(`^\d{4}-[0-1]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-5]\d\.\d{6}Z$`)

var fixedNow = func() time.Time { return time.Date(2024, 1, 2, 3, 4, 5, 123456789, time.FixedZone("x", 3600)) }

const fixedStamp = "2024-01-02T02:04:05.123456Z"

func get(t *testing.T, ts *httptest.Server, path string) (*http.Response, string) {
	t.Helper()
	resp, err := ts.Client().Get(ts.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp, string(readAll(t, resp.Body))
}

// descriptorOfCall decodes the message the processor got.
func decodeMessage(t *testing.T, c *call) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(c.Message, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// wantMessage checks an anonymous message: only a descriptor, with
// interface, method, a messageTimestamp and the given other fields.
func wantMessage(t *testing.T, c *call, stamp, iface, method string, fields map[string]any) {
	t.Helper()
	m := decodeMessage(t, c)
	want := map[string]any{"interface": iface, "method": method, "messageTimestamp": stamp}
	for k, v := range fields {
		want[k] = v
	}
	if !reflect.DeepEqual(m, map[string]any{"descriptor": want}) {
		t.Fatalf("message %s, want descriptor %v", c.Message, want)
	}
}

func readReply(code int, format, data string) *dwn.Reply {
	r := &dwn.Reply{Status: dwn.Status{Code: code, Detail: "x"}}
	if format != "" {
		r.Entry = json.RawMessage(`{"recordsWrite":{"recordId":"rid","descriptor":{"dataFormat":"` + format + `"}}}`)
		r.Data = &trackedBody{Reader: strings.NewReader(data)}
	}
	return r
}

func TestRESTRecordsRead(t *testing.T) {
	var next *dwn.Reply
	p := &recordingProcessor{script: func(*call) *dwn.Reply { return next }}
	_, ts := newTestServer(t, p, Options{Now: fixedNow})
	for i, path := range []string{"/did:key:z6MkA/records/bafyrec", "/did:key:z6MkA/read/records/bafyrec"} {
		next = readReply(200, "text/plain", "hello")
		resp, body := get(t, ts, path)
		if resp.StatusCode != 200 || body != "hello" || resp.Header.Get("Content-Type") != "text/plain" {
			t.Fatalf("%s: %d %q %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		// The bare reply, not JSON-RPC.
		want := `{"status":{"code":200,"detail":"x"},"entry":{"recordsWrite":{"recordId":"rid","descriptor":{"dataFormat":"text/plain"}}}}`
		if got := resp.Header.Get("dwn-response"); got != want {
			t.Fatalf("dwn-response %s", got)
		}
		c := p.Calls()[i]
		if c.Tenant != "did:key:z6MkA" {
			t.Fatalf("tenant %q", c.Tenant)
		}
		wantMessage(t, c, fixedStamp, "Records", "Read", map[string]any{"filter": map[string]any{"recordId": "bafyrec"}})
		waitFor(t, "data closed", next.Data.(*trackedBody).closed.Load)
	}
	for _, tc := range []struct {
		reply  *dwn.Reply
		status int
		body   string
	}{
		{readReply(401, "", ""), 404, "Not Found\n"},
		{readReply(401, "text/plain", "secret"), 404, "Not Found\n"},
		{readReply(404, "", ""), 404, `{"status":{"code":404,"detail":"x"}}`},
		{readReply(200, "", ""), 400, "Bad Request\n"},
	} {
		next = tc.reply
		resp, body := get(t, ts, "/did:key:z6MkA/records/x")
		if resp.StatusCode != tc.status || body != tc.body {
			t.Fatalf("DWN %d: HTTP %d %q, want %d %q", tc.reply.Status.Code, resp.StatusCode, body, tc.status, tc.body)
		}
		if tc.reply.Data != nil && !tc.reply.Data.(*trackedBody).closed.Load() {
			t.Fatal("data of a refused read not closed")
		}
	}
}

func TestRESTTimestampShape(t *testing.T) {
	p := &recordingProcessor{}
	_, ts := newTestServer(t, p, Options{})
	get(t, ts, "/did:key:z6MkA/records/x")
	var m struct {
		Descriptor struct{ MessageTimestamp string }
	}
	_ = json.Unmarshal(p.Calls()[0].Message, &m)
	if !timestampRE.MatchString(m.Descriptor.MessageTimestamp) {
		t.Fatalf("messageTimestamp %q", m.Descriptor.MessageTimestamp)
	}
}

func TestRESTRecordsQuery(t *testing.T) {
	p := &recordingProcessor{script: func(*call) *dwn.Reply {
		return &dwn.Reply{Status: dwn.Status{Code: 200, Detail: "OK"}, Entries: []json.RawMessage{json.RawMessage(`{"recordId":"r1"}`)},
			Cursor: &dwn.Cursor{MessageCID: "bafyc", Value: "v"}}
	}}
	_, ts := newTestServer(t, p, Options{Now: fixedNow})
	resp, body := get(t, ts, "/did:key:z6MkA/query?filter.protocol=HTTPS://Example.com/p/?q=1&filter.protocolPath=post"+
		"&filter.published=true&filter.dataSize.gt=5&filter.author=did:a&filter.author=did:b"+
		"&pagination.limit=10&pagination.cursor.value=v&dateSort=createdDescending")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("HTTP %d %s", resp.StatusCode, body)
	}
	if !strings.HasPrefix(body, `{"status":{"code":200,"detail":"OK"},"entries":[{"recordId":"r1"}],"cursor":`) {
		t.Fatalf("body %s", body)
	}
	wantMessage(t, p.Calls()[0], fixedStamp, "Records", "Query", map[string]any{
		"filter": map[string]any{"protocol": "https://example.com/p", "protocolPath": "post", "published": true,
			"dataSize": map[string]any{"gt": 5.0}, "author": []any{"did:a", "did:b"}},
		"pagination": map[string]any{"limit": 10.0, "cursor": map[string]any{"value": "v"}},
		"dateSort":   "createdDescending",
	})

	resp, _ = get(t, ts, "/did:key:z6MkA/query?dateSort=createdAscending")
	if resp.StatusCode != 400 || len(p.Calls()) != 1 {
		t.Fatalf("a query without a filter: HTTP %d", resp.StatusCode)
	}
}

func TestRESTProtocolsQuery(t *testing.T) {
	var next *dwn.Reply
	p := &recordingProcessor{script: func(*call) *dwn.Reply { return next }}
	_, ts := newTestServer(t, p, Options{Now: fixedNow})
	for _, tc := range []struct {
		reply  *dwn.Reply
		status int
		body   string
	}{
		{&dwn.Reply{Status: dwn.Status{Code: 200}, Entries: []json.RawMessage{json.RawMessage(`{"a":1}`), json.RawMessage(`{"b":2}`)}}, 200, `[{"a":1},{"b":2}]`},
		{&dwn.Reply{Status: dwn.Status{Code: 200}}, 200, `[]`},
		{&dwn.Reply{Status: dwn.Status{Code: 401}}, 404, "Not Found\n"},
		{&dwn.Reply{Status: dwn.Status{Code: 400}}, 400, "Bad Request\n"},
	} {
		next = tc.reply
		resp, body := get(t, ts, "/did:key:z6MkA/query/protocols")
		if resp.StatusCode != tc.status || body != tc.body {
			t.Fatalf("DWN %d: HTTP %d %q", tc.reply.Status.Code, resp.StatusCode, body)
		}
	}
	wantMessage(t, p.Calls()[0], fixedStamp, "Protocols", "Query", nil)
}

func TestRESTReadProtocol(t *testing.T) {
	var next *dwn.Reply
	p := &recordingProcessor{script: func(*call) *dwn.Reply { return next }}
	_, ts := newTestServer(t, p, Options{Now: fixedNow})
	proto := base64.RawURLEncoding.EncodeToString([]byte("https://Social.example/v1/"))

	next = &dwn.Reply{Status: dwn.Status{Code: 200}, Entries: []json.RawMessage{json.RawMessage(`{"descriptor":{"definition":{}}}`)}}
	resp, body := get(t, ts, "/did:key:z6MkA/read/protocols/"+proto)
	if resp.StatusCode != 200 || body != `{"descriptor":{"definition":{}}}` {
		t.Fatalf("HTTP %d %q", resp.StatusCode, body)
	}
	wantMessage(t, p.Calls()[0], fixedStamp, "Protocols", "Query",
		map[string]any{"filter": map[string]any{"protocol": "https://social.example/v1"}})

	for _, r := range []*dwn.Reply{{Status: dwn.Status{Code: 200}}, {Status: dwn.Status{Code: 401}}} {
		next = r
		if resp, body := get(t, ts, "/did:key:z6MkA/read/protocols/"+proto); resp.StatusCode != 404 || body != "Not Found\n" {
			t.Fatalf("DWN %d: HTTP %d %q", r.Status.Code, resp.StatusCode, body)
		}
	}
	if resp, _ := get(t, ts, "/did:key:z6MkA/read/protocols/!!!"); resp.StatusCode != 400 {
		t.Fatalf("bad base64url: HTTP %d", resp.StatusCode)
	}
}

func TestRESTReadProtocolPath(t *testing.T) {
	found := true
	var data *trackedBody
	p := &recordingProcessor{script: func(c *call) *dwn.Reply {
		switch {
		case c.Method == "Query" && found:
			return &dwn.Reply{Status: dwn.Status{Code: 200}, Entries: []json.RawMessage{json.RawMessage(`{"recordId":"bafynewest"}`)}}
		case c.Method == "Query":
			return &dwn.Reply{Status: dwn.Status{Code: 200}}
		}
		r := readReply(200, "image/png", "PNG")
		data = r.Data.(*trackedBody)
		return r
	}}
	_, ts := newTestServer(t, p, Options{Now: fixedNow})
	proto := base64.RawURLEncoding.EncodeToString([]byte("https://social.example/v1"))

	resp, body := get(t, ts, "/did:key:z6MkA/read/protocols/"+proto+"/profile/avatar/?filter.schema=example.com/s")
	if resp.StatusCode != 200 || body != "PNG" || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("HTTP %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	calls := p.Calls()
	if len(calls) != 2 {
		t.Fatalf("%d calls, want a query then a read", len(calls))
	}
	wantMessage(t, calls[0], fixedStamp, "Records", "Query", map[string]any{
		"filter": map[string]any{"protocol": "https://social.example/v1", "protocolPath": "profile/avatar",
			"schema": "http://example.com/s"},
		"pagination": map[string]any{"limit": 1.0},
		"dateSort":   "publishedDescending",
	})
	wantMessage(t, calls[1], fixedStamp, "Records", "Read", map[string]any{"filter": map[string]any{"recordId": "bafynewest"}})
	waitFor(t, "data closed", data.closed.Load)

	found = false
	if resp, body := get(t, ts, "/did:key:z6MkA/read/protocols/"+proto+"/profile"); resp.StatusCode != 404 || body != "Not Found\n" {
		t.Fatalf("nothing published: HTTP %d %q", resp.StatusCode, body)
	}
	if resp, _ := get(t, ts, "/did:key:z6MkA/read/protocols/"+proto+"/"); resp.StatusCode != 400 {
		t.Fatalf("empty path: HTTP %d", resp.StatusCode)
	}
}
