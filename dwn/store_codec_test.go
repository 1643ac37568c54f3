package dwn

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
)

func TestStoredMessageCodecRoundTrip(t *testing.T) {
	m := &StoredMessage{
		CID:         "bafyreic",
		Message:     []byte(`{"descriptor":{"interface":"Records"}}`),
		EncodedData: "eyJpIjoxfQ",
		Indexes: Indexes{
			"s": "x\x00y", "n": 42.5, "neg": -1.0, "t": true, "f": false,
			"arr": []any{"a", 1.0, true}, "empty": []any{}, "": "",
		},
	}
	b, err := encodeStoredMessage(m)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeStoredMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, m) {
		t.Fatalf("round trip:\n got %#v\nwant %#v", got, m)
	}
	// Values written as JSON by earlier versions still decode.
	old, _ := json.Marshal(m)
	got, err = decodeStoredMessage(old)
	if err != nil || got.CID != m.CID || string(got.Message) != string(m.Message) || got.Indexes["n"] != 42.5 {
		t.Fatalf("legacy JSON: %v %#v", err, got)
	}
	for i := 1; i < len(b); i++ {
		if _, err := decodeStoredMessage(b[:i]); err == nil {
			t.Fatalf("truncated to %d bytes: no error", i)
		}
	}
	ev, err := encodeEvent(m.CID, m.Indexes)
	if err != nil {
		t.Fatal(err)
	}
	se, err := decodeEvent(ev)
	if err != nil || se.CID != m.CID || !reflect.DeepEqual(se.Indexes, m.Indexes) {
		t.Fatalf("event: %v %#v", err, se)
	}
	oldEv, _ := json.Marshal(storedEvent{CID: m.CID, Indexes: m.Indexes})
	if se, err := decodeEvent(oldEv); err != nil || se.CID != m.CID {
		t.Fatalf("legacy event: %v %#v", err, se)
	}
}

// A change that deletes and re-puts one CID, or puts one twice, leaves
// exactly the index entries of the last version.
func TestPebbleBatcherSameCIDInOneChange(t *testing.T) {
	d := newTestDWN(t)
	ctx := context.Background()
	tenant := "did:example:t"
	v1 := &StoredMessage{CID: "c1", Message: []byte(`{}`), Indexes: Indexes{"messageTimestamp": "1", "k": "a"}}
	var c change
	c.putNew(v1)
	c.appendEvent("c1", v1.Indexes)
	if err := d.apply(ctx, tenant, &c); err != nil {
		t.Fatal(err)
	}
	c = change{}
	c.del("c1")
	c.put(&StoredMessage{CID: "c1", Message: []byte(`{}`), Indexes: Indexes{"messageTimestamp": "1", "k": "b"}})
	c.put(&StoredMessage{CID: "c1", Message: []byte(`{}`), Indexes: Indexes{"messageTimestamp": "1", "k": "c"}})
	if err := d.apply(ctx, tenant, &c); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b", "c"} {
		got, _, err := d.messages.Query(ctx, tenant, []Filter{{"k": {Equal: k}}}, Sort{Property: "messageTimestamp"}, Page{})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 1, false: 0}[k == "c"]; len(got) != want {
			t.Fatalf("k=%s: %d results, want %d", k, len(got), want)
		}
	}
	cids, _, err := d.events.Query(ctx, tenant, nil, nil, 0)
	if err != nil || len(cids) != 1 {
		t.Fatalf("events %v %v", cids, err)
	}
	c = change{}
	c.del("c1")
	c.deleteEvents("c1")
	if err := d.apply(ctx, tenant, &c); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := d.messages.Query(ctx, tenant, []Filter{{"k": {Equal: "c"}}}, Sort{Property: "messageTimestamp"}, Page{}); len(got) != 0 {
		t.Fatalf("after delete: %d results", len(got))
	}
	if cids, _, _ := d.events.Query(ctx, tenant, nil, nil, 0); len(cids) != 0 {
		t.Fatalf("events after delete: %v", cids)
	}
}
