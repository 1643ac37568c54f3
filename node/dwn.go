package node

import (
	"context"
	"fmt"

	"github.com/anya-org/anya/dwn"
	"github.com/anya-org/anya/dwn/pgstore"
	"github.com/anya-org/anya/dwn/server"
)

// startDWN opens the DWN's stores (embedded in the node's pebble database,
// or PostgreSQL when dwn.store is a URL), the DWN itself, and the
// dwn-server-compatible transport the API mounts.
func (n *Node) startDWN(ctx context.Context) error {
	var (
		messages dwn.MessageStore
		events   dwn.EventLog
		data     dwn.DataStore
	)
	if url := n.cfg.DWN.Store; url != "" {
		pg, err := pgstore.Open(ctx, url)
		if err != nil {
			return &ConfigError{Key: "dwn.store", Err: err}
		}
		n.push(func() error { pg.Close(); return nil })
		messages, events, data = pg.Messages(), pg.Events(), pg.Data()
	} else {
		db := n.store.DB
		messages, events, data = dwn.NewPebbleStore(db), dwn.NewPebbleEventLog(db, nil), dwn.NewPebbleDataStore(db)
	}
	d, err := dwn.New(dwn.Options{
		Messages: messages,
		Events:   events,
		Data:     data,
		Resolver: n.resolver,
		Owner:    n.did,
		Config:   n.cfg.DWN,
		Logger:   n.log.With("subsys", "dwn"),
	})
	if err != nil {
		return fmt.Errorf("start DWN: %w", err)
	}
	n.dwn = d
	n.push(d.Close)
	n.dwnServer = server.New(d, server.Options{
		MaxDataSize:    n.cfg.DWN.MaxDataSize,
		MaxMessageSize: n.cfg.DWN.MaxMessageSize,
		Logger:         n.log.With("subsys", "dwn"),
		Version:        Version,
	})
	n.push(n.dwnServer.Close)
	return nil
}
