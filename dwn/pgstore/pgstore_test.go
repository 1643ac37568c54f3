package pgstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/anya-org/anya/dwn"
	"github.com/anya-org/anya/dwn/pgstore/pgtest"
	"github.com/anya-org/anya/dwn/storetest"
)

func openStore(t testing.TB) *Store {
	t.Helper()
	dsn := pgtest.FreshDatabase(t)
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestMessageStoreSuite(t *testing.T) {
	t.Parallel()
	storetest.RunMessageStore(t, func(t *testing.T) dwn.MessageStore { return openStore(t).Messages() })
}

func TestEventLogSuite(t *testing.T) {
	t.Parallel()
	storetest.RunEventLog(t, func(t *testing.T) dwn.EventLog { return openStore(t).Events() })
}

func TestDataStoreSuite(t *testing.T) {
	t.Parallel()
	storetest.RunDataStore(t, func(t *testing.T) dwn.DataStore { return openStore(t).Data() })
}

// Open is idempotent, and refuses a schema newer than it knows.
func TestOpenIdempotentAndVersioned(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dsn := pgtest.FreshDatabase(t)
	s, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	m := &dwn.StoredMessage{CID: "bafyA", Message: []byte(`{}`), Indexes: dwn.Indexes{"schema": "s", "dateCreated": "2026-01-01T00:00:00Z"}}
	if err := s.Messages().Put(ctx, "t", m); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(ctx, dsn)
	if err != nil {
		t.Fatalf("second open: %v", err)
	}
	if _, err := s.Messages().Get(ctx, "t", "bafyA"); err != nil {
		t.Fatalf("after reopen: %v", err)
	}
	var versions int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM dwn_schema_version`).Scan(&versions); err != nil || versions != 1 {
		t.Fatalf("schema versions recorded: %d %v", versions, err)
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO dwn_schema_version (version) VALUES ($1)`, schemaVersion+1); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err := Open(ctx, dsn); err == nil {
		s.Close()
		t.Fatal("opened a database with a newer schema")
	}
}

// Values PostgreSQL text cannot hold are refused, not mangled, and sort
// values must be strings.
func TestRejectsUnstorableValues(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := openStore(t).Messages()
	for name, ix := range map[string]dwn.Indexes{
		"NUL":              {"schema": "a\x00b"},
		"invalid UTF-8":    {"schema": "a\xffb"},
		"number sort":      {"dateCreated": 5.0},
		"unindexable type": {"schema": map[string]any{}},
		"NaN":              {"n": []any{1.0, 0 * nan()}},
	} {
		if err := s.Put(ctx, "t", &dwn.StoredMessage{CID: "bafy" + name, Message: []byte(`{}`), Indexes: ix}); err == nil {
			t.Errorf("%s: stored", name)
		}
	}
	if _, _, err := s.Query(ctx, "t", []dwn.Filter{{"schema": {Equal: "a"}}}, dwn.Sort{Property: "dateCreated"},
		dwn.Page{Cursor: &dwn.Cursor{MessageCID: "x", Value: 1.0}}); err == nil {
		t.Errorf("a number cursor value was accepted")
	}
}

func nan() float64 {
	var zero float64
	return zero / zero
}

// populate puts n RecordsWrite-shaped messages into tenant t, queueing
// the statements of many Puts in one batch, and analyzes the tables.
func populate(t testing.TB, s *Store, n int) {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(3, 4))
	const perBatch = 250
	for i := 0; i < n; i += perBatch {
		b := &pgx.Batch{}
		for j := i; j < min(n, i+perBatch); j++ {
			m := storetest.RandomMessage(r, j)
			m.CID = fmt.Sprintf("bafy%07d", j)
			if err := queuePut(b, "t", m); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE`); err != nil {
		t.Fatal(err)
	}
}

// The limit-20 query by schema walks an index over 20,000 messages, not
// the table.
func TestSchemaQueryUsesIndex(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("populates 20,000 messages")
	}
	ctx := context.Background()
	s := openStore(t)
	populate(t, s, 20_000)
	filters := []dwn.Filter{{"interface": {Equal: "Records"}, "method": {Equal: "Write"}, "schema": {Equal: "https://example.com/s1"}}}
	for _, sort := range []dwn.Sort{{Property: "dateCreated"}, {Property: "messageTimestamp", Descending: true}} {
		q, args := buildQuery("t", filters, sort, dwn.Page{Limit: 20})
		var plan string
		if err := s.pool.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+q, args...).Scan(&plan); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, `"Index Scan`) || strings.Contains(plan, `"Seq Scan"`) || strings.Contains(plan, `"Sort"`) {
			t.Errorf("sort %+v: the plan is not an ordered index walk:\n%s", sort, plan)
		}
		msgs, next, err := s.Messages().Query(ctx, "t", filters, sort, dwn.Page{Limit: 20})
		if err != nil || len(msgs) != 20 || next == nil {
			t.Fatalf("query: %d %v %v", len(msgs), next, err)
		}
	}
}

func BenchmarkPut(b *testing.B) {
	s := openStore(b)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(5, 6))
	msgs := make([]*dwn.StoredMessage, b.N)
	for i := range msgs {
		msgs[i] = storetest.RandomMessage(r, i)
		msgs[i].CID = fmt.Sprintf("bafy%09d", i)
	}
	ms := s.Messages()
	b.ResetTimer()
	for _, m := range msgs {
		if err := ms.Put(ctx, "t", m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryBySchema measures a limit-20 RecordsQuery-shaped lookup in
// a tenant of 20,000 messages.
func BenchmarkQueryBySchema(b *testing.B) {
	s := openStore(b)
	populate(b, s, 20_000)
	ctx := context.Background()
	filters := []dwn.Filter{{"interface": {Equal: "Records"}, "method": {Equal: "Write"}, "schema": {Equal: "https://example.com/s1"}}}
	ms := s.Messages()
	b.ResetTimer()
	for range b.N {
		msgs, next, err := ms.Query(ctx, "t", filters, dwn.Sort{Property: "dateCreated"}, dwn.Page{Limit: 20})
		if err != nil || len(msgs) != 20 || next == nil {
			b.Fatalf("%d %v %v", len(msgs), next, err)
		}
	}
}
