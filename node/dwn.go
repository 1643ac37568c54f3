package node

import (
	"context"
	"fmt"
	"strings"

	"github.com/anya-org/anya/dwn"
	"github.com/anya-org/anya/dwn/pgstore"
	"github.com/anya-org/anya/dwn/server"
	"github.com/anya-org/anya/p2p"
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

	// Peers reach the DWN over libp2p too, and can learn the node's DID by
	// DID authentication.
	auth := p2p.NewDIDAuth(n.host, p2p.DIDIdentity{DID: n.did, KID: n.kid(), Signer: n.identity}, n.resolver,
		p2p.WithAuthLogger(n.log))
	n.push(auth.Close)
	p2p.ServeDWN(n.host, d, p2p.DWNProtoOptions{
		MaxMessageSize: n.cfg.DWN.MaxMessageSize,
		MaxDataSize:    n.cfg.DWN.MaxDataSize,
		Logger:         n.log, // ServeDWN tags its lines subsys=p2p-dwn
	})
	n.push(func() error { n.host.RemoveStreamHandler(p2p.DWNProtocol); return nil })
	return nil
}

// kid is the verification method of the node's did:key that its identity
// key signs as.
func (n *Node) kid() string {
	return n.did + "#" + strings.TrimPrefix(n.did, "did:key:")
}
