package storetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/anya-org/anya/dwn"
)

// RunDataStore runs the DataStore cases; open returns a fresh, empty store
// for each case.
func RunDataStore(t *testing.T, open func(t *testing.T) dwn.DataStore) {
	t.Run("RoundTripAndLimit", func(t *testing.T) { testDataRoundTripAndLimit(t, open(t)) })
	t.Run("ReplaceAndIsolation", func(t *testing.T) { testDataReplaceAndIsolation(t, open(t)) })
	t.Run("ReaderErrorLeavesNothing", func(t *testing.T) { testDataReaderError(t, open(t)) })
	t.Run("ReadSurvivesDelete", func(t *testing.T) { testDataReadSurvivesDelete(t, open(t)) })
}

// Payload returns n bytes of the vectors' pattern, byte[i] = (i*31+7) & 0xff.
func Payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + 7)
	}
	return b
}

func readAll(t *testing.T, d dwn.DataStore, tenant, recordID, dataCID string) ([]byte, error) {
	t.Helper()
	rc, size, err := d.Get(context.Background(), tenant, recordID, dataCID)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", dataCID, err)
	}
	if int64(len(b)) != size {
		t.Fatalf("%s: read %d bytes, Get said %d", dataCID, len(b), size)
	}
	return b, nil
}

func testDataRoundTripAndLimit(t *testing.T, d dwn.DataStore) {
	ctx := context.Background()
	payload := Payload(1_600_000) // several chunks of any sensible size
	n, err := d.Put(ctx, "t", "rec", "cid1", bytes.NewReader(payload), 0)
	if err != nil || n != int64(len(payload)) {
		t.Fatalf("put: %d %v", n, err)
	}
	got, err := readAll(t, d, "t", "rec", "cid1")
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}
	// Exactly at the limit is fine; one byte over is not, and leaves nothing.
	if n, err := d.Put(ctx, "t", "rec", "exact", bytes.NewReader(payload[:1000]), 1000); err != nil || n != 1000 {
		t.Fatalf("at the limit: %d %v", n, err)
	}
	_, err = d.Put(ctx, "t", "rec", "cid2", bytes.NewReader(payload), 1<<20)
	if !errors.Is(err, dwn.ErrDataTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if _, _, err := d.Get(ctx, "t", "rec", "cid2"); !errors.Is(err, dwn.ErrNotFound) {
		t.Fatalf("oversize data is visible: %v", err)
	}
	if err := d.Delete(ctx, "t", "rec", "cid1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Get(ctx, "t", "rec", "cid1"); !errors.Is(err, dwn.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := d.Delete(ctx, "t", "rec", "cid1"); err != nil {
		t.Fatalf("deleting missing data: %v", err)
	}
	if _, err := d.Put(ctx, "t", "rec", "empty", bytes.NewReader(nil), 0); err != nil {
		t.Fatal(err)
	}
	if b, err := readAll(t, d, "t", "rec", "empty"); err != nil || len(b) != 0 {
		t.Fatalf("empty data: %d bytes, %v", len(b), err)
	}
	if _, _, err := d.Get(ctx, "t", "rec", "never"); !errors.Is(err, dwn.ErrNotFound) {
		t.Fatalf("missing data: %v", err)
	}
}

func testDataReplaceAndIsolation(t *testing.T, d dwn.DataStore) {
	ctx := context.Background()
	long := Payload(700_000)
	for _, k := range [][3]string{{"t", "rec", "cid"}, {"u", "rec", "cid"}, {"t", "rec2", "cid"}, {"t", "rec", "cid2"}} {
		if _, err := d.Put(ctx, k[0], k[1], k[2], bytes.NewReader(long), 0); err != nil {
			t.Fatal(err)
		}
	}
	// A shorter rewrite of a key leaves no trailing bytes of the longer one.
	if _, err := d.Put(ctx, "t", "rec", "cid", strings.NewReader("short"), 0); err != nil {
		t.Fatal(err)
	}
	if b, err := readAll(t, d, "t", "rec", "cid"); err != nil || string(b) != "short" {
		t.Fatalf("rewritten data reads %d bytes %.10q, %v", len(b), b, err)
	}
	if err := d.Delete(ctx, "t", "rec", "cid"); err != nil {
		t.Fatal(err)
	}
	for _, k := range [][3]string{{"u", "rec", "cid"}, {"t", "rec2", "cid"}, {"t", "rec", "cid2"}} {
		if b, err := readAll(t, d, k[0], k[1], k[2]); err != nil || !bytes.Equal(b, long) {
			t.Fatalf("%v after writes and a delete of another key: %d bytes, %v", k, len(b), err)
		}
	}
}

// failingReader hands over n bytes, then fails.
type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errors.New("storetest: reader broke")
	}
	k := min(len(p), f.n)
	clear(p[:k])
	f.n -= k
	return k, nil
}

func testDataReaderError(t *testing.T, d dwn.DataStore) {
	ctx := context.Background()
	if _, err := d.Put(ctx, "t", "rec", "cid", &failingReader{n: 600_000}, 0); err == nil {
		t.Fatal("a broken reader's data was stored")
	}
	if _, _, err := d.Get(ctx, "t", "rec", "cid"); !errors.Is(err, dwn.ErrNotFound) {
		t.Fatalf("a broken write is visible: %v", err)
	}
	if _, err := d.Put(ctx, "t", "rec", "cid", strings.NewReader("whole"), 0); err != nil {
		t.Fatal(err)
	}
	if b, err := readAll(t, d, "t", "rec", "cid"); err != nil || string(b) != "whole" {
		t.Fatalf("after a broken write: %q %v", b, err)
	}
}

// A reader opened before a Delete reads the whole data.
func testDataReadSurvivesDelete(t *testing.T, d dwn.DataStore) {
	ctx := context.Background()
	payload := Payload(1_200_000)
	if _, err := d.Put(ctx, "t", "rec", "cid", bytes.NewReader(payload), 0); err != nil {
		t.Fatal(err)
	}
	rc, _, err := d.Get(ctx, "t", "rec", "cid")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	head := make([]byte, 1000)
	if _, err := io.ReadFull(rc, head); err != nil {
		t.Fatal(err)
	}
	if err := d.Delete(ctx, "t", "rec", "cid"); err != nil {
		t.Fatal(err)
	}
	tail, err := io.ReadAll(rc)
	if err != nil || !bytes.Equal(append(head, tail...), payload) {
		t.Fatalf("a read torn by a delete: %d bytes, %v", len(head)+len(tail), err)
	}
}
