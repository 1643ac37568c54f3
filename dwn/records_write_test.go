package dwn

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestTenantGate(t *testing.T) {
	d := newTestDWN(t)
	stranger := d.newPersona()
	msg, _, _ := d.write(stranger, writeOpts{data: []byte(`{}`)})
	r := d.process(stranger.did, msg, []byte(`{}`))
	wantStatus(t, r, 401, "DID "+stranger.did+" is not an active tenant.")
}

func TestSchemaFailures(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	msg, _, _ := d.write(o, writeOpts{data: []byte(`x`), extraTopLevel: map[string]any{"bogus": 1}})
	wantStatus(t, d.process(o.did, msg, nil), 400, "SchemaValidatorUnevaluatedPropertyNotAllowed: ")

	r := d.process(o.did, d.msg(&o, "Records", "Query", map[string]any{"filter": map[string]any{"schema": "https://example.com/note"}, "bogus": true}), nil)
	wantStatus(t, r, 400, "SchemaValidatorAdditionalPropertyNotAllowed: must NOT have additional properties: /descriptor: bogus")

	r = d.process(o.did, d.msg(&o, "Records", "Query", map[string]any{"filter": map[string]any{}}), nil)
	wantStatus(t, r, 400, "SchemaValidatorFailure: /descriptor/filter: must NOT have fewer than 1 properties")

	r = d.process(o.did, d.msg(&o, "Records", "Frobnicate", nil), nil)
	wantStatus(t, r, 400, "SchemaValidatorSchemaNotFound: ")

	r = d.process(o.did, []byte(`{"descriptor":{}}`), nil)
	wantStatus(t, r, 400, "SchemaValidatorFailure: ")

	msg, _, _ = d.write(o, writeOpts{data: []byte(`x`), protocol: "https://example.com/p", protocolPath: "a/b1"})
	wantStatus(t, d.process(o.did, msg, nil), 400, "SchemaValidatorFailure: /descriptor/protocolPath: must match pattern")

	msg, _, _ = d.write(o, writeOpts{data: []byte(`x`), schema: "https://example.com/note/"})
	wantStatus(t, d.process(o.did, msg, []byte(`x`)), 400, "UrlSchemaNotNormalized: ")
	msg, _, _ = d.write(o, writeOpts{data: []byte(`x`), schema: "example.com/note"})
	wantStatus(t, d.process(o.did, msg, []byte(`x`)), 400, "UrlSchemaNotNormalized: ")

	r = d.process(o.did, d.msg(&o, "Records", "Query", map[string]any{"filter": map[string]any{"schema": "x"}, "dateSort": "sideways"}), nil)
	wantStatus(t, r, 400, "SchemaValidatorFailure: /descriptor/dateSort: must be equal to one of the allowed values")
}

func TestNormalizeURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://example.com/a":       "https://example.com/a",
		"https://example.com/":        "https://example.com",
		"https://example.com":         "https://example.com",
		"example.com/a":               "http://example.com/a",
		"https://example.com/a?x=1#y": "https://example.com/a",
		"HTTPS://Example.com/a":       "https://example.com/a",
	} {
		got, ok := normalizeURL(in)
		if !ok || got != want {
			t.Errorf("normalizeURL(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestRecordsWriteLifecycle(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	data := []byte(`{"hello":"world"}`)
	msg, rid, cid1 := d.write(o, writeOpts{data: data})
	wantStatus(t, d.process(o.did, msg, data), 202, "Accepted")
	// A re-send is not newer.
	wantStatus(t, d.process(o.did, msg, data), 409, "Conflict")

	r := d.query(&o, map[string]any{"schema": "https://example.com/note"}, nil)
	wantStatus(t, r, 200, "OK")
	if len(r.Entries) != 1 {
		t.Fatalf("entries = %d", len(r.Entries))
	}
	var enc string
	json.Unmarshal(entryField(t, r.Entries[0], "encodedData"), &enc)
	if enc != "eyJoZWxsbyI6IndvcmxkIn0" {
		t.Fatalf("encodedData = %q", enc)
	}
	if entryField(t, r.Entries[0], "initialWrite") != nil {
		t.Fatal("initial write carries initialWrite")
	}

	// Update with new data.
	data2 := []byte(`{"hello":"again"}`)
	up, _, cid2 := d.write(o, writeOpts{data: data2, recordID: rid, dateCreated: d.tsOf(msg)})
	wantStatus(t, d.process(o.did, up, data2), 202, "Accepted")
	r = d.query(&o, map[string]any{"recordId": rid}, nil)
	if len(r.Entries) != 1 || entryField(t, r.Entries[0], "initialWrite") == nil {
		t.Fatalf("entries after update: %s", r.Entries)
	}
	rr := d.process(o.did, d.msg(&o, "Records", "Read", map[string]any{"filter": map[string]any{"recordId": rid}}), nil)
	wantStatus(t, rr, 200, "OK")
	if got := readAll(t, rr); !bytes.Equal(got, data2) {
		t.Fatalf("read data = %q", got)
	}
	if entryField(t, rr.Entry, "initialWrite") == nil || entryField(t, rr.Entry, "recordsWrite") == nil {
		t.Fatalf("read entry = %s", rr.Entry)
	}

	// Retention: the initial write stays, the superseded update goes, with
	// its event.
	up3, _, cid3 := d.write(o, writeOpts{data: data2, recordID: rid, dateCreated: d.tsOf(msg)})
	wantStatus(t, d.process(o.did, up3, nil), 202, "Accepted") // data reused
	for cid, want := range map[string]int{cid1: 200, cid2: 404, cid3: 200} {
		r := d.process(o.did, d.msg(&o, "Messages", "Read", map[string]any{"messageCid": cid}), nil)
		wantStatus(t, r, want, "")
	}
	mq := d.process(o.did, d.msg(&o, "Messages", "Query", map[string]any{"filters": []any{}}), nil)
	wantStatus(t, mq, 200, "OK")
	if len(mq.Entries) != 2 {
		t.Fatalf("event log = %s", mq.Entries)
	}

	// Immutable property.
	bad, _, _ := d.write(o, writeOpts{data: data2, recordID: rid, dateCreated: d.tsOf(msg), schema: "https://example.com/other"})
	wantStatus(t, d.process(o.did, bad, data2), 400, "RecordsWriteImmutablePropertyChanged: ")
	// Data-less update whose dataCid differs from the newest.
	bad, _, _ = d.write(o, writeOpts{data: []byte("zz"), recordID: rid, dateCreated: d.tsOf(msg)})
	wantStatus(t, d.process(o.did, bad, nil), 400, "RecordsWriteDataCidMismatch: ")
	// Older than the newest.
	old, _, _ := d.write(o, writeOpts{data: data2, recordID: rid, dateCreated: d.tsOf(msg), timestamp: d.tsOf(up)})
	wantStatus(t, d.process(o.did, old, data2), 409, "Conflict")
}

// tsOf returns a message's messageTimestamp.
func (d *testDWN) tsOf(msg []byte) string {
	m, err := ParseMessage(msg)
	if err != nil {
		d.t.Fatal(err)
	}
	return m.Desc.MessageTimestamp
}

func TestRecordsWriteData(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	data := []byte("abc")
	msg, _, _ := d.write(o, writeOpts{data: data})
	wantStatus(t, d.process(o.did, msg, []byte("abd")), 400, "RecordsWriteDataCidMismatch: ")
	wantStatus(t, d.process(o.did, msg, []byte("abcd")), 400, "RecordsWriteDataCidMismatch: ")

	// Large data goes to the data store and streams back.
	big := bytes.Repeat([]byte("0123456789"), 40_000)
	msg, rid, _ := d.write(o, writeOpts{data: big})
	wantStatus(t, d.process(o.did, msg, big[:len(big)-1]), 400, "RecordsWriteDataCidMismatch: ")
	wantStatus(t, d.process(o.did, msg, big), 202, "Accepted")
	r := d.process(o.did, d.msg(&o, "Records", "Read", map[string]any{"filter": map[string]any{"recordId": rid}}), nil)
	wantStatus(t, r, 200, "OK")
	if got := readAll(t, r); !bytes.Equal(got, big) {
		t.Fatalf("read %d bytes", len(got))
	}
	q := d.query(&o, map[string]any{"recordId": rid}, nil)
	if len(q.Entries) != 1 || entryField(t, q.Entries[0], "encodedData") != nil {
		t.Fatalf("large record entry: %d", len(q.Entries))
	}
	// A data-less update reuses the stored data.
	up, _, _ := d.write(o, writeOpts{data: big, recordID: rid, dateCreated: d.tsOf(msg)})
	wantStatus(t, d.process(o.did, up, nil), 202, "Accepted")
	r = d.process(o.did, d.msg(&o, "Records", "Read", map[string]any{"filter": map[string]any{"recordId": rid}}), nil)
	if got := readAll(t, r); !bytes.Equal(got, big) {
		t.Fatalf("read after update %d bytes", len(got))
	}
}

func TestRecordsWriteWithoutData(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	data := []byte("payload")
	msg, rid, _ := d.write(o, writeOpts{data: data})
	wantStatus(t, d.process(o.did, msg, nil), 204, "No Content")
	if r := d.query(&o, map[string]any{"recordId": rid}, nil); len(r.Entries) != 0 {
		t.Fatalf("data-less initial write is queryable: %s", r.Entries)
	}
	// The same message with data is not newer.
	wantStatus(t, d.process(o.did, msg, data), 409, "Conflict")
	// A data-less update cannot take data from a data-less write.
	up, _, _ := d.write(o, writeOpts{data: data, recordID: rid, dateCreated: d.tsOf(msg)})
	wantStatus(t, d.process(o.did, up, nil), 400, "RecordsWriteMissingEncodedDataInPrevious: ")
	// A newer write with data makes the record.
	wantStatus(t, d.process(o.did, up, data), 202, "Accepted")
	if r := d.query(&o, map[string]any{"recordId": rid}, nil); len(r.Entries) != 1 {
		t.Fatalf("entries = %d", len(r.Entries))
	}
}

func TestRecordsWriteAuth(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	alice := d.newPersona()
	msg, _, _ := d.write(alice, writeOpts{data: []byte("x")})
	wantStatus(t, d.process(o.did, msg, []byte("x")), 401, "RecordsWriteAuthorizationFailed: ")

	// A descriptor changed after signing.
	msg, _, _ = d.write(o, writeOpts{data: []byte("x")})
	tampered := bytes.Replace(msg, []byte(`"dataFormat":"application/json"`), []byte(`"dataFormat":"text/plain"`), 1)
	wantStatus(t, d.process(o.did, tampered, []byte("x")), 400, "AuthenticateDescriptorCidMismatch: ")

	// A signature that does not verify.
	var m map[string]any
	json.Unmarshal(msg, &m)
	sig := m["authorization"].(map[string]any)["signature"].(map[string]any)["signatures"].([]any)[0].(map[string]any)
	s := sig["signature"].(string)
	sig["signature"] = "A" + s[1:]
	if s[0] == 'A' {
		sig["signature"] = "B" + s[1:]
	}
	bad, _ := json.Marshal(m)
	wantStatus(t, d.process(o.did, bad, []byte("x")), 401, "GeneralJwsVerifierInvalidSignature: ")

	// An unknown payload key.
	desc := m["descriptor"].(map[string]any)
	m["authorization"] = sign(t, o, tree(desc), map[string]any{"recordId": m["recordId"], "extra": "no"})
	bad, _ = json.Marshal(m)
	wantStatus(t, d.process(o.did, bad, []byte("x")), 400, "SchemaValidatorAdditionalPropertyNotAllowed: ")

	// A payload recordId differing from the message's.
	m["authorization"] = sign(t, o, tree(desc), map[string]any{"recordId": "bafyother"})
	bad, _ = json.Marshal(m)
	wantStatus(t, d.process(o.did, bad, []byte("x")), 400, "RecordsWriteValidateIntegrityRecordIdUnauthorized: ")

	// dateCreated must equal messageTimestamp in an initial write.
	msg, _, _ = d.write(o, writeOpts{data: []byte("x"), dateCreated: "2020-01-01T00:00:00.000000Z"})
	wantStatus(t, d.process(o.did, msg, []byte("x")), 400, "RecordsWriteValidateIntegrityDateCreatedMismatch: ")

	// A protocol that is not configured.
	msg, _, _ = d.write(o, writeOpts{data: []byte("x"), protocol: "https://example.com/p", protocolPath: "a"})
	wantStatus(t, d.process(o.did, msg, []byte("x")), 400, "ProtocolAuthorizationProtocolNotFound: ")
}
