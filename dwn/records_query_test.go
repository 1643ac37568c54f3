package dwn

import (
	"encoding/json"
	"fmt"
	"testing"
)

func TestRecordsQueryVisibilityAndPaging(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	alice, bob := d.newPersona(), d.newPersona()
	// Owner writes: 5 published, 5 unpublished (one to alice).
	for i := 0; i < 10; i++ {
		data := []byte(fmt.Sprintf(`{"n":%d}`, i))
		o2 := writeOpts{data: data, published: i%2 == 0, tags: map[string]any{"n": i, "kind": []any{"a", fmt.Sprintf("k%d", i%3)}}}
		if i == 1 {
			o2.recipient = alice.did
		}
		msg, _, _ := d.write(o, o2)
		wantStatus(t, d.process(o.did, msg, data), 202, "Accepted")
	}
	f := map[string]any{"schema": "https://example.com/note"}
	if r := d.query(&o, f, nil); len(r.Entries) != 10 {
		t.Fatalf("owner sees %d", len(r.Entries))
	}
	if r := d.query(nil, f, nil); len(r.Entries) != 5 {
		t.Fatalf("anonymous sees %d", len(r.Entries))
	}
	if r := d.query(&alice, f, nil); len(r.Entries) != 6 {
		t.Fatalf("alice (recipient of one) sees %d", len(r.Entries))
	}
	if r := d.query(&bob, f, nil); len(r.Entries) != 5 {
		t.Fatalf("bob sees %d", len(r.Entries))
	}
	wantStatus(t, d.query(nil, map[string]any{"published": false}, nil), 401, "AuthenticateJwsMissing: ")

	// Tag filters, ranges and arrays.
	if r := d.query(&o, map[string]any{"tags": map[string]any{"n": map[string]any{"gte": 3, "lt": 6}}}, nil); len(r.Entries) != 3 {
		t.Fatalf("tag range: %d", len(r.Entries))
	}
	if r := d.query(&o, map[string]any{"tags": map[string]any{"kind": "k1"}}, nil); len(r.Entries) != 3 {
		t.Fatalf("array tag: %d", len(r.Entries))
	}
	if r := d.query(&o, map[string]any{"tags": map[string]any{"kind": map[string]any{"startsWith": "k"}}}, nil); len(r.Entries) != 10 {
		t.Fatalf("startsWith tag: %d", len(r.Entries))
	}
	if r := d.query(&o, map[string]any{"dataSize": map[string]any{"gt": 100}}, nil); len(r.Entries) != 0 {
		t.Fatalf("dataSize: %d", len(r.Entries))
	}

	// Pagination, both directions.
	for _, sort := range []string{"createdAscending", "createdDescending", "publishedDescending"} {
		var seen []int
		var cursor any
		for pages := 0; pages < 10; pages++ {
			pag := map[string]any{"limit": 3}
			if cursor != nil {
				pag["cursor"] = cursor
			}
			r := d.query(&o, f, map[string]any{"pagination": pag, "dateSort": sort})
			wantStatus(t, r, 200, "OK")
			for _, e := range r.Entries {
				var m struct {
					Descriptor struct {
						Tags struct{ N int } `json:"tags"`
					} `json:"descriptor"`
				}
				json.Unmarshal(e, &m)
				seen = append(seen, m.Descriptor.Tags.N)
			}
			if r.Cursor == nil {
				break
			}
			cursor = r.Cursor
		}
		want := map[string]string{
			"createdAscending":    "[0 1 2 3 4 5 6 7 8 9]",
			"createdDescending":   "[9 8 7 6 5 4 3 2 1 0]",
			"publishedDescending": "[8 6 4 2 0]",
		}[sort]
		if fmt.Sprint(seen) != want {
			t.Errorf("%s: %v, want %s", sort, seen, want)
		}
	}
	r := d.query(&o, map[string]any{"published": false}, map[string]any{"dateSort": "publishedAscending"})
	wantStatus(t, r, 400, "RecordsQueryParseFilterPublishedSortInvalid: ")
}

func TestRecordsReadVisibility(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	alice := d.newPersona()
	msg, rid, _ := d.write(o, writeOpts{data: []byte("secret")})
	wantStatus(t, d.process(o.did, msg, []byte("secret")), 202, "")
	read := func(p *persona, f map[string]any) *Reply {
		return d.process(o.did, d.msg(p, "Records", "Read", map[string]any{"filter": f}), nil)
	}
	wantStatus(t, read(nil, map[string]any{"recordId": rid}), 401, "RecordsReadAuthorizationFailed: ")
	wantStatus(t, read(&alice, map[string]any{"recordId": rid}), 401, "RecordsReadAuthorizationFailed: ")
	wantStatus(t, read(&o, map[string]any{"recordId": "bafynothing"}), 404, "Not Found")
	msg2, _, _ := d.write(o, writeOpts{data: []byte("open"), published: true})
	wantStatus(t, d.process(o.did, msg2, []byte("open")), 202, "")
	wantStatus(t, read(&o, map[string]any{"schema": "https://example.com/note"}), 400, "RecordsReadReturnedMultiple: ")
	r := read(nil, map[string]any{"schema": "https://example.com/note", "published": true})
	wantStatus(t, r, 200, "OK")
	if string(readAll(t, r)) != "open" {
		t.Fatal("wrong data")
	}
}

func TestRecordsDelete(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	alice := d.newPersona()
	msg, rid, _ := d.write(o, writeOpts{data: []byte("x")})
	wantStatus(t, d.process(o.did, msg, []byte("x")), 202, "")
	del := func(p persona, prune bool) *Reply {
		return d.process(o.did, d.msg(&p, "Records", "Delete", map[string]any{"recordId": rid, "prune": prune}), nil)
	}
	wantStatus(t, d.process(o.did, d.msg(&o, "Records", "Delete", map[string]any{"recordId": "bafynone", "prune": false}), nil), 404, "Not Found")
	wantStatus(t, del(alice, false), 401, "RecordsDeleteAuthorizationFailed: ")
	wantStatus(t, del(o, false), 202, "Accepted")
	wantStatus(t, del(o, false), 404, "Not Found")
	r := d.process(o.did, d.msg(&o, "Records", "Read", map[string]any{"filter": map[string]any{"recordId": rid}}), nil)
	wantStatus(t, r, 404, "Not Found")
	if entryField(t, r.Entry, "recordsDelete") == nil || entryField(t, r.Entry, "initialWrite") == nil {
		t.Fatalf("deleted read entry = %s", r.Entry)
	}
	if q := d.query(&o, map[string]any{"recordId": rid}, nil); len(q.Entries) != 0 {
		t.Fatal("deleted record is queryable")
	}
	up, _, _ := d.write(o, writeOpts{data: []byte("y"), recordID: rid, dateCreated: d.tsOf(msg)})
	wantStatus(t, d.process(o.did, up, []byte("y")), 400, "RecordsWriteNotAllowedAfterDelete: ")
	// The event log holds the initial write and the delete.
	mq := d.process(o.did, d.msg(&o, "Messages", "Query", map[string]any{"filters": []any{map[string]any{"interface": "Records"}}}), nil)
	if len(mq.Entries) != 2 {
		t.Fatalf("events: %s", mq.Entries)
	}
}

func BenchmarkRecordsWriteFlat(b *testing.B) {
	d := newTestDWN(b)
	o := d.owner
	type pre struct{ msg, data []byte }
	msgs := make([]pre, b.N)
	for i := range msgs {
		data := []byte(fmt.Sprintf(`{"note":"hello %d","pad":"0123456789012345678901234567890123456789012345678901234567890123456789"}`, i))
		m, _, _ := d.write(o, writeOpts{data: data})
		msgs[i] = pre{m, data}
	}
	b.ResetTimer()
	for i := range msgs {
		if r := d.process(o.did, msgs[i].msg, msgs[i].data); r.Status.Code != 202 {
			b.Fatal(r.Status)
		}
	}
}

func BenchmarkRecordsQuerySchemaLimit20(b *testing.B) {
	d := newTestDWN(b)
	o := d.owner
	for i := 0; i < 10_000; i++ {
		data := []byte(fmt.Sprintf(`{"n":%d}`, i))
		schema := "https://example.com/note"
		if i%2 == 1 {
			schema = "https://example.com/other"
		}
		m, _, _ := d.write(o, writeOpts{data: data, schema: schema})
		if r := d.process(o.did, m, data); r.Status.Code != 202 {
			b.Fatal(r.Status)
		}
	}
	q := d.msg(&o, "Records", "Query", map[string]any{"filter": map[string]any{"schema": "https://example.com/note"}, "pagination": map[string]any{"limit": 20}})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := d.process(o.did, q, nil)
		if r.Status.Code != 200 || len(r.Entries) != 20 {
			b.Fatal(r.Status, len(r.Entries))
		}
	}
}
