package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/anya-org/anya/dwn"
)

// RunEventLog runs the EventLog cases; open returns a fresh, empty log for
// each case. Watermarks are opaque strings: the cases only compare them for
// equality.
func RunEventLog(t *testing.T, open func(t *testing.T) dwn.EventLog) {
	t.Run("OrderFilterCursorDelete", func(t *testing.T) { testEventLogOrderFilterCursorDelete(t, open(t)) })
	t.Run("FiltersMatchOracle", func(t *testing.T) { testEventLogFilters(t, open(t)) })
	t.Run("Empty", func(t *testing.T) { testEventLogEmpty(t, open(t)) })
}

func testEventLogOrderFilterCursorDelete(t *testing.T, log dwn.EventLog) {
	ctx := context.Background()
	var all []string
	watermarks := map[string]string{}
	for i := range 50 {
		cid := fmt.Sprintf("bafy%02d", 49-i) // CIDs run against append order
		method := "Write"
		if i%5 == 0 {
			method = "Configure"
		}
		wm, err := log.Append(ctx, "t", cid, dwn.Indexes{"interface": "Records", "method": method})
		if err != nil {
			t.Fatal(err)
		}
		if wm == "" {
			t.Fatalf("append returned an empty watermark")
		}
		for _, seen := range watermarks {
			if seen == wm {
				t.Fatalf("watermark %q returned twice", wm)
			}
		}
		watermarks[cid] = wm
		if _, err := log.Append(ctx, "other", cid, dwn.Indexes{"method": method}); err != nil {
			t.Fatal(err)
		}
		all = append(all, cid)
	}
	var got []string
	var cur *dwn.Cursor
	for {
		page, next, err := log.Query(ctx, "t", nil, cur, 7)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if len(page) > 0 {
			last := page[len(page)-1]
			if next == nil || next.MessageCID != last || next.Value != watermarks[last] {
				t.Fatalf("cursor %+v after %s (watermark %q)", next, last, watermarks[last])
			}
		}
		if len(page) < 7 {
			break
		}
		cur = next
	}
	if !slices.Equal(got, all) {
		t.Fatalf("paging the log gave\n%v\nwant append order\n%v", got, all)
	}
	configures, _, err := log.Query(ctx, "t", []dwn.Filter{{"method": {Equal: "Configure"}}}, nil, 0)
	if err != nil || len(configures) != 10 {
		t.Fatalf("filtered: %v %v", configures, err)
	}
	// A cursor from a filtered query continues the filtered walk.
	first, cur, err := log.Query(ctx, "t", []dwn.Filter{{"method": {Equal: "Configure"}}}, nil, 4)
	if err != nil || len(first) != 4 {
		t.Fatalf("filtered page: %v %v", first, err)
	}
	rest, _, err := log.Query(ctx, "t", []dwn.Filter{{"method": {Equal: "Configure"}}}, cur, 0)
	if err != nil || !slices.Equal(append(first, rest...), configures) {
		t.Fatalf("filtered paging: %v + %v, want %v (%v)", first, rest, configures, err)
	}
	if err := log.Delete(ctx, "t", all[:10]...); err != nil {
		t.Fatal(err)
	}
	if err := log.Delete(ctx, "t", "bafyUnknown"); err != nil {
		t.Fatalf("deleting an unknown event: %v", err)
	}
	rest, _, _ = log.Query(ctx, "t", nil, nil, 0)
	if !slices.Equal(rest, all[10:]) {
		t.Fatalf("after delete: %v", rest)
	}
	// A cursor survives the deletion of the event it names.
	after, _, err := log.Query(ctx, "t", nil, &dwn.Cursor{MessageCID: all[5], Value: watermarks[all[5]]}, 0)
	if err != nil || !slices.Equal(after, all[10:]) {
		t.Fatalf("after a deleted event's cursor: %v %v", after, err)
	}
	other, _, _ := log.Query(ctx, "other", nil, nil, 0)
	if len(other) != 50 {
		t.Fatalf("delete reached another tenant: %d left", len(other))
	}
	for _, bad := range []any{"not a watermark", 42.0, nil} {
		if _, _, err := log.Query(ctx, "t", nil, &dwn.Cursor{MessageCID: "x", Value: bad}, 0); err == nil {
			t.Fatalf("the cursor value %v was accepted", bad)
		}
	}
	if _, _, err := log.Query(ctx, "t", []dwn.Filter{{"method": {Equal: "a", StartsWith: "b"}}}, nil, 0); err == nil {
		t.Fatalf("a condition with two forms was accepted")
	}
}

// testEventLogFilters checks OR'ed filters of every condition form against
// the oracle, in append order.
func testEventLogFilters(t *testing.T, log dwn.EventLog) {
	ctx := context.Background()
	type event struct {
		cid string
		ix  dwn.Indexes
	}
	var events []event
	for i := range 60 {
		ix := dwn.Indexes{
			"interface":        []string{"Records", "Protocols"}[i%2],
			"method":           []string{"Write", "Delete", "Configure"}[i%3],
			"protocol":         fmt.Sprintf("https://example.com/p%d", i%4),
			"messageTimestamp": fmt.Sprintf("2026-01-01T00:%02d:00.000000Z", 59-i),
			"dataSize":         float64(i * 10),
		}
		if i%7 == 0 {
			ix["tag.list"] = []any{"x", float64(i)}
		}
		ev := event{fmt.Sprintf("bafy%03d", (i*37)%100), ix}
		events = append(events, ev)
		if _, err := log.Append(ctx, "t", ev.cid, clone(&dwn.StoredMessage{Indexes: ix}).Indexes); err != nil {
			t.Fatal(err)
		}
	}
	for i, filters := range [][]dwn.Filter{
		{{"interface": {Equal: "Records"}, "method": {Equal: "Write"}}},
		{{"protocol": {OneOf: []any{"https://example.com/p1", "https://example.com/p3"}}}, {"method": {Equal: "Configure"}}},
		{{"messageTimestamp": {GTE: "2026-01-01T00:10:00", LT: "2026-01-01T00:20:00"}}},
		{{"dataSize": {GT: 100, LTE: 300}}, {"tag.list": {Equal: "x"}}},
		{{"protocol": {StartsWith: "https://example.com/p2"}}},
		{{"tag.list": {GTE: 14}}},
		{{"dataSize": {GT: "1"}}},
		{{}},
	} {
		var want []string
		for _, ev := range events {
			if MatchesAny(filters, ev.ix) {
				want = append(want, ev.cid)
			}
		}
		for _, limit := range []int{0, 5} {
			var got []string
			var cur *dwn.Cursor
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatalf("paging does not end")
				}
				page, next, err := log.Query(ctx, "t", filters, cur, limit)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, page...)
				if limit == 0 || len(page) < limit {
					break
				}
				cur = next
			}
			if !slices.Equal(got, want) {
				t.Errorf("filters %d %+v limit %d: got %v, want %v", i, filters, limit, got, want)
			}
		}
	}
}

func testEventLogEmpty(t *testing.T, log dwn.EventLog) {
	got, cur, err := log.Query(context.Background(), "t", nil, nil, 10)
	if err != nil || len(got) != 0 || cur != nil {
		t.Fatalf("empty log: %v %v %v", got, cur, err)
	}
}
