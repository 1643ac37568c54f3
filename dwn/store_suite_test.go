package dwn_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/anya-org/anya/dwn"
	"github.com/anya-org/anya/dwn/storetest"
)

// The embedded stores pass the shared conformance suite.

func openSuitePebble(t *testing.T) *pebble.DB {
	t.Helper()
	db, err := pebble.Open(filepath.Join(t.TempDir(), "db"), &pebble.Options{Logger: suiteLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestPebbleMessageStoreSuite(t *testing.T) {
	storetest.RunMessageStore(t, func(t *testing.T) dwn.MessageStore {
		return dwn.NewPebbleStore(openSuitePebble(t))
	})
}

func TestPebbleEventLogSuite(t *testing.T) {
	// One instant for every append: order must come from monotonic entropy.
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	storetest.RunEventLog(t, func(t *testing.T) dwn.EventLog {
		return dwn.NewPebbleEventLog(openSuitePebble(t), func() time.Time { return clock })
	})
}

func TestPebbleDataStoreSuite(t *testing.T) {
	storetest.RunDataStore(t, func(t *testing.T) dwn.DataStore {
		return dwn.NewPebbleDataStore(openSuitePebble(t))
	})
}

// suiteLogger keeps pebble's informational lines out of test output.
type suiteLogger struct{}

func (suiteLogger) Infof(string, ...any)  {}
func (suiteLogger) Errorf(string, ...any) {}
func (suiteLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// BenchmarkQueryBySchema measures a limit-20 RecordsQuery-shaped lookup in
// a tenant of 100,000 messages.
func BenchmarkQueryBySchema(b *testing.B) {
	store := dwn.NewPebbleStore(openBenchPebble(b))
	r := rand.New(rand.NewPCG(3, 4))
	var batch []*dwn.StoredMessage
	for i := range 100_000 {
		m := storetest.RandomMessage(r, i)
		m.CID = fmt.Sprintf("bafy%07d", i)
		if batch = append(batch, m); len(batch) == 5000 {
			if err := store.PutMany(context.Background(), "t", batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	filters := []dwn.Filter{{"interface": {Equal: "Records"}, "method": {Equal: "Write"}, "schema": {Equal: "https://example.com/s1"}}}
	b.ResetTimer()
	for range b.N {
		msgs, next, err := store.Query(context.Background(), "t", filters, dwn.Sort{Property: "dateCreated"}, dwn.Page{Limit: 20})
		if err != nil || len(msgs) != 20 || next == nil {
			b.Fatalf("%d %v %v", len(msgs), next, err)
		}
	}
}

// BenchmarkPut measures one synced message write.
func BenchmarkPut(b *testing.B) {
	store := dwn.NewPebbleStore(openBenchPebble(b))
	r := rand.New(rand.NewPCG(5, 6))
	msgs := make([]*dwn.StoredMessage, b.N)
	for i := range msgs {
		msgs[i] = storetest.RandomMessage(r, i)
		msgs[i].CID = fmt.Sprintf("bafy%09d", i)
	}
	b.ResetTimer()
	for _, m := range msgs {
		if err := store.Put(context.Background(), "t", m); err != nil {
			b.Fatal(err)
		}
	}
}

func openBenchPebble(b *testing.B) *pebble.DB {
	db, err := pebble.Open(filepath.Join(b.TempDir(), "db"), &pebble.Options{Logger: suiteLogger{}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}
