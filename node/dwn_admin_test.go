package node

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
)

// adminRoundTrip writes, queries, reads and deletes a record through c,
// checking every reply.
func adminRoundTrip(t *testing.T, c *Client) {
	t.Helper()
	ctx := context.Background()
	data := `{"note":"hello from the admin API"}`
	res, err := c.DWNWrite(ctx, DWNWriteRequest{
		DataFormat: "application/json",
		Schema:     "https://example.com/note",
		Tags:       map[string][]string{"kind": {"memo"}, "n": {"3"}, "list": {"a", "b"}},
	}, strings.NewReader(data))
	if err != nil {
		t.Fatalf("write: %v", err)
	}
	if !strings.HasPrefix(res.RecordID, "bafyrei") || !strings.HasPrefix(res.MessageCID, "bafyrei") {
		t.Fatalf("write result %+v", res)
	}
	var wr struct {
		Status struct{ Code int } `json:"status"`
	}
	if err := json.Unmarshal(res.Reply, &wr); err != nil || wr.Status.Code != 202 {
		t.Fatalf("write reply %s (%v)", res.Reply, err)
	}

	q, err := c.DWNQuery(ctx, DWNQueryRequest{Filter: map[string]any{"schema": "https://example.com/note/?v=1"}, Limit: 20})
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	if q.Status.Code != 200 || len(q.Entries) != 1 {
		t.Fatalf("query: status %+v, %d entries", q.Status, len(q.Entries))
	}
	var entry struct {
		RecordID   string `json:"recordId"`
		Descriptor struct {
			Tags map[string]any `json:"tags"`
		} `json:"descriptor"`
	}
	if err := json.Unmarshal(q.Entries[0], &entry); err != nil {
		t.Fatal(err)
	}
	if entry.RecordID != res.RecordID {
		t.Fatalf("query entry recordId %s, wrote %s", entry.RecordID, res.RecordID)
	}
	if tags, _ := json.Marshal(entry.Descriptor.Tags); string(tags) != `{"kind":"memo","list":["a","b"],"n":3}` {
		t.Errorf("tags %s", tags)
	}

	reply, body, err := c.DWNRead(ctx, res.RecordID)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	got, err := io.ReadAll(body)
	body.Close()
	if err != nil || string(got) != data {
		t.Fatalf("read data %q (%v), want %q", got, err, data)
	}
	var rr struct {
		Status struct{ Code int } `json:"status"`
		Entry  struct {
			RecordsWrite struct {
				RecordID string `json:"recordId"`
			} `json:"recordsWrite"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(reply, &rr); err != nil || rr.Status.Code != 200 || rr.Entry.RecordsWrite.RecordID != res.RecordID {
		t.Fatalf("read reply %s (%v)", reply, err)
	}

	del, err := c.DWNDelete(ctx, res.RecordID, false)
	if err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := json.Unmarshal(del, &wr); err != nil || wr.Status.Code != 202 {
		t.Fatalf("delete reply %s (%v)", del, err)
	}
	if _, _, err := c.DWNRead(ctx, res.RecordID); err == nil || !strings.Contains(err.Error(), "DWN 404") {
		t.Fatalf("read after delete: err = %v, want DWN 404", err)
	}
	q, err = c.DWNQuery(ctx, DWNQueryRequest{Filter: map[string]any{"schema": "https://example.com/note"}})
	if err != nil || len(q.Entries) != 0 {
		t.Fatalf("query after delete: %d entries (%v)", len(q.Entries), err)
	}
	if _, err := c.DWNQuery(ctx, DWNQueryRequest{}); err == nil || !strings.Contains(err.Error(), "filter") {
		t.Fatalf("query without filter: err = %v", err)
	}
}

// TestDWNAdminRoutes runs the admin routes of a real node's DWN and
// identity on a mux of their own, so it does not depend on api.go.
func TestDWNAdminRoutes(t *testing.T) {
	n := startNode(t, filepath.Join(t.TempDir(), "node"), testConfig())
	mux := http.NewServeMux()
	const token = "test-token"
	n.dwnAdminRoutes(func(pattern string, admin bool, h http.HandlerFunc) {
		if !admin {
			t.Errorf("%s is not an admin route", pattern)
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+token {
				http.Error(w, "no token", http.StatusUnauthorized)
				return
			}
			h(w, r)
		})
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	adminRoundTrip(t, &Client{base: srv.URL, token: token, http: srv.Client()})
}

// TestDWNAdminThroughAPI drives the same operations through the node's
// own API and Client: it passes once api.go registers dwnAdminRoutes.
func TestDWNAdminThroughAPI(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "node")
	cfg := testConfig()
	startNode(t, dir, cfg)
	c, err := NewClient(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	adminRoundTrip(t, c)

	// Without the token the routes answer 401.
	code, _ := get(t, c.base+"/api/v0/dwn/records/bafyreibvnj6wtip3d3efhdkxdgtjkduhyabm3nwdvntxjcbpzyispquwwe", "")
	if code != http.StatusUnauthorized {
		t.Fatalf("read without token: HTTP %d", code)
	}
}

func TestTagValue(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"x"}, `"x"`},
		{[]string{"3"}, `3`},
		{[]string{"1.5"}, `1.5`},
		{[]string{"true"}, `true`},
		{[]string{"01234"}, `"01234"`},
		{[]string{"3 4"}, `"3 4"`},
		{[]string{"null"}, `"null"`},
		{[]string{"a", "2"}, `["a",2]`},
	} {
		b, _ := json.Marshal(tagValue(c.in))
		if string(b) != c.want {
			t.Errorf("tagValue(%q) = %s, want %s", c.in, b, c.want)
		}
	}
}
