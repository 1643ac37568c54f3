package dwn

import (
	"encoding/json"
	"sync"
	"testing"
)

func definition(protocol string, published bool) map[string]any {
	return map[string]any{
		"protocol": protocol, "published": published,
		"types":     map[string]any{"a": map[string]any{}},
		"structure": map[string]any{"a": map[string]any{}},
	}
}

func TestProtocols(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	alice := d.newPersona()
	older := d.msg(&o, "Protocols", "Configure", map[string]any{"definition": definition("https://example.com/p", true)})
	newer := d.msg(&o, "Protocols", "Configure", map[string]any{"definition": definition("https://example.com/p", true)})
	wantStatus(t, d.process(o.did, newer, nil), 202, "Accepted")
	wantStatus(t, d.process(o.did, older, nil), 409, "Conflict")
	wantStatus(t, d.process(o.did, d.msg(&o, "Protocols", "Configure", map[string]any{"definition": definition("https://example.com/q", false)}), nil), 202, "")
	wantStatus(t, d.process(o.did, d.msg(&alice, "Protocols", "Configure", map[string]any{"definition": definition("https://example.com/r", false)}), nil), 401, "ProtocolsConfigureAuthorizationFailed: ")
	wantStatus(t, d.process(o.did, d.msg(&o, "Protocols", "Configure", map[string]any{"definition": definition("https://example.com/r/", false)}), nil), 400, "UrlProtocolNotNormalized: ")

	q := func(p *persona, filter map[string]any) *Reply {
		f := map[string]any{}
		if filter != nil {
			f["filter"] = filter
		}
		return d.process(o.did, d.msg(p, "Protocols", "Query", f), nil)
	}
	if r := q(&o, nil); len(r.Entries) != 2 {
		t.Fatalf("owner sees %d", len(r.Entries))
	}
	if r := q(nil, nil); len(r.Entries) != 1 {
		t.Fatalf("anonymous sees %d", len(r.Entries))
	}
	if r := q(&alice, map[string]any{"protocol": "https://example.com/q"}); len(r.Entries) != 0 {
		t.Fatalf("alice sees unpublished")
	}
	wantStatus(t, q(&o, map[string]any{"recipient": alice.did}), 400, "UrlProtocolNotNormalized: ")

	// A record in the configured protocol, by the owner.
	msg, _, _ := d.write(o, writeOpts{data: []byte("x"), protocol: "https://example.com/p", protocolPath: "a", schema: ""})
	wantStatus(t, d.process(o.did, msg, []byte("x")), 202, "Accepted")
}

func TestMessages(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	alice := d.newPersona()
	var cids []string
	for i := 0; i < 5; i++ {
		msg, _, cid := d.write(o, writeOpts{data: []byte{byte(i)}})
		wantStatus(t, d.process(o.did, msg, []byte{byte(i)}), 202, "")
		cids = append(cids, cid)
	}
	wantStatus(t, d.process(o.did, d.msg(&alice, "Messages", "Query", map[string]any{"filters": []any{}}), nil), 401, "MessagesQueryAuthorizationFailed: ")
	wantStatus(t, d.process(o.did, d.msg(nil, "Messages", "Query", map[string]any{"filters": []any{}}), nil), 400, "SchemaValidatorFailure: ")
	// Paging with the limit extension.
	var got []string
	var cursor any
	for i := 0; i < 5; i++ {
		f := map[string]any{"filters": []any{}, "limit": 2}
		if cursor != nil {
			f["cursor"] = cursor
		}
		r := d.process(o.did, d.msg(&o, "Messages", "Query", f), nil)
		wantStatus(t, r, 200, "OK")
		for _, e := range r.Entries {
			var s string
			json.Unmarshal(e, &s)
			got = append(got, s)
		}
		if len(r.Entries) < 2 {
			break
		}
		cursor = r.Cursor
	}
	if len(got) != 5 || got[0] != cids[0] || got[4] != cids[4] {
		t.Fatalf("paged events %v, want %v", got, cids)
	}
	r := d.process(o.did, d.msg(&o, "Messages", "Read", map[string]any{"messageCid": cids[2]}), nil)
	wantStatus(t, r, 200, "OK")
	if string(readAll(t, r)) != "\x02" || entryField(t, r.Entry, "message") == nil {
		t.Fatalf("MessagesRead entry %s", r.Entry)
	}
	wantStatus(t, d.process(o.did, d.msg(&o, "Messages", "Read", map[string]any{"messageCid": "nope"}), nil), 400, "MessagesReadInvalidCid: ")
	wantStatus(t, d.process(o.did, d.msg(&alice, "Messages", "Read", map[string]any{"messageCid": cids[2]}), nil), 401, "MessagesReadAuthorizationFailed: ")
	wantStatus(t, d.process(o.did, d.msg(&o, "Messages", "Read", map[string]any{"messageCid": "bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24"}), nil), 404, "Not Found")
}

func TestSubscriptions(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	sub := d.msg(&o, "Messages", "Subscribe", map[string]any{"filters": []any{}})
	wantStatus(t, d.process(o.did, sub, nil), 501, "MessagesSubscribeEventStreamUnimplemented: ")
	rs := d.msg(nil, "Records", "Subscribe", map[string]any{"filter": map[string]any{"schema": "https://example.com/note"}})
	wantStatus(t, d.process(o.did, rs, nil), 501, "RecordsSubscribeEventStreamUnimplemented: ")

	var mu sync.Mutex
	var all, public []json.RawMessage
	r := d.ProcessMessage(ctx, o.did, sub, ProcessOptions{Events: func(e json.RawMessage) { mu.Lock(); all = append(all, e); mu.Unlock() }})
	wantStatus(t, r, 200, "OK")
	pm, _ := ParseMessage(sub)
	c, _ := pm.CID()
	if r.Subscription == nil || r.Subscription.ID != c.String() {
		t.Fatalf("subscription = %+v", r.Subscription)
	}
	r2 := d.ProcessMessage(ctx, o.did, rs, ProcessOptions{Events: func(e json.RawMessage) { mu.Lock(); public = append(public, e); mu.Unlock() }})
	wantStatus(t, r2, 200, "OK")

	m1, _, _ := d.write(o, writeOpts{data: []byte("a")})
	d.process(o.did, m1, []byte("a"))
	m2, _, _ := d.write(o, writeOpts{data: []byte("b"), published: true})
	d.process(o.did, m2, []byte("b"))
	m3, _, _ := d.write(o, writeOpts{data: []byte("c")})
	d.process(o.did, m3, nil) // 204: no event
	r.Subscription.Close()
	m4, _, _ := d.write(o, writeOpts{data: []byte("d"), published: true})
	d.process(o.did, m4, []byte("d"))
	mu.Lock()
	defer mu.Unlock()
	if len(all) != 2 || len(public) != 2 {
		t.Fatalf("events: all %d, public %d", len(all), len(public))
	}
	if entryField(t, all[0], "message") == nil {
		t.Fatalf("event %s", all[0])
	}
	d.Close()
	m5, _, _ := d.write(o, writeOpts{data: []byte("e"), published: true})
	d.process(o.did, m5, []byte("e"))
	if len(public) != 2 {
		t.Fatal("event after Close")
	}
}
