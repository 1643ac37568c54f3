package dwn

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/oklog/ulid/v2"
)

// EventLog is a tenant's ordered log of the messages it accepted, the
// primitive MessagesQuery and sync read. Each event has a watermark, a ULID
// that increases with every append; a cursor is {messageCid, value:
// watermark}.
type EventLog interface {
	// Append logs a message and returns its watermark.
	Append(ctx context.Context, tenant, messageCID string, indexes Indexes) (string, error)
	// Query returns the CIDs of events after the cursor that match any
	// filter (no filters: every event), oldest first, at most limit of them
	// (0: no limit), and the cursor of the last one returned.
	Query(ctx context.Context, tenant string, filters []Filter, after *Cursor, limit int) ([]string, *Cursor, error)
	// Delete removes the events of the given messages.
	Delete(ctx context.Context, tenant string, messageCIDs ...string) error
}

// PebbleEventLog is the embedded EventLog:
//
//	/dwn/e <tenant> <watermark>   → {cid, indexes}
//	/dwn/w <tenant> <cid>         → watermark
type PebbleEventLog struct {
	db      *pebble.DB
	mu      sync.Mutex
	entropy *ulid.MonotonicEntropy
	now     func() time.Time
}

// NewPebbleEventLog returns an event log on db; now may be nil.
func NewPebbleEventLog(db *pebble.DB, now func() time.Time) *PebbleEventLog {
	if now == nil {
		now = time.Now
	}
	return &PebbleEventLog{db: db, entropy: ulid.Monotonic(rand.Reader, 0), now: now}
}

var (
	prefixEvent     = []byte("/dwn/e")
	prefixWatermark = []byte("/dwn/w")
)

type storedEvent struct {
	CID     string  `json:"cid"`
	Indexes Indexes `json:"indexes"`
}

func eventKey(tenant, watermark string) []byte {
	return append(encodeString(slices.Clone(prefixEvent), tenant), watermark...)
}

func watermarkKey(tenant, cid string) []byte {
	return append(encodeString(slices.Clone(prefixWatermark), tenant), cid...)
}

// Append implements EventLog.
func (l *PebbleEventLog) Append(_ context.Context, tenant, messageCID string, indexes Indexes) (string, error) {
	ix, err := normaliseIndexes(indexes)
	if err != nil {
		return "", fmt.Errorf("dwn: event log: %w", err)
	}
	value, err := encodeEvent(messageCID, ix)
	if err != nil {
		return "", err
	}
	b := l.db.NewBatch()
	// One lock orders ULID generation and the batch's entry into the commit
	// pipeline, so watermarks become visible in increasing order and a
	// reader never sees a gap fill later; the sync is awaited outside it,
	// so concurrent appends share one.
	l.mu.Lock()
	id, err := ulid.New(ulid.Timestamp(l.now()), l.entropy)
	if err != nil {
		l.mu.Unlock()
		b.Close()
		return "", fmt.Errorf("dwn: event log: watermark: %w", err)
	}
	wm := id.String()
	if err := b.Set(eventKey(tenant, wm), value, nil); err != nil {
		l.mu.Unlock()
		b.Close()
		return "", err
	}
	if err := b.Set(watermarkKey(tenant, messageCID), []byte(wm), nil); err != nil {
		l.mu.Unlock()
		b.Close()
		return "", err
	}
	err = l.db.ApplyNoSyncWait(b, pebble.Sync)
	l.mu.Unlock()
	if err == nil {
		err = b.SyncWait()
	}
	b.Close()
	if err != nil {
		return "", fmt.Errorf("dwn: event log: %w", err)
	}
	return wm, nil
}

// normaliseIndexes returns a copy of indexes with normalised values.
func normaliseIndexes(indexes Indexes) (Indexes, error) {
	ix := make(Indexes, len(indexes))
	for k, v := range indexes {
		n, err := normaliseIndexValue(v)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", k, err)
		}
		ix[k] = n
	}
	return ix, nil
}

// Query implements EventLog.
func (l *PebbleEventLog) Query(ctx context.Context, tenant string, filters []Filter, after *Cursor, limit int) ([]string, *Cursor, error) {
	for i, f := range filters {
		for prop, c := range f {
			if err := c.Validate(); err != nil {
				return nil, nil, fmt.Errorf("dwn: event log: filter %d, %s: %w", i, prop, err)
			}
		}
	}
	prefix := encodeString(slices.Clone(prefixEvent), tenant)
	lo := prefix
	if after != nil {
		wm, ok := after.Value.(string)
		if !ok || len(wm) != ulid.EncodedSize {
			return nil, nil, fmt.Errorf("dwn: event log: cursor value %v is not a watermark", after.Value)
		}
		lo = append(eventKey(tenant, wm), 0x00)
	}
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: successor(prefix)})
	if err != nil {
		return nil, nil, err
	}
	defer it.Close()
	var cids []string
	var last *Cursor
	for ok := it.First(); ok; ok = it.Next() {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		ev, err := decodeEvent(it.Value())
		if err != nil {
			return nil, nil, fmt.Errorf("dwn: event log: corrupt event %q: %w", it.Key(), err)
		}
		if !matchesAny(filters, ev.Indexes) {
			continue
		}
		cids = append(cids, ev.CID)
		last = &Cursor{MessageCID: ev.CID, Value: string(it.Key()[len(prefix):])}
		if limit > 0 && len(cids) == limit {
			break
		}
	}
	return cids, last, it.Error()
}

func matchesAny(filters []Filter, ix Indexes) bool {
	if len(filters) == 0 {
		return true
	}
	for _, f := range filters {
		if f.matches(ix) {
			return true
		}
	}
	return false
}

// Delete implements EventLog.
func (l *PebbleEventLog) Delete(_ context.Context, tenant string, messageCIDs ...string) error {
	b := l.db.NewBatch()
	defer b.Close()
	if err := l.stageDelete(b, tenant, messageCIDs); err != nil {
		return err
	}
	if b.Empty() {
		return nil
	}
	return b.Commit(pebble.Sync)
}

// stageDelete adds the removal of the events of messages to a batch.
func (l *PebbleEventLog) stageDelete(b *pebble.Batch, tenant string, messageCIDs []string) error {
	for _, cid := range messageCIDs {
		wm, closer, err := l.db.Get(watermarkKey(tenant, cid))
		if errors.Is(err, pebble.ErrNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("dwn: event log: %w", err)
		}
		ek := eventKey(tenant, string(wm))
		closer.Close()
		if err := b.Delete(ek, nil); err != nil {
			return err
		}
		if err := b.Delete(watermarkKey(tenant, cid), nil); err != nil {
			return err
		}
	}
	return nil
}
