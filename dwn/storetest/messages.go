package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/anya-org/anya/dwn"
)

// RunMessageStore runs the MessageStore cases; open returns a fresh, empty
// store for each case and closes it at the test's cleanup.
func RunMessageStore(t *testing.T, open func(t *testing.T) dwn.MessageStore) {
	t.Run("QueryMatchesBruteForce", func(t *testing.T) { testQueryMatchesBruteForce(t, open(t)) })
	t.Run("PutReplaceDelete", func(t *testing.T) { testPutReplaceDelete(t, open(t)) })
	t.Run("TenantIsolation", func(t *testing.T) { testTenantIsolation(t, open(t)) })
	t.Run("ValueSemantics", func(t *testing.T) { testValueSemantics(t, open(t)) })
	t.Run("CursorSurvivesDelete", func(t *testing.T) { testCursorSurvivesDelete(t, open(t)) })
	t.Run("RejectsBadShapes", func(t *testing.T) { testRejectsBadShapes(t, open(t)) })
}

// RandomMessage makes message i with indexes shaped like a RecordsWrite's:
// a few schemas, protocols and authors, numbers, a boolean, dates, and a
// tag that is sometimes an array. CIDs are unique and unordered.
func RandomMessage(r *rand.Rand, i int) *dwn.StoredMessage {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	created := base.Add(time.Duration(r.IntN(1000)) * time.Minute)
	ix := dwn.Indexes{
		"interface":        "Records",
		"method":           "Write",
		"schema":           fmt.Sprintf("https://example.com/s%d", r.IntN(3)),
		"protocol":         fmt.Sprintf("https://example.com/p%d", r.IntN(2)),
		"author":           fmt.Sprintf("did:key:a%d", r.IntN(4)),
		"dataSize":         float64(r.IntN(1000)),
		"dateCreated":      created.Format("2006-01-02T15:04:05.000000Z"),
		"messageTimestamp": created.Add(time.Duration(r.IntN(100)) * time.Second).Format("2006-01-02T15:04:05.000000Z"),
		"published":        r.IntN(2) == 0,
		"tag.score":        float64(r.IntN(20) - 10),
	}
	if ix["published"] == true {
		ix["datePublished"] = created.Add(time.Hour).Format("2006-01-02T15:04:05.000000Z")
	}
	if r.IntN(3) == 0 {
		ix["tag.kind"] = []any{"memo", fmt.Sprintf("k%d", r.IntN(3))}
	} else {
		ix["tag.kind"] = fmt.Sprintf("k%d", r.IntN(3))
	}
	cid := fmt.Sprintf("bafy%04d", r.IntN(10000)*1000+i)
	return &dwn.StoredMessage{CID: cid, Message: []byte(`{"n":` + fmt.Sprint(i) + `}`), Indexes: ix}
}

func randomCondition(r *rand.Rand, prop string) dwn.Condition {
	pick := func() any {
		switch prop {
		case "schema":
			return fmt.Sprintf("https://example.com/s%d", r.IntN(4))
		case "author":
			return fmt.Sprintf("did:key:a%d", r.IntN(5))
		case "published":
			return r.IntN(2) == 0
		case "tag.kind":
			return []string{"memo", "k0", "k1", "k2"}[r.IntN(4)]
		case "dataSize", "tag.score":
			return float64(r.IntN(1000) - 10)
		default: // dates
			return time.Date(2026, 1, 1, 0, r.IntN(1100), 0, 0, time.UTC).Format("2006-01-02T15:04:05.000000Z")
		}
	}
	switch prop {
	case "dataSize", "tag.score", "dateCreated", "messageTimestamp", "datePublished":
		c := dwn.Condition{}
		switch r.IntN(4) {
		case 0:
			c.GTE, c.LT = pick(), pick()
		case 1:
			c.GT = pick()
		case 2:
			c.GT, c.LTE = pick(), pick()
		default:
			c.LTE = pick()
		}
		return c
	case "tag.kind":
		if r.IntN(3) == 0 {
			return dwn.Condition{StartsWith: "k"}
		}
	}
	if r.IntN(4) == 0 {
		return dwn.Condition{OneOf: []any{pick(), pick()}}
	}
	return dwn.Condition{Equal: pick()}
}

// PageAll follows cursors until the store says there is no more, checking
// each page's size and cursor.
func PageAll(t testing.TB, s dwn.MessageStore, tenant string, filters []dwn.Filter, sort dwn.Sort, limit int) []string {
	t.Helper()
	var got []string
	var cur *dwn.Cursor
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("paging does not end")
		}
		msgs, next, err := s.Query(context.Background(), tenant, filters, sort, dwn.Page{Limit: limit, Cursor: cur})
		if err != nil {
			t.Fatalf("query %+v sort %+v page %d: %v", filters, sort, pages, err)
		}
		if limit > 0 && len(msgs) > limit {
			t.Fatalf("page of %d exceeds limit %d", len(msgs), limit)
		}
		for _, m := range msgs {
			got = append(got, m.CID)
		}
		if next == nil {
			return got
		}
		if len(msgs) == 0 || next.MessageCID != msgs[len(msgs)-1].CID {
			t.Fatalf("cursor %v does not name the page's last message", next)
		}
		if !reflect.DeepEqual(next.Value, msgs[len(msgs)-1].Indexes[sort.Property]) {
			t.Fatalf("cursor value %v is not the last message's %s %v", next.Value, sort.Property, msgs[len(msgs)-1].Indexes[sort.Property])
		}
		cur = next
	}
}

// The store answers random queries exactly as a brute-force scan does, in
// both sort directions and across pages of several sizes.
func testQueryMatchesBruteForce(t *testing.T, s dwn.MessageStore) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	var all []*dwn.StoredMessage
	for i := range 400 {
		m := RandomMessage(r, i)
		all = append(all, m)
		if err := s.Put(ctx, "did:key:tenant", clone(m)); err != nil {
			t.Fatal(err)
		}
		// Another tenant's messages must never show.
		if err := s.Put(ctx, "did:key:other", RandomMessage(r, i)); err != nil {
			t.Fatal(err)
		}
	}
	props := []string{"schema", "author", "published", "tag.kind", "dataSize", "tag.score", "dateCreated", "messageTimestamp", "datePublished"}
	nonEmpty, paged := 0, 0
	for q := range 300 {
		var filters []dwn.Filter
		for range 1 + r.IntN(2) {
			f := dwn.Filter{}
			for range 1 + r.IntN(3) {
				p := props[r.IntN(len(props))]
				f[p] = randomCondition(r, p)
			}
			filters = append(filters, f)
		}
		sort := dwn.Sort{Property: dwn.SortProperties[r.IntN(len(dwn.SortProperties))], Descending: r.IntN(2) == 0}
		want := Expected(all, filters, sort)
		limit := []int{0, 1, 3, 20}[r.IntN(4)]
		if limit == 1 && len(want) > 40 {
			limit = 7 // keep page counts (round trips to a server) bounded
		}
		got := PageAll(t, s, "did:key:tenant", filters, sort, limit)
		if !slices.Equal(got, want) {
			t.Fatalf("query %d %+v sort %+v limit %d:\n got %d %v\nwant %d %v", q, filters, sort, limit, len(got), got, len(want), want)
		}
		if len(want) > 0 {
			nonEmpty++
		}
		if limit > 0 && len(want) > limit {
			paged++
		}
	}
	// The random queries must exercise something.
	if nonEmpty < 100 || paged < 50 {
		t.Fatalf("only %d of 300 random queries matched anything and %d needed paging", nonEmpty, paged)
	}
	t.Logf("%d of 300 random queries matched messages; %d of them took several pages", nonEmpty, paged)
}

func clone(m *dwn.StoredMessage) *dwn.StoredMessage {
	c := *m
	c.Message = slices.Clone(m.Message)
	c.Indexes = dwn.Indexes{}
	for k, v := range m.Indexes {
		if a, ok := v.([]any); ok {
			v = slices.Clone(a)
		}
		c.Indexes[k] = v
	}
	return &c
}

func testPutReplaceDelete(t *testing.T, s dwn.MessageStore) {
	ctx := context.Background()
	m := &dwn.StoredMessage{
		CID:         "bafyA",
		Message:     []byte(`{"descriptor":{"interface":"Records"}}`),
		EncodedData: "aGVsbG8",
		Indexes: dwn.Indexes{
			"schema": "s1", "dateCreated": "2026-01-01T00:00:00.000000Z",
			"dataSize": 5.0, "published": true, "tag.list": []any{"a", 2.5},
		},
	}
	if err := s.Put(ctx, "t", clone(m)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "t", "bafyA")
	if err != nil {
		t.Fatal(err)
	}
	if got.CID != m.CID || string(got.Message) != string(m.Message) || got.EncodedData != m.EncodedData || !reflect.DeepEqual(got.Indexes, m.Indexes) {
		t.Fatalf("get returned\n%+v\nwant\n%+v", got, m)
	}
	bySchema := func(schema string) []string {
		return PageAll(t, s, "t", []dwn.Filter{{"schema": {Equal: schema}}}, dwn.Sort{Property: "dateCreated"}, 0)
	}
	if got := bySchema("s1"); !slices.Equal(got, []string{"bafyA"}) {
		t.Fatalf("after put: %v", got)
	}
	// Replacing the message moves it between index entries.
	m2 := &dwn.StoredMessage{CID: "bafyA", Message: []byte(`{}`), Indexes: dwn.Indexes{"schema": "s2", "dateCreated": "2026-01-02T00:00:00.000000Z"}}
	if err := s.Put(ctx, "t", clone(m2)); err != nil {
		t.Fatal(err)
	}
	if got := bySchema("s1"); len(got) != 0 {
		t.Fatalf("stale index entry after replace: %v", got)
	}
	if got := bySchema("s2"); !slices.Equal(got, []string{"bafyA"}) {
		t.Fatalf("after replace: %v", got)
	}
	old, _, err := s.Query(ctx, "t", []dwn.Filter{{"dateCreated": {LT: "2026-01-02"}}}, dwn.Sort{Property: "dateCreated"}, dwn.Page{})
	if err != nil || len(old) != 0 {
		t.Fatalf("old sort value still indexed after replace: %v %v", old, err)
	}
	got, err = s.Get(ctx, "t", "bafyA")
	if err != nil || got.Indexes["schema"] != "s2" || got.EncodedData != "" || got.Indexes["dataSize"] != nil {
		t.Fatalf("after replace: %+v %v", got, err)
	}
	if err := s.Delete(ctx, "t", "bafyA"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "t", "bafyA"); err != nil {
		t.Fatalf("deleting a missing message: %v", err)
	}
	if _, err := s.Get(ctx, "t", "bafyA"); !errors.Is(err, dwn.ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if got := bySchema("s2"); len(got) != 0 {
		t.Fatalf("index entry survives delete: %v", got)
	}
	if err := s.Put(ctx, "t", &dwn.StoredMessage{Message: []byte(`{}`), Indexes: dwn.Indexes{}}); err == nil {
		t.Fatalf("a message without a CID was stored")
	}
}

func testTenantIsolation(t *testing.T, s dwn.MessageStore) {
	ctx := context.Background()
	ix := func(schema string) dwn.Indexes {
		return dwn.Indexes{"schema": schema, "dateCreated": "2026-01-01T00:00:00.000000Z"}
	}
	for _, tenant := range []string{"did:key:a", "did:key:b"} {
		if err := s.Put(ctx, tenant, &dwn.StoredMessage{CID: "bafyShared", Message: []byte(`"` + tenant + `"`), Indexes: ix(tenant)}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.Get(ctx, "did:key:a", "bafyShared")
	if err != nil || string(got.Message) != `"did:key:a"` {
		t.Fatalf("tenant a reads %+v %v", got, err)
	}
	if _, err := s.Get(ctx, "did:key:c", "bafyShared"); !errors.Is(err, dwn.ErrNotFound) {
		t.Fatalf("an unknown tenant reads another's message: %v", err)
	}
	if got := PageAll(t, s, "did:key:a", []dwn.Filter{{"schema": {Equal: "did:key:b"}}}, dwn.Sort{Property: "dateCreated"}, 0); len(got) != 0 {
		t.Fatalf("tenant a finds tenant b's message: %v", got)
	}
	if err := s.Delete(ctx, "did:key:a", "bafyShared"); err != nil {
		t.Fatal(err)
	}
	got, err = s.Get(ctx, "did:key:b", "bafyShared")
	if err != nil || string(got.Message) != `"did:key:b"` {
		t.Fatalf("delete in tenant a reached tenant b: %+v %v", got, err)
	}
	if got := PageAll(t, s, "did:key:b", []dwn.Filter{{"schema": {Equal: "did:key:b"}}}, dwn.Sort{Property: "dateCreated"}, 0); !slices.Equal(got, []string{"bafyShared"}) {
		t.Fatalf("tenant b's index after tenant a's delete: %v", got)
	}
}

// testValueSemantics pins the edges of JavaScript value comparison: kinds
// never meet, strings compare bytewise, Go integers are numbers, arrays
// match by any element, and a message without the sort property is not
// in that sort's results.
func testValueSemantics(t *testing.T, s dwn.MessageStore) {
	ctx := context.Background()
	msgs := []*dwn.StoredMessage{
		{CID: "bafy01", Indexes: dwn.Indexes{"v": "10", "dateCreated": "2026-01-01T00:00:01Z"}},
		{CID: "bafy02", Indexes: dwn.Indexes{"v": 10.0, "dateCreated": "2026-01-01T00:00:02Z", "datePublished": "2026-02-01T00:00:00Z"}},
		{CID: "bafy03", Indexes: dwn.Indexes{"v": true, "dateCreated": "2026-01-01T00:00:03Z"}},
		{CID: "bafy04", Indexes: dwn.Indexes{"v": "z", "dateCreated": "2026-01-01T00:00:04Z"}},
		{CID: "bafy05", Indexes: dwn.Indexes{"v": "é", "dateCreated": "2026-01-01T00:00:05Z"}},  // 0xC3 0xA9: after "z" bytewise
		{CID: "bafy06", Indexes: dwn.Indexes{"v": "Z", "dateCreated": "2026-01-01T00:00:06Z"}},  // before "a" bytewise
		{CID: "bafy07", Indexes: dwn.Indexes{"v": -2.5, "dateCreated": "2026-01-01T00:00:07Z"}}, // negative number
		{CID: "bafy08", Indexes: dwn.Indexes{"v": []any{"x1", 3.0}, "dateCreated": "2026-01-01T00:00:08Z"}},
		{CID: "bafy09", Indexes: dwn.Indexes{"v": false, "dateCreated": "2026-01-01T00:00:09Z"}},
		{CID: "bafy10", Indexes: dwn.Indexes{"v": 0.0, "dateCreated": "2026-01-01T00:00:10Z"}},
		{CID: "bafy11", Indexes: dwn.Indexes{"v": "a", "dateCreated": "2026-01-01T00:00:10Z"}}, // ties bafy10's sort value
		{CID: "bafy12", Indexes: dwn.Indexes{"v": 1e300, "dateCreated": "2026-01-01T00:00:11Z", "datePublished": "2026-01-15T00:00:00Z"}},
	}
	for _, m := range msgs {
		m.Message = []byte(`{}`)
		if err := s.Put(ctx, "t", clone(m)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		c    dwn.Condition
	}{
		{"equal string 10", dwn.Condition{Equal: "10"}},
		{"equal number 10", dwn.Condition{Equal: 10.0}},
		{"equal Go int 10", dwn.Condition{Equal: 10}},
		{"equal -0", dwn.Condition{Equal: math.Copysign(0, -1)}},
		{"equal true", dwn.Condition{Equal: true}},
		{"equal false", dwn.Condition{Equal: false}},
		{"equal array element", dwn.Condition{Equal: 3}},
		{"oneOf mixed kinds", dwn.Condition{OneOf: []any{"z", 10, false}}},
		{"gt number", dwn.Condition{GT: 0}},
		{"gte number", dwn.Condition{GTE: 0}},
		{"lt number", dwn.Condition{LT: 5.5}},
		{"number range", dwn.Condition{GT: -3, LTE: 10}},
		{"gt string", dwn.Condition{GT: "a"}},
		{"string range", dwn.Condition{GTE: "Z", LT: "z"}},
		{"lt string a", dwn.Condition{LT: "a"}},
		{"gt false", dwn.Condition{GT: false}},
		{"lte true", dwn.Condition{LTE: true}},
		{"range of mixed kinds", dwn.Condition{GT: "0", LT: 100}},
		{"startsWith x", dwn.Condition{StartsWith: "x"}},
		{"startsWith 1", dwn.Condition{StartsWith: "1"}},
		{"startsWith é", dwn.Condition{StartsWith: "é"}},
	}
	for _, sort := range []dwn.Sort{{Property: "dateCreated"}, {Property: "dateCreated", Descending: true}, {Property: "datePublished"}} {
		for _, tc := range cases {
			filters := []dwn.Filter{{"v": tc.c}}
			want := Expected(msgs, filters, sort)
			for _, limit := range []int{0, 1, 2} {
				got := PageAll(t, s, "t", filters, sort, limit)
				if !slices.Equal(got, want) {
					t.Errorf("%s sort %+v limit %d: got %v, want %v", tc.name, sort, limit, got, want)
				}
			}
		}
	}
	// Ranges on the sort property itself, with and without another condition.
	sort := dwn.Sort{Property: "dateCreated"}
	for _, f := range []dwn.Filter{
		{"dateCreated": {GT: "2026-01-01T00:00:03Z", LTE: "2026-01-01T00:00:10Z"}},
		{"dateCreated": {StartsWith: "2026-01-01T00:00:1"}},
		{"dateCreated": {OneOf: []any{"2026-01-01T00:00:10Z", "2026-01-01T00:00:01Z", 5}}},
		{"dateCreated": {Equal: "2026-01-01T00:00:10Z"}, "v": {Equal: "a"}},
		{"dateCreated": {GT: 5}},
		{"dateCreated": {GTE: "2026"}, "v": {GTE: 0}},
	} {
		want := Expected(msgs, []dwn.Filter{f}, sort)
		if got := PageAll(t, s, "t", []dwn.Filter{f}, sort, 2); !slices.Equal(got, want) {
			t.Errorf("%+v: got %v, want %v", f, got, want)
		}
	}
}

// A cursor is a position, not a reference: paging goes on after the
// message it names is deleted.
func testCursorSurvivesDelete(t *testing.T, s dwn.MessageStore) {
	ctx := context.Background()
	var want []string
	for i := range 10 {
		cid := fmt.Sprintf("bafy%02d", i)
		want = append(want, cid)
		m := &dwn.StoredMessage{CID: cid, Message: []byte(`{}`), Indexes: dwn.Indexes{"schema": "s", "messageTimestamp": fmt.Sprintf("2026-01-01T00:00:%02dZ", i)}}
		if err := s.Put(ctx, "t", m); err != nil {
			t.Fatal(err)
		}
	}
	filters := []dwn.Filter{{"schema": {Equal: "s"}}}
	for _, desc := range []bool{false, true} {
		sort := dwn.Sort{Property: "messageTimestamp", Descending: desc}
		page, next, err := s.Query(ctx, "t", filters, sort, dwn.Page{Limit: 4})
		if err != nil || len(page) != 4 || next == nil {
			t.Fatalf("first page: %d %v %v", len(page), next, err)
		}
		if err := s.Delete(ctx, "t", next.MessageCID); err != nil {
			t.Fatal(err)
		}
		rest, last, err := s.Query(ctx, "t", filters, sort, dwn.Page{Limit: 100, Cursor: next})
		if err != nil || last != nil {
			t.Fatalf("rest: %v %v", last, err)
		}
		exp := slices.Clone(want)
		if desc {
			slices.Reverse(exp)
		}
		var got []string
		for _, m := range rest {
			got = append(got, m.CID)
		}
		if !slices.Equal(got, exp[4:]) {
			t.Fatalf("after deleting the cursor's message (descending %v): got %v, want %v", desc, got, exp[4:])
		}
		want = slices.DeleteFunc(want, func(c string) bool { return c == next.MessageCID })
	}
}

func testRejectsBadShapes(t *testing.T, s dwn.MessageStore) {
	ctx := context.Background()
	sort := dwn.Sort{Property: "dateCreated"}
	cases := map[string]struct {
		filters []dwn.Filter
		sort    dwn.Sort
		page    dwn.Page
	}{
		"no filter":         {nil, sort, dwn.Page{}},
		"empty filter":      {[]dwn.Filter{{}}, sort, dwn.Page{}},
		"two forms":         {[]dwn.Filter{{"schema": {Equal: "a", StartsWith: "b"}}}, sort, dwn.Page{}},
		"no form":           {[]dwn.Filter{{"schema": {}}}, sort, dwn.Page{}},
		"empty oneOf":       {[]dwn.Filter{{"schema": {OneOf: []any{}}}}, sort, dwn.Page{}},
		"gt and gte":        {[]dwn.Filter{{"dataSize": {GT: 1, GTE: 2}}}, sort, dwn.Page{}},
		"unknown sort":      {[]dwn.Filter{{"schema": {Equal: "a"}}}, dwn.Sort{Property: "schema"}, dwn.Page{}},
		"negative limit":    {[]dwn.Filter{{"schema": {Equal: "a"}}}, sort, dwn.Page{Limit: -1}},
		"unindexable value": {[]dwn.Filter{{"schema": {Equal: []int{1}}}}, sort, dwn.Page{}},
		"cursor without id": {[]dwn.Filter{{"schema": {Equal: "a"}}}, sort, dwn.Page{Cursor: &dwn.Cursor{Value: "x"}}},
	}
	for name, tc := range cases {
		if _, _, err := s.Query(ctx, "t", tc.filters, tc.sort, tc.page); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
