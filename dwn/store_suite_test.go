package dwn_test

import (
	"fmt"
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
