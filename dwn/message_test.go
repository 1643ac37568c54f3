package dwn

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseMessageRecordsWrite(t *testing.T) {
	// Whitespace and key order are kept: the message is never re-encoded.
	raw := []byte("  " + strings.Replace(recordsWriteMessage, `"contextId":`, "\n\t\"contextId\" : ", 1))
	m, err := ParseMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.Raw(), raw) {
		t.Fatal("Raw differs from the input")
	}
	raw[5] ^= 1 // the Message holds its own copy
	if bytes.Equal(m.Raw(), raw) {
		t.Fatal("Message aliases its input")
	}
	if b, _ := m.MarshalJSON(); !bytes.Equal(b, m.Raw()) {
		t.Fatal("MarshalJSON is not Raw")
	}
	if string(m.Descriptor) != recordsWriteDescriptor {
		t.Fatalf("Descriptor = %s", m.Descriptor)
	}
	if !bytes.HasPrefix(m.Authorization, []byte(`{"signature":{"payload":"eyJyZWNvcmRJZCI6`)) {
		t.Fatalf("Authorization = %.40s", m.Authorization)
	}
	if m.Attestation != nil || m.Encryption != nil || m.HasEncodedData {
		t.Fatal("absent properties are set")
	}
	if m.RecordID != recordsWriteRecordID || m.ContextID != recordsWriteRecordID {
		t.Fatalf("recordId %q contextId %q", m.RecordID, m.ContextID)
	}
	d := m.Desc
	if !d.Is("Records", "Write") || d.MessageTimestamp != "2026-11-25T22:19:40.325179Z" ||
		d.Protocol != "https://example.com/protocols/notes" || d.ProtocolPath != "note" ||
		d.Schema != "https://example.com/schemas/note" || d.DataFormat != "application/json" ||
		d.DataCID != "bafkreiah35uail5jngr3jt7zlfax7ryamibib6yqjc3treoszzija4tz5q" ||
		d.DataSize == nil || *d.DataSize != 48 || d.DateCreated != d.MessageTimestamp ||
		d.Published == nil || d.IsPublished() || d.DatePublished != "" || d.ParentID != "" ||
		d.Recipient != "" || d.RecordID != "" || d.Prune != nil || d.Tags["kind"] != "memo" {
		t.Fatalf("Desc = %+v", d)
	}
	c, err := m.CID()
	if err != nil || c.String() != recordsWriteMsgCID {
		t.Fatalf("CID = %s, %v", c, err)
	}
	dc, err := m.DescriptorCID()
	if err != nil || dc.String() != recordsWriteDescCID {
		t.Fatalf("DescriptorCID = %s, %v", dc, err)
	}
	e, err := m.EntryID(vectorAuthor)
	if err != nil || e.String() != m.RecordID {
		t.Fatalf("EntryID = %s, %v", e, err)
	}
}

func TestParseMessageRecordsDelete(t *testing.T) {
	const raw = `{"descriptor":{"interface":"Records","method":"Delete","messageTimestamp":"2026-11-25T22:19:42.837182Z","recordId":"bafyreibtq2oom24ujbu7yqxc4bpoebudbroccxxtqdavqd7nfqmaydw2yu","prune":false}}`
	m, err := ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Desc.Is("Records", "Delete") || m.Desc.RecordID != "bafyreibtq2oom24ujbu7yqxc4bpoebudbroccxxtqdavqd7nfqmaydw2yu" ||
		m.Desc.Prune == nil || *m.Desc.Prune || m.Authorization != nil || m.RecordID != "" {
		t.Fatalf("%+v", m)
	}
	dc, _ := m.DescriptorCID()
	if dc.String() != "bafyreienua6uudyn44oa3uhvrvkuvi4absreh3b2ofidnz4dkitaspmgua" {
		t.Fatalf("descriptorCid %s", dc)
	}
}

// TestMessageCIDHashesAllButEncodedData: encodedData is left out of the
// messageCid; every other top-level property, known or not, is in.
func TestMessageCIDHashesAllButEncodedData(t *testing.T) {
	base, err := ParseMessage([]byte(recordsWriteMessage))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := base.CID()
	with := strings.TrimSuffix(recordsWriteMessage, "}") + `,"encodedData":"eyJ0aXRsZSI6ImhlbGxvIn0"}`
	m, err := ParseMessage([]byte(with))
	if err != nil {
		t.Fatal(err)
	}
	if !m.HasEncodedData || m.EncodedData != "eyJ0aXRsZSI6ImhlbGxvIn0" {
		t.Fatal("encodedData not parsed")
	}
	if c, _ := m.CID(); !c.Equals(want) {
		t.Fatalf("encodedData changed the messageCid: %s", c)
	}
	for _, extra := range []string{`"attestation":{"signatures":[]}`, `"encryption":{"algorithm":"A256CTR"}`, `"zzz":1`} {
		m, err := ParseMessage([]byte(strings.TrimSuffix(recordsWriteMessage, "}") + "," + extra + "}"))
		if err != nil {
			t.Fatal(err)
		}
		if c, _ := m.CID(); c.Equals(want) {
			t.Errorf("%s is not hashed", extra)
		}
	}
}

func TestParseMessageErrors(t *testing.T) {
	const ts = `"messageTimestamp":"2026-11-25T22:19:42.347182Z"`
	desc := func(extra string) string {
		return `{"descriptor":{"interface":"Records","method":"Write",` + ts + extra + `}}`
	}
	cases := []struct {
		name, json, want string
	}{
		{"array", `[]`, "message: is an array, not an object"},
		{"null", `null`, "message: is null, not an object"},
		{"not JSON", `{`, "invalid JSON"},
		{"no descriptor", `{"authorization":{}}`, "descriptor: missing"},
		{"descriptor string", `{"descriptor":"x"}`, "descriptor: is a string, not an object"},
		{"no interface", `{"descriptor":{"method":"Query",` + ts + `}}`, "descriptor.interface: missing"},
		{"interface number", `{"descriptor":{"interface":1,"method":"Query",` + ts + `}}`, "descriptor.interface: is a number, not a string"},
		{"no method", `{"descriptor":{"interface":"Records",` + ts + `}}`, "descriptor.method: missing"},
		{"no timestamp", `{"descriptor":{"interface":"Records","method":"Query"}}`, "descriptor.messageTimestamp: missing"},
		{"bad timestamp", `{"descriptor":{"interface":"Records","method":"Query","messageTimestamp":"2026-11-25T22:19:42Z"}}`, "descriptor.messageTimestamp: \"2026-11-25T22:19:42Z\" is not a timestamp"},
		{"empty timestamp", `{"descriptor":{"interface":"00000","method":"00000","messageTimestamp":""}}`, `descriptor.messageTimestamp: "" is not a timestamp`},
		{"empty dateCreated", desc(`,"dateCreated":""`), `descriptor.dateCreated: "" is not a timestamp`},
		{"bad dateCreated", desc(`,"dateCreated":"yesterday"`), "descriptor.dateCreated:"},
		{"bad datePublished", desc(`,"datePublished":"2026-11-25T22:19:42.347Z"`), "descriptor.datePublished:"},
		{"dataSize string", desc(`,"dataSize":"48"`), "descriptor.dataSize: is a string, not a number"},
		{"dataSize float", desc(`,"dataSize":4.5`), "descriptor.dataSize: 4.5 is not an integer"},
		{"dataSize huge", desc(`,"dataSize":1e20`), "descriptor.dataSize: 1e20 is not"},
		{"published string", desc(`,"published":"true"`), "descriptor.published: is a string, not a boolean"},
		{"prune null", desc(`,"prune":null`), "descriptor.prune: is null, not a boolean"},
		{"tags array", desc(`,"tags":[]`), "descriptor.tags: is an array, not an object"},
		{"protocol number", desc(`,"protocol":5`), "descriptor.protocol: is a number, not a string"},
		{"authorization string", `{"authorization":"x","descriptor":{"interface":"Records","method":"Query",` + ts + `}}`, "authorization: is a string, not an object"},
		{"attestation array", strings.TrimSuffix(desc(""), "}") + `,"attestation":[]}`, "attestation: is an array"},
		{"recordId number", strings.TrimSuffix(desc(""), "}") + `,"recordId":1}`, "recordId: is a number, not a string"},
		{"contextId null", strings.TrimSuffix(desc(""), "}") + `,"contextId":null}`, "contextId: is null"},
		{"encodedData object", strings.TrimSuffix(desc(""), "}") + `,"encodedData":{}}`, "encodedData: is an object"},
		{"duplicate top-level key", `{"descriptor":{},"descriptor":{}}`, `descriptor: duplicate key "descriptor"`},
		{"duplicate descriptor key", `{"descriptor":{"interface":"Records","interface":"Protocols"}}`, `descriptor.interface: duplicate key`},
		{"too deep", `{"descriptor":` + strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth) + `}`, "nested deeper than 64"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMessage([]byte(tc.json))
			if err == nil {
				t.Fatalf("accepted: %+v", m.Desc)
			}
			if !errors.Is(err, ErrInvalidMessage) {
				t.Errorf("%v does not wrap ErrInvalidMessage", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestParseMessageSizeLimit(t *testing.T) {
	pad := func(n int) []byte {
		prefix := `{"descriptor":{"interface":"Records","method":"Query","messageTimestamp":"2026-11-25T22:19:42.347182Z"},"x":"`
		return []byte(prefix + strings.Repeat("a", n-len(prefix)-2) + `"}`)
	}
	if _, err := ParseMessage(pad(MaxMessageSize)); err != nil {
		t.Fatalf("exactly MaxMessageSize: %v", err)
	}
	_, err := ParseMessage(pad(MaxMessageSize + 1))
	if !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("one byte over: %v", err)
	}
}

func TestMessageJSONRoundTrip(t *testing.T) {
	type request struct {
		Target  string   `json:"target"`
		Message *Message `json:"message"`
	}
	in := `{"target":"did:example:alice","message":` + recordsWriteMessage + `}`
	var r request
	if err := json.Unmarshal([]byte(in), &r); err != nil {
		t.Fatal(err)
	}
	if c, _ := r.Message.CID(); c.String() != recordsWriteMsgCID {
		t.Fatalf("CID %s", c)
	}
	out, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("round trip changed the message:\n%s", out)
	}
	if err := json.Unmarshal([]byte(`{"message":{"descriptor":1}}`), &r); !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("bad message in a request: %v", err)
	}
}

func BenchmarkParseMessage(b *testing.B) {
	raw := []byte(recordsWriteMessage)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		m, err := ParseMessage(raw)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := m.CID(); err != nil {
			b.Fatal(err)
		}
	}
}
