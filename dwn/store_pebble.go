package dwn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// PebbleStore is the embedded MessageStore on the node's pebble database.
// Its keys live under /dwn/ so it shares the database with go-datastore
// namespaces without meeting them:
//
//	/dwn/m <tenant> <cid>                                        → StoredMessage (JSON)
//	/dwn/i <tenant> <sort> <property> <value> <sortValue> <cid>  → empty
//
// Every message is indexed once per sort property it has and per indexed
// property (once per element of an array value). An index entry holds no
// copy of the message, only its CID.
type PebbleStore struct {
	db *pebble.DB
}

// NewPebbleStore returns a message store on db.
func NewPebbleStore(db *pebble.DB) *PebbleStore { return &PebbleStore{db: db} }

var (
	prefixRecord = []byte("/dwn/m")
	prefixIndex  = []byte("/dwn/i")
)

// preferredDrivers lists properties whose equality narrows a query most;
// the query walks the index of the first one its filter tests for equality.
var preferredDrivers = []string{
	"recordId", "entryId", "parentId", "contextId", "permissionGrantId", "recipient",
	"attester", "author", "protocolPath", "schema", "protocol", "method", "interface",
}

func recordKey(tenant, cid string) []byte {
	return append(encodeString(slices.Clone(prefixRecord), tenant), cid...)
}

// indexPrefix is the key prefix of one (tenant, sort, property) index.
func indexPrefix(tenant, sort, prop string) []byte {
	k := encodeString(slices.Clone(prefixIndex), tenant)
	k = encodeString(k, sort)
	return encodeString(k, prop)
}

// indexKeys lists every index key of a message.
func indexKeys(tenant string, m *StoredMessage) ([][]byte, error) {
	var keys [][]byte
	for _, sort := range SortProperties {
		sv, ok := m.Indexes[sort]
		if !ok {
			continue
		}
		svEnc, err := encodeValue(nil, sv)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", sort, err)
		}
		for prop, v := range m.Indexes {
			base := indexPrefix(tenant, sort, prop)
			for _, s := range scalars(v) {
				k, err := encodeValue(slices.Clone(base), s)
				if err != nil {
					return nil, fmt.Errorf("index %s: %w", prop, err)
				}
				k = append(k, svEnc...)
				keys = append(keys, append(k, m.CID...))
			}
		}
	}
	return keys, nil
}

// Put implements MessageStore.
func (s *PebbleStore) Put(ctx context.Context, tenant string, m *StoredMessage) error {
	return s.PutMany(ctx, tenant, []*StoredMessage{m})
}

// PutMany stores several messages in one batch with one sync: what Put does
// for each, at the cost of one disk flush for all (imports, sync).
func (s *PebbleStore) PutMany(ctx context.Context, tenant string, msgs []*StoredMessage) error {
	b := s.db.NewBatch()
	defer b.Close()
	st := s.newStaging(tenant)
	for _, m := range msgs {
		if err := st.put(ctx, b, m); err != nil {
			return err
		}
	}
	return b.Commit(pebble.Sync)
}

// staging adds puts and deletes of one tenant's messages to a batch; it
// remembers what it staged, so a later change to the same CID in the batch
// replaces what the batch holds rather than what the database holds.
type staging struct {
	s       *PebbleStore
	tenant  string
	pending map[string]*StoredMessage // nil: deleted in this batch
}

func (s *PebbleStore) newStaging(tenant string) *staging {
	return &staging{s: s, tenant: tenant, pending: map[string]*StoredMessage{}}
}

// current is the message the batch's CID refers to once applied.
func (st *staging) current(ctx context.Context, cid string) (*StoredMessage, error) {
	if m, ok := st.pending[cid]; ok {
		if m == nil {
			return nil, ErrNotFound
		}
		return m, nil
	}
	return st.s.Get(ctx, st.tenant, cid)
}

func (st *staging) put(ctx context.Context, b *pebble.Batch, m *StoredMessage) error {
	if err := st.s.stage(ctx, b, st.tenant, m, st.current); err != nil {
		return err
	}
	st.pending[m.CID] = m
	return nil
}

// putNew is put for a CID that is neither stored nor staged.
func (st *staging) putNew(ctx context.Context, b *pebble.Batch, m *StoredMessage) error {
	if _, staged := st.pending[m.CID]; staged {
		return st.put(ctx, b, m)
	}
	absent := func(context.Context, string) (*StoredMessage, error) { return nil, ErrNotFound }
	if err := st.s.stage(ctx, b, st.tenant, m, absent); err != nil {
		return err
	}
	st.pending[m.CID] = m
	return nil
}

func (st *staging) delete(ctx context.Context, b *pebble.Batch, cid string) error {
	m, err := st.current(ctx, cid)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := st.s.deleteIndexes(b, st.tenant, m); err != nil {
		return err
	}
	if err := b.Delete(recordKey(st.tenant, cid), nil); err != nil {
		return err
	}
	st.pending[cid] = nil
	return nil
}

// stage adds a message, and the removal of the index entries of the message
// it replaces (as current finds it), to a batch.
func (s *PebbleStore) stage(ctx context.Context, b *pebble.Batch, tenant string, m *StoredMessage, current func(context.Context, string) (*StoredMessage, error)) error {
	if m.CID == "" {
		return errors.New("dwn: message store: put without a CID")
	}
	for k, v := range m.Indexes {
		n, err := normaliseIndexValue(v)
		if err != nil {
			return fmt.Errorf("dwn: message store: index %s: %w", k, err)
		}
		m.Indexes[k] = n
	}
	value, err := encodeStoredMessage(m)
	if err != nil {
		return fmt.Errorf("dwn: message store: %w", err)
	}
	keys, err := indexKeys(tenant, m)
	if err != nil {
		return fmt.Errorf("dwn: message store: %w", err)
	}
	if old, err := current(ctx, m.CID); err == nil {
		if err := s.deleteIndexes(b, tenant, old); err != nil {
			return err
		}
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	if err := b.Set(recordKey(tenant, m.CID), value, nil); err != nil {
		return err
	}
	for _, k := range keys {
		if err := b.Set(k, nil, nil); err != nil {
			return err
		}
	}
	return nil
}

func normaliseIndexValue(v any) (any, error) {
	if arr, ok := v.([]any); ok {
		out := make([]any, len(arr))
		for i, e := range arr {
			n, err := normaliseValue(e)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	}
	if arr, ok := v.([]string); ok {
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = e
		}
		return out, nil
	}
	return normaliseValue(v)
}

// Get implements MessageStore.
func (s *PebbleStore) Get(_ context.Context, tenant, cid string) (*StoredMessage, error) {
	v, closer, err := s.db.Get(recordKey(tenant, cid))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, fmt.Errorf("message %s of %s: %w", cid, tenant, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("dwn: message store: %w", err)
	}
	defer closer.Close()
	m, err := decodeStoredMessage(v)
	if err != nil {
		return nil, fmt.Errorf("dwn: message store: record %s of %s is corrupt: %w", cid, tenant, err)
	}
	return m, nil
}

// Delete implements MessageStore.
func (s *PebbleStore) Delete(ctx context.Context, tenant, cid string) error {
	m, err := s.Get(ctx, tenant, cid)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err := s.deleteIndexes(b, tenant, m); err != nil {
		return err
	}
	if err := b.Delete(recordKey(tenant, cid), nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

func (s *PebbleStore) deleteIndexes(b *pebble.Batch, tenant string, m *StoredMessage) error {
	keys, err := indexKeys(tenant, m)
	if err != nil {
		return fmt.Errorf("dwn: message store: %w", err)
	}
	for _, k := range keys {
		if err := b.Delete(k, nil); err != nil {
			return err
		}
	}
	return nil
}

// Query implements MessageStore.
func (s *PebbleStore) Query(ctx context.Context, tenant string, filters []Filter, sort Sort, page Page) ([]*StoredMessage, *Cursor, error) {
	if err := ValidateQuery(filters, sort, page); err != nil {
		return nil, nil, fmt.Errorf("dwn: message store: %w", err)
	}
	want := 0 // 0: every match
	if page.Limit > 0 {
		want = page.Limit + 1
	}
	var found []hit
	for _, f := range filters {
		for _, st := range planStreams(tenant, f, sort) {
			hits, err := s.scan(ctx, tenant, st, f, sort, page.Cursor, want)
			if err != nil {
				return nil, nil, err
			}
			found = append(found, hits...)
		}
	}
	slices.SortFunc(found, func(a, b hit) int {
		c := bytes.Compare(a.order, b.order)
		if sort.Descending {
			c = -c
		}
		return c
	})
	found = slices.CompactFunc(found, func(a, b hit) bool { return a.msg.CID == b.msg.CID })
	var next *Cursor
	if page.Limit > 0 && len(found) > page.Limit {
		found = found[:page.Limit]
		last := found[len(found)-1].msg
		next = &Cursor{MessageCID: last.CID, Value: last.Indexes[sort.Property]}
	}
	out := make([]*StoredMessage, len(found))
	for i, h := range found {
		out[i] = h.msg
	}
	return out, next, nil
}

// hit is a matching message and its position in sort order.
type hit struct {
	order []byte // enc(sortValue) ‖ cid
	msg   *StoredMessage
}

// stream is one contiguous run of index keys, in sort order after prefix.
type stream struct {
	prefix []byte // keys continue with [enc(sortValue) when sorting by another property] enc(sortValue) cid
	// lower and upper bound the sort position (the part after prefix);
	// nil means unbounded.
	lower, upper []byte
	// selfSorted: the stream walks the sort property's own index, whose
	// keys repeat the value: enc(v) enc(v) cid.
	selfSorted bool
}

// planStreams picks the index walks that yield a filter's candidates in sort
// order: an equality (or each oneOf value) on the most selective property,
// else the sort property's own index, bounded by any range on it.
func planStreams(tenant string, f Filter, sort Sort) []stream {
	sortRange := f[sort.Property]
	lower, upper := rangeBounds(sortRange)
	driver := ""
	for _, p := range preferredDrivers {
		if c, ok := f[p]; ok && (c.Equal != nil || c.OneOf != nil) {
			driver = p
			break
		}
	}
	if driver == "" {
		props := make([]string, 0, len(f))
		for p, c := range f {
			if (c.Equal != nil || c.OneOf != nil) && p != sort.Property {
				props = append(props, p)
			}
		}
		slices.Sort(props)
		if len(props) > 0 {
			driver = props[0]
		}
	}
	if driver == "" {
		return []stream{{prefix: indexPrefix(tenant, sort.Property, sort.Property), lower: lower, upper: upper, selfSorted: true}}
	}
	c := f[driver]
	values := c.OneOf
	if c.Equal != nil {
		values = []any{c.Equal}
	}
	var out []stream
	for _, v := range values {
		p, err := encodeValue(indexPrefix(tenant, sort.Property, driver), v)
		if err != nil {
			continue // ValidateQuery has rejected it already
		}
		out = append(out, stream{prefix: p, lower: lower, upper: upper})
	}
	return out
}

// rangeBounds turns a range condition into bounds on encoded sort positions.
func rangeBounds(c Condition) (lower, upper []byte) {
	enc := func(v any) []byte { b, _ := encodeValue(nil, v); return b }
	switch {
	case c.GTE != nil:
		lower = enc(c.GTE)
	case c.GT != nil:
		lower = successor(enc(c.GT))
	case c.Equal != nil:
		lower = enc(c.Equal)
		upper = successor(lower)
		return lower, upper
	}
	switch {
	case c.LT != nil:
		upper = enc(c.LT)
	case c.LTE != nil:
		upper = successor(enc(c.LTE))
	}
	return lower, upper
}

// scan walks one stream, loading each candidate and keeping those that pass
// the whole filter, until it has want of them (0: all).
func (s *PebbleStore) scan(ctx context.Context, tenant string, st stream, f Filter, sort Sort, cur *Cursor, want int) ([]hit, error) {
	lo, hi := st.prefix, successor(st.prefix)
	if st.lower != nil {
		lo = st.join(st.lower)
	}
	if st.upper != nil {
		hi = st.join(st.upper)
	}
	if cur != nil {
		v, err := encodeValue(nil, cur.Value)
		if err != nil {
			return nil, fmt.Errorf("dwn: message store: cursor value: %w", err)
		}
		at := st.join(v)
		if st.selfSorted {
			at = append(at, v...) // the sort value follows the value it repeats
		}
		at = append(at, cur.MessageCID...)
		if sort.Descending {
			if bytes.Compare(at, hi) < 0 {
				hi = at
			}
		} else if after := append(at, 0x00); bytes.Compare(after, lo) > 0 {
			lo = after
		}
	}
	if bytes.Compare(lo, hi) >= 0 {
		return nil, nil
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return nil, fmt.Errorf("dwn: message store: %w", err)
	}
	defer it.Close()
	step := it.Next
	ok := it.First()
	if sort.Descending {
		step, ok = it.Prev, it.Last()
	}
	// Candidates are looked up with one iterator over the tenant's
	// messages, cheaper per lookup than a Get each; it is a clone of the
	// index iterator, so it reads the same state of the database, and a
	// candidate's message is there even if a concurrent change has since
	// removed it.
	var recIt *pebble.Iterator
	defer func() {
		if recIt != nil {
			recIt.Close()
		}
	}()
	recPrefix := recordKey(tenant, "")
	var key []byte
	var hits []hit
	for ; ok; ok = step() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		pos := it.Key()[len(st.prefix):]
		if st.selfSorted {
			n, err := valueLen(pos)
			if err != nil {
				return nil, fmt.Errorf("dwn: message store: bad index key: %w", err)
			}
			pos = pos[n:]
		}
		n, err := valueLen(pos)
		if err != nil {
			return nil, fmt.Errorf("dwn: message store: bad index key: %w", err)
		}
		if recIt == nil {
			if recIt, err = it.Clone(pebble.CloneOptions{IterOptions: &pebble.IterOptions{LowerBound: recPrefix, UpperBound: successor(recPrefix)}}); err != nil {
				return nil, fmt.Errorf("dwn: message store: %w", err)
			}
		}
		key = append(append(key[:0], recPrefix...), pos[n:]...)
		if !recIt.SeekGE(key) || !bytes.Equal(recIt.Key(), key) {
			if err := recIt.Error(); err != nil {
				return nil, fmt.Errorf("dwn: message store: %w", err)
			}
			return nil, fmt.Errorf("message %s of %s: %w", pos[n:], tenant, ErrNotFound)
		}
		v, err := recIt.ValueAndErr()
		if err != nil {
			return nil, fmt.Errorf("dwn: message store: %w", err)
		}
		m, err := decodeStoredMessage(v)
		if err != nil {
			return nil, fmt.Errorf("dwn: message store: record %s of %s is corrupt: %w", pos[n:], tenant, err)
		}
		if !f.matches(m.Indexes) {
			continue
		}
		hits = append(hits, hit{order: slices.Clone(pos), msg: m})
		if want > 0 && len(hits) == want {
			break
		}
	}
	return hits, it.Error()
}

// join appends an encoded value to the stream's prefix: the sort value of
// an equality stream, the value (which the sort value repeats) of the sort
// property's own index.
func (st stream) join(enc []byte) []byte {
	return append(slices.Clone(st.prefix), enc...)
}

// valueLen returns the length of the encoded value at the start of b.
func valueLen(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, errors.New("empty")
	}
	switch b[0] {
	case tagNumber:
		if len(b) < 9 {
			return 0, errors.New("short number")
		}
		return 9, nil
	case tagFalse, tagTrue:
		return 1, nil
	case tagString:
		for i := 1; i+1 < len(b); i++ {
			if b[i] == 0x00 {
				if b[i+1] == 0x01 {
					return i + 2, nil
				}
				i++ // escaped 0x00 0xFF
			}
		}
		return 0, errors.New("unterminated string")
	}
	return 0, fmt.Errorf("unknown value tag %#x", b[0])
}
