package dwn

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/cockroachdb/pebble/v2"
)

// DataStore keeps record data too large to inline in the message store,
// keyed by tenant, recordId and dataCid.
type DataStore interface {
	// Put stores at most max bytes from r (max 0: no limit) and returns the
	// size. Data that goes over max is an ErrDataTooLarge and leaves nothing
	// visible. Until Put returns, Get does not see the data.
	Put(ctx context.Context, tenant, recordID, dataCID string, r io.Reader, max int64) (int64, error)
	// Get returns the data and its size, or ErrNotFound.
	Get(ctx context.Context, tenant, recordID, dataCID string) (io.ReadCloser, int64, error)
	// Delete removes the data; deleting missing data is not an error.
	Delete(ctx context.Context, tenant, recordID, dataCID string) error
}

// PebbleDataStore is the embedded DataStore. Data is written in 256 KiB
// chunks, batch by batch, and becomes visible only when a final batch
// writes its manifest, so a process killed mid-write leaves only orphan
// chunks that the next Put or Delete of the same key removes:
//
//	/dwn/d <tenant> <recordId> <dataCid> <chunk index, 8 bytes>  → bytes
//	/dwn/D <tenant> <recordId> <dataCid>                         → size (8 bytes)
type PebbleDataStore struct {
	db *pebble.DB
}

// NewPebbleDataStore returns a data store on db.
func NewPebbleDataStore(db *pebble.DB) *PebbleDataStore { return &PebbleDataStore{db: db} }

const dataChunkSize = 256 << 10

var (
	prefixDataChunk    = []byte("/dwn/d")
	prefixDataManifest = []byte("/dwn/D")
)

func dataKeyBase(prefix []byte, tenant, recordID, dataCID string) []byte {
	k := encodeString(slices.Clone(prefix), tenant)
	k = encodeString(k, recordID)
	return encodeString(k, dataCID)
}

// Put implements DataStore.
func (s *PebbleDataStore) Put(ctx context.Context, tenant, recordID, dataCID string, r io.Reader, max int64) (int64, error) {
	chunks := dataKeyBase(prefixDataChunk, tenant, recordID, dataCID)
	manifest := dataKeyBase(prefixDataManifest, tenant, recordID, dataCID)
	if err := s.clear(manifest, chunks); err != nil {
		return 0, err
	}
	buf := make([]byte, dataChunkSize)
	var size int64
	b := s.db.NewBatch()
	defer func() { b.Close() }()
	for i := uint64(0); ; i++ {
		if err := ctx.Err(); err != nil {
			return 0, errors.Join(err, s.clear(manifest, chunks))
		}
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			size += int64(n)
			if max > 0 && size > max {
				return 0, errors.Join(fmt.Errorf("%w (%d bytes)", ErrDataTooLarge, max), s.clear(manifest, chunks))
			}
			if err := b.Set(binary.BigEndian.AppendUint64(slices.Clone(chunks), i), buf[:n], nil); err != nil {
				return 0, err
			}
			if b.Len() >= 16<<20 {
				if err := b.Commit(pebble.NoSync); err != nil {
					return 0, err
				}
				b.Close()
				b = s.db.NewBatch()
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return 0, errors.Join(fmt.Errorf("dwn: read record data: %w", err), s.clear(manifest, chunks))
		}
	}
	if err := b.Set(manifest, binary.BigEndian.AppendUint64(nil, uint64(size)), nil); err != nil {
		return 0, err
	}
	// Sync makes the manifest and every chunk before it durable.
	if err := b.Commit(pebble.Sync); err != nil {
		return 0, fmt.Errorf("dwn: data store: %w", err)
	}
	return size, nil
}

// clear removes a key's manifest and chunks, complete or orphaned.
func (s *PebbleDataStore) clear(manifest, chunks []byte) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := b.Delete(manifest, nil); err != nil {
		return err
	}
	if err := b.DeleteRange(chunks, successor(chunks), nil); err != nil {
		return err
	}
	return b.Commit(pebble.Sync)
}

// Get implements DataStore.
func (s *PebbleDataStore) Get(_ context.Context, tenant, recordID, dataCID string) (io.ReadCloser, int64, error) {
	v, closer, err := s.db.Get(dataKeyBase(prefixDataManifest, tenant, recordID, dataCID))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, 0, fmt.Errorf("data %s of record %s: %w", dataCID, recordID, ErrNotFound)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("dwn: data store: %w", err)
	}
	if len(v) != 8 {
		closer.Close()
		return nil, 0, fmt.Errorf("dwn: data store: manifest of %s is corrupt", dataCID)
	}
	size := int64(binary.BigEndian.Uint64(v))
	closer.Close()
	snap := s.db.NewSnapshot()
	return &chunkReader{snap: snap, base: dataKeyBase(prefixDataChunk, tenant, recordID, dataCID), size: size}, size, nil
}

// Delete implements DataStore.
func (s *PebbleDataStore) Delete(_ context.Context, tenant, recordID, dataCID string) error {
	return s.clear(dataKeyBase(prefixDataManifest, tenant, recordID, dataCID), dataKeyBase(prefixDataChunk, tenant, recordID, dataCID))
}

// chunkReader streams data chunk by chunk from a snapshot, so a concurrent
// Delete cannot tear a read.
type chunkReader struct {
	snap *pebble.Snapshot
	base []byte
	size int64
	read int64
	next uint64
	cur  *bytes.Reader
}

func (c *chunkReader) Read(p []byte) (int, error) {
	for c.cur == nil || c.cur.Len() == 0 {
		if c.read >= c.size {
			return 0, io.EOF
		}
		v, closer, err := c.snap.Get(binary.BigEndian.AppendUint64(slices.Clone(c.base), c.next))
		if err != nil {
			return 0, fmt.Errorf("dwn: data store: chunk %d: %w", c.next, err)
		}
		c.cur = bytes.NewReader(slices.Clone(v))
		closer.Close()
		c.next++
	}
	n, err := c.cur.Read(p)
	c.read += int64(n)
	return n, err
}

func (c *chunkReader) Close() error { return c.snap.Close() }
