package dwn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
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

// The interface-level cases run through the shared suite in
// store_suite_test.go (package storetest); what stays here is specific to
// pebble: durability across a reopen and no index keys left behind.
func TestPutReplaceDeleteAndReopen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	db := openPebble(t, dir)
	s := NewPebbleStore(db)
	for _, schema := range []string{"s1", "s2"} { // the second put replaces the first
		m := &StoredMessage{CID: "bafyA", Message: []byte(`{}`), Indexes: Indexes{"schema": schema, "tag.t": []any{"a", 1.0}, "dateCreated": "2026-01-01T00:00:00.000000Z"}}
		if err := s.Put(ctx, "t", m); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	db = openPebble(t, dir)
	defer db.Close()
	s = NewPebbleStore(db)
	got, err := s.Get(ctx, "t", "bafyA")
	if err != nil || got.Indexes["schema"] != "s2" {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
	msgs, _, err := s.Query(ctx, "t", []Filter{{"schema": {Equal: "s2"}}}, Sort{Property: "dateCreated"}, Page{})
	if err != nil || len(msgs) != 1 {
		t.Fatalf("query after reopen: %v %v", msgs, err)
	}
	if err := s.Delete(ctx, "t", "bafyA"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "t", "bafyA"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("get after delete: %v", err)
	}
	iter, _ := db.NewIter(&pebble.IterOptions{LowerBound: prefixIndex, UpperBound: successor(prefixIndex)})
	defer iter.Close()
	if iter.First() {
		t.Fatalf("index keys left after delete: %q", iter.Key())
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
