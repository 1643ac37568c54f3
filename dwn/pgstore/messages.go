package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/anya-org/anya/dwn"
)

// messageStore is the MessageStore: dwn_messages holds one row per message,
// dwn_message_index one row per indexed scalar.
type messageStore struct {
	pool *pgxpool.Pool
}

// preferredDrivers lists properties whose equality narrows a query most;
// a filter's rows are walked in the index of the first one it tests for
// equality (the pebble store's order).
var preferredDrivers = []string{
	"recordId", "entryId", "parentId", "contextId", "permissionGrantId", "recipient",
	"attester", "author", "protocolPath", "schema", "protocol", "method", "interface",
}

// Put implements dwn.MessageStore. The message row is upserted and its
// index rows replaced in one implicit transaction; each statement sees the
// rows committed before it, so concurrent Puts of one message leave the
// index of one of them.
func (s *messageStore) Put(ctx context.Context, tenant string, m *dwn.StoredMessage) error {
	b := &pgx.Batch{}
	if err := queuePut(b, tenant, m); err != nil {
		return err
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("pgstore: put %s: %w", m.CID, err)
	}
	return nil
}

// queuePut queues the statements that put a message.
func queuePut(b *pgx.Batch, tenant string, m *dwn.StoredMessage) error {
	if m.CID == "" {
		return errNoCID
	}
	for _, v := range []string{tenant, m.CID} {
		if _, err := toScalar(v); err != nil {
			return fmt.Errorf("pgstore: put %q: %w", v, err)
		}
	}
	ix, props, texts, nums, bools, err := indexRows(m.Indexes)
	if err != nil {
		return fmt.Errorf("pgstore: put %s: %w", m.CID, err)
	}
	sortVals := make([]*string, len(dwn.SortProperties))
	for i, p := range dwn.SortProperties {
		v, ok := ix[p]
		if !ok {
			continue
		}
		str, ok := v.(string)
		if !ok {
			return fmt.Errorf("pgstore: put %s: sort property %s is a %T, not a string", m.CID, p, v)
		}
		sortVals[i] = &str
	}
	ixJSON, err := json.Marshal(ix)
	if err != nil {
		return fmt.Errorf("pgstore: put %s: %w", m.CID, err)
	}
	cols := sortColumnList()
	b.Queue(`INSERT INTO dwn_messages (tenant, cid, message, encoded_data, indexes, `+cols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (tenant, cid) DO UPDATE SET message = excluded.message, encoded_data = excluded.encoded_data,
			indexes = excluded.indexes, message_timestamp = excluded.message_timestamp,
			date_created = excluded.date_created, date_published = excluded.date_published`,
		tenant, m.CID, m.Message, m.EncodedData, ixJSON, sortVals[0], sortVals[1], sortVals[2])
	b.Queue(`DELETE FROM dwn_message_index WHERE message_id = (SELECT id FROM dwn_messages WHERE tenant = $1 AND cid = $2)`, tenant, m.CID)
	b.Queue(`INSERT INTO dwn_message_index (message_id, tenant, cid, prop, value_text, value_num, value_bool, `+cols+`)
		SELECT m.id, m.tenant, m.cid, u.prop, u.vt, u.vn, u.vb, m.message_timestamp, m.date_created, m.date_published
		FROM dwn_messages m, unnest($3::text[], $4::text[], $5::float8[], $6::bool[]) AS u (prop, vt, vn, vb)
		WHERE m.tenant = $1 AND m.cid = $2`,
		tenant, m.CID, props, texts, nums, bools)
	return nil
}

// sortColumnList lists the sort columns in dwn.SortProperties order.
func sortColumnList() string {
	cols := make([]string, len(dwn.SortProperties))
	for i, p := range dwn.SortProperties {
		cols[i] = sortColumns[p]
	}
	return strings.Join(cols, ", ")
}

// Get implements dwn.MessageStore.
func (s *messageStore) Get(ctx context.Context, tenant, cid string) (*dwn.StoredMessage, error) {
	m := &dwn.StoredMessage{CID: cid}
	var ix []byte
	err := s.pool.QueryRow(ctx, `SELECT message, encoded_data, indexes FROM dwn_messages WHERE tenant = $1 AND cid = $2`,
		tenant, cid).Scan(&m.Message, &m.EncodedData, &ix)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, notFound("message %s of %s", cid, tenant)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: get %s: %w", cid, err)
	}
	if err := json.Unmarshal(ix, &m.Indexes); err != nil {
		return nil, fmt.Errorf("pgstore: message %s of %s: indexes: %w", cid, tenant, err)
	}
	return m, nil
}

// Delete implements dwn.MessageStore; the index rows go by cascade.
func (s *messageStore) Delete(ctx context.Context, tenant, cid string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM dwn_messages WHERE tenant = $1 AND cid = $2`, tenant, cid); err != nil {
		return fmt.Errorf("pgstore: delete %s: %w", cid, err)
	}
	return nil
}

// Query implements dwn.MessageStore. Each filter becomes one or more
// streams, each an index walk in sort order from the cursor that stops
// at the page's limit; the streams' union is ordered and cut once more.
func (s *messageStore) Query(ctx context.Context, tenant string, filters []dwn.Filter, sort dwn.Sort, page dwn.Page) ([]*dwn.StoredMessage, *dwn.Cursor, error) {
	if err := validateQuery(filters, sort, page); err != nil {
		return nil, nil, fmt.Errorf("pgstore: query: %w", err)
	}
	if page.Cursor != nil {
		if _, ok := page.Cursor.Value.(string); !ok {
			return nil, nil, fmt.Errorf("pgstore: query: cursor value %v is not a string", page.Cursor.Value)
		}
	}
	sqlText, args := buildQuery(tenant, filters, sort, page)
	rows, err := s.pool.Query(ctx, sqlText, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("pgstore: query: %w", err)
	}
	var out []*dwn.StoredMessage
	for rows.Next() {
		m := &dwn.StoredMessage{}
		var ix []byte
		if err := rows.Scan(&m.CID, &m.Message, &m.EncodedData, &ix); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("pgstore: query: %w", err)
		}
		if err := json.Unmarshal(ix, &m.Indexes); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("pgstore: message %s of %s: indexes: %w", m.CID, tenant, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("pgstore: query: %w", err)
	}
	var next *dwn.Cursor
	if page.Limit > 0 && len(out) > page.Limit {
		out = out[:page.Limit]
		last := out[len(out)-1]
		next = &dwn.Cursor{MessageCID: last.CID, Value: last.Indexes[sort.Property]}
	}
	return out, next, nil
}

// buildQuery writes a valid query's SQL. One more row than the limit is
// read to learn whether another page follows.
func buildQuery(tenant string, filters []dwn.Filter, sort dwn.Sort, page dwn.Page) (string, []any) {
	b := &builder{}
	tenantArg := b.arg(tenant) + "::text"
	sc := sortColumns[sort.Property]
	dir := "ASC"
	if sort.Descending {
		dir = "DESC"
	}
	limit := ""
	if page.Limit > 0 {
		limit = fmt.Sprintf(" LIMIT %d", page.Limit+1)
	}
	var cursor string // a test on alias-qualified sort column and cid: %[1]s
	if c := page.Cursor; c != nil {
		op := ">"
		if sort.Descending {
			op = "<"
		}
		cursor = fmt.Sprintf(" AND (%%[1]s.%s, %%[1]s.cid) %s (%s::text, %s::text)", sc, op, b.arg(c.Value.(string)), b.arg(c.MessageCID))
	}
	var streams []string
	for _, f := range filters {
		driver := pickDriver(f, sort.Property)
		// The tests every stream of this filter shares, on alias %[1]s
		// whose row id is %[2]s.
		var tests []string
		for _, prop := range sortedProps(f) {
			c := f[prop]
			switch prop {
			case driver:
				continue // the walk itself tests it
			case sort.Property:
				tests = append(tests, b.textTest("%[1]s."+sc, c))
			default:
				tests = append(tests, fmt.Sprintf("EXISTS (SELECT 1 FROM dwn_message_index x WHERE x.message_id = %%[2]s AND x.prop = %s::text AND %s)",
					b.arg(prop), b.valueTest("x", c)))
			}
		}
		where := fmt.Sprintf("%%[1]s.%s IS NOT NULL", sc) + cursor
		for _, t := range tests {
			where += " AND " + t
		}
		order := fmt.Sprintf(" ORDER BY %%[1]s.%s %s, %%[1]s.cid %s", sc, dir, dir) + limit
		if driver == "" {
			body := "SELECT m.id, m.%[3]s AS sv, m.cid FROM dwn_messages m WHERE m.tenant = " + tenantArg + " AND " + where + order
			streams = append(streams, fmt.Sprintf(body, "m", "m.id", sc))
			continue
		}
		c := f[driver]
		values := c.OneOf
		if c.Equal != nil {
			values = []any{c.Equal}
		}
		propArg := b.arg(driver) + "::text"
		for _, v := range values {
			s, _ := toScalar(v)
			body := "SELECT d.message_id AS id, d.%[3]s AS sv, d.cid FROM dwn_message_index d WHERE d.tenant = " + tenantArg +
				" AND d.prop = " + propArg + " AND d." + s.column() + " = " + b.scalarArg(s) + " AND " + where + order
			streams = append(streams, fmt.Sprintf(body, "d", "d.message_id", sc))
		}
	}
	inner := streams[0]
	if len(streams) > 1 {
		inner = "(" + strings.Join(streams, ") UNION (") + ")"
	}
	return fmt.Sprintf("SELECT m.cid, m.message, m.encoded_data, m.indexes FROM (%s) u JOIN dwn_messages m ON m.id = u.id ORDER BY u.sv %s, u.cid %s%s",
		inner, dir, dir, limit), b.args
}

// pickDriver chooses the property whose equality index a filter walks: the
// first preferred one, else the first other one in name order; "" walks
// the sort column.
func pickDriver(f dwn.Filter, sortProp string) string {
	isEq := func(c dwn.Condition) bool { return c.Equal != nil || c.OneOf != nil }
	for _, p := range preferredDrivers {
		if c, ok := f[p]; ok && isEq(c) {
			return p
		}
	}
	for _, p := range sortedProps(f) {
		if p != sortProp && isEq(f[p]) {
			return p
		}
	}
	return ""
}

func sortedProps(f dwn.Filter) []string {
	props := make([]string, 0, len(f))
	for p := range f {
		props = append(props, p)
	}
	slices.Sort(props)
	return props
}
