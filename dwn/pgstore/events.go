package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/anya-org/anya/dwn"
)

// eventLog is the EventLog. A watermark is the event's bigserial as a
// zero-padded decimal string of watermarkDigits digits, so watermarks of
// one database also order as strings.
type eventLog struct {
	pool *pgxpool.Pool
}

const watermarkDigits = 20

func formatWatermark(n int64) string { return fmt.Sprintf("%0*d", watermarkDigits, n) }

func parseWatermark(v any) (int64, error) {
	s, ok := v.(string)
	if !ok || len(s) != watermarkDigits || strings.Trim(s, "0123456789") != "" {
		return 0, fmt.Errorf("cursor value %v is not a watermark", v)
	}
	return strconv.ParseInt(s, 10, 64)
}

// Append implements dwn.EventLog. A per-tenant advisory lock, held from
// before the watermark is drawn until the commit, makes a tenant's events
// commit in watermark order, so a reader past a watermark never misses an
// event that commits later with a smaller one.
func (l *eventLog) Append(ctx context.Context, tenant, messageCID string, indexes dwn.Indexes) (string, error) {
	ix, props, texts, nums, bools, err := indexRows(indexes)
	if err != nil {
		return "", fmt.Errorf("pgstore: append %s: %w", messageCID, err)
	}
	ixJSON, err := json.Marshal(ix)
	if err != nil {
		return "", fmt.Errorf("pgstore: append %s: %w", messageCID, err)
	}
	b := &pgx.Batch{} // one implicit transaction
	b.Queue(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, lockClass, tenant)
	b.Queue(`WITH e AS (
			INSERT INTO dwn_events (tenant, cid, indexes) VALUES ($1, $2, $3) RETURNING watermark
		), i AS (
			INSERT INTO dwn_event_index (watermark, prop, value_text, value_num, value_bool)
			SELECT e.watermark, u.prop, u.vt, u.vn, u.vb
			FROM e, unnest($4::text[], $5::text[], $6::float8[], $7::bool[]) AS u (prop, vt, vn, vb)
		)
		SELECT watermark FROM e`,
		tenant, messageCID, ixJSON, props, texts, nums, bools)
	br := l.pool.SendBatch(ctx, b)
	var wm int64
	_, err = br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&wm)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", fmt.Errorf("pgstore: append %s: %w", messageCID, err)
	}
	return formatWatermark(wm), nil
}

// Query implements dwn.EventLog.
func (l *eventLog) Query(ctx context.Context, tenant string, filters []dwn.Filter, after *dwn.Cursor, limit int) ([]string, *dwn.Cursor, error) {
	for i, f := range filters {
		for prop, c := range f {
			if err := c.Validate(); err != nil {
				return nil, nil, fmt.Errorf("pgstore: event log: filter %d, %s: %w", i, prop, err)
			}
			if err := checkScalars(c); err != nil {
				return nil, nil, fmt.Errorf("pgstore: event log: filter %d, %s: %w", i, prop, err)
			}
		}
	}
	b := &builder{}
	q := "SELECT e.watermark, e.cid FROM dwn_events e WHERE e.tenant = " + b.arg(tenant) + "::text"
	if after != nil {
		wm, err := parseWatermark(after.Value)
		if err != nil {
			return nil, nil, fmt.Errorf("pgstore: event log: %w", err)
		}
		q += " AND e.watermark > " + b.arg(wm) + "::bigint"
	}
	if len(filters) > 0 {
		ors := make([]string, len(filters))
		for i, f := range filters {
			ands := []string{"TRUE"}
			for _, prop := range sortedProps(f) {
				ands = append(ands, "EXISTS (SELECT 1 FROM dwn_event_index x WHERE x.watermark = e.watermark AND x.prop = "+
					b.arg(prop)+"::text AND "+b.valueTest("x", f[prop])+")")
			}
			ors[i] = "(" + strings.Join(ands, " AND ") + ")"
		}
		q += " AND (" + strings.Join(ors, " OR ") + ")"
	}
	q += " ORDER BY e.watermark"
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := l.pool.Query(ctx, q, b.args...)
	if err != nil {
		return nil, nil, fmt.Errorf("pgstore: event log: %w", err)
	}
	defer rows.Close()
	var cids []string
	var last *dwn.Cursor
	for rows.Next() {
		var wm int64
		var cid string
		if err := rows.Scan(&wm, &cid); err != nil {
			return nil, nil, fmt.Errorf("pgstore: event log: %w", err)
		}
		cids = append(cids, cid)
		last = &dwn.Cursor{MessageCID: cid, Value: formatWatermark(wm)}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("pgstore: event log: %w", err)
	}
	return cids, last, nil
}

// Delete implements dwn.EventLog; the index rows go by cascade.
func (l *eventLog) Delete(ctx context.Context, tenant string, messageCIDs ...string) error {
	if len(messageCIDs) == 0 {
		return nil
	}
	if _, err := l.pool.Exec(ctx, `DELETE FROM dwn_events WHERE tenant = $1 AND cid = ANY($2::text[])`, tenant, messageCIDs); err != nil {
		return fmt.Errorf("pgstore: event log: delete: %w", err)
	}
	return nil
}
