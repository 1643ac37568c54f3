package node

import (
	"context"
	"time"

	"github.com/anya-org/anya/p2p"
	ds "github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/peer"
)

var nsDHT = ds.NewKey("/dht")

// recordRepublish is how often the node re-signs and republishes its DID
// record; records live p2p.DefaultRecordTTL, so a missed round is harmless.
const recordRepublish = 12 * time.Hour

// startDHT joins the private DHT of DID records and keeps the node's own
// record published there (at start, then before it expires).
func (n *Node) startDHT() error {
	var boot []peer.AddrInfo
	for _, s := range n.cfg.P2P.Bootstrap {
		info, err := p2p.ParseBootstrap(s)
		if err != nil {
			return &ConfigError{Key: "p2p.bootstrap", Err: err}
		}
		boot = append(boot, *info)
	}
	d, err := p2p.NewDHT(n.host, subsystemStore(n.store, nsDHT), p2p.DHTOptions{
		Bootstrap: boot,
		Resolver:  n.resolver,
		Signer:    n.identity,
		KID:       n.kid(),
		Log:       n.log.With("subsys", "dht"),
	})
	if err != nil {
		return err
	}
	n.dht = d
	n.push(d.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.Keep(ctx, func() (*p2p.DIDRecord, error) {
			return &p2p.DIDRecord{DID: n.did, PeerID: n.host.ID(), Addrs: n.host.Addrs()}, nil
		}, recordRepublish)
	}()
	n.push(func() error { cancel(); <-done; return nil })
	return nil
}

// Found is the answer of anya find: where a DID's node is.
type Found struct {
	DID     string    `json:"did"`
	PeerID  string    `json:"peerId"`
	Addrs   []string  `json:"addrs"`
	Seq     uint64    `json:"seq"`
	Expires time.Time `json:"expires"`
}

// Find looks a DID up in the DHT; the record is verified on read.
func (n *Node) Find(ctx context.Context, did string) (Found, error) {
	rec, err := n.dht.Find(ctx, did)
	if err != nil {
		return Found{}, err
	}
	f := Found{DID: rec.DID, PeerID: rec.PeerID.String(), Seq: rec.Seq, Expires: rec.Expires}
	for _, a := range rec.Addrs {
		f.Addrs = append(f.Addrs, a.String())
	}
	return f, nil
}
