package dwn

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

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

// quietLogger keeps pebble's informational lines out of test output.
type quietLogger struct{}

func (quietLogger) Infof(string, ...any)  {}
func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}
