package server

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/anya-org/anya/dwn"
)

var uuidRE = regexp.MustCompile(`^"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"$`)

func TestPostErrors(t *testing.T) {
	p := &recordingProcessor{}
	_, ts := newTestServer(t, p, Options{MaxMessageSize: 4096})
	tenant := "did:key:z6MkTenant"
	cases := []struct {
		name     string
		header   string
		status   int
		code     int
		contains string
	}{
		{"header missing", "", 400, CodeBadRequest, "request payload required."},
		{"header not JSON", "{nope", 400, CodeBadRequest, "invalid character"},
		{"header a JSON string", `"x"`, 400, CodeBadRequest, "cannot unmarshal"},
		{"unknown method", rpcHeader(t, "r1", "dwn.nope", map[string]any{}), 500, CodeMethodNotFound, "dwn.nope"},
		{"params missing", `{"jsonrpc":"2.0","id":"r1","method":"dwn.processMessage"}`, 500, CodeInternalError, "params.message"},
		{"message missing", rpcHeader(t, "r1", MethodProcessMessage, map[string]any{"target": tenant}), 500, CodeInternalError, "params.message"},
		{"message {}", rpcHeader(t, "r1", MethodProcessMessage, map[string]any{"target": tenant, "message": map[string]any{}}), 500, CodeInternalError, "descriptor"},
		{"target missing", rpcHeader(t, "r1", MethodProcessMessage, map[string]any{"message": msg("Records", "Query")}), 500, CodeInvalidParams, "params.target"},
		{"subscribe over http", rpcHeader(t, "r1", MethodSubscribeMessage, map[string]any{"target": tenant, "message": msg("Records", "Subscribe")}), 500, CodeInvalidRequest, "http"},
		{"close over http", `{"jsonrpc":"2.0","id":"r1","method":"rpc.subscribe.close","params":{},"subscription":{"id":"s"}}`, 500, CodeInvalidRequest, "http"},
		{"Subscribe message over http", rpcHeader(t, "r1", MethodProcessMessage, map[string]any{"target": tenant, "message": msg("Messages", "Subscribe")}), 500, CodeInvalidRequest, "subscriptionRequest"},
		{"message over limit", rpcHeader(t, "r1", MethodProcessMessage, map[string]any{"target": tenant,
			"message": json.RawMessage(`{"descriptor":{"interface":"Records","method":"Query","pad":"` + strings.Repeat("x", 5000) + `"}}`)}), 413, CodeBadRequest, "4096-byte limit"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, ts, tc.header, nil)
			if resp.StatusCode != tc.status {
				t.Fatalf("HTTP %d, want %d", resp.StatusCode, tc.status)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Fatalf("content-type %q", ct)
			}
			r := decodeRPC(t, readAll(t, resp.Body))
			if r.Error == nil || r.Error.Code != tc.code {
				t.Fatalf("error %+v, want code %d", r.Error, tc.code)
			}
			mustContain(t, r.Error.Message, tc.contains)
			if tc.status == 400 {
				if !uuidRE.Match(r.ID) {
					t.Fatalf("id %s is not a fresh UUID", r.ID)
				}
			} else if string(r.ID) != `"r1"` {
				t.Fatalf("id %s, want \"r1\"", r.ID)
			}
		})
	}
	if n := len(p.Calls()); n != 0 {
		t.Fatalf("the processor was called %d times for requests that should not reach it", n)
	}
}

func TestPostProcessed(t *testing.T) {
	p := &recordingProcessor{}
	_, ts := newTestServer(t, p, Options{})
	message := msg("Records", "Query")
	for _, id := range []any{"abc", 7} {
		resp := post(t, ts, rpcHeader(t, id, MethodProcessMessage, map[string]any{"target": "did:key:z6MkT", "message": message}), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" {
			t.Fatalf("allow-origin %q", got)
		}
		if got := resp.Header.Get("Access-Control-Expose-Headers"); got != "dwn-response" {
			t.Fatalf("expose-headers %q", got)
		}
		r := decodeRPC(t, readAll(t, resp.Body))
		want, _ := json.Marshal(id)
		if !bytes.Equal(r.ID, want) {
			t.Fatalf("id %s, want %s", r.ID, want)
		}
		if r.Error != nil || r.Result == nil || string(r.Result.Reply) != `{"status":{"code":202,"detail":"Accepted"}}` {
			t.Fatalf("reply %+v", r)
		}
	}
	calls := p.Calls()
	if len(calls) != 2 || calls[0].Tenant != "did:key:z6MkT" || !bytes.Equal(calls[0].Message, message) || calls[0].HadData {
		t.Fatalf("processor saw %+v", calls[0])
	}
}

func TestPostLargeHeader(t *testing.T) {
	p := &recordingProcessor{}
	_, ts := newTestServer(t, p, Options{})
	message := json.RawMessage(`{"descriptor":{"interface":"Records","method":"Query","pad":"` + strings.Repeat("y", 900<<10) + `"}}`)
	resp := post(t, ts, rpcHeader(t, 1, MethodProcessMessage, map[string]any{"target": "did:key:z6MkT", "message": message}), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	if calls := p.Calls(); len(calls) != 1 || !bytes.Equal(calls[0].Message, message) {
		t.Fatal("the processor did not get the 900 KiB message intact")
	}
}

// TestPostStreamsData sends 50 MiB and holds back all but the first MiB
// until the processor has read that much: the data must be streamed, or
// this deadlocks.
func TestPostStreamsData(t *testing.T) {
	const total = 50 << 20
	firstMiB := make(chan struct{})
	var once bool
	p := &recordingProcessor{dataProgress: func(n int64) {
		if n >= 1<<20 && !once {
			once = true
			close(firstMiB)
		}
	}}
	_, ts := newTestServer(t, p, Options{})
	pr, pw := io.Pipe()
	h := sha256.New()
	go func() {
		chunk := make([]byte, 1<<20)
		for i := 0; i < total>>20; i++ {
			for j := range chunk {
				chunk[j] = byte(i + j)
			}
			h.Write(chunk)
			if _, err := pw.Write(chunk); err != nil {
				return
			}
			if i == 0 {
				select {
				case <-firstMiB:
				case <-time.After(10 * time.Second):
					pw.CloseWithError(errors.New("the server buffers the body instead of streaming it"))
					return
				}
			}
		}
		pw.Close()
	}()
	resp := post(t, ts, rpcHeader(t, "w", MethodProcessMessage, map[string]any{"target": "did:key:z6MkT", "message": msg("Records", "Write")}), pr)
	body := readAll(t, resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d: %s", resp.StatusCode, body)
	}
	c := p.Calls()[0]
	if !c.HadData || c.DataErr != nil || c.DataN != total {
		t.Fatalf("processor read %d bytes (err %v), want %d", c.DataN, c.DataErr, total)
	}
	if !bytes.Equal(c.DataSum[:], h.Sum(nil)) {
		t.Fatal("data hash differs")
	}
}

func TestPostDataOverLimit(t *testing.T) {
	const limit = 1 << 20
	p := &recordingProcessor{}
	_, ts := newTestServer(t, p, Options{MaxDataSize: limit})
	header := rpcHeader(t, "w", MethodProcessMessage, map[string]any{"target": "did:key:z6MkT", "message": msg("Records", "Write")})

	t.Run("streamed", func(t *testing.T) {
		// io.MultiReader hides the length: the body goes chunked.
		resp := post(t, ts, header, io.MultiReader(&patternReader{left: 2 * limit}))
		r := decodeRPC(t, readAll(t, resp.Body))
		if resp.StatusCode != 413 || r.Error == nil || r.Error.Code != CodeBadRequest {
			t.Fatalf("HTTP %d %+v", resp.StatusCode, r.Error)
		}
		mustContain(t, r.Error.Message, strconv.Itoa(limit))
		c := p.Calls()[0]
		if !errors.Is(c.DataErr, ErrDataTooLarge) || c.DataN != limit {
			t.Fatalf("processor read %d bytes, err %v", c.DataN, c.DataErr)
		}
	})
	t.Run("exact limit", func(t *testing.T) {
		resp := post(t, ts, header, io.MultiReader(&patternReader{left: limit}))
		if resp.StatusCode != 200 {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
	})
	t.Run("declared", func(t *testing.T) {
		n := len(p.Calls())
		resp := post(t, ts, header, bytes.NewReader(make([]byte, limit+1)))
		if resp.StatusCode != 413 {
			t.Fatalf("HTTP %d", resp.StatusCode)
		}
		if len(p.Calls()) != n {
			t.Fatal("the processor was called for a body declared over the limit")
		}
	})
}

func TestPostDataReply(t *testing.T) {
	const total = 50 << 20
	var body *trackedBody
	bigEntry := json.RawMessage(`{"recordsWrite":{"descriptor":{"dataFormat":"application/octet-stream"},"note":"héllo 😀","pad":"` + strings.Repeat("z", 1200<<10) + `"}}`)
	entry := json.RawMessage(`{"recordsWrite":{"descriptor":{"dataFormat":"text/plain"}}}`)
	p := &recordingProcessor{script: func(c *call) *dwn.Reply {
		var m struct {
			Descriptor struct{ Big bool }
		}
		_ = json.Unmarshal(c.Message, &m)
		body = &trackedBody{Reader: &patternReader{left: total}}
		e := entry
		if m.Descriptor.Big {
			e = bigEntry
		}
		return &dwn.Reply{Status: dwn.Status{Code: 200, Detail: "OK"}, Entry: e, Data: body}
	}}
	_, ts := newTestServer(t, p, Options{})
	for _, big := range []bool{false, true} {
		message := json.RawMessage(`{"descriptor":{"interface":"Records","method":"Read","big":` + strconv.FormatBool(big) + `}}`)
		resp := post(t, ts, rpcHeader(t, "rd", MethodProcessMessage, map[string]any{"target": "did:key:z6MkT", "message": message}), nil)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" {
			t.Fatalf("HTTP %d, %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		head := resp.Header.Get("dwn-response")
		for i := 0; i < len(head); i++ {
			if head[i] >= 0x80 {
				t.Fatal("dwn-response is not ASCII")
			}
		}
		r := decodeRPC(t, []byte(head))
		if string(r.ID) != `"rd"` || r.Result == nil {
			t.Fatalf("dwn-response %.200s", head)
		}
		var reply struct {
			Status dwn.Status      `json:"status"`
			Entry  json.RawMessage `json:"entry"`
		}
		if err := json.Unmarshal(r.Result.Reply, &reply); err != nil || reply.Status.Code != 200 {
			t.Fatalf("reply %.200s: %v", r.Result.Reply, err)
		}
		wantEntry := entry
		if big {
			wantEntry = bigEntry
			if len(head) < 1<<20 {
				t.Fatalf("dwn-response is %d bytes, want over 1 MiB", len(head))
			}
		}
		if !jsonEqual(reply.Entry, wantEntry) {
			t.Fatal("entry differs after the trip through the header")
		}
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil || n != total {
			t.Fatalf("body %d bytes, err %v", n, err)
		}
		waitFor(t, "reply data closed", body.closed.Load)
	}
}

func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

func TestCORSPreflight(t *testing.T) {
	_, ts := newTestServer(t, &recordingProcessor{}, Options{})
	req, _ := http.NewRequest(http.MethodOptions, ts.URL+"/", nil)
	req.Header.Set("Origin", "https://app.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "dwn-request,content-type")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	h := resp.Header
	if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "*" ||
		h.Get("Access-Control-Allow-Headers") != "dwn-request,content-type" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		h.Get("Access-Control-Expose-Headers") != "dwn-response" {
		t.Fatalf("preflight: %d %v", resp.StatusCode, h)
	}
}

func TestBannerAndInfo(t *testing.T) {
	s, ts := newTestServer(t, &recordingProcessor{}, Options{Version: "0.1.0", URL: "https://dwn.example", MaxDataSize: 5})
	resp, err := ts.Client().Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	b := readAll(t, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET / %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	mustContain(t, string(b), "web5 client")
	info, _ := json.Marshal(s.InfoFields())
	want := `{"maxFileSize":5,"registrationRequirements":[],"sdkVersion":"0.5.2","server":"anya","url":"https://dwn.example","version":"0.1.0","webSocketSupport":true}`
	if string(info) != want {
		t.Fatalf("InfoFields %s", info)
	}
	if s.MaxHeaderBytes() != 1<<20+64<<10 {
		t.Fatalf("MaxHeaderBytes %d", s.MaxHeaderBytes())
	}
}

// TestPostSlowUploadOutlivesServerTimeouts runs behind an http.Server with
// the short ReadTimeout and WriteTimeout a node sets: data that keeps
// flowing must not be cut by them.
func TestPostSlowUploadOutlivesServerTimeouts(t *testing.T) {
	p := &recordingProcessor{}
	ts := httptest.NewUnstartedServer(New(p, Options{}))
	ts.Config.ReadTimeout = 300 * time.Millisecond
	ts.Config.WriteTimeout = 300 * time.Millisecond
	ts.Start()
	defer ts.Close()
	pr, pw := io.Pipe()
	go func() {
		for i := 0; i < 10; i++ {
			time.Sleep(100 * time.Millisecond) // the slowness under test
			if _, err := pw.Write(bytes.Repeat([]byte{byte(i)}, 1000)); err != nil {
				return
			}
		}
		pw.Close()
	}()
	resp := post(t, ts, rpcHeader(t, "w", MethodProcessMessage, map[string]any{"target": "did:key:z6MkT", "message": msg("Records", "Write")}), pr)
	if b := readAll(t, resp.Body); resp.StatusCode != 200 {
		t.Fatalf("HTTP %d %s", resp.StatusCode, b)
	}
	if c := p.Calls()[0]; c.DataN != 10000 || c.DataErr != nil {
		t.Fatalf("processor read %d bytes, err %v", c.DataN, c.DataErr)
	}
}

// TestPostDataReplyFailing checks that data that fails mid-body reaches the
// client as a broken body, not as a short body that ends cleanly.
func TestPostDataReplyFailing(t *testing.T) {
	p := &recordingProcessor{script: func(*call) *dwn.Reply {
		return &dwn.Reply{Status: dwn.Status{Code: 200}, Entry: json.RawMessage(`{}`),
			Data: io.NopCloser(io.MultiReader(&patternReader{left: 1 << 20}, iotest.ErrReader(errors.New("disk gone"))))}
	}}
	_, ts := newTestServer(t, p, Options{})
	resp := post(t, ts, rpcHeader(t, "r", MethodProcessMessage, map[string]any{"target": "did:key:z6MkT", "message": msg("Records", "Read")}), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	if _, err := io.Copy(io.Discard, resp.Body); err == nil {
		t.Fatal("a body cut short by a failing reader read as complete")
	}
}
