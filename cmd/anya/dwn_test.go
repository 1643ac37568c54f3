package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestDWNCommands writes, queries, reads and deletes a record with the
// binary through a running daemon's admin API.
func TestDWNCommands(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "node")
	startDaemon(t, data, []string{pass})

	file := filepath.Join(dir, "rec.json")
	os.WriteFile(file, []byte(`{"hello":"cli"}`), 0o600)
	r := anya(t, nil, "--data", data, "dwn", "write", file, "--data-format", "application/json",
		"--schema", "https://example.com/cli", "--tag", "kind=note", "--tag", "n=2")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(id, "bafyrei") {
		t.Fatalf("dwn write: %+v", r)
	}

	r = anya(t, nil, "--data", data, "dwn", "query", "--schema", "https://example.com/cli", "--tag", "n=2", "--json")
	var q struct {
		Status  struct{ Code int }
		Entries []struct{ RecordID string }
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &q) != nil || q.Status.Code != 200 || len(q.Entries) != 1 || q.Entries[0].RecordID != id {
		t.Fatalf("dwn query: %+v", r)
	}
	r = anya(t, nil, "--data", data, "dwn", "query", "--schema", "https://example.com/cli")
	if r.code != 0 || !strings.HasPrefix(r.stdout, id+"  ") {
		t.Fatalf("dwn query text: %+v", r)
	}

	r = anya(t, nil, "--data", data, "dwn", "read", id)
	if r.code != 0 || r.stdout != `{"hello":"cli"}` {
		t.Fatalf("dwn read: %+v", r)
	}
	out := filepath.Join(dir, "out")
	r = anya(t, nil, "--data", data, "dwn", "read", id, "-o", out, "--json")
	if b, _ := os.ReadFile(out); r.code != 0 || string(b) != `{"hello":"cli"}` || !strings.Contains(r.stdout, `"recordsWrite"`) {
		t.Fatalf("dwn read -o: %+v", r)
	}

	r = anya(t, nil, "--data", data, "dwn", "delete", id, "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"code": 202`) {
		t.Fatalf("dwn delete: %+v", r)
	}
	r = anya(t, nil, "--data", data, "dwn", "read", id)
	if r.code == 0 || !strings.Contains(r.stderr, "DWN 404") {
		t.Fatalf("dwn read after delete: %+v", r)
	}

	if r = anya(t, nil, "--data", data, "dwn", "query"); r.code != 2 {
		t.Fatalf("dwn query without a filter: exit %d, want 2: %+v", r.code, r)
	}
	if r = anya(t, nil, "--data", data, "dwn", "write", "--tag", "novalue"); r.code != 2 {
		t.Fatalf("dwn write --tag novalue: exit %d, want 2", r.code)
	}
}

// TestBenchDWNAgainstDaemon runs `anya bench dwn` against a daemon that
// serves the bench persona as a tenant.
func TestBenchDWNAgainstDaemon(t *testing.T) {
	dir := t.TempDir()
	persona, tenant := filepath.Join(dir, "persona"), filepath.Join(dir, "tenant")
	r := anya(t, nil, "bench", "dwn", "--url", "http://127.0.0.1:1", "--persona", persona, "--tenant-file", tenant, "--writes", "0", "--queries", "0")
	did, _ := os.ReadFile(tenant)
	if r.code != 0 || !strings.HasPrefix(string(did), "did:key:z6Mk") {
		t.Fatalf("bench persona: %+v", r)
	}
	d := startDaemon(t, filepath.Join(dir, "node"), []string{pass, "ANYA_DWN_TENANTS=" + strings.TrimSpace(string(did))})
	r = anya(t, nil, "bench", "dwn", "--url", d.api, "--persona", persona, "--writes", "50", "--concurrency", "4", "--queries", "10", "--json")
	var res benchResult
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil {
		t.Fatalf("bench: %+v", r)
	}
	if res.Tenant != strings.TrimSpace(string(did)) || res.Writes.OK != 50 || res.Queries.OK != 10 || res.Writes.Unexpected != nil || res.Queries.Unexpected != nil {
		t.Fatalf("bench result %+v %+v %+v", res, res.Writes, res.Queries)
	}
}

// anya dwn --peer reaches another DID's DWN: found in the DHT, over libp2p.
func TestDWNCommandsAtPeer(t *testing.T) {
	dir := t.TempDir()
	dataA, dataB := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	a := startDaemon(t, dataA, []string{pass})
	defer a.stop(t)
	infoA := a.info(t)
	b := startDaemon(t, dataB, []string{pass, "ANYA_P2P_BOOTSTRAP=" + infoA.Addrs[0]})
	defer b.stop(t)

	file := filepath.Join(dir, "pub.txt")
	os.WriteFile(file, []byte("public words"), 0o600)
	r := anya(t, nil, "--data", dataA, "dwn", "write", file, "--data-format", "text/plain", "--schema", "https://example.com/pub", "--published")
	id := strings.TrimSpace(r.stdout)
	if r.code != 0 {
		t.Fatalf("write on a: %+v", r)
	}

	// B asks A's DWN, as B: it sees the published record.
	deadline := time.Now().Add(60 * time.Second)
	for {
		r = anya(t, nil, "--data", dataB, "dwn", "query", "--peer", infoA.DID, "--schema", "https://example.com/pub")
		if r.code == 0 && strings.HasPrefix(r.stdout, id+"  ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("query of a's DWN from b never saw %s: %+v", id, r)
		}
		time.Sleep(100 * time.Millisecond) // the DHT record of a reaches b a moment after they meet
	}
	r = anya(t, nil, "--data", dataB, "dwn", "read", "--peer", infoA.DID, id)
	if r.code != 0 || r.stdout != "public words" {
		t.Fatalf("read from a's DWN over libp2p: %+v", r)
	}
	// Writing into A's DWN as B is not allowed: a flat record needs the owner.
	r = anya(t, nil, "--data", dataB, "dwn", "write", "--peer", infoA.DID, file, "--data-format", "text/plain")
	if r.code == 0 || !strings.Contains(r.stderr, "401") {
		t.Fatalf("b wrote into a's DWN: %+v", r)
	}
}
