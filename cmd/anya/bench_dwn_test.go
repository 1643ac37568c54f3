package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anya-org/anya/dwn"
)

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 1; i <= 100; i++ {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	for _, c := range []struct {
		p    float64
		want float64
	}{{50, 50}, {95, 95}, {99, 99}, {100, 100}, {0.1, 1}} {
		if got := percentile(d, c.p); got != c.want {
			t.Errorf("p%v of 1..100 ms = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile(nil, 50); got != 0 {
		t.Errorf("p50 of nothing = %v", got)
	}
	one := []time.Duration{1500 * time.Microsecond}
	if percentile(one, 50) != 1.5 || percentile(one, 99) != 1.5 {
		t.Errorf("single sample percentiles wrong")
	}
	// Nearest rank: p50 of 4 samples is the 2nd.
	four := []time.Duration{1 * time.Millisecond, 2 * time.Millisecond, 3 * time.Millisecond, 4 * time.Millisecond}
	if got := percentile(four, 50); got != 2 {
		t.Errorf("p50 of 1..4 = %v, want 2", got)
	}
}

func TestSummarize(t *testing.T) {
	lat := []time.Duration{4 * time.Millisecond, 1 * time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond}
	codes := []string{"202", "409", "202", "rpc-32603"}
	r := summarize(lat, codes, "202", 2, 2*time.Second)
	if r.Count != 4 || r.PerSecond != 2 || r.P50Ms != 2 || r.MaxMs != 4 || r.OK != 2 {
		t.Errorf("summary %+v", r)
	}
	if len(r.Unexpected) != 2 || r.Unexpected["409"] != 1 || r.Unexpected["rpc-32603"] != 1 {
		t.Errorf("unexpected %v", r.Unexpected)
	}
	if lat[0] != 4*time.Millisecond {
		t.Errorf("summarize sorted its input")
	}
}

func TestReplyCode(t *testing.T) {
	for _, c := range []struct {
		status int
		body   string
		want   string
	}{
		{200, `{"jsonrpc":"2.0","id":"x","result":{"reply":{"status":{"code":202,"detail":"Accepted"}}}}`, "202"},
		{200, `{"jsonrpc":"2.0","id":"x","result":{"reply":{"status":{"code":409,"detail":"Conflict"}}}}`, "409"},
		{500, `{"jsonrpc":"2.0","id":"x","error":{"code":-32603,"message":"boom"}}`, "rpc-32603"},
		{431, ``, "http431"},
		{502, `<html>`, "http502"},
	} {
		if got := replyCode(c.status, []byte(c.body)); got != c.want {
			t.Errorf("replyCode(%d, %s) = %s, want %s", c.status, c.body, got, c.want)
		}
	}
}

func benchTestAuthor(t *testing.T) dwn.Author {
	t.Helper()
	p, err := newBenchPersona("")
	if err != nil {
		t.Fatal(err)
	}
	return p.author
}

func TestBenchPersonaFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "persona")
	p1, err := newBenchPersona(file)
	if err != nil {
		t.Fatal(err)
	}
	p2, err := newBenchPersona(file)
	if err != nil {
		t.Fatal(err)
	}
	if p1.author.DID != p2.author.DID || !strings.HasPrefix(p1.author.DID, "did:key:z6Mk") {
		t.Fatalf("persona DIDs %s, %s", p1.author.DID, p2.author.DID)
	}
	p3, _ := newBenchPersona("")
	if p3.author.DID == p1.author.DID {
		t.Fatalf("fresh persona repeats")
	}
	os.WriteFile(file, []byte("zz"), 0o600)
	if _, err := newBenchPersona(file); err == nil {
		t.Fatalf("bad persona file accepted")
	}
}

func TestBenchRequestEncoding(t *testing.T) {
	a := benchTestAuthor(t)
	reqs, err := presignWrites(a, 3, 100, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, r := range reqs {
		if len(r.body) != 100 || !json.Valid(r.body) {
			t.Fatalf("data %d: %d bytes %q", i, len(r.body), r.body)
		}
		hr, err := r.newHTTPRequest(context.Background(), "http://127.0.0.1:1/")
		if err != nil {
			t.Fatal(err)
		}
		if hr.Method != "POST" || hr.Header.Get("Content-Type") != "application/octet-stream" || hr.ContentLength != 100 {
			t.Fatalf("request %s %s %d", hr.Method, hr.Header.Get("Content-Type"), hr.ContentLength)
		}
		var rpc struct {
			JSONRPC string `json:"jsonrpc"`
			ID      string `json:"id"`
			Method  string `json:"method"`
			Params  struct {
				Target  string          `json:"target"`
				Message json.RawMessage `json:"message"`
			} `json:"params"`
		}
		if err := json.Unmarshal([]byte(hr.Header.Get("dwn-request")), &rpc); err != nil {
			t.Fatal(err)
		}
		if rpc.JSONRPC != "2.0" || rpc.Method != "dwn.processMessage" || rpc.Params.Target != a.DID || len(rpc.ID) != 36 || seen[rpc.ID] {
			t.Fatalf("dwn-request %+v", rpc)
		}
		seen[rpc.ID] = true
		m, err := dwn.ParseMessage(rpc.Params.Message)
		if err != nil {
			t.Fatal(err)
		}
		if !m.Desc.Is("Records", "Write") || m.Desc.Schema != benchSchema || m.Desc.DataCID != dwn.DataCIDFromBytes(r.body).String() || m.HasEncodedData {
			t.Fatalf("message %s", rpc.Params.Message)
		}
		if seen[m.Desc.MessageTimestamp] {
			t.Fatalf("timestamps repeat: %s", m.Desc.MessageTimestamp)
		}
		seen[m.Desc.MessageTimestamp] = true
	}
	qs, err := presignQueries(a, 1, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	hr, _ := qs[0].newHTTPRequest(context.Background(), "http://127.0.0.1:1/")
	if hr.ContentLength != 0 || qs[0].body != nil {
		t.Fatalf("query has a body")
	}
	if h := hr.Header.Get("dwn-request"); !strings.Contains(h, `"filter":{"schema":"https://example.com/bench"}`) || !strings.Contains(h, `"pagination":{"limit":20}`) {
		t.Fatalf("query request %s", h)
	}
}

// TestRunBenchAgainstFake runs a whole bench against a stand-in for
// dwn-server that accepts every other write and fails one query.
func TestRunBenchAgainstFake(t *testing.T) {
	var writes, queries atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var rpc struct {
			ID     string `json:"id"`
			Params struct {
				Message struct {
					Descriptor struct{ Method string } `json:"descriptor"`
				} `json:"message"`
			} `json:"params"`
		}
		if err := json.Unmarshal([]byte(r.Header.Get("dwn-request")), &rpc); err != nil {
			http.Error(w, "bad", 400)
			return
		}
		body, _ := io.ReadAll(r.Body)
		code := 200
		switch rpc.Params.Message.Descriptor.Method {
		case "Write":
			code = 202
			if len(body) != 100 || writes.Add(1)%2 == 0 {
				code = 409
			}
		case "Query":
			if queries.Add(1) == 1 {
				w.WriteHeader(500)
				w.Write([]byte(`{"jsonrpc":"2.0","id":"` + rpc.ID + `","error":{"code":-32603,"message":"x"}}`))
				return
			}
		}
		w.Write(bytes.ReplaceAll([]byte(`{"jsonrpc":"2.0","id":"ID","result":{"reply":{"status":{"code":CODE,"detail":""}}}}`), []byte("CODE"), []byte(strconvItoa(code))))
	}))
	defer srv.Close()
	a := benchTestAuthor(t)
	res, err := runBench(context.Background(), benchConfig{URL: srv.URL, Writes: 10, Concurrency: 3, Queries: 4, DataSize: 100, Timeout: 5 * time.Second}, a, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if res.Writes.Count != 10 || res.Writes.OK != 5 || res.Writes.Unexpected["409"] != 5 {
		t.Errorf("writes %+v", res.Writes)
	}
	if res.Queries.Count != 4 || res.Queries.OK != 3 || res.Queries.Unexpected["rpc-32603"] != 1 {
		t.Errorf("queries %+v", res.Queries)
	}
	var out bytes.Buffer
	printBench(&out, res)
	if !strings.Contains(out.String(), "409×5") || !strings.Contains(out.String(), "rpc-32603×1") {
		t.Errorf("report:\n%s", out.String())
	}
}

func strconvItoa(i int) string { b, _ := json.Marshal(i); return string(b) }
