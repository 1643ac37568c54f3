package node

import (
	"fmt"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2"
	ds "github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/namespace"
	pebbleds "github.com/ipfs/go-ds-pebble"
)

// The datastore namespaces, one per subsystem.
var (
	nsDID = ds.NewKey("/did")
)

// OpenDatastore opens the pebble datastore in <data>/datastore. Every write
// is synced to the write-ahead log before it is acknowledged, so an
// acknowledged write survives the process being killed.
func OpenDatastore(dataDir string, cfg StorageConfig) (*pebbleds.Datastore, error) {
	path := filepath.Join(dataDir, datastoreDir)
	store, err := pebbleds.NewDatastore(path,
		pebbleds.WithCacheSize(int64(cfg.CacheMB)<<20),
		pebbleds.WithPebbleWriteOptions(pebble.Sync),
	)
	if err != nil {
		return nil, fmt.Errorf("open datastore %s: %w", path, err)
	}
	return store, nil
}

// subsystemStore gives a subsystem its own key space.
func subsystemStore(store ds.Batching, ns ds.Key) ds.Batching {
	return namespace.Wrap(store, ns)
}
