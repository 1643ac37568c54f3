// Package conformance_test checks the dwn package's byte-level layer against
// output of the DWN reference implementation, dwn-sdk-js 0.5.2
// (testdata/dwn-sdk-js-0.5.2-vectors.json; see testdata/SOURCE.txt).
//
// For every message it recomputes, byte for byte, the descriptor's DAG-CBOR,
// the descriptorCid, the messageCid and the descriptorCid inside the signed
// payload; for every write also the recordId input's DAG-CBOR, the recordId
// (entryId) and the dataCid of the record data; and the dataCid of each
// generated data size, up to 45,613,057 bytes (streamed, never held; skipped
// with -short).
package conformance_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/anya-org/anya/dwn"
)

const (
	vectorFile   = "dwn-sdk-js-0.5.2-vectors.json"
	vectorSHA256 = "b18357c608549a2ad474bc57cebd3d56f469efb26c16f37dedc2a86fd9c99090"
	dataPattern  = "byte[i] = (i*31+7) & 0xff"
)

type vectorMessage struct {
	Label                   string          `json:"label"`
	Message                 json.RawMessage `json:"message"`
	DescriptorCID           string          `json:"descriptorCid"`
	DescriptorDagCborHex    string          `json:"descriptorDagCborHex"`
	MessageCID              string          `json:"messageCid"`
	SignaturePayload        json.RawMessage `json:"signaturePayload"`
	ProtectedHeader         struct{ Kid, Alg string }
	DataBase64URL           string          `json:"dataBase64Url"`
	DataCID                 string          `json:"dataCid"`
	RecordIDInput           json.RawMessage `json:"recordIdInput"`
	RecordIDInputDagCborHex string          `json:"recordIdInputDagCborHex"`
}

type vectors struct {
	SDKVersion string `json:"sdkVersion"`
	Tenant     string `json:"tenant"`
	Author     struct {
		DID   string `json:"did"`
		KeyID string `json:"keyId"`
	} `json:"author"`
	Messages []vectorMessage `json:"messages"`
	DataCIDs []struct {
		Size    int64  `json:"size"`
		Pattern string `json:"pattern"`
		DataCID string `json:"dataCid"`
	} `json:"dataCids"`
}

func load(t *testing.T) vectors {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", vectorFile))
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(raw); hex.EncodeToString(sum[:]) != vectorSHA256 {
		t.Fatalf("testdata/%s has changed: sha256 %x (SOURCE.txt says %s)", vectorFile, sum, vectorSHA256)
	}
	var v vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if v.SDKVersion != "0.5.2" || len(v.Messages) != 5 || len(v.DataCIDs) != 7 {
		t.Fatalf("unexpected vector file: sdk %q, %d messages, %d dataCids", v.SDKVersion, len(v.Messages), len(v.DataCIDs))
	}
	return v
}

func hexOf(t *testing.T, b []byte, want string) {
	t.Helper()
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("DAG-CBOR differs\n got %s\nwant %s", got, want)
	}
}

func TestMessageVectors(t *testing.T) {
	v := load(t)
	for _, vm := range v.Messages {
		t.Run(vm.Label, func(t *testing.T) {
			m, err := dwn.ParseMessage(vm.Message)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m.Raw(), vm.Message) {
				t.Fatal("Raw differs from the message")
			}

			// descriptorDagCborHex and descriptorCid, from the descriptor's JSON.
			enc, err := dwn.DagCBORFromJSON(m.Descriptor)
			if err != nil {
				t.Fatal(err)
			}
			hexOf(t, enc, vm.DescriptorDagCborHex)
			dc, err := m.DescriptorCID()
			if err != nil || dc.String() != vm.DescriptorCID {
				t.Fatalf("descriptorCid %s, %v; want %s", dc, err, vm.DescriptorCID)
			}
			if c, _ := dwn.DescriptorCID(m.Descriptor); c.String() != vm.DescriptorCID {
				t.Fatalf("DescriptorCID(raw) = %s", c)
			}

			// messageCid, with and without encodedData.
			c, err := m.CID()
			if err != nil || c.String() != vm.MessageCID {
				t.Fatalf("messageCid %s, %v; want %s", c, err, vm.MessageCID)
			}
			withData := append(bytes.TrimSuffix(bytes.TrimSpace(vm.Message), []byte("}")), `,"encodedData":"AAAA"}`...)
			if c2, err := dwn.MessageCID(json.RawMessage(withData)); err != nil || c2.String() != vm.MessageCID {
				t.Fatalf("messageCid with encodedData %s, %v", c2, err)
			}

			// The signed payload names this descriptorCid (and the write's
			// recordId and contextId).
			var payload, want map[string]any
			if err := json.Unmarshal(vm.SignaturePayload, &want); err != nil {
				t.Fatal(err)
			}
			var auth struct {
				Signature struct{ Payload string }
			}
			if err := json.Unmarshal(m.Authorization, &auth); err != nil {
				t.Fatal(err)
			}
			pb, err := base64.RawURLEncoding.DecodeString(auth.Signature.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(pb, &payload); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(payload, want) || payload["descriptorCid"] != dc.String() {
				t.Fatalf("signed payload %s, vector %s, descriptorCid %s", pb, vm.SignaturePayload, dc)
			}
			if m.RecordID != "" && (payload["recordId"] != m.RecordID || payload["contextId"] != nilIfEmpty(m.ContextID)) {
				t.Fatalf("payload %s does not match recordId %q contextId %q", pb, m.RecordID, m.ContextID)
			}

			if !m.Desc.Is("Records", "Write") {
				if vm.RecordIDInput != nil {
					t.Fatal("recordIdInput on a message that is not a RecordsWrite")
				}
				return
			}
			// recordId = entryId = CID({...descriptor, author}); the author
			// is the DID of the signing key.
			author, _, _ := strings.Cut(vm.ProtectedHeader.Kid, "#")
			var input map[string]any
			if err := json.Unmarshal(vm.RecordIDInput, &input); err != nil {
				t.Fatal(err)
			}
			if input["author"] != author {
				t.Fatalf("recordIdInput.author %v, kid DID %s", input["author"], author)
			}
			var desc map[string]any
			dec := json.NewDecoder(bytes.NewReader(m.Descriptor))
			dec.UseNumber()
			if err := dec.Decode(&desc); err != nil {
				t.Fatal(err)
			}
			desc["author"] = author
			enc, err = dwn.EncodeDagCBOR(desc)
			if err != nil {
				t.Fatal(err)
			}
			hexOf(t, enc, vm.RecordIDInputDagCborHex)
			if enc2, err := dwn.DagCBORFromJSON(vm.RecordIDInput); err != nil || !bytes.Equal(enc2, enc) {
				t.Fatalf("recordIdInput JSON encodes differently: %v", err)
			}
			e, err := m.EntryID(author)
			if err != nil || e.String() != m.RecordID {
				t.Fatalf("entryId %s, %v; recordId %s", e, err, m.RecordID)
			}
			if m.ContextID != "" && m.ContextID != m.RecordID {
				t.Fatalf("protocol root: contextId %s != recordId %s", m.ContextID, m.RecordID)
			}

			// dataCid and dataSize of the record data.
			data, err := base64.RawURLEncoding.DecodeString(vm.DataBase64URL)
			if err != nil {
				t.Fatal(err)
			}
			dcid, n, err := dwn.DataCID(bytes.NewReader(data))
			if err != nil || dcid.String() != vm.DataCID || dcid.String() != m.Desc.DataCID {
				t.Fatalf("dataCid %s, %v; vector %s, descriptor %s", dcid, err, vm.DataCID, m.Desc.DataCID)
			}
			if m.Desc.DataSize == nil || *m.Desc.DataSize != n {
				t.Fatalf("dataSize %v, data is %d bytes", m.Desc.DataSize, n)
			}
		})
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// TestTagsNumberEncoding is the dwn.md §3.2 example, taken from the
// RecordsWrite-ES256K vector: score 1.5 is a 64-bit float, the other numbers
// are integers.
func TestTagsNumberEncoding(t *testing.T) {
	v := load(t)
	var found bool
	for _, vm := range v.Messages {
		var msg struct {
			Descriptor struct {
				Tags json.RawMessage `json:"tags"`
			} `json:"descriptor"`
		}
		if err := json.Unmarshal(vm.Message, &msg); err != nil {
			t.Fatal(err)
		}
		var tags map[string]json.RawMessage
		if msg.Descriptor.Tags == nil || json.Unmarshal(msg.Descriptor.Tags, &tags) != nil || string(tags["score"]) != "1.5" {
			continue
		}
		found = true
		enc, err := dwn.DagCBORFromJSON(msg.Descriptor.Tags)
		if err != nil {
			t.Fatal(err)
		}
		// {n:3, neg:-7, flag:true, list:[1,2,3], score:1.5, words:["a","b"]}
		const want = "a6616e03636e65672664666c6167f5646c697374830102036573636f7265" +
			"fb3ff8000000000000" + "65776f7264738261616162"
		hexOf(t, enc, want)
		if !strings.Contains(vm.DescriptorDagCborHex, want) {
			t.Fatalf("%s: the descriptor hex does not contain the tags' encoding", vm.Label)
		}
	}
	if !found {
		t.Fatal("no vector has the tag score:1.5")
	}
}

// patternReader yields size bytes of byte[i] = (i*31+7) & 0xff.
type patternReader struct{ i, size int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.i >= p.size {
		return 0, io.EOF
	}
	n := min(int64(len(b)), p.size-p.i)
	for j := range n {
		b[j] = byte((p.i+j)*31 + 7)
	}
	p.i += n
	return int(n), nil
}

func TestDataCIDVectors(t *testing.T) {
	v := load(t)
	for _, d := range v.DataCIDs {
		t.Run(fmt.Sprint(d.Size), func(t *testing.T) {
			if d.Pattern != dataPattern {
				t.Fatalf("unknown pattern %q", d.Pattern)
			}
			if d.Size > 1<<20 && testing.Short() {
				t.Skipf("%d bytes: skipped with -short", d.Size)
			}
			c, n, err := dwn.DataCID(&patternReader{size: d.Size})
			if err != nil {
				t.Fatal(err)
			}
			if n != d.Size || c.String() != d.DataCID {
				t.Fatalf("got %s (%d bytes), want %s", c, n, d.DataCID)
			}
			if _, _, err := dwn.DataCIDLimit(&patternReader{size: d.Size}, d.Size); err != nil {
				t.Fatalf("limit equal to the size: %v", err)
			}
		})
	}
}
