package dwn

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/keystore"
)

// persona is a signer with its did:key, as the reference's test personas.
type persona struct {
	did, kid string
	s        keystore.Signer
}

// newPersona makes a persona in the test DWN's keystore.
func (d *testDWN) newPersona() persona {
	d.t.Helper()
	d.n++
	s, err := d.ks.Create(fmt.Sprintf("p%d", d.n), keystore.Ed25519)
	if err != nil {
		d.t.Fatal(err)
	}
	id, err := did.NewKey(s.PublicKey())
	if err != nil {
		d.t.Fatal(err)
	}
	return persona{did: id, kid: id + "#" + strings.TrimPrefix(id, "did:key:"), s: s}
}

// testDWN is a DWN on pebble stores in a temporary directory.
type testDWN struct {
	*DWN
	t     testing.TB
	ks    *keystore.Software
	n     int
	owner persona
	clock int64
}

func newTestDWN(t testing.TB) *testDWN {
	t.Helper()
	ks, err := keystore.CreateSoftware(t.TempDir(), []byte("pw"), keystore.SoftwareOptions{KDF: keystore.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ks.Close() })
	td := &testDWN{t: t, ks: ks}
	owner := td.newPersona()
	db := openPebble(t, filepath.Join(t.TempDir(), "db"))
	t.Cleanup(func() { db.Close() })
	d, err := New(Options{
		Messages: NewPebbleStore(db),
		Events:   NewPebbleEventLog(db, nil),
		Data:     NewPebbleDataStore(db),
		Resolver: did.NewRegistry(did.RegistryConfig{}),
		Owner:    owner.did,
		Config:   DefaultConfig(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	td.DWN, td.owner = d, owner
	return td
}

// ts returns increasing timestamps.
func (d *testDWN) ts() string {
	d.clock++
	return Timestamp(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(d.clock) * time.Millisecond))
}

func (d *testDWN) process(tenant string, msg []byte, data []byte) *Reply {
	d.t.Helper()
	var opts ProcessOptions
	if data != nil {
		opts.Data = bytes.NewReader(data)
	}
	return d.ProcessMessage(context.Background(), tenant, msg, opts)
}

func tree(v any) map[string]any {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	t, err := ParseJSON(b)
	if err != nil {
		panic(err)
	}
	return t.(map[string]any)
}

func mustCID(v any) string {
	c, err := ComputeCID(v)
	if err != nil {
		panic(err)
	}
	return c.String()
}

// sign returns the authorization of a descriptor with extra payload keys.
func sign(t testing.TB, p persona, desc map[string]any, extra map[string]any) map[string]any {
	t.Helper()
	payload := map[string]any{"descriptorCid": mustCID(desc)}
	for k, v := range extra {
		payload[k] = v
	}
	pb, _ := json.Marshal(payload)
	j, err := SignGeneralJWS(pb, p.kid, p.s)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"signature": j}
}

// writeOpts shapes a RecordsWrite.
type writeOpts struct {
	data          []byte
	schema        string
	dataFormat    string
	published     bool
	recipient     string
	tags          map[string]any
	recordID      string // for updates
	dateCreated   string // for updates
	timestamp     string
	protocol      string
	protocolPath  string
	extraTopLevel map[string]any
}

// write builds a signed RecordsWrite as the SDK does; it returns the
// message JSON, its recordId and its messageCid.
func (d *testDWN) write(p persona, o writeOpts) (msg []byte, recordID, cid string) {
	d.t.Helper()
	if o.timestamp == "" {
		o.timestamp = d.ts()
	}
	if o.dateCreated == "" {
		o.dateCreated = o.timestamp
	}
	if o.dataFormat == "" {
		o.dataFormat = "application/json"
	}
	if o.schema == "" && o.protocol == "" {
		o.schema = "https://example.com/note"
	}
	desc := map[string]any{
		"interface": "Records", "method": "Write",
		"dataCid": DataCIDFromBytes(o.data).String(), "dataSize": len(o.data),
		"dateCreated": o.dateCreated, "messageTimestamp": o.timestamp, "dataFormat": o.dataFormat,
	}
	if o.schema != "" {
		desc["schema"] = o.schema
	}
	if o.published {
		desc["published"] = true
		desc["datePublished"] = o.timestamp
	}
	if o.recipient != "" {
		desc["recipient"] = o.recipient
	}
	if o.tags != nil {
		desc["tags"] = o.tags
	}
	if o.protocol != "" {
		desc["protocol"] = o.protocol
		desc["protocolPath"] = o.protocolPath
	}
	dt := tree(desc)
	recordID = o.recordID
	if recordID == "" {
		e, err := EntryID(dt, p.did)
		if err != nil {
			d.t.Fatal(err)
		}
		recordID = e.String()
	}
	extra := map[string]any{"recordId": recordID}
	m := map[string]any{"recordId": recordID, "descriptor": desc}
	if o.protocol != "" {
		extra["contextId"] = recordID
		m["contextId"] = recordID
	}
	m["authorization"] = sign(d.t, p, dt, extra)
	for k, v := range o.extraTopLevel {
		m[k] = v
	}
	b, _ := json.Marshal(m)
	pm, err := ParseMessage(b)
	if err != nil {
		d.t.Fatal(err)
	}
	c, _ := pm.CID()
	return b, recordID, c.String()
}

// msg builds a signed (p non-nil) or anonymous message of another kind.
func (d *testDWN) msg(p *persona, iface, method string, fields map[string]any) []byte {
	d.t.Helper()
	desc := map[string]any{"interface": iface, "method": method, "messageTimestamp": d.ts()}
	for k, v := range fields {
		desc[k] = v
	}
	m := map[string]any{"descriptor": desc}
	if p != nil {
		m["authorization"] = sign(d.t, *p, tree(desc), nil)
	}
	b, _ := json.Marshal(m)
	return b
}

func wantStatus(t testing.TB, r *Reply, code int, detailPrefix string) {
	t.Helper()
	if r.Status.Code != code || !strings.HasPrefix(r.Status.Detail, detailPrefix) {
		t.Fatalf("status = %d %q, want %d %q…", r.Status.Code, r.Status.Detail, code, detailPrefix)
	}
}

func entryField(t testing.TB, raw json.RawMessage, key string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("entry %s: %v", raw, err)
	}
	return m[key]
}

func readAll(t testing.TB, r *Reply) []byte {
	t.Helper()
	if r.Data == nil {
		t.Fatal("reply has no data")
	}
	defer r.Data.Close()
	b, err := io.ReadAll(r.Data)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (d *testDWN) query(p *persona, filter map[string]any, extra map[string]any) *Reply {
	fields := map[string]any{"filter": filter}
	for k, v := range extra {
		fields[k] = v
	}
	return d.process(d.owner.did, d.msg(p, "Records", "Query", fields), nil)
}
