package dwn

import (
	"encoding/json"
	"testing"
)

// AppendJSON writes what json.Marshal writes, for every field combination.
func TestReplyAppendJSONMatchesMarshal(t *testing.T) {
	msg := json.RawMessage(`{"descriptor":{"interface":"Records","method":"Write","tags":{"a":1.5}},"recordId":"bafy<&>"}`)
	replies := []*Reply{
		{Status: Status{Code: 202, Detail: "Accepted"}},
		{Status: Status{Code: 200, Detail: "OK"}, Entries: []json.RawMessage{}},
		{Status: Status{Code: 200, Detail: "OK"}, Entries: []json.RawMessage{msg, json.RawMessage(`"bafyx"`)}, Cursor: &Cursor{MessageCID: "bafyc", Value: "2024-01-01T00:00:00.000000Z"}},
		{Status: Status{Code: 200, Detail: "OK"}, Entry: json.RawMessage(`{"recordsWrite":` + string(msg) + `}`)},
		{Status: Status{Code: 200, Detail: "OK"}, Subscription: &Subscription{ID: "bafys"}},
		{Status: Status{Code: 400, Detail: "SchemaValidatorFailure: \"quoted\" \u2028 é"}},
	}
	for i, r := range replies {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.AppendJSON(nil)
		if err != nil {
			t.Fatal(err)
		}
		var a, b any
		if json.Unmarshal(got, &a) != nil || json.Unmarshal(want, &b) != nil {
			t.Fatalf("reply %d: invalid JSON %s", i, got)
		}
		if string(mustJSON(a)) != string(mustJSON(b)) {
			t.Errorf("reply %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
