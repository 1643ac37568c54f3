package dwn

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

func TestEventLogOrderFilterCursorDelete(t *testing.T) {
	s := newTestStore(t)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	log := NewPebbleEventLog(s.db, func() time.Time { return clock }) // one instant: order must come from monotonic entropy
	var all []string
	for i := range 50 {
		cid := fmt.Sprintf("bafy%02d", 49-i)
		method := "Write"
		if i%5 == 0 {
			method = "Configure"
		}
		if _, err := log.Append(ctx, "t", cid, Indexes{"interface": "Records", "method": method}); err != nil {
			t.Fatal(err)
		}
		if _, err := log.Append(ctx, "other", cid, Indexes{"method": method}); err != nil {
			t.Fatal(err)
		}
		all = append(all, cid)
	}
	var got []string
	var cur *Cursor
	for {
		page, next, err := log.Query(ctx, "t", nil, cur, 7)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) < 7 {
			break
		}
		cur = next
	}
	if !slices.Equal(got, all) {
		t.Fatalf("paging the log gave\n%v\nwant append order\n%v", got, all)
	}
	configures, _, err := log.Query(ctx, "t", []Filter{{"method": {Equal: "Configure"}}}, nil, 0)
	if err != nil || len(configures) != 10 {
		t.Fatalf("filtered: %v %v", configures, err)
	}
	if err := log.Delete(ctx, "t", all[:10]...); err != nil {
		t.Fatal(err)
	}
	rest, _, _ := log.Query(ctx, "t", nil, nil, 0)
	if !slices.Equal(rest, all[10:]) {
		t.Fatalf("after delete: %v", rest)
	}
	other, _, _ := log.Query(ctx, "other", nil, nil, 0)
	if len(other) != 50 {
		t.Fatalf("delete reached another tenant: %d left", len(other))
	}
	if _, _, err := log.Query(ctx, "t", nil, &Cursor{MessageCID: "x", Value: "not a ulid"}, 0); err == nil {
		t.Fatalf("a bad cursor was accepted")
	}
}

func TestDataStoreRoundTripAndLimit(t *testing.T) {
	s := newTestStore(t)
	data := NewPebbleDataStore(s.db)
	payload := bytes.Repeat([]byte("0123456789abcdef"), 100_000) // 1.6 MB: several chunks
	n, err := data.Put(ctx, "t", "rec", "cid1", bytes.NewReader(payload), 0)
	if err != nil || n != int64(len(payload)) {
		t.Fatalf("put: %d %v", n, err)
	}
	rc, size, err := data.Get(ctx, "t", "rec", "cid1")
	if err != nil || size != int64(len(payload)) {
		t.Fatalf("get: %d %v", size, err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("read back %d bytes, %v", len(got), err)
	}

	_, err = data.Put(ctx, "t", "rec", "cid2", bytes.NewReader(payload), 1<<20)
	if !errors.Is(err, ErrDataTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if _, _, err := data.Get(ctx, "t", "rec", "cid2"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("oversize data is visible: %v", err)
	}
	if err := data.Delete(ctx, "t", "rec", "cid1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := data.Get(ctx, "t", "rec", "cid1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if _, err := data.Put(ctx, "t", "rec", "empty", bytes.NewReader(nil), 0); err != nil {
		t.Fatal(err)
	}
	rc, size, err = data.Get(ctx, "t", "rec", "empty")
	if err != nil || size != 0 {
		t.Fatalf("empty data: %d %v", size, err)
	}
	if b, _ := io.ReadAll(rc); len(b) != 0 {
		t.Fatalf("empty data read %d bytes", len(b))
	}
	rc.Close()
}

// killedWriterEnv makes the test binary a process that starts writing record
// data and never finishes: the parent kills it mid-write.
const killedWriterEnv = "ANYA_TEST_DWN_DATA_WRITER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(killedWriterEnv); dir != "" {
		db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		data := NewPebbleDataStore(db)
		r := io.MultiReader(bytes.NewReader(bytes.Repeat([]byte{7}, 40<<20)), stallAfterSignal{})
		data.Put(ctx, "t", "rec", "cid", r, 0)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// stallAfterSignal tells the parent that 40 MiB were handed over, then blocks.
type stallAfterSignal struct{}

func (stallAfterSignal) Read([]byte) (int, error) {
	fmt.Println("written")
	select {}
}

// A process killed in the middle of writing record data leaves nothing
// visible after restart.
func TestDataKilledMidWriteIsInvisible(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killedWriterEnv+"="+dir)
	var out strings.Builder
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(out.String(), "written") {
		if time.Now().After(deadline) {
			t.Fatal("writer never reached the middle of its write")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()

	db := openPebble(t, dir)
	defer db.Close()
	data := NewPebbleDataStore(db)
	if _, _, err := data.Get(ctx, "t", "rec", "cid"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("half-written data is visible after a kill: %v", err)
	}
	// The same key can be written afterwards, and the orphans are gone.
	if _, err := data.Put(ctx, "t", "rec", "cid", strings.NewReader("whole"), 0); err != nil {
		t.Fatal(err)
	}
	rc, _, err := data.Get(ctx, "t", "rec", "cid")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "whole" {
		t.Fatalf("rewritten data reads %q", b)
	}
}
