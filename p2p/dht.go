package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/keystore"
	"github.com/ipfs/go-datastore"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/routing"
)

// DHTProtocolPrefix is the private protocol prefix of Anya's DHT
// (/anya/kad/1.0.0). The default /ipfs prefix refuses extra validators and
// would mix our records into the public Amino DHT.
const DHTProtocolPrefix = "/anya"

// Defaults of DHTOptions.
const (
	DefaultPublishWait = 30 * time.Second
	DefaultRecordTTL   = 24 * time.Hour
)

// ErrRecordNotFound is returned by Find when no peer holds a valid record.
var ErrRecordNotFound = errors.New("p2p: no DID record found")

// DHTOptions configures NewDHT. The zero value is usable.
type DHTOptions struct {
	// Bootstrap peers are dialled whenever the routing table is empty.
	Bootstrap []peer.AddrInfo
	// Resolver and ResolveTimeout verify records of DIDs other than did:key
	// and did:jwk (see Validator).
	Resolver       did.Resolver
	ResolveTimeout time.Duration
	// Now is the clock that expires records and dates republished ones;
	// nil means time.Now.
	Now func() time.Time
	// MaxRecordAge is how long a server keeps a record after receiving it;
	// zero keeps go-libp2p-kad-dht's 48 h. Keep republishes well within it.
	MaxRecordAge time.Duration
	// PublishWait bounds how long Publish waits for a first peer in the
	// routing table; zero means DefaultPublishWait.
	PublishWait time.Duration
	// Quorum makes Find stop after that many answers; zero runs the full
	// lookup and keeps the best record (go-libp2p-kad-dht's default).
	Quorum int

	// Signer and KID sign the records Keep republishes; TTL is their
	// lifetime (zero means DefaultRecordTTL).
	Signer keystore.Signer
	KID    string
	TTL    time.Duration
	// Tick returns a channel that fires every period and a function that
	// stops it; nil means a time.Ticker. Tests inject their own.
	Tick func(period time.Duration) (<-chan time.Time, func())

	// Log receives the DHT's lines; nil discards them.
	Log *slog.Logger
}

// DHT publishes and finds DID records on Anya's private Kademlia DHT.
type DHT struct {
	kad  *dht.IpfsDHT
	opts DHTOptions
	val  *Validator
	log  *slog.Logger
}

// NewDHT starts a DHT server on h that stores records in store (the node
// passes a namespaced, persistent datastore) and accepts /did/ records
// checked by a Validator.
func NewDHT(h host.Host, store datastore.Batching, opts DHTOptions) (*DHT, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.PublishWait <= 0 {
		opts.PublishWait = DefaultPublishWait
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultRecordTTL
	}
	if opts.Tick == nil {
		opts.Tick = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	val := &Validator{Resolver: opts.Resolver, Timeout: opts.ResolveTimeout, Now: opts.Now}
	kopts := []dht.Option{
		dht.Mode(dht.ModeServer),
		dht.ProtocolPrefix(DHTProtocolPrefix),
		dht.NamespacedValidator(RecordNamespace, val),
		dht.Datastore(store),
	}
	if len(opts.Bootstrap) > 0 {
		kopts = append(kopts, dht.BootstrapPeers(opts.Bootstrap...))
	}
	if opts.MaxRecordAge > 0 {
		kopts = append(kopts, dht.MaxRecordAge(opts.MaxRecordAge))
	}
	kad, err := dht.New(h, kopts...)
	if err != nil {
		return nil, fmt.Errorf("p2p: start DHT: %w", err)
	}
	return &DHT{kad: kad, opts: opts, val: val, log: log}, nil
}

// Kad returns the underlying Kademlia DHT, for peer routing.
func (d *DHT) Kad() *dht.IpfsDHT { return d.kad }

// Close stops the DHT (not the host).
func (d *DHT) Close() error { return d.kad.Close() }

// WaitForPeers polls until the routing table holds a peer, for at most
// PublishWait.
func (d *DHT) WaitForPeers(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, d.opts.PublishWait)
	defer cancel()
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for d.kad.RoutingTable().Size() == 0 {
		select {
		case <-ctx.Done():
			return fmt.Errorf("p2p: no DHT peer after %v: %w", d.opts.PublishWait, ctx.Err())
		case <-t.C:
		}
	}
	return nil
}

// Publish stores rec, a record signed by SignRecord, in the DHT: locally
// and at the closest peers. It waits (at most PublishWait) until the
// routing table holds a peer. A record no better than the one already held
// locally (a lower or equal sequence number) is refused.
func (d *DHT) Publish(ctx context.Context, rec *DIDRecord) error {
	if len(rec.Value) == 0 {
		return fmt.Errorf("p2p: publish %s: the record is not signed", rec.DID)
	}
	key, err := RecordKey(rec.DID)
	if err != nil {
		return err
	}
	if err := d.WaitForPeers(ctx); err != nil {
		return fmt.Errorf("p2p: publish %s: %w", rec.DID, err)
	}
	if err := d.kad.PutValue(ctx, key, rec.Value); err != nil {
		return fmt.Errorf("p2p: publish %s seq %d: %w", rec.DID, rec.Seq, err)
	}
	return nil
}

// Find looks up the record of a DID and verifies it again on read: a peer
// (notably js kad-dht, which stores its own puts unvalidated) may hold
// anything.
func (d *DHT) Find(ctx context.Context, id string) (*DIDRecord, error) {
	key, err := RecordKey(id)
	if err != nil {
		return nil, err
	}
	var ropts []routing.Option
	if d.opts.Quorum > 0 {
		ropts = append(ropts, dht.Quorum(d.opts.Quorum))
	}
	value, err := d.kad.GetValue(ctx, key, ropts...)
	if errors.Is(err, routing.ErrNotFound) {
		return nil, fmt.Errorf("%w for %s", ErrRecordNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("p2p: find %s: %w", id, err)
	}
	rctx, cancel := d.resolveContext(ctx)
	defer cancel()
	rec, err := VerifyRecordAt(rctx, key, value, d.opts.Resolver, d.opts.Now())
	if err != nil {
		return nil, fmt.Errorf("p2p: find %s: %w", id, err)
	}
	return rec, nil
}

func (d *DHT) resolveContext(ctx context.Context) (context.Context, context.CancelFunc) {
	t := d.opts.ResolveTimeout
	if t <= 0 {
		t = DefaultResolveTimeout
	}
	return context.WithTimeout(ctx, t)
}

// Keep publishes the record that build describes, now and then every
// period, until ctx ends, and returns ctx's error. Each time it asks build
// for the current content (DID, peer, addresses, services), gives it a
// sequence number above the last one (at least the clock in Unix
// milliseconds, so a restarted node still goes up) and an expiry TTL from
// now, signs it with Signer as KID, and publishes it. period must be
// shorter than TTL, so a record is replaced before it expires. A failed
// round is logged and retried after a minute (or period, if shorter).
func (d *DHT) Keep(ctx context.Context, build func() (*DIDRecord, error), period time.Duration) error {
	if d.opts.Signer == nil || d.opts.KID == "" {
		return errors.New("p2p: keep: DHTOptions.Signer and KID are not set")
	}
	if period <= 0 || period >= d.opts.TTL {
		return fmt.Errorf("p2p: keep: republish period %v must be positive and shorter than the record TTL %v", period, d.opts.TTL)
	}
	var last uint64
	var retry <-chan time.Time // set after a failed round
	round := func() {
		retry = nil
		rec, err := d.republish(ctx, build, &last)
		if err != nil {
			if ctx.Err() == nil {
				level := slog.LevelWarn
				if errors.Is(err, context.DeadlineExceeded) {
					level = slog.LevelDebug // no peer yet: normal for a node on its own
				}
				d.log.Log(ctx, level, "DID record publish failed", "err", err, "retry_in", min(keepRetry, period))
				retry = time.After(min(keepRetry, period))
			}
			return
		}
		d.log.Debug("DID record published", "did", rec.DID, "seq", rec.Seq, "expires", rec.Expires)
	}
	round()
	tick, stop := d.opts.Tick(period)
	defer stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick:
			round()
		case <-retry:
			round()
		}
	}
}

// keepRetry is how soon Keep retries a failed round (a node started before
// its peers waits PublishWait, then this, not a whole period).
const keepRetry = time.Minute

func (d *DHT) republish(ctx context.Context, build func() (*DIDRecord, error), last *uint64) (*DIDRecord, error) {
	for attempt := 0; ; attempt++ {
		rec, err := build()
		if err != nil {
			return nil, fmt.Errorf("p2p: keep: build record: %w", err)
		}
		now := d.opts.Now()
		rec.Seq = max(*last+1, uint64(now.UnixMilli()))
		rec.Expires = now.Add(d.opts.TTL)
		if _, err := SignRecord(rec, d.opts.Signer, d.opts.KID); err != nil {
			return nil, err
		}
		err = d.Publish(ctx, rec)
		if err == nil {
			*last = rec.Seq
			return rec, nil
		}
		if attempt > 0 {
			return nil, err
		}
		// The DHT may hold a higher sequence number (a clock that went
		// back, another instance of this node): start above it.
		cur, ferr := d.Find(ctx, rec.DID)
		if ferr != nil || cur.Seq < rec.Seq {
			return nil, err
		}
		*last = cur.Seq
	}
}
