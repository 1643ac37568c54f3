package p2p

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/dwn"
	"github.com/anya-org/anya/dwn/server"
	"github.com/anya-org/anya/keystore"
	"github.com/cockroachdb/pebble/v2"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/multiformats/go-varint"
)

// quietPebble keeps pebble's informational lines out of test output.
type quietPebble struct{}

func (quietPebble) Infof(string, ...any)  {}
func (quietPebble) Errorf(string, ...any) {}
func (quietPebble) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// dwnPair is a server node running the real DWN and a client node, both
// with DIDAuth, connected.
type dwnPair struct {
	server, client *authNode
	owner          testIdentity
	dwn            *dwn.DWN
	now            time.Time
}

// recordingDWN remembers the remote DIDs the processor saw.
type recordingDWN struct {
	dwn.Processor
	mu   sync.Mutex
	dids []string
}

func (r *recordingDWN) ProcessMessage(ctx context.Context, tenant string, m json.RawMessage, o dwn.ProcessOptions) *dwn.Reply {
	if d, ok := RemoteDIDFromContext(ctx); ok {
		r.mu.Lock()
		r.dids = append(r.dids, d)
		r.mu.Unlock()
	}
	return r.Processor.ProcessMessage(ctx, tenant, m, o)
}

func newDWNPair(t *testing.T, mod func(*DWNProtoOptions)) (*dwnPair, *recordingDWN) {
	t.Helper()
	nodes := newAuthNodes(t, nil, keystore.Ed25519, keystore.Secp256k1)
	ks := newStoreTB(t)
	owner := newIdentity(t, ks, "owner", keystore.Ed25519)
	db, err := pebble.Open(filepath.Join(t.TempDir(), "db"), &pebble.Options{Logger: quietPebble{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cfg := dwn.DefaultConfig()
	cfg.Tenants = []string{"*"}
	d, err := dwn.New(dwn.Options{
		Messages: dwn.NewPebbleStore(db),
		Events:   dwn.NewPebbleEventLog(db, nil),
		Data:     dwn.NewPebbleDataStore(db),
		Resolver: did.NewRegistry(did.RegistryConfig{}),
		Owner:    owner.did,
		Config:   cfg,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	opts := DWNProtoOptions{Timeout: 5 * time.Second}
	if mod != nil {
		mod(&opts)
	}
	rec := &recordingDWN{Processor: d}
	ServeDWN(nodes[0].host.Host, rec, opts)
	return &dwnPair{server: nodes[0], client: nodes[1], owner: owner, dwn: d, now: time.Now().Add(-time.Hour)}, rec
}

func (p *dwnPair) ts() time.Time {
	p.now = p.now.Add(time.Millisecond)
	return p.now
}

func (p *dwnPair) dial(t *testing.T) *DWNClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := DialDWN(ctx, p.client.host.Host, p.server.host.ID())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func (p *dwnPair) write(t *testing.T, data []byte) (json.RawMessage, string) {
	t.Helper()
	msg, err := dwn.NewRecordsWrite(dwn.KeyAuthor(p.owner.did, p.owner.signer), dwn.RecordsWriteOptions{
		Data: data, DataFormat: "application/octet-stream", Schema: "https://example.com/blob", MessageTimestamp: p.ts()})
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		RecordID string `json:"recordId"`
	}
	if err := json.Unmarshal(msg, &m); err != nil {
		t.Fatal(err)
	}
	return msg, m.RecordID
}

func process(t *testing.T, c *DWNClient, target string, msg json.RawMessage, data io.Reader) (*dwn.Reply, io.ReadCloser) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	reply, rd, err := c.Process(ctx, target, msg, data)
	if err != nil {
		t.Fatal(err)
	}
	return reply, rd
}

func TestDWNProtoWriteQueryRead(t *testing.T) {
	p, _ := newDWNPair(t, nil)
	c := p.dial(t)
	author := dwn.KeyAuthor(p.owner.did, p.owner.signer)

	data := make([]byte, 3<<20+12345)
	rand.Read(data)
	msg, recordID := p.write(t, data)
	reply, rd := process(t, c, p.owner.did, msg, bytes.NewReader(data))
	if reply.Status.Code != 202 || rd != nil {
		t.Fatalf("write: %+v, data %v", reply.Status, rd)
	}

	q, err := dwn.NewRecordsQuery(&author, map[string]any{"schema": "https://example.com/blob"}, "", 0, nil, p.ts())
	if err != nil {
		t.Fatal(err)
	}
	reply, rd = process(t, c, p.owner.did, q, nil)
	if reply.Status.Code != 200 || len(reply.Entries) != 1 || rd != nil {
		t.Fatalf("query: %+v, %d entries", reply.Status, len(reply.Entries))
	}
	if !bytes.Contains(reply.Entries[0], []byte(recordID)) {
		t.Fatalf("query entry %s lacks record %s", reply.Entries[0], recordID)
	}

	r, err := dwn.NewRecordsRead(&author, recordID, p.ts())
	if err != nil {
		t.Fatal(err)
	}
	for round := range 3 {
		reply, rd = process(t, c, p.owner.did, r, nil)
		if reply.Status.Code != 200 || rd == nil || len(reply.Entry) == 0 {
			t.Fatalf("read: %+v, data %v", reply.Status, rd)
		}
		if round == 1 {
			// Close after a partial read: the rest is drained and the
			// stream carries the next request.
			if _, err := io.ReadFull(rd, make([]byte, 1000)); err != nil {
				t.Fatal(err)
			}
			if err := rd.Close(); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := io.ReadAll(rd)
		if err != nil {
			t.Fatal(err)
		}
		rd.Close()
		if !bytes.Equal(got, data) {
			t.Fatalf("read back %d bytes, want the %d written", len(got), len(data))
		}
	}
	// Everything went over one stream.
	n := 0
	for _, conn := range p.server.host.Network().ConnsToPeer(p.client.host.ID()) {
		for _, s := range conn.GetStreams() {
			if s.Protocol() == DWNProtocol {
				n++
			}
		}
	}
	if n != 1 {
		t.Fatalf("server holds %d dwn streams, want 1", n)
	}
	// A DWN error is a reply, not a transport error; the stream goes on.
	reply, _ = process(t, c, p.owner.did, msg, nil) // the same write again, without its data
	if reply.Status.Code == 0 {
		t.Fatalf("repeated write: %+v", reply.Status)
	}
	// An empty record: data:true with no data frames.
	empty, _ := p.write(t, nil)
	if reply, _ = process(t, c, p.owner.did, empty, bytes.NewReader(nil)); reply.Status.Code != 202 {
		t.Fatalf("empty write: %+v", reply.Status)
	}
}

// rawStream opens a dwn stream for hand-made frames.
func rawStream(t *testing.T, p *dwnPair) network.Stream {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := p.client.host.NewStream(ctx, p.server.host.ID(), DWNProtocol)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Reset() })
	_ = s.SetDeadline(time.Now().Add(10 * time.Second))
	return s
}

func rawCall(t *testing.T, s network.Stream, req string) (code int, msg string) {
	t.Helper()
	if err := WriteFrame(s, []byte(req)); err != nil {
		t.Fatal(err)
	}
	b, err := ReadFrame(s, MaxDWNResponseFrame)
	if err != nil {
		t.Fatalf("request %s: %v", req, err)
	}
	var resp server.Response
	var e struct {
		Error *server.Error `json:"error"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &e); err != nil || e.Error == nil {
		return 0, string(b)
	}
	return e.Error.Code, e.Error.Message
}

func TestDWNProtoErrors(t *testing.T) {
	p, _ := newDWNPair(t, nil)
	s := rawStream(t, p)
	msg, _ := p.write(t, []byte("x"))
	cases := []struct {
		req  string
		code int
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"dwn.nope","params":{}}`, server.CodeMethodNotFound},
		{`{"jsonrpc":"2.0","id":2,"method":"rpc.subscribe.dwn.processMessage"}`, server.CodeInvalidRequest},
		{`{"jsonrpc":"1.0","id":3,"method":"dwn.processMessage"}`, server.CodeInvalidRequest},
		{`{"jsonrpc":"2.0","id":4,"method":"dwn.processMessage","params":[1]}`, server.CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":5,"method":"dwn.processMessage","params":{"target":"did:x:y","message":{"x":1}}}`, server.CodeInternalError},
		{`{"jsonrpc":"2.0","id":6,"method":"dwn.processMessage","params":{"message":` + string(msg) + `}}`, server.CodeInvalidParams},
		{`{"jsonrpc":"2.0","id":{},"method":"dwn.processMessage"}`, server.CodeBadRequest},
	}
	for _, tc := range cases[:len(cases)-1] {
		if code, m := rawCall(t, s, tc.req); code != tc.code {
			t.Errorf("%s: code %d (%s), want %d", tc.req, code, m, tc.code)
		}
	}
	// The stream still serves a good request after bad ones, data included.
	req := `{"jsonrpc":"2.0","id":7,"method":"dwn.processMessage","params":{"target":"` + p.owner.did + `","message":` + string(msg) + `},"data":true}`
	if err := WriteFrame(s, []byte(req)); err != nil {
		t.Fatal(err)
	}
	WriteFrame(s, []byte("x"))
	WriteFrame(s, nil)
	b, err := ReadFrame(s, MaxDWNResponseFrame)
	if err != nil || !bytes.Contains(b, []byte(`"code":202`)) || !bytes.Contains(b, []byte(`"id":7`)) {
		t.Fatalf("good request after bad ones: %s, %v", b, err)
	}
	// A request that is not a JSON-RPC object is answered, then the stream ends.
	last := cases[len(cases)-1]
	if code, m := rawCall(t, s, last.req); code != last.code {
		t.Errorf("%s: code %d (%s), want %d", last.req, code, m, last.code)
	}
	if _, err := ReadFrame(s, MaxDWNResponseFrame); err == nil {
		t.Fatal("the stream went on after an unparseable request")
	}
}

func TestDWNProtoOversize(t *testing.T) {
	p, _ := newDWNPair(t, func(o *DWNProtoOptions) { o.MaxDataSize = 2 << 20 })
	expectReset := func(s network.Stream, what string) {
		t.Helper()
		_, err := ReadFrame(s, MaxDWNResponseFrame)
		var se *network.StreamError
		if !errors.As(err, &se) || se.ErrorCode != network.StreamProtocolViolation {
			t.Fatalf("%s: read gave %v, want a reset with code protocol violation", what, err)
		}
	}
	// A request frame over MaxMessageSize + envelope: only the prefix is sent.
	s := rawStream(t, p)
	limit := dwn.DefaultConfig().MaxMessageSize + dwnEnvelopeOverhead
	s.Write(varint.ToUvarint(uint64(limit + 1)))
	s.Write([]byte("{"))
	expectReset(s, "oversize request frame")

	// A data frame over MaxDWNDataFrame.
	msg, _ := p.write(t, []byte("x"))
	s = rawStream(t, p)
	WriteFrame(s, []byte(`{"jsonrpc":"2.0","id":1,"method":"dwn.processMessage","params":{"target":"`+p.owner.did+`","message":`+string(msg)+`},"data":true}`))
	s.Write(varint.ToUvarint(MaxDWNDataFrame + 1))
	expectReset(s, "oversize data frame")

	// Record data over MaxDataSize, through the client.
	data := make([]byte, 3<<20)
	big, _ := p.write(t, data)
	c := p.dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _, err := c.Process(ctx, p.owner.did, big, bytes.NewReader(data))
	if !errors.Is(err, ErrDWNStream) || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("data over the limit: %v, want ErrDWNStream naming the limit", err)
	}
	if _, _, err := c.Process(ctx, p.owner.did, msg, nil); !errors.Is(err, ErrDWNStream) {
		t.Fatalf("a failed client was reused: %v", err)
	}
}

func TestDWNProtoUnknownMethodClient(t *testing.T) {
	p, _ := newDWNPair(t, nil)
	c := p.dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The client sends only dwn.processMessage; a message without a
	// descriptor gets -32603, and the client stays usable.
	_, _, err := c.Process(ctx, p.owner.did, json.RawMessage(`{"x":1}`), nil)
	var e *server.Error
	if !errors.As(err, &e) || e.Code != server.CodeInternalError {
		t.Fatalf("message without descriptor: %v, want -32603", err)
	}
	author := dwn.KeyAuthor(p.owner.did, p.owner.signer)
	q, _ := dwn.NewRecordsQuery(&author, map[string]any{"schema": "https://example.com/none"}, "", 0, nil, p.ts())
	if reply, _ := process(t, c, p.owner.did, q, nil); reply.Status.Code != 200 {
		t.Fatalf("query after an error: %+v", reply.Status)
	}
}

func TestDWNProtoAuth(t *testing.T) {
	p, rec := newDWNPair(t, nil)
	// Serve again, now requiring a DID.
	ServeDWN(p.server.host.Host, rec, DWNProtoOptions{Auth: p.server.auth, Timeout: 5 * time.Second})
	c := p.dial(t)
	author := dwn.KeyAuthor(p.owner.did, p.owner.signer)
	q, _ := dwn.NewRecordsQuery(&author, map[string]any{"schema": "https://example.com/none"}, "", 0, nil, p.ts())
	if reply, _ := process(t, c, p.owner.did, q, nil); reply.Status.Code != 200 {
		t.Fatalf("query: %+v", reply.Status)
	}
	rec.mu.Lock()
	dids := append([]string(nil), rec.dids...)
	rec.mu.Unlock()
	if len(dids) != 1 || dids[0] != p.client.id.did {
		t.Fatalf("the processor saw remote DIDs %v, want [%s]", dids, p.client.id.did)
	}
	// A client that cannot prove a DID gets -50401.
	p.client.auth.Close()
	p.server.forget()
	c2 := p.dial(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _, err := c2.Process(ctx, p.owner.did, q, nil)
	var e *server.Error
	if !errors.As(err, &e) || e.Code != server.CodeUnauthorized {
		t.Fatalf("unauthenticated client: %v, want -50401", err)
	}
}

func FuzzDWNRequest(f *testing.F) {
	f.Add([]byte(`{"jsonrpc":"2.0","id":1,"method":"dwn.processMessage","params":{"target":"did:key:z6Mk","message":{"descriptor":{"interface":"Records","method":"Query"}}}}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":"a","method":"dwn.processMessage","params":{"target":"did:key:z6Mk","message":{"descriptor":{"method":"Write"}}},"data":true}`))
	f.Add([]byte(`{"jsonrpc":"2.0","method":"x"}`))
	f.Add([]byte(`{"jsonrpc":"2.0","id":null,"method":"dwn.processMessage","params":{"message":null},"data":1}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, e := DecodeDWNRequest(b, 1024)
		if req == nil && e == nil {
			t.Fatal("neither a request nor an error")
		}
		if e != nil {
			if e.Code == 0 || e.Message == "" {
				t.Fatalf("error without code or message: %+v", e)
			}
			_ = errorResponse(nil, e)
			return
		}
		if req.Target == "" || len(req.Message) == 0 || len(req.Message) > 1024 {
			t.Fatalf("accepted an invalid request: %+v", req)
		}
		// What was accepted round-trips through the client's encoding.
		again, err := json.Marshal(dwnRequestWire{JSONRPC: "2.0", ID: req.ID, Method: server.MethodProcessMessage,
			Params: server.ProcessParams{Target: req.Target, Message: req.Message}, Data: req.Data})
		if err != nil {
			t.Fatal(err)
		}
		req2, e2 := DecodeDWNRequest(again, 1024)
		if e2 != nil || req2.Target != req.Target || req2.Data != req.Data {
			t.Fatalf("re-encoded request decodes to %+v, %v", req2, e2)
		}
	})
}
