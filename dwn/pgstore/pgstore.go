package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/anya-org/anya/dwn"
)

// schemaVersion is the version of the schema this build creates and reads.
const schemaVersion = 1

// lockClass is the first key of every advisory lock the store takes ("anya").
const lockClass = 0x616e7961

// schemaV1 creates version 1 of the schema. Every text column that is
// compared or sorted uses the "C" collation, so strings order bytewise as
// in JavaScript's index (and as the pebble store orders them), whatever the
// database's default collation.
var schemaV1 = []string{
	`CREATE TABLE IF NOT EXISTS dwn_messages (
		id                bigserial PRIMARY KEY,
		tenant            text COLLATE "C" NOT NULL,
		cid               text COLLATE "C" NOT NULL,
		message           bytea NOT NULL,
		encoded_data      text NOT NULL DEFAULT '',
		indexes           jsonb NOT NULL,
		message_timestamp text COLLATE "C",
		date_created      text COLLATE "C",
		date_published    text COLLATE "C",
		UNIQUE (tenant, cid)
	)`,
	// One row per indexed scalar (per array element), exactly one of the
	// value columns set. The sort columns and the CID are copied from the
	// message so that an index on (tenant, prop, value, sort, cid) yields a
	// property's matches in sort order and a LIMIT stops the walk.
	`CREATE TABLE IF NOT EXISTS dwn_message_index (
		message_id        bigint NOT NULL REFERENCES dwn_messages (id) ON DELETE CASCADE,
		tenant            text COLLATE "C" NOT NULL,
		cid               text COLLATE "C" NOT NULL,
		prop              text COLLATE "C" NOT NULL,
		value_text        text COLLATE "C",
		value_num         double precision,
		value_bool        boolean,
		message_timestamp text COLLATE "C",
		date_created      text COLLATE "C",
		date_published    text COLLATE "C",
		CHECK (num_nonnulls(value_text, value_num, value_bool) = 1)
	)`,
	`CREATE INDEX IF NOT EXISTS dwn_message_index_message ON dwn_message_index (message_id, prop)`,
	`CREATE TABLE IF NOT EXISTS dwn_events (
		watermark bigserial PRIMARY KEY,
		tenant    text COLLATE "C" NOT NULL,
		cid       text COLLATE "C" NOT NULL,
		indexes   jsonb NOT NULL
	)`,
	`CREATE INDEX IF NOT EXISTS dwn_events_tenant ON dwn_events (tenant, watermark)`,
	`CREATE INDEX IF NOT EXISTS dwn_events_cid ON dwn_events (tenant, cid)`,
	`CREATE TABLE IF NOT EXISTS dwn_event_index (
		watermark  bigint NOT NULL REFERENCES dwn_events (watermark) ON DELETE CASCADE,
		prop       text COLLATE "C" NOT NULL,
		value_text text COLLATE "C",
		value_num  double precision,
		value_bool boolean
	)`,
	`CREATE INDEX IF NOT EXISTS dwn_event_index_event ON dwn_event_index (watermark, prop)`,
	// A manifest row makes data visible; chunks without one are orphans of
	// an interrupted Put.
	`CREATE TABLE IF NOT EXISTS dwn_data (
		tenant    text COLLATE "C" NOT NULL,
		record_id text COLLATE "C" NOT NULL,
		data_cid  text COLLATE "C" NOT NULL,
		size      bigint NOT NULL,
		PRIMARY KEY (tenant, record_id, data_cid)
	)`,
	`CREATE TABLE IF NOT EXISTS dwn_data_chunks (
		tenant    text COLLATE "C" NOT NULL,
		record_id text COLLATE "C" NOT NULL,
		data_cid  text COLLATE "C" NOT NULL,
		seq       integer NOT NULL,
		bytes     bytea NOT NULL,
		PRIMARY KEY (tenant, record_id, data_cid, seq)
	)`,
}

func init() {
	// The walks a query takes: per sort column, the messages in sort order,
	// and per sort column and value kind, one property's value in sort order.
	for _, sc := range sortColumns {
		schemaV1 = append(schemaV1, fmt.Sprintf(
			`CREATE INDEX IF NOT EXISTS dwn_messages_%[1]s ON dwn_messages (tenant, %[1]s, cid) WHERE %[1]s IS NOT NULL`, sc))
		for _, vc := range []string{"value_text", "value_num", "value_bool"} {
			schemaV1 = append(schemaV1, fmt.Sprintf(
				`CREATE INDEX IF NOT EXISTS dwn_message_index_%[2]s_%[1]s ON dwn_message_index (tenant, prop, %[2]s, %[1]s, cid) WHERE %[2]s IS NOT NULL AND %[1]s IS NOT NULL`, sc, vc))
		}
	}
}

// sortColumns maps each of dwn.SortProperties to its column.
var sortColumns = map[string]string{
	"messageTimestamp": "message_timestamp",
	"dateCreated":      "date_created",
	"datePublished":    "date_published",
}

// Store is a PostgreSQL database holding a node's MessageStore, EventLog
// and DataStore. It is safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to the database at url (a libpq URL or key=value string;
// pgxpool settings such as pool_max_conns go in it) and creates or checks
// the schema.
func Open(ctx context.Context, url string) (*Store, error) {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %w", err)
	}
	s := &Store{pool: pool}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// migrate creates the schema if it is missing, in one transaction under an
// advisory lock, so concurrent Opens of one database do not race.
func (s *Store) migrate(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, 0)`, lockClass); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS dwn_schema_version (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`); err != nil {
			return err
		}
		var v int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM dwn_schema_version`).Scan(&v); err != nil {
			return err
		}
		if v > schemaVersion {
			return fmt.Errorf("database schema version %d is newer than this build's %d", v, schemaVersion)
		}
		if v == schemaVersion {
			return nil
		}
		for _, stmt := range schemaV1 {
			if _, err := tx.Exec(ctx, stmt); err != nil {
				return fmt.Errorf("%.60s…: %w", stmt, err)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO dwn_schema_version (version) VALUES ($1)`, schemaVersion)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: schema: %w", err)
	}
	return nil
}

// Close closes every connection. It waits for readers returned by the
// data store's Get, each of which holds a connection, to be closed.
func (s *Store) Close() { s.pool.Close() }

// Messages returns the message store.
func (s *Store) Messages() dwn.MessageStore { return &messageStore{pool: s.pool} }

// Events returns the event log.
func (s *Store) Events() dwn.EventLog { return &eventLog{pool: s.pool} }

// Data returns the data store.
func (s *Store) Data() dwn.DataStore { return &dataStore{pool: s.pool} }

// notFound wraps dwn.ErrNotFound with what was missing.
func notFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), dwn.ErrNotFound)
}

var errNoCID = errors.New("pgstore: put without a CID")
