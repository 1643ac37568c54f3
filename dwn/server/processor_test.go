package server

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anya-org/anya/dwn"
)

// recordingProcessor is a test double for dwn.Processor: it records each
// call (draining and hashing any record data as a stream) and answers with
// script, or 202 Accepted without one.
type recordingProcessor struct {
	// script answers a call; it runs after the data has been drained.
	script func(c *call) *dwn.Reply
	// dataProgress, when set, gets the byte count after every read of data.
	dataProgress func(n int64)

	mu    sync.Mutex
	calls []*call
	subs  []*testSub
}

// call is what recordingProcessor saw of one ProcessMessage.
type call struct {
	Tenant    string
	Message   json.RawMessage
	Iface     string
	Method    string
	HadData   bool
	DataN     int64
	DataSum   [32]byte
	DataErr   error
	Events    func(json.RawMessage)
	Cancelled func() bool
}

// testSub is a subscription the double opened.
type testSub struct {
	id     string
	events func(json.RawMessage)
	closed atomic.Bool
}

func (p *recordingProcessor) ProcessMessage(ctx context.Context, tenant string, message json.RawMessage, opts dwn.ProcessOptions) *dwn.Reply {
	c := &call{Tenant: tenant, Message: append(json.RawMessage(nil), message...),
		HadData: opts.Data != nil, Events: opts.Events,
		Cancelled: func() bool { return ctx.Err() != nil }}
	c.Iface, c.Method, _ = descriptorOf(message)
	if opts.Data != nil {
		h := sha256.New()
		buf := make([]byte, 32<<10)
		for {
			n, err := opts.Data.Read(buf)
			h.Write(buf[:n])
			c.DataN += int64(n)
			if n > 0 && p.dataProgress != nil {
				p.dataProgress(c.DataN)
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				c.DataErr = err
				break
			}
		}
		copy(c.DataSum[:], h.Sum(nil))
	}
	p.mu.Lock()
	p.calls = append(p.calls, c)
	p.mu.Unlock()
	if p.script != nil {
		if r := p.script(c); r != nil {
			return r
		}
	}
	if c.Method == "Subscribe" && c.Events != nil {
		return p.openSub(c, "")
	}
	return &dwn.Reply{Status: dwn.Status{Code: 202, Detail: "Accepted"}}
}

// openSub opens a subscription for c with the given messageCid, or a made-up
// one when id is empty.
func (p *recordingProcessor) openSub(c *call, id string) *dwn.Reply {
	p.mu.Lock()
	if id == "" {
		id = fmt.Sprintf("bafysub%d", len(p.subs))
	}
	sub := &testSub{id: id, events: c.Events}
	p.subs = append(p.subs, sub)
	p.mu.Unlock()
	return &dwn.Reply{Status: dwn.Status{Code: 200, Detail: "OK"},
		Subscription: &dwn.Subscription{ID: id, Close: func() error { sub.closed.Store(true); return nil }}}
}

func (p *recordingProcessor) Calls() []*call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*call(nil), p.calls...)
}

func (p *recordingProcessor) Subs() []*testSub {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*testSub(nil), p.subs...)
}

// trackedBody is reply data that records its Close.
type trackedBody struct {
	io.Reader
	closed atomic.Bool
}

func (b *trackedBody) Close() error { b.closed.Store(true); return nil }

// patternReader gives n bytes of a repeating pattern without holding them.
type patternReader struct{ left int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left == 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	for i := range p {
		p[i] = byte(i % 251)
	}
	r.left -= int64(len(p))
	return len(p), nil
}

// newTestServer serves a Server over p on 127.0.0.1.
func newTestServer(t *testing.T, p dwn.Processor, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s := New(p, opts)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		_ = s.Close()
		ts.Close()
	})
	return s, ts
}

// waitFor polls cond until it holds or 5 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// rpcHeader builds a dwn-request header value.
func rpcHeader(t *testing.T, id any, method string, params any) string {
	t.Helper()
	b, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": id, "method": method, "params": params})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// msg is a DWN message of interface and method with extra descriptor fields.
func msg(iface, method string) json.RawMessage {
	return json.RawMessage(`{"descriptor":{"interface":"` + iface + `","method":"` + method + `","messageTimestamp":"2024-01-02T03:04:05.000000Z"}}`)
}

// rpcResult is a decoded JSON-RPC response.
type rpcResult struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  *struct {
		Reply json.RawMessage `json:"reply"`
		Event json.RawMessage `json:"event"`
	} `json:"result"`
	Error *Error `json:"error"`
}

func decodeRPC(t *testing.T, b []byte) rpcResult {
	t.Helper()
	var r rpcResult
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("response %q is not JSON-RPC: %v", b, err)
	}
	if r.JSONRPC != "2.0" {
		t.Fatalf("jsonrpc = %q in %s", r.JSONRPC, b)
	}
	return r
}

func post(t *testing.T, ts *httptest.Server, header string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, ts.URL+"/", body)
	if err != nil {
		t.Fatal(err)
	}
	if header != "" {
		req.Header.Set("dwn-request", header)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func readAll(t *testing.T, r io.Reader) []byte {
	t.Helper()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustContain(t *testing.T, s, sub string) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("%q does not contain %q", s, sub)
	}
}
