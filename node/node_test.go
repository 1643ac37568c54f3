package node

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/dwn"
	"github.com/anya-org/anya/keystore"
	"github.com/anya-org/anya/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

func testConfig() Config {
	cfg := DefaultConfig()
	cfg.API.Addr = "127.0.0.1:0"
	cfg.P2P.Listen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}
	return cfg
}

const testPassphrase = "correct horse battery staple"

func startNode(t *testing.T, dir string, cfg Config) *Node {
	t.Helper()
	t.Setenv(keystore.EnvPassphrase, testPassphrase)
	n, err := Start(context.Background(), Options{DataDir: dir, Config: cfg})
	if err != nil {
		t.Fatalf("start node in %s: %v", dir, err)
	}
	t.Cleanup(func() { n.Close() })
	return n
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func get(t *testing.T, url, token string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestNodeServesHealthInfoMetrics(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	n := startNode(t, dir, testConfig())
	base := "http://" + n.APIAddr()

	code, body := get(t, base+"/health", "")
	if code != 200 || strings.TrimSpace(string(body)) != `{"ok":true}` {
		t.Fatalf("/health = %d %s", code, body)
	}
	code, body = get(t, base+"/info", "")
	var info Info
	if code != 200 || json.Unmarshal(body, &info) != nil {
		t.Fatalf("/info = %d %s", code, body)
	}
	if !strings.HasPrefix(info.DID, "did:key:z6Mk") || info.DID != n.DID() {
		t.Fatalf("/info did = %q, want the node's did:key:z6Mk…", info.DID)
	}
	if info.PeerID != n.Host().ID().String() || len(info.Addrs) < 2 || info.Version == "" {
		t.Fatalf("/info = %+v", info)
	}
	var tcp, quic bool
	for _, a := range info.Addrs {
		tcp = tcp || strings.Contains(a, "/tcp/")
		quic = quic || strings.Contains(a, "/quic-v1/")
	}
	if !tcp || !quic {
		t.Fatalf("want TCP and QUIC addresses, got %v", info.Addrs)
	}
	id, err := ReadIdentity(dir)
	if err != nil || id.DID != info.DID || id.PeerID != info.PeerID {
		t.Fatalf("offline identity %+v (%v) differs from /info %+v", id, err, info)
	}

	code, body = get(t, base+"/metrics", "")
	if code != 200 || !strings.Contains(string(body), "anya_api_requests_total") || !strings.Contains(string(body), `route="GET /health"`) {
		t.Fatalf("/metrics = %d, missing request counters:\n%s", code, body)
	}
}

func TestAdminAPINeedsToken(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir, testConfig())
	base := "http://" + n.APIAddr()
	token, err := ReadToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := os.Stat(TokenPath(dir)); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: %v %v", info, err)
	}
	for _, tok := range []string{"", "wrong", token + "x"} {
		if code, _ := get(t, base+"/api/v0/status", tok); code != http.StatusUnauthorized {
			t.Fatalf("status with token %q = %d, want 401", tok, code)
		}
	}
	code, body := get(t, base+"/api/v0/status", token)
	var st Status
	if code != 200 || json.Unmarshal(body, &st) != nil || st.DID != n.DID() {
		t.Fatalf("status = %d %s", code, body)
	}

	cfg, _ := LoadConfig(dir, nil, nil)
	client, err := NewClient(dir, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var created CreatedDID
	if err := client.Call(context.Background(), "POST", "/api/v0/did/create", CreateDIDRequest{Method: "jwk", Curve: "secp256k1"}, &created); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.DID, "did:jwk:") {
		t.Fatalf("created %+v", created)
	}
	var res struct {
		DIDDocument struct {
			ID string `json:"id"`
		} `json:"didDocument"`
	}
	if err := client.Call(context.Background(), "GET", "/api/v0/did/resolve?did="+created.DID, nil, &res); err != nil || res.DIDDocument.ID != created.DID {
		t.Fatalf("resolve created DID through the API: %+v %v", res, err)
	}
	if err := client.Call(context.Background(), "POST", "/api/v0/did/create", CreateDIDRequest{Method: "web"}, nil); err == nil || !strings.Contains(err.Error(), "web") {
		t.Fatalf("did create with method web: want an error naming it, got %v", err)
	}
	var keys struct{ Keys []KeyView }
	if err := client.Call(context.Background(), "GET", "/api/v0/keys", nil, &keys); err != nil || len(keys.Keys) != 2 {
		t.Fatalf("keys: %+v %v", keys, err)
	}
}

func TestTwoNodesConnectOverBootstrap(t *testing.T) {
	a := startNode(t, t.TempDir(), testConfig())
	for _, proto := range []string{"/tcp/", "/quic-v1/"} {
		var addr string
		for _, s := range a.Host().FullAddrs() {
			if strings.Contains(s, proto) {
				addr = s
			}
		}
		cfg := testConfig()
		cfg.P2P.Bootstrap = []string{addr}
		b := startNode(t, t.TempDir(), cfg)
		waitFor(t, "b to connect to a over "+proto, func() bool {
			return len(b.Host().Network().ConnsToPeer(a.Host().ID())) > 0
		})
		if got := b.Host().Peerstore().PubKey(a.Host().ID()); got == nil || !got.Equals(a.Host().Peerstore().PubKey(a.Host().ID())) {
			t.Fatalf("b does not hold a's identity key")
		}
		b.Close()
	}
}

func TestRestartKeepsIdentityAndCloseIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, dir, testConfig())
	first := n.DID()
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := os.Stat(APIAddrPath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("api.addr left behind after Close: %v", err)
	}
	n2 := startNode(t, dir, testConfig())
	if n2.DID() != first {
		t.Fatalf("DID changed across restart: %s then %s", first, n2.DID())
	}
}

func TestStartRefusesBadDataDirectories(t *testing.T) {
	t.Run("wrong passphrase", func(t *testing.T) {
		dir := t.TempDir()
		startNode(t, dir, testConfig()).Close()
		before, _ := os.ReadFile(filepath.Join(KeystorePath(dir), "keystore.json"))
		t.Setenv(keystore.EnvPassphrase, "wrong")
		_, err := Start(context.Background(), Options{DataDir: dir, Config: testConfig()})
		if !errors.Is(err, keystore.ErrWrongPassphrase) {
			t.Fatalf("want ErrWrongPassphrase, got %v", err)
		}
		after, _ := os.ReadFile(filepath.Join(KeystorePath(dir), "keystore.json"))
		if string(before) != string(after) {
			t.Fatalf("keystore changed after a failed unlock")
		}
	})
	t.Run("corrupt keystore", func(t *testing.T) {
		dir := t.TempDir()
		startNode(t, dir, testConfig()).Close()
		path := filepath.Join(KeystorePath(dir), "keystore.json")
		b, _ := os.ReadFile(path)
		b = b[:len(b)/2] // torn, as by a crash in a careless writer
		os.WriteFile(path, b, 0o600)
		_, err := Start(context.Background(), Options{DataDir: dir, Config: testConfig()})
		if !errors.Is(err, keystore.ErrCorrupt) {
			t.Fatalf("want a corrupt-keystore error, got %v", err)
		}
		after, _ := os.ReadFile(path)
		if string(after) != string(b) {
			t.Fatalf("a corrupt keystore was rewritten")
		}
	})
	t.Run("foreign files and no keystore", func(t *testing.T) {
		dir := t.TempDir()
		os.WriteFile(filepath.Join(dir, "precious.db"), []byte("x"), 0o600)
		_, err := Start(context.Background(), Options{DataDir: dir, Config: testConfig()})
		if err == nil || !strings.Contains(err.Error(), "precious.db") {
			t.Fatalf("want a refusal naming precious.db, got %v", err)
		}
		if Initialised(dir) {
			t.Fatalf("a keystore was created over a foreign directory")
		}
	})
	t.Run("second node on the same directory", func(t *testing.T) {
		dir := t.TempDir()
		startNode(t, dir, testConfig())
		_, err := Start(context.Background(), Options{DataDir: dir, Config: testConfig()})
		if !errors.Is(err, keystore.ErrLocked) {
			t.Fatalf("want ErrLocked, got %v", err)
		}
	})
	t.Run("init twice", func(t *testing.T) {
		dir := t.TempDir()
		t.Setenv(keystore.EnvPassphrase, testPassphrase)
		if err := Init(dir, testConfig()); err != nil {
			t.Fatal(err)
		}
		id, _ := ReadIdentity(dir)
		if err := Init(dir, testConfig()); !errors.Is(err, ErrAlreadyInitialised) {
			t.Fatalf("want ErrAlreadyInitialised, got %v", err)
		}
		id2, _ := ReadIdentity(dir)
		if id != id2 {
			t.Fatalf("second init changed the identity")
		}
	})
	t.Run("API port taken", func(t *testing.T) {
		a := startNode(t, t.TempDir(), testConfig())
		cfg := testConfig()
		cfg.API.Addr = a.APIAddr()
		_, err := Start(context.Background(), Options{DataDir: t.TempDir(), Config: cfg})
		var cerr *ConfigError
		if !errors.As(err, &cerr) || cerr.Key != "api.addr" {
			t.Fatalf("want a config error on api.addr, got %v", err)
		}
	})
}

func TestGeneratedPassphraseWhenNoneGiven(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(keystore.EnvPassphrase, "")
	n, err := Start(context.Background(), Options{DataDir: dir, Config: testConfig()})
	if err != nil {
		t.Fatal(err)
	}
	n.Close()
	info, err := os.Stat(filepath.Join(dir, "passphrase"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("generated passphrase file: %v %v", info, err)
	}
	n, err = Start(context.Background(), Options{DataDir: dir, Config: testConfig()})
	if err != nil {
		t.Fatalf("restart with the generated passphrase: %v", err)
	}
	n.Close()
}

// Each node publishes its signed DID record in the DHT at start; another
// node finds it by DID alone.
func TestNodesFindEachOtherByDID(t *testing.T) {
	a := startNode(t, t.TempDir(), testConfig())
	cfg := testConfig()
	cfg.P2P.Bootstrap = []string{a.Host().FullAddrs()[0]}
	b := startNode(t, t.TempDir(), cfg)
	for _, pair := range []struct{ from, to *Node }{{b, a}, {a, b}} {
		var found Found
		waitFor(t, "a DID lookup to succeed", func() bool {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			f, err := pair.from.Find(ctx, pair.to.DID())
			found = f
			return err == nil
		})
		if found.PeerID != pair.to.Host().ID().String() || len(found.Addrs) == 0 || found.Seq == 0 {
			t.Fatalf("found %+v, want peer %s with addresses", found, pair.to.Host().ID())
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := a.Find(ctx, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"); err == nil {
		t.Fatalf("found a DID that no node published")
	}
}

// A message gossiped on the oracle topic by one node reaches the other.
func TestNodesGossip(t *testing.T) {
	a := startNode(t, t.TempDir(), testConfig())
	cfg := testConfig()
	cfg.P2P.Bootstrap = []string{a.Host().FullAddrs()[0]}
	b := startNode(t, t.TempDir(), cfg)
	sub, err := b.Gossip().Subscribe(p2p.OracleAnnouncementsTopic)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	if _, err := a.Gossip().Subscribe(p2p.OracleAnnouncementsTopic); err != nil {
		t.Fatal(err)
	}
	// Publish until b has it: the mesh forms a moment after the peers meet.
	got := make(chan []byte, 1)
	go func() {
		data, _, err := sub.Next(context.Background())
		if err == nil {
			got <- data
		}
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if err := a.Gossip().Publish(context.Background(), p2p.OracleAnnouncementsTopic, []byte("announcement")); err != nil {
			t.Fatal(err)
		}
		select {
		case data := <-got:
			if string(data) != "announcement" {
				t.Fatalf("b received %q", data)
			}
			return
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("gossip never reached b")
		}
	}
}

// A peer authenticates the node's DID and queries its DWN over libp2p.
func TestDWNOverLibp2p(t *testing.T) {
	a := startNode(t, t.TempDir(), testConfig())
	b := startNode(t, t.TempDir(), testConfig())
	info := peer.AddrInfo{ID: a.Host().ID(), Addrs: a.Host().Addrs()}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := b.Host().Connect(ctx, info); err != nil {
		t.Fatal(err)
	}
	authB := p2p.NewDIDAuth(b.Host(), p2p.DIDIdentity{DID: b.DID(), KID: b.kid(), Signer: b.identity}, b.resolver)
	defer authB.Close()
	remote, err := authB.Authenticate(ctx, a.Host().ID())
	if err != nil || remote != a.DID() {
		t.Fatalf("authenticated %q (%v), want %s", remote, err, a.DID())
	}
	client, err := p2p.DialDWN(ctx, b.Host(), a.Host().ID())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	query, err := dwn.NewRecordsQuery(nil, map[string]any{"schema": "https://example.com/note"}, "", 0, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	reply, data, err := client.Process(ctx, a.DID(), query, nil)
	if err != nil || data != nil {
		t.Fatalf("process: %v (data %v)", err, data)
	}
	if reply.Status.Code != 200 {
		t.Fatalf("anonymous RecordsQuery over libp2p = %+v", reply.Status)
	}
	reply, _, err = client.Process(ctx, b.DID(), query, nil)
	if err != nil || reply.Status.Code != 401 {
		t.Fatalf("a DID the node does not serve: %+v %v", reply, err)
	}
}

// The node keeps its own DWN in sync with its [sync] peers, both ways:
// one reached by DID over libp2p, one over HTTP.
func TestSyncWithPeers(t *testing.T) {
	dirA := t.TempDir()
	a := startNode(t, dirA, testConfig())
	owner := a.DID()
	a.Close()

	cfgB := testConfig()
	cfgB.DWN.Tenants = []string{owner}
	b := startNode(t, t.TempDir(), cfgB)
	c := startNode(t, t.TempDir(), cfgB)

	cfgA := testConfig()
	cfgA.P2P.Bootstrap = []string{b.Host().FullAddrs()[0]}
	cfgA.Sync.Peers = []string{b.DID(), "http://" + c.APIAddr()}
	cfgA.Sync.Interval = did.Duration(time.Second)
	a = startNode(t, dirA, cfgA)
	author := dwn.KeyAuthor(owner, a.identity)

	write := func(on *Node, text string) string {
		t.Helper()
		now := time.Now()
		msg, err := dwn.NewRecordsWrite(author, dwn.RecordsWriteOptions{Data: []byte(text), DataFormat: "text/plain", Schema: "https://example.com/sync", DateCreated: now, MessageTimestamp: now})
		if err != nil {
			t.Fatal(err)
		}
		r := on.dwn.ProcessMessage(context.Background(), owner, msg, dwn.ProcessOptions{Data: strings.NewReader(text)})
		if r.Status.Code != 202 {
			t.Fatalf("write on %s: %+v", on.DID(), r.Status)
		}
		var f struct{ RecordID string }
		json.Unmarshal(msg, &f)
		return f.RecordID
	}
	has := func(on *Node, recordID string) bool {
		q, err := dwn.NewRecordsQuery(&author, map[string]any{"recordId": recordID}, "", 0, nil, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		r := on.dwn.ProcessMessage(context.Background(), owner, q, dwn.ProcessOptions{})
		return r.Status.Code == 200 && len(r.Entries) == 1
	}

	fromA := write(a, "written on a")
	waitFor(t, "b (libp2p) and c (HTTP) to pull a's record", func() bool { return has(b, fromA) && has(c, fromA) })
	fromB := write(b, "written on b")
	fromC := write(c, "written on c")
	waitFor(t, "a to pull the records written on b and c", func() bool { return has(a, fromB) && has(a, fromC) })
	waitFor(t, "c to get b's record through a", func() bool { return has(c, fromB) && has(b, fromC) })
}
