package dwn

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

func openPebble(t testing.TB, dir string) *pebble.DB {
	t.Helper()
	db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func newTestStore(t testing.TB) *PebbleStore {
	t.Helper()
	db := openPebble(t, filepath.Join(t.TempDir(), "db"))
	t.Cleanup(func() { db.Close() })
	return NewPebbleStore(db)
}

var ctx = context.Background()

// randomMessage makes a message with indexes shaped like a RecordsWrite's.
func randomMessage(r *rand.Rand, i int) *StoredMessage {
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	created := base.Add(time.Duration(r.IntN(1000)) * time.Minute)
	ix := Indexes{
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
	cid := fmt.Sprintf("bafy%04d", r.IntN(10000)*1000+i) // unique, unordered
	return &StoredMessage{CID: cid, Message: []byte(`{"n":` + fmt.Sprint(i) + `}`), Indexes: ix}
}

func randomCondition(r *rand.Rand, prop string) Condition {
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
		c := Condition{}
		switch r.IntN(3) {
		case 0:
			c.GTE, c.LT = pick(), pick()
		case 1:
			c.GT = pick()
		default:
			c.LTE = pick()
		}
		return c
	case "tag.kind":
		if r.IntN(3) == 0 {
			return Condition{StartsWith: "k"}
		}
	}
	if r.IntN(4) == 0 {
		return Condition{OneOf: []any{pick(), pick()}}
	}
	return Condition{Equal: pick()}
}

// expected answers a query by brute force over every message.
func expected(all []*StoredMessage, filters []Filter, sort Sort) []string {
	type row struct {
		order []byte
		cid   string
	}
	var rows []row
	for _, m := range all {
		sv, ok := m.Indexes[sort.Property]
		if !ok {
			continue
		}
		match := false
		for _, f := range filters {
			match = match || f.matches(m.Indexes)
		}
		if match {
			enc, _ := encodeValue(nil, sv)
			rows = append(rows, row{append(enc, m.CID...), m.CID})
		}
	}
	slices.SortFunc(rows, func(a, b row) int {
		c := bytes.Compare(a.order, b.order)
		if sort.Descending {
			return -c
		}
		return c
	})
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.cid
	}
	return out
}

// pageAll follows cursors until the store says there is no more.
func pageAll(t *testing.T, s MessageStore, tenant string, filters []Filter, sort Sort, limit int) []string {
	t.Helper()
	var got []string
	var cur *Cursor
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatalf("paging does not end")
		}
		msgs, next, err := s.Query(ctx, tenant, filters, sort, Page{Limit: limit, Cursor: cur})
		if err != nil {
			t.Fatal(err)
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
		cur = next
	}
}

// The store answers random queries exactly as a brute-force scan does,
// in every sort order and across pages.
func TestQueryMatchesBruteForce(t *testing.T) {
	s := newTestStore(t)
	r := rand.New(rand.NewPCG(1, 2))
	var all []*StoredMessage
	for i := range 400 {
		m := randomMessage(r, i)
		all = append(all, m)
		if err := s.Put(ctx, "did:key:tenant", m); err != nil {
			t.Fatal(err)
		}
		// Another tenant's messages must never show.
		if err := s.Put(ctx, "did:key:other", randomMessage(r, i)); err != nil {
			t.Fatal(err)
		}
	}
	props := []string{"schema", "author", "published", "tag.kind", "dataSize", "tag.score", "dateCreated", "messageTimestamp", "datePublished"}
	for q := range 300 {
		var filters []Filter
		for range 1 + r.IntN(2) {
			f := Filter{}
			for range 1 + r.IntN(3) {
				p := props[r.IntN(len(props))]
				f[p] = randomCondition(r, p)
			}
			filters = append(filters, f)
		}
		sort := Sort{Property: SortProperties[r.IntN(len(SortProperties))], Descending: r.IntN(2) == 0}
		limit := []int{0, 1, 3, 20}[r.IntN(4)]
		want := expected(all, filters, sort)
		got := pageAll(t, s, "did:key:tenant", filters, sort, limit)
		if !slices.Equal(got, want) {
			t.Fatalf("query %d %+v sort %+v limit %d:\n got %d %v\nwant %d %v", q, filters, sort, limit, len(got), got, len(want), want)
		}
	}
}

func TestPutReplaceDeleteAndReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db := openPebble(t, dir)
	s := NewPebbleStore(db)
	m := &StoredMessage{CID: "bafyA", Message: []byte(`{}`), Indexes: Indexes{"schema": "s1", "dateCreated": "2026-01-01T00:00:00.000000Z"}}
	if err := s.Put(ctx, "t", m); err != nil {
		t.Fatal(err)
	}
	bySchema := func(schema string) []string {
		return pageAll(t, s, "t", []Filter{{"schema": {Equal: schema}}}, Sort{Property: "dateCreated"}, 0)
	}
	if got := bySchema("s1"); !slices.Equal(got, []string{"bafyA"}) {
		t.Fatalf("after put: %v", got)
	}
	// Replacing the message moves it between index entries.
	m2 := &StoredMessage{CID: "bafyA", Message: []byte(`{}`), Indexes: Indexes{"schema": "s2", "dateCreated": "2026-01-01T00:00:00.000000Z"}}
	if err := s.Put(ctx, "t", m2); err != nil {
		t.Fatal(err)
	}
	if got := bySchema("s1"); len(got) != 0 {
		t.Fatalf("stale index entry after replace: %v", got)
	}
	if got := bySchema("s2"); !slices.Equal(got, []string{"bafyA"}) {
		t.Fatalf("after replace: %v", got)
	}
	db.Close()

	db = openPebble(t, dir)
	defer db.Close()
	s = NewPebbleStore(db)
	got, err := s.Get(ctx, "t", "bafyA")
	if err != nil || got.Indexes["schema"] != "s2" {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
	if err := s.Delete(ctx, "t", "bafyA"); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "t", "bafyA"); err != nil {
		t.Fatalf("deleting a missing message: %v", err)
	}
	if _, err := s.Get(ctx, "t", "bafyA"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	if got := bySchema("s2"); len(got) != 0 {
		t.Fatalf("index entry survives delete: %v", got)
	}
	iter, _ := db.NewIter(&pebble.IterOptions{LowerBound: prefixIndex, UpperBound: successor(prefixIndex)})
	defer iter.Close()
	if iter.First() {
		t.Fatalf("index keys left after delete: %q", iter.Key())
	}
}

func TestQueryRejectsBadShapes(t *testing.T) {
	s := newTestStore(t)
	sort := Sort{Property: "dateCreated"}
	cases := map[string]struct {
		filters []Filter
		sort    Sort
		page    Page
	}{
		"no filter":         {nil, sort, Page{}},
		"empty filter":      {[]Filter{{}}, sort, Page{}},
		"two forms":         {[]Filter{{"schema": {Equal: "a", StartsWith: "b"}}}, sort, Page{}},
		"unknown sort":      {[]Filter{{"schema": {Equal: "a"}}}, Sort{Property: "schema"}, Page{}},
		"negative limit":    {[]Filter{{"schema": {Equal: "a"}}}, sort, Page{Limit: -1}},
		"unindexable value": {[]Filter{{"schema": {Equal: []int{1}}}}, sort, Page{}},
		"cursor without id": {[]Filter{{"schema": {Equal: "a"}}}, sort, Page{Cursor: &Cursor{Value: "x"}}},
	}
	for name, tc := range cases {
		if _, _, err := s.Query(ctx, "t", tc.filters, tc.sort, tc.page); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// The index encoding orders values as JavaScript compares them.
func TestIndexEncodingOrder(t *testing.T) {
	ordered := [][]any{
		{-1e300, -5.5, -1.0, 0.0, 1e-9, 1.0, 2.0, 1e300},
		{"", "\x00", "\x00\x00", "\x01", "a", "a\x00", "ab", "b"},
		{false, true},
	}
	for _, vals := range ordered {
		for i := 1; i < len(vals); i++ {
			if c := compareValues(vals[i-1], vals[i]); c >= 0 {
				t.Errorf("%q !< %q", vals[i-1], vals[i])
			}
		}
	}
	if compareValues(0.0, -0.0*1) != 0 {
		t.Errorf("0 and -0 differ")
	}
	for _, v := range []any{"a\x00b", 3.5, true, "", "x\x00\x01y"} {
		enc, _ := encodeValue(nil, v)
		n, err := valueLen(append(enc, "tail"...))
		if err != nil || n != len(enc) {
			t.Errorf("valueLen(%q) = %d, %v; want %d", v, n, err, len(enc))
		}
	}
}

// BenchmarkQueryBySchema measures a limit-20 RecordsQuery-shaped lookup in
// a tenant of 100,000 messages.
func BenchmarkQueryBySchema(b *testing.B) {
	s := newTestStore(b)
	r := rand.New(rand.NewPCG(3, 4))
	batch := s.db.NewBatch()
	for i := range 100_000 {
		m := randomMessage(r, i)
		m.CID = fmt.Sprintf("bafy%07d", i)
		keys, _ := indexKeys("t", m)
		v, _ := json.Marshal(m)
		batch.Set(recordKey("t", m.CID), v, nil)
		for _, k := range keys {
			batch.Set(k, nil, nil)
		}
		if batch.Len() > 32<<20 {
			batch.Commit(pebble.NoSync)
			batch = s.db.NewBatch()
		}
	}
	batch.Commit(pebble.Sync)
	filters := []Filter{{"interface": {Equal: "Records"}, "method": {Equal: "Write"}, "schema": {Equal: "https://example.com/s1"}}}
	b.ResetTimer()
	for range b.N {
		msgs, next, err := s.Query(ctx, "t", filters, Sort{Property: "dateCreated"}, Page{Limit: 20})
		if err != nil || len(msgs) != 20 || next == nil {
			b.Fatalf("%d %v %v", len(msgs), next, err)
		}
	}
}

func BenchmarkPut(b *testing.B) {
	s := newTestStore(b)
	r := rand.New(rand.NewPCG(5, 6))
	msgs := make([]*StoredMessage, b.N)
	for i := range msgs {
		msgs[i] = randomMessage(r, i)
		msgs[i].CID = fmt.Sprintf("bafy%09d", i)
	}
	b.ResetTimer()
	for _, m := range msgs {
		if err := s.Put(ctx, "t", m); err != nil {
			b.Fatal(err)
		}
	}
}

// quietLogger keeps pebble's informational lines out of test output.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
