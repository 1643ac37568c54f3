package node

import (
	"context"

	"github.com/anya-org/anya/dwn"
	dwnsync "github.com/anya-org/anya/dwn/sync"
	ds "github.com/ipfs/go-datastore"
)

var nsSync = ds.NewKey("/dwnsync")

// startSync keeps the node's own DWN in sync, both ways, with each
// [sync] peer: at start, then every sync.interval.
func (n *Node) startSync() {
	if len(n.cfg.Sync.Peers) == 0 {
		return
	}
	engine := dwnsync.New(dwnsync.Options{
		Tenant:  n.did,
		Author:  dwn.KeyAuthor(n.did, n.identity),
		Local:   n.dwn,
		Cursors: subsystemStore(n.store, nsSync),
		Logger:  n.log.With("subsys", "sync"),
	})
	round := func(ctx context.Context) {
		for _, p := range n.cfg.Sync.Peers {
			pulled, pushed, err := n.syncPeer(ctx, engine, p)
			switch {
			case ctx.Err() != nil:
				return // the node is stopping
			case err != nil:
				n.log.Warn("sync failed", "subsys", "sync", "peer", p, "pulled", pulled, "pushed", pushed, "err", err)
			case pulled+pushed > 0:
				n.log.Info("synced", "subsys", "sync", "peer", p, "pulled", pulled, "pushed", pushed)
			}
		}
	}
	n.push(n.every(n.cfg.Sync.Interval.Std(), round))
}

// syncPeer reaches one peer and syncs with it both ways.
func (n *Node) syncPeer(ctx context.Context, engine *dwnsync.Engine, peerSpec string) (pulled, pushed int, err error) {
	remote, err := n.remoteFor(ctx, peerSpec)
	if err != nil {
		return 0, 0, err
	}
	return engine.Sync(ctx, peerSpec, remote)
}
