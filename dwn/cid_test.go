package dwn

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// The RecordsWrite of the dwn-sdk-js 0.5.2 vectors (dwn.md §3.7).
const (
	recordsWriteDescriptor = `{"interface":"Records","method":"Write","protocol":"https://example.com/protocols/notes","protocolPath":"note","schema":"https://example.com/schemas/note","tags":{"kind":"memo"},"dataCid":"bafkreiah35uail5jngr3jt7zlfax7ryamibib6yqjc3treoszzija4tz5q","dataSize":48,"dateCreated":"2026-11-25T22:19:40.325179Z","messageTimestamp":"2026-11-25T22:19:40.325179Z","published":false,"dataFormat":"application/json"}`
	recordsWriteMessage    = `{"recordId":"bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24","descriptor":` + recordsWriteDescriptor + `,"contextId":"bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24","authorization":{"signature":{"payload":"eyJyZWNvcmRJZCI6ImJhZnlyZWlncGFxcWRjNnJ4c3F4djZvaTI3ZG42aTZmbm1ncm43ZnQzM3MzeWtqcnJxc2lhbWlzcDI0IiwiZGVzY3JpcHRvckNpZCI6ImJhZnlyZWliY29oNHdxNnk3bTVjbXZ3NmpldWl5NmVmcmE0b2hwY3BwZHF1YzQ2d3hmam9xN3RxcnJ1IiwiY29udGV4dElkIjoiYmFmeXJlaWdwYXFxZGM2cnhzcXh2Nm9pMjdkbjZpNmZubWdybjdmdDMzczN5a2pycnFzaWFtaXNwMjQifQ","signatures":[{"protected":"eyJraWQiOiJkaWQ6a2V5Ono2TWtwTjlwMkRxRDQzU2E3MWlwWVgzNXlhTDIycFJDZ2Y4c0MxSGtYNGF0bzc2RyN6Nk1rcE45cDJEcUQ0M1NhNzFpcFlYMzV5YUwyMnBSQ2dmOHNDMUhrWDRhdG83NkciLCJhbGciOiJFZERTQSJ9","signature":"AqQyBNDevc7e7bxCRvVrt6mu4l-2rI_AUldLp5pdY-w1AZBcc6nhdLaGWbeVM1xgO8ufu7vX145lhi4QHWQyBQ"}]}}}`
	recordsWriteDescHex    = "ac6474616773a1646b696e64646d656d6f666d6574686f6465577269746566736368656d61782068747470733a2f2f6578616d706c652e636f6d2f736368656d61732f6e6f74656764617461436964783b6261666b726569616833357561696c356a6e6772336a74377a6c666178377279616d696269623679716a63337472656f737a7a696a6134747a3571686461746153697a6518306870726f746f636f6c782368747470733a2f2f6578616d706c652e636f6d2f70726f746f636f6c732f6e6f74657369696e74657266616365675265636f726473697075626c6973686564f46a64617461466f726d6174706170706c69636174696f6e2f6a736f6e6b6461746543726561746564781b323032362d31312d32355432323a31393a34302e3332353137395a6c70726f746f636f6c50617468646e6f7465706d65737361676554696d657374616d70781b323032362d31312d32355432323a31393a34302e3332353137395a"
	recordsWriteDescCID    = "bafyreibcoh4wq6y7m5cmvw6jeuiy6efra4ohpcppdquc46wxfjoq7tqrru"
	recordsWriteMsgCID     = "bafyreibnhdv7cgzwgpod43sqsfl3ndmwbfg7npju3p5huayroqsehftyry"
	recordsWriteRecordID   = "bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24"
	vectorAuthor           = "did:key:z6MkpN9p2DqD43Sa71ipYX35yaL22pRCgf8sC1HkX4ato76G"
)

func TestDescriptorCID(t *testing.T) {
	enc, err := DagCBORFromJSON([]byte(recordsWriteDescriptor))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(enc, unhex(t, recordsWriteDescHex)) {
		t.Fatalf("descriptor encoding\n got %x\nwant %s", enc, recordsWriteDescHex)
	}
	if !bytes.HasPrefix(enc, unhex(t, "ac 64 74616773 a1")) {
		t.Fatal("dwn.md §3.7: the encoding starts ac 64 74616773 a1")
	}
	for _, in := range []any{json.RawMessage(recordsWriteDescriptor), mustParse(t, recordsWriteDescriptor)} {
		c, err := DescriptorCID(in)
		if err != nil {
			t.Fatal(err)
		}
		if c.String() != recordsWriteDescCID {
			t.Fatalf("DescriptorCID(%T) = %s", in, c)
		}
		if b := c.Bytes(); !bytes.Equal(b[:4], []byte{0x01, 0x71, 0x12, 0x20}) || len(b) != 36 {
			t.Fatalf("CID bytes % x", b)
		}
	}
}

func TestMessageCID(t *testing.T) {
	c, err := MessageCID(json.RawMessage(recordsWriteMessage))
	if err != nil {
		t.Fatal(err)
	}
	if c.String() != recordsWriteMsgCID {
		t.Fatalf("got %s, want %s", c, recordsWriteMsgCID)
	}
	// encodedData is not hashed; any other extra property is.
	m := mustParse(t, recordsWriteMessage).(map[string]any)
	m["encodedData"] = "eyJ0aXRsZSI6ImhlbGxvIn0"
	c2, err := MessageCID(m)
	if err != nil || !c2.Equals(c) {
		t.Fatalf("with encodedData: %s, %v", c2, err)
	}
	if _, ok := m["encodedData"]; !ok {
		t.Fatal("MessageCID modified its argument")
	}
	m["unknown"] = true
	if c3, _ := MessageCID(m); c3.Equals(c) {
		t.Fatal("an unknown top-level property is not hashed")
	}
	for _, bad := range []any{json.RawMessage(`[]`), json.RawMessage(`"x"`), nil, json.RawMessage(`{"a":1,"a":1}`)} {
		if _, err := MessageCID(bad); err == nil {
			t.Errorf("MessageCID(%s) accepted", bad)
		}
	}
}

func TestEntryID(t *testing.T) {
	d := mustParse(t, recordsWriteDescriptor).(map[string]any)
	c, err := EntryID(d, vectorAuthor)
	if err != nil {
		t.Fatal(err)
	}
	if c.String() != recordsWriteRecordID {
		t.Fatalf("got %s, want %s", c, recordsWriteRecordID)
	}
	if _, ok := d["author"]; ok {
		t.Fatal("EntryID modified the descriptor")
	}
	if c2, _ := EntryID(json.RawMessage(recordsWriteDescriptor), vectorAuthor); !c2.Equals(c) {
		t.Fatal("EntryID of raw JSON differs")
	}
	if _, err := EntryID(json.RawMessage(`1`), vectorAuthor); err == nil || !strings.Contains(err.Error(), "descriptor is a number") {
		t.Fatalf("EntryID of a number: %v", err)
	}
}

func mustParse(t testing.TB, s string) any {
	t.Helper()
	v, err := ParseJSON([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// BenchmarkDescriptorCID is the descriptor CID of a parsed message, as a
// handler computes it: encode the parsed tree, hash it.
func BenchmarkDescriptorCID(b *testing.B) {
	d := mustParse(b, recordsWriteDescriptor)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DescriptorCID(d); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDescriptorCIDFromJSON includes parsing the JSON.
func BenchmarkDescriptorCIDFromJSON(b *testing.B) {
	raw := json.RawMessage(recordsWriteDescriptor)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DescriptorCID(raw); err != nil {
			b.Fatal(err)
		}
	}
}
