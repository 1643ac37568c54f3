package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/dwn"
	"github.com/anya-org/anya/dwn/server"
	"github.com/anya-org/anya/keystore"
	"github.com/anya-org/anya/p2p"
	pebbleds "github.com/ipfs/go-ds-pebble"
)

// Version is the node's version, set at build time with
// -ldflags "-X github.com/anya-org/anya/node.Version=...".
var Version = "0.1.0-dev"

// Node is a running Anya node.
type Node struct {
	cfg     Config
	dataDir string
	log     *slog.Logger
	started time.Time

	keys      keystore.Keystore
	identity  keystore.Signer
	did       string
	store     *pebbleds.Datastore
	resolver  *did.Registry
	host      *p2p.Host
	api       *apiServer
	dht       *p2p.DHT
	gossip    *p2p.Gossip
	dwn       *dwn.DWN
	dwnServer *server.Server

	stopOnce sync.Once
	stopErr  error
	cleanup  []func() error
}

// Options carries what a node needs besides its config.
type Options struct {
	DataDir string
	Config  Config
	Log     *slog.Logger
}

// Start opens the data directory (initialising it when it is new), then
// starts the subsystems in dependency order: keystore, datastore, DID
// resolver, libp2p host, HTTP API. On failure everything already started is
// stopped in reverse.
func Start(ctx context.Context, opts Options) (_ *Node, err error) {
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	cfg := opts.Config
	n := &Node{cfg: cfg, dataDir: opts.DataDir, log: log, started: time.Now()}
	defer func() {
		if err != nil {
			n.Close()
		}
	}()

	if !Initialised(opts.DataDir) {
		if err := Init(opts.DataDir, cfg); err != nil {
			return nil, fmt.Errorf("initialise %s: %w", opts.DataDir, err)
		}
		log.Info("initialised data directory", "dir", opts.DataDir)
	}
	if cfg.Keystore.Unencrypted {
		log.Warn("keystore is NOT encrypted: anyone who can read the data directory has the node's keys", "dir", KeystorePath(opts.DataDir))
	} else if passphraseBesideKeys(cfg.Keystore) {
		log.Warn("keystore passphrase is kept in the data directory beside the keys; set ANYA_PASSPHRASE or keystore.passphrase_file to keep it elsewhere")
	}

	pass, err := passphrase(opts.DataDir, cfg.Keystore, false)
	if err != nil {
		return nil, err
	}
	ks, err := keystore.OpenSoftware(KeystorePath(opts.DataDir), pass, keystore.SoftwareOptions{Unencrypted: cfg.Keystore.Unencrypted})
	clear(pass)
	// The KDF's memory-hard work leaves tens of MiB of garbage; hand it back
	// to the OS now rather than carry it as idle RSS.
	debug.FreeOSMemory()
	if err != nil {
		return nil, fmt.Errorf("open keystore: %w", err)
	}
	n.keys = ks
	n.push(ks.Close)

	n.identity, err = ks.Signer(NodeKeyID)
	if err != nil {
		return nil, fmt.Errorf("node identity key: %w", err)
	}
	n.did, err = did.NewKey(n.identity.PublicKey())
	if err != nil {
		return nil, fmt.Errorf("node DID: %w", err)
	}

	n.store, err = OpenDatastore(opts.DataDir, cfg.Storage)
	if err != nil {
		return nil, err
	}
	n.push(n.store.Close)

	n.resolver = did.NewRegistry(did.RegistryConfig{
		Cache:      subsystemStore(n.store, nsDID),
		TTL:        cfg.DID.CacheTTL.Std(),
		WebTimeout: cfg.DID.WebTimeout.Std(),
		Logger:     log.With("subsys", "did"),
	})
	n.push(n.every(cfg.DID.CacheTTL.Std(), func(ctx context.Context) {
		if pruned, err := n.resolver.Prune(ctx); err != nil {
			log.Warn("did cache prune failed", "subsys", "did", "err", err)
		} else if pruned > 0 {
			log.Debug("did cache pruned", "subsys", "did", "entries", pruned)
		}
	}))

	n.host, err = p2p.NewHost(cfg.P2P, n.identity, log.With("subsys", "p2p"))
	if err != nil {
		return nil, err
	}
	n.push(n.host.Close)
	if len(cfg.P2P.Bootstrap) > 0 {
		go n.host.ConnectBootstrap(ctx, cfg.P2P.Bootstrap)
	}
	if err := n.startDHT(); err != nil {
		return nil, err
	}
	// Gossip (oracle announcements) runs on the host's connections; the
	// oracle protocol registers its validator on the topic.
	n.gossip, err = p2p.NewGossip(context.Background(), n.host, p2p.GossipOptions{Log: log})
	if err != nil {
		return nil, err
	}
	n.push(n.gossip.Close)

	if err := n.startDWN(ctx); err != nil {
		return nil, err
	}
	n.startSync()

	token, err := loadOrCreateToken(opts.DataDir)
	if err != nil {
		return nil, err
	}
	n.api, err = startAPI(n, token)
	if err != nil {
		return nil, err
	}
	n.push(n.api.close)
	if ip := net.ParseIP(hostOf(n.api.addr)); ip == nil || !ip.IsLoopback() {
		log.Warn("HTTP API listens beyond loopback: /health, /info and /metrics are open to the network, admin calls still need the token", "subsys", "api", "addr", n.api.addr)
	}
	if err := writeFileAtomic(APIAddrPath(opts.DataDir), []byte(n.api.addr+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("write %s: %w", APIAddrPath(opts.DataDir), err)
	}
	n.push(func() error { return os.Remove(APIAddrPath(opts.DataDir)) })

	log.Info("node started", "did", n.did, "peer", n.host.ID().String(), "addrs", n.host.FullAddrs(), "api", "http://"+n.api.addr)
	return n, nil
}

func hostOf(addr string) string {
	host, _, _ := net.SplitHostPort(addr)
	return host
}

// Run starts a node and serves until ctx is done, then stops it.
func Run(ctx context.Context, opts Options) error {
	n, err := Start(ctx, opts)
	if err != nil {
		return err
	}
	<-ctx.Done()
	n.log.Info("node stopping")
	return n.Close()
}

// every runs fn in the background at once and then each period, until the
// returned stop function is called.
func (n *Node) every(period time.Duration, fn func(ctx context.Context)) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn(ctx)
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fn(ctx)
			}
		}
	}()
	return func() error { cancel(); <-done; return nil }
}

// push adds a stop function to the cleanup stack.
func (n *Node) push(stop func() error) { n.cleanup = append(n.cleanup, stop) }

// Close stops every subsystem in reverse start order; it is idempotent.
func (n *Node) Close() error {
	n.stopOnce.Do(func() {
		var errs []error
		for i := len(n.cleanup) - 1; i >= 0; i-- {
			if err := n.cleanup[i](); err != nil {
				errs = append(errs, err)
			}
		}
		n.cleanup = nil
		n.stopErr = errors.Join(errs...)
	})
	return n.stopErr
}

// DID is the node's own did:key.
func (n *Node) DID() string { return n.did }

// APIAddr is the address the HTTP API listens on.
func (n *Node) APIAddr() string { return n.api.addr }

// Gossip is the node's gossipsub router.
func (n *Node) Gossip() *p2p.Gossip { return n.gossip }

// Host is the node's libp2p host.
func (n *Node) Host() *p2p.Host { return n.host }
