package dwn

import (
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/oklog/ulid/v2"
)

// change is what one handler writes to the message store and the event
// log. On the embedded stores (both on one pebble database) it is applied
// as one batch with one WAL sync, so a write, its indexes, its event and
// the removal of the messages it supersedes are durable together, and
// concurrent changes share their syncs (pebble groups concurrent synced
// commits). On other stores its operations run in order, one store call
// each, as the handlers used to make them.
type change struct {
	ops []storeOp
}

type opKind int

const (
	opPut opKind = iota
	opDelete
	opAppend
	opDeleteEvents
)

type storeOp struct {
	kind  opKind
	sm    *StoredMessage // opPut
	fresh bool           // opPut: the CID is known not to be stored
	cid   string         // opDelete, opAppend
	ix    Indexes        // opAppend
	cids  []string       // opDeleteEvents
}

func (c *change) put(sm *StoredMessage) { c.ops = append(c.ops, storeOp{kind: opPut, sm: sm}) }

// putNew is put for a message the caller knows is not stored: the handler
// read every stored message it could replace (all messages of its record,
// or of its protocol) and found none with its CID. The embedded store then
// skips looking up index entries to replace.
func (c *change) putNew(sm *StoredMessage) {
	c.ops = append(c.ops, storeOp{kind: opPut, sm: sm, fresh: true})
}
func (c *change) del(cid string) { c.ops = append(c.ops, storeOp{kind: opDelete, cid: cid}) }
func (c *change) appendEvent(cid string, ix Indexes) {
	c.ops = append(c.ops, storeOp{kind: opAppend, cid: cid, ix: ix})
}
func (c *change) deleteEvents(cids ...string) {
	if len(cids) > 0 {
		c.ops = append(c.ops, storeOp{kind: opDeleteEvents, cids: cids})
	}
}

// apply applies a change for tenant.
func (d *DWN) apply(ctx context.Context, tenant string, c *change) error {
	if d.batcher != nil {
		return d.batcher.apply(ctx, tenant, c)
	}
	for _, op := range c.ops {
		var err error
		switch op.kind {
		case opPut:
			err = d.messages.Put(ctx, tenant, op.sm)
		case opDelete:
			err = d.messages.Delete(ctx, tenant, op.cid)
		case opAppend:
			_, err = d.events.Append(ctx, tenant, op.cid, op.ix)
		case opDeleteEvents:
			err = d.events.Delete(ctx, tenant, op.cids...)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// pebbleBatcher applies changes to a PebbleStore and a PebbleEventLog that
// share a database.
type pebbleBatcher struct {
	messages *PebbleStore
	events   *PebbleEventLog
}

func newPebbleBatcher(m MessageStore, e EventLog) *pebbleBatcher {
	ms, ok1 := m.(*PebbleStore)
	el, ok2 := e.(*PebbleEventLog)
	if !ok1 || !ok2 || ms.db != el.db {
		return nil
	}
	return &pebbleBatcher{messages: ms, events: el}
}

func (p *pebbleBatcher) apply(ctx context.Context, tenant string, c *change) error {
	db := p.messages.db
	b := db.NewBatch()
	st := p.messages.newStaging(tenant)
	type appendOp struct {
		cid string
		ix  Indexes
	}
	var appends []appendOp
	for _, op := range c.ops {
		var err error
		switch op.kind {
		case opPut:
			if op.fresh {
				err = st.putNew(ctx, b, op.sm)
			} else {
				err = st.put(ctx, b, op.sm)
			}
		case opDelete:
			err = st.delete(ctx, b, op.cid)
		case opAppend:
			appends = append(appends, appendOp{op.cid, op.ix})
		case opDeleteEvents:
			for _, cid := range op.cids {
				// An event appended by this change is not written yet.
				for i := 0; i < len(appends); i++ {
					if appends[i].cid == cid {
						appends = append(appends[:i], appends[i+1:]...)
						i--
					}
				}
			}
			err = p.events.stageDelete(b, tenant, op.cids)
		}
		if err != nil {
			b.Close()
			return err
		}
	}
	if len(appends) == 0 {
		defer b.Close()
		if b.Empty() {
			return nil
		}
		if err := b.Commit(pebble.Sync); err != nil {
			return fmt.Errorf("dwn: message store: %w", err)
		}
		return nil
	}
	values := make([][]byte, len(appends))
	for i, a := range appends {
		ix, err := normaliseIndexes(a.ix)
		if err != nil {
			b.Close()
			return fmt.Errorf("dwn: event log: %w", err)
		}
		if values[i], err = encodeEvent(a.cid, ix); err != nil {
			b.Close()
			return fmt.Errorf("dwn: event log: %w", err)
		}
	}
	// Watermarks are made and the batch enters the commit pipeline under
	// the event log's lock, so events become visible in watermark order;
	// the WAL sync is awaited after the lock is released, so concurrent
	// changes share it.
	l := p.events
	l.mu.Lock()
	for i, a := range appends {
		id, err := ulid.New(ulid.Timestamp(l.now()), l.entropy)
		if err != nil {
			l.mu.Unlock()
			b.Close()
			return fmt.Errorf("dwn: event log: watermark: %w", err)
		}
		wm := id.String()
		if err := b.Set(eventKey(tenant, wm), values[i], nil); err != nil {
			l.mu.Unlock()
			b.Close()
			return err
		}
		if err := b.Set(watermarkKey(tenant, a.cid), []byte(wm), nil); err != nil {
			l.mu.Unlock()
			b.Close()
			return err
		}
	}
	err := db.ApplyNoSyncWait(b, pebble.Sync)
	l.mu.Unlock()
	if err != nil {
		b.Close()
		return fmt.Errorf("dwn: event log: %w", err)
	}
	err = b.SyncWait()
	b.Close()
	if err != nil {
		return fmt.Errorf("dwn: event log: %w", err)
	}
	return nil
}
