package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/anya-org/anya/dwn"
)

// dataStore is the DataStore. Put writes data in chunks of dataChunkSize,
// each in its own statement, so it never holds more than one chunk, and
// then the manifest row that makes the data visible. An interrupted Put
// leaves only orphan chunks, which the next Put or Delete of the key
// removes.
type dataStore struct {
	pool *pgxpool.Pool
}

const dataChunkSize = 256 << 10

// Put implements dwn.DataStore.
func (s *dataStore) Put(ctx context.Context, tenant, recordID, dataCID string, r io.Reader, max int64) (int64, error) {
	for _, v := range []string{tenant, recordID, dataCID} {
		if _, err := toScalar(v); err != nil {
			return 0, fmt.Errorf("pgstore: data %q: %w", v, err)
		}
	}
	if err := s.clear(ctx, tenant, recordID, dataCID); err != nil {
		return 0, err
	}
	// fail removes what was written, even when ctx is what failed.
	fail := func(err error) (int64, error) {
		return 0, errors.Join(err, s.clear(context.WithoutCancel(ctx), tenant, recordID, dataCID))
	}
	buf := make([]byte, dataChunkSize)
	var size int64
	for seq := int32(0); ; seq++ {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			size += int64(n)
			if max > 0 && size > max {
				return fail(fmt.Errorf("%w (%d bytes)", dwn.ErrDataTooLarge, max))
			}
			if _, err := s.pool.Exec(ctx, `INSERT INTO dwn_data_chunks (tenant, record_id, data_cid, seq, bytes) VALUES ($1, $2, $3, $4, $5)`,
				tenant, recordID, dataCID, seq, buf[:n]); err != nil {
				return fail(fmt.Errorf("pgstore: data %s: chunk %d: %w", dataCID, seq, err))
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return fail(fmt.Errorf("pgstore: read record data: %w", err))
		}
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO dwn_data (tenant, record_id, data_cid, size) VALUES ($1, $2, $3, $4)
		ON CONFLICT (tenant, record_id, data_cid) DO UPDATE SET size = excluded.size`,
		tenant, recordID, dataCID, size); err != nil {
		return fail(fmt.Errorf("pgstore: data %s: manifest: %w", dataCID, err))
	}
	return size, nil
}

// clear removes a key's manifest, then its chunks, complete or orphaned,
// in one implicit transaction.
func (s *dataStore) clear(ctx context.Context, tenant, recordID, dataCID string) error {
	b := &pgx.Batch{}
	b.Queue(`DELETE FROM dwn_data WHERE tenant = $1 AND record_id = $2 AND data_cid = $3`, tenant, recordID, dataCID)
	b.Queue(`DELETE FROM dwn_data_chunks WHERE tenant = $1 AND record_id = $2 AND data_cid = $3`, tenant, recordID, dataCID)
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("pgstore: data %s: clear: %w", dataCID, err)
	}
	return nil
}

// Get implements dwn.DataStore. The reader reads chunk by chunk in a
// read-only repeatable-read transaction, a snapshot that a concurrent
// Delete cannot tear; it holds one connection until it is closed.
func (s *dataStore) Get(ctx context.Context, tenant, recordID, dataCID string) (io.ReadCloser, int64, error) {
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, 0, fmt.Errorf("pgstore: data %s: %w", dataCID, err)
	}
	var size int64
	err = tx.QueryRow(ctx, `SELECT size FROM dwn_data WHERE tenant = $1 AND record_id = $2 AND data_cid = $3`,
		tenant, recordID, dataCID).Scan(&size)
	if err != nil {
		tx.Rollback(context.WithoutCancel(ctx))
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, 0, notFound("data %s of record %s", dataCID, recordID)
		}
		return nil, 0, fmt.Errorf("pgstore: data %s: %w", dataCID, err)
	}
	return &chunkReader{ctx: ctx, tx: tx, key: [3]string{tenant, recordID, dataCID}, size: size}, size, nil
}

// Delete implements dwn.DataStore.
func (s *dataStore) Delete(ctx context.Context, tenant, recordID, dataCID string) error {
	return s.clear(ctx, tenant, recordID, dataCID)
}

// chunkReader streams one key's chunks from a snapshot transaction.
type chunkReader struct {
	ctx  context.Context
	tx   pgx.Tx
	key  [3]string
	size int64
	read int64
	next int32
	cur  *bytes.Reader
	done bool
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if c.done {
		return 0, errors.New("pgstore: read after close")
	}
	for c.cur == nil || c.cur.Len() == 0 {
		if c.read >= c.size {
			return 0, io.EOF
		}
		var chunk []byte
		err := c.tx.QueryRow(c.ctx, `SELECT bytes FROM dwn_data_chunks WHERE tenant = $1 AND record_id = $2 AND data_cid = $3 AND seq = $4`,
			c.key[0], c.key[1], c.key[2], c.next).Scan(&chunk)
		if err != nil {
			return 0, fmt.Errorf("pgstore: data %s: chunk %d: %w", c.key[2], c.next, err)
		}
		c.cur = bytes.NewReader(chunk)
		c.next++
	}
	n, err := c.cur.Read(p)
	c.read += int64(n)
	return n, err
}

// Close ends the snapshot and returns its connection to the pool.
func (c *chunkReader) Close() error {
	if c.done {
		return nil
	}
	c.done = true
	return c.tx.Rollback(context.WithoutCancel(c.ctx))
}
