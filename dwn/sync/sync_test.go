package dwnsync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/dwn"
	"github.com/anya-org/anya/keystore"
)

type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

const (
	schema   = "http://example.com/note"
	protoURI = "http://example.com/p"
	protoDef = `{"protocol":"http://example.com/p","published":true,"types":{"t":{"schema":"http://example.com/s","dataFormats":["application/json"]}},"structure":{"t":{}}}`
)

// owner is the tenant: one key shared by all of its nodes.
type owner struct {
	did    string
	author dwn.Author
}

func newOwner(t *testing.T) owner {
	t.Helper()
	ks, err := keystore.CreateSoftware(t.TempDir(), []byte("pw"), keystore.SoftwareOptions{KDF: keystore.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	s, err := ks.Create("owner", keystore.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	id, err := did.NewKey(s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	return owner{did: id, author: dwn.KeyAuthor(id, s)}
}

// node is one DWN of the owner, on its own pebble database.
type node struct {
	*dwn.DWN
	t  *testing.T
	o  owner
	db *pebble.DB
}

func newNode(t *testing.T, o owner) *node {
	t.Helper()
	db, err := pebble.Open(filepath.Join(t.TempDir(), "db"), &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d, err := dwn.New(dwn.Options{
		Messages: dwn.NewPebbleStore(db),
		Events:   dwn.NewPebbleEventLog(db, nil),
		Data:     dwn.NewPebbleDataStore(db),
		Resolver: did.NewRegistry(did.RegistryConfig{}),
		Owner:    o.did,
		Config:   dwn.DefaultConfig(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return &node{DWN: d, t: t, o: o, db: db}
}

// clock gives increasing timestamps shared by all nodes of a test.
type clock struct{ n atomic.Int64 }

func (c *clock) now() time.Time {
	return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(c.n.Add(1)) * time.Millisecond)
}

func (n *node) mustProcess(msg json.RawMessage, data []byte, want ...int) {
	n.t.Helper()
	var opts dwn.ProcessOptions
	if data != nil {
		opts.Data = bytes.NewReader(data)
	}
	r := n.ProcessMessage(context.Background(), n.o.did, msg, opts)
	if r.Data != nil {
		r.Data.Close()
	}
	if !slices.Contains(want, r.Status.Code) {
		n.t.Fatalf("reply %d %s, want %v", r.Status.Code, r.Status.Detail, want)
	}
}

// write writes a new record and returns its recordId and dateCreated.
func (n *node) write(c *clock, o dwn.RecordsWriteOptions) (string, time.Time) {
	n.t.Helper()
	ts := c.now()
	o.MessageTimestamp = ts
	if o.DataFormat == "" {
		o.DataFormat = "application/octet-stream"
	}
	msg, err := dwn.NewRecordsWrite(n.o.author, o)
	if err != nil {
		n.t.Fatal(err)
	}
	n.mustProcess(msg, o.Data, 202)
	var m struct {
		RecordID string `json:"recordId"`
	}
	json.Unmarshal(msg, &m)
	if o.RecordID != "" {
		return o.RecordID, o.DateCreated
	}
	return m.RecordID, ts
}

func (n *node) note(c *clock, data []byte) (string, time.Time) {
	return n.write(c, dwn.RecordsWriteOptions{Data: data, Schema: schema})
}

func (n *node) update(c *clock, id string, created time.Time, data []byte) {
	n.write(c, dwn.RecordsWriteOptions{Data: data, Schema: schema, RecordID: id, DateCreated: created})
}

func (n *node) del(c *clock, id string) {
	n.t.Helper()
	msg, err := dwn.NewRecordsDelete(n.o.author, id, false, c.now())
	if err != nil {
		n.t.Fatal(err)
	}
	n.mustProcess(msg, nil, 202)
}

// events is the set of messageCids in the node's event log.
func (n *node) events() []string {
	n.t.Helper()
	msg, err := NewMessagesQuery(n.o.author, nil, 0, time.Now())
	if err != nil {
		n.t.Fatal(err)
	}
	r := n.ProcessMessage(context.Background(), n.o.did, msg, dwn.ProcessOptions{})
	if r.Status.Code != 200 {
		n.t.Fatalf("MessagesQuery: %d %s", r.Status.Code, r.Status.Detail)
	}
	var out []string
	for _, e := range r.Entries {
		var s string
		json.Unmarshal(e, &s)
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// records is the node's view of its records: RecordsQuery entries by
// recordId, each with the data RecordsRead returns.
func (n *node) records() map[string]string {
	n.t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	for _, f := range []map[string]any{{"schema": schema}, {"protocol": protoURI}} {
		q, err := dwn.NewRecordsQuery(&n.o.author, f, "", 0, nil, time.Now())
		if err != nil {
			n.t.Fatal(err)
		}
		r := n.ProcessMessage(ctx, n.o.did, q, dwn.ProcessOptions{})
		if r.Status.Code != 200 {
			n.t.Fatalf("RecordsQuery: %d %s", r.Status.Code, r.Status.Detail)
		}
		for _, e := range r.Entries {
			var m struct {
				RecordID string `json:"recordId"`
			}
			json.Unmarshal(e, &m)
			rd, err := dwn.NewRecordsRead(&n.o.author, m.RecordID, time.Now())
			if err != nil {
				n.t.Fatal(err)
			}
			rr := n.ProcessMessage(ctx, n.o.did, rd, dwn.ProcessOptions{})
			if rr.Status.Code != 200 || rr.Data == nil {
				n.t.Fatalf("RecordsRead %s: %d %s (data %v)", m.RecordID, rr.Status.Code, rr.Status.Detail, rr.Data != nil)
			}
			data, err := io.ReadAll(rr.Data)
			rr.Data.Close()
			if err != nil {
				n.t.Fatal(err)
			}
			out[m.RecordID] = string(e) + "\n" + string(data)
		}
	}
	return out
}

func sameState(t *testing.T, what string, a, b *node) {
	t.Helper()
	if ea, eb := a.events(), b.events(); !slices.Equal(ea, eb) {
		t.Errorf("%s: event logs differ:\n%v\n%v", what, ea, eb)
	}
	ra, rb := a.records(), b.records()
	if len(ra) != len(rb) {
		t.Errorf("%s: %d records vs %d", what, len(ra), len(rb))
	}
	for id, v := range ra {
		if rb[id] != v {
			t.Errorf("%s: record %s differs (%d vs %d bytes)", what, id, len(v), len(rb[id]))
		}
	}
}

// counting counts the messages a processor is sent, by interface+method.
type counting struct {
	dwn.Processor
	mu    atomic.Int64
	reads atomic.Int64
}

func (c *counting) ProcessMessage(ctx context.Context, tenant string, msg json.RawMessage, opts dwn.ProcessOptions) *dwn.Reply {
	c.mu.Add(1)
	if bytes.Contains(msg, []byte(`"interface":"Messages","method":"Read"`)) {
		c.reads.Add(1)
	}
	return c.Processor.ProcessMessage(ctx, tenant, msg, opts)
}

func newEngine(o owner, local dwn.Processor, cursors datastore.Datastore, pageSize int) *Engine {
	return New(Options{Tenant: o.did, Author: o.author, Local: local, Cursors: cursors, PageSize: pageSize})
}

func big(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestConverge(t *testing.T) {
	ctx := context.Background()
	o := newOwner(t)
	var c clock
	a, b := newNode(t, o), newNode(t, o)

	// A: a protocol and a record under it, flat notes (one > 30,000 bytes),
	// an updated one, a deleted one.
	cfg, err := dwn.NewProtocolsConfigure(o.author, json.RawMessage(protoDef), c.now())
	if err != nil {
		t.Fatal(err)
	}
	a.mustProcess(cfg, nil, 202)
	a.write(&c, dwn.RecordsWriteOptions{Data: []byte(`{"p":1}`), DataFormat: "application/json", Protocol: protoURI, ProtocolPath: "t", Schema: "http://example.com/s"})
	a.note(&c, []byte("small note"))
	a.note(&c, big(40000))
	id, created := a.note(&c, []byte("first version"))
	a.update(&c, id, created, []byte("second version"))
	bigID, bigCreated := a.note(&c, big(35000))
	a.update(&c, bigID, bigCreated, big(36000))
	gone, _ := a.note(&c, []byte("to be deleted"))
	a.del(&c, gone)

	cursorsB := dssync.MutexWrap(datastore.NewMapDatastore())
	remoteA := &counting{Processor: a}
	eb := newEngine(o, b, cursorsB, 2)
	n, err := eb.Pull(ctx, "A", remoteA)
	if err != nil {
		t.Fatal(err)
	}
	if want := len(a.events()); n != want {
		t.Errorf("first pull applied %d, want %d (A's events)", n, want)
	}
	sameState(t, "after B pulls A", a, b)
	if got := len(b.records()); got != 5 {
		t.Errorf("B has %d records, want 5", got)
	}

	// A second pull, by a new engine over the same cursors, reads nothing.
	remoteA.mu.Store(0)
	n, err = newEngine(o, b, cursorsB, 2).Pull(ctx, "A", remoteA)
	if err != nil || n != 0 {
		t.Fatalf("second pull: %d, %v", n, err)
	}
	if got := remoteA.mu.Load(); got != 1 {
		t.Errorf("second pull sent %d messages, want 1 MessagesQuery", got)
	}

	// B, offline, writes and updates; A goes on too.
	b.note(&c, []byte("written on B while offline"))
	b.update(&c, id, created, []byte("third version, from B"))
	b.note(&c, big(31000))
	a.note(&c, []byte("written on A meanwhile"))

	pulled, pushed, err := eb.Sync(ctx, "A", a)
	if err != nil {
		t.Fatal(err)
	}
	if pulled != 1 || pushed != 3 {
		t.Errorf("sync: pulled %d pushed %d, want 1 and 3", pulled, pushed)
	}
	sameState(t, "after B syncs with A", a, b)
	// Nothing left either way.
	if p, q, err := eb.Sync(ctx, "A", a); err != nil || p != 0 || q != 0 {
		t.Errorf("idle sync: %d %d %v", p, q, err)
	}

	// A third node joins and catches up from B, then has nothing to take
	// from A.
	cn := newNode(t, o)
	ec := newEngine(o, cn, dssync.MutexWrap(datastore.NewMapDatastore()), 3)
	if _, err := ec.Pull(ctx, "B", b); err != nil {
		t.Fatal(err)
	}
	sameState(t, "after C pulls B", b, cn)
	if n, err := ec.Pull(ctx, "A", a); err != nil || n != 0 {
		t.Errorf("C pulls A: %d, %v (want 0: all 409)", n, err)
	}
	sameState(t, "C and A", a, cn)
}

// A MessagesRead that finds the message superseded (404) is skipped, and a
// failure leaves the cursor at the last whole page.
func TestSkip404AndResume(t *testing.T) {
	ctx := context.Background()
	o := newOwner(t)
	var c clock
	a, b := newNode(t, o), newNode(t, o)
	for i := range 5 {
		a.note(&c, fmt.Appendf(nil, "note %d", i))
	}
	var calls atomic.Int64
	flaky := &hook{Processor: a, fn: func(msg json.RawMessage) *dwn.Reply {
		if !bytes.Contains(msg, []byte(`"method":"Read"`)) {
			return nil
		}
		switch calls.Add(1) {
		case 2:
			return &dwn.Reply{Status: dwn.Status{Code: 404, Detail: "Not Found"}}
		case 4:
			return &dwn.Reply{Status: dwn.Status{Code: 500, Detail: "boom"}}
		}
		return nil
	}}
	cursors := dssync.MutexWrap(datastore.NewMapDatastore())
	e := newEngine(o, b, cursors, 2)
	n, err := e.Pull(ctx, "A", flaky)
	if err == nil {
		t.Fatal("no error from a 500")
	}
	if n != 2 {
		t.Errorf("applied %d before the error, want 2 (1 skipped)", n)
	}
	// The first page was saved; the second is re-done: 2 more + the last.
	n, err = e.Pull(ctx, "A", a)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("resumed pull applied %d, want 2", n)
	}
	if got := len(b.events()); got != 4 {
		t.Errorf("B has %d events, want 4 (the 404 one skipped)", got)
	}
	// A reset pulls everything again: the skipped one arrives, others 409.
	if err := e.ResetCursor(ctx, "A", false); err != nil {
		t.Fatal(err)
	}
	if n, err := e.Pull(ctx, "A", a); err != nil || n != 1 {
		t.Errorf("after reset: %d, %v, want 1", n, err)
	}
	sameState(t, "after reset", a, b)
}

type hook struct {
	dwn.Processor
	fn func(json.RawMessage) *dwn.Reply
}

func (h *hook) ProcessMessage(ctx context.Context, tenant string, msg json.RawMessage, opts dwn.ProcessOptions) *dwn.Reply {
	if r := h.fn(msg); r != nil {
		return r
	}
	return h.Processor.ProcessMessage(ctx, tenant, msg, opts)
}

func TestMessagesQueryLimit(t *testing.T) {
	o := newOwner(t)
	a := newNode(t, o)
	var c clock
	for range 3 {
		a.note(&c, []byte("x"))
	}
	msg, err := NewMessagesQuery(o.author, nil, 2, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := a.ProcessMessage(context.Background(), o.did, msg, dwn.ProcessOptions{})
	if r.Status.Code != 200 || len(r.Entries) != 2 || r.Cursor == nil {
		t.Fatalf("limit 2: %d %s, %d entries, cursor %v", r.Status.Code, r.Status.Detail, len(r.Entries), r.Cursor)
	}
}

func TestSplitEncodedData(t *testing.T) {
	m, d, err := splitEncodedData(json.RawMessage(`{"recordId":"x","descriptor":{},"encodedData":"aGVsbG8"}`))
	if err != nil || string(d) != "hello" || bytes.Contains(m, []byte("encodedData")) {
		t.Fatalf("%s %q %v", m, d, err)
	}
	m, d, err = splitEncodedData(json.RawMessage(`{"descriptor":{}}`))
	if err != nil || d != nil || string(m) != `{"descriptor":{}}` {
		t.Fatalf("%s %q %v", m, d, err)
	}
}
