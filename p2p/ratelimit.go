package p2p

import (
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"golang.org/x/time/rate"
)

// Stream limits.
//
// Every Anya protocol handler is wrapped by LimitStreams, which keeps a
// token bucket per (remote peer, protocol): p2p.rate_per_second new streams
// a second, bursts of p2p.burst. A stream over the limit is reset with
// StreamRateLimited before the handler sees a byte. Each such reset is a
// strike; Strikes strikes within StrikeWindow close every connection to the
// peer (ConnRateLimited), and for CoolDown the gater refuses to dial or
// accept it and the wrapper resets any stream it still gets. So a peer that
// floods is rate-limited, then disconnected, then refused for a while.
//
// Timeouts: the wrapper sets a read deadline of IdleTimeout (default 30 s)
// on every stream before the handler runs, so a peer that opens a stream and
// sends nothing is dropped; the handlers then set their own per-frame read
// and write deadlines (didauth: 10 s per frame; dwn: 30 s per frame once a
// request has begun, 5 min idle between requests), so a slow peer, one that
// trickles bytes or does not read our replies, is reset when a frame misses
// its deadline. Connections as a whole are bounded by the connection
// manager (p2p.conns_high) and the resource manager (p2p.max_memory_mb,
// p2p.max_fds).
//
// A stream for a protocol nobody registered is refused by multistream-select
// before any handler, so it costs no bucket and no strike.

// Defaults of the stream limits.
const (
	DefaultRatePerSecond = 10.0
	DefaultBurst         = 40
	DefaultStrikes       = 20
	DefaultStrikeWindow  = 10 * time.Second
	DefaultCoolDown      = 5 * time.Minute
	DefaultStreamIdle    = 30 * time.Second
)

// maxBuckets is how many buckets the limiter holds before it sweeps the
// ones that are full again (and so equal to a new bucket).
const maxBuckets = 4096

// LimitOptions configures a Limiter. Zero fields take the defaults above.
type LimitOptions struct {
	// RatePerSecond and Burst shape each (peer, protocol) token bucket of
	// new streams (p2p.rate_per_second, p2p.burst).
	RatePerSecond float64
	Burst         int
	// Strikes streams refused within StrikeWindow disconnect the peer and
	// refuse it for CoolDown.
	Strikes      int
	StrikeWindow time.Duration
	CoolDown     time.Duration
	// IdleTimeout is the read deadline set on a stream before its handler
	// runs.
	IdleTimeout time.Duration
	// Now is the clock of buckets, strikes and cool-downs (stream deadlines
	// use the real clock).
	Now func() time.Time
	// Logger gets a debug line per refused stream and an info line per
	// disconnected peer; nil discards.
	Logger *slog.Logger
}

func (o *LimitOptions) defaults() {
	if o.RatePerSecond <= 0 {
		o.RatePerSecond = DefaultRatePerSecond
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.Strikes <= 0 {
		o.Strikes = DefaultStrikes
	}
	if o.StrikeWindow <= 0 {
		o.StrikeWindow = DefaultStrikeWindow
	}
	if o.CoolDown <= 0 {
		o.CoolDown = DefaultCoolDown
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultStreamIdle
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

type bucketKey struct {
	peer  peer.ID
	proto protocol.ID
}

// Limiter rate-limits inbound streams per (peer, protocol) and keeps the
// cool-downs of peers that flooded. The host's Gater consults it.
type Limiter struct {
	opts LimitOptions
	net  network.Network // set by attach before any handler runs; nil in tests of the wrapper alone

	mu      sync.Mutex
	buckets map[bucketKey]*rate.Limiter
	strikes map[peer.ID][]time.Time
	cooling map[peer.ID]time.Time // until when
}

// NewLimiter returns a Limiter with opts (zero fields take the defaults).
func NewLimiter(opts LimitOptions) *Limiter {
	opts.defaults()
	opts.Logger = opts.Logger.With("subsys", "p2p-limit")
	return &Limiter{opts: opts, buckets: map[bucketKey]*rate.Limiter{},
		strikes: map[peer.ID][]time.Time{}, cooling: map[peer.ID]time.Time{}}
}

// attach lets the limiter close every connection to a flooding peer, not
// only the one its last stream came on.
func (l *Limiter) attach(n network.Network) { l.net = n }

// CoolingDown reports whether p was disconnected for flooding and its
// cool-down has not passed.
func (l *Limiter) CoolingDown(p peer.ID) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.coolingLocked(p, l.opts.Now())
}

func (l *Limiter) coolingLocked(p peer.ID, now time.Time) bool {
	until, ok := l.cooling[p]
	if !ok {
		return false
	}
	if !now.Before(until) {
		delete(l.cooling, p)
		return false
	}
	return true
}

// verdict is what allow decides about one stream.
type verdict int

const (
	admit      verdict = iota
	refuse             // over the limit: reset the stream
	disconnect         // over the limit too often, or cooling down: reset and close the peer
)

// allow takes a token of (p, proto) at now, counting a strike when there
// is none.
func (l *Limiter) allow(p peer.ID, proto protocol.ID) verdict {
	now := l.opts.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.coolingLocked(p, now) {
		return disconnect
	}
	k := bucketKey{p, proto}
	b, ok := l.buckets[k]
	if !ok {
		if len(l.buckets) >= maxBuckets {
			l.sweepLocked(now)
		}
		b = rate.NewLimiter(rate.Limit(l.opts.RatePerSecond), l.opts.Burst)
		l.buckets[k] = b
	}
	if b.AllowN(now, 1) {
		return admit
	}
	s := l.strikes[p][:0:0]
	for _, t := range l.strikes[p] {
		if now.Sub(t) < l.opts.StrikeWindow {
			s = append(s, t)
		}
	}
	s = append(s, now)
	if len(s) < l.opts.Strikes {
		l.strikes[p] = s
		return refuse
	}
	delete(l.strikes, p)
	l.cooling[p] = now.Add(l.opts.CoolDown)
	for k := range l.buckets {
		if k.peer == p {
			delete(l.buckets, k)
		}
	}
	return disconnect
}

// sweepLocked drops buckets that have refilled (a new one would be the
// same), strikes out of the window and passed cool-downs.
func (l *Limiter) sweepLocked(now time.Time) {
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.opts.Burst) {
			delete(l.buckets, k)
		}
	}
	for p, s := range l.strikes {
		if len(s) == 0 || now.Sub(s[len(s)-1]) >= l.opts.StrikeWindow {
			delete(l.strikes, p)
		}
	}
	for p, until := range l.cooling {
		if !now.Before(until) {
			delete(l.cooling, p)
		}
	}
}

// Wrap returns handler behind the limits of proto: see LimitStreams.
func (l *Limiter) Wrap(proto protocol.ID, handler network.StreamHandler) network.StreamHandler {
	return func(s network.Stream) {
		p := s.Conn().RemotePeer()
		switch l.allow(p, proto) {
		case refuse:
			l.opts.Logger.Debug("stream over the rate limit", "peer", p, "protocol", proto)
			_ = s.ResetWithError(network.StreamRateLimited)
			return
		case disconnect:
			_ = s.ResetWithError(network.StreamRateLimited)
			l.opts.Logger.Info("peer disconnected for flooding", "peer", p, "protocol", proto, "cooldown", l.opts.CoolDown)
			l.closePeer(s.Conn())
			return
		}
		_ = s.SetReadDeadline(time.Now().Add(l.opts.IdleTimeout))
		handler(s)
	}
}

// closePeer closes every connection to c's remote peer.
func (l *Limiter) closePeer(c network.Conn) {
	_ = c.CloseWithError(network.ConnRateLimited)
	if l.net == nil {
		return
	}
	for _, other := range l.net.ConnsToPeer(c.RemotePeer()) {
		_ = other.CloseWithError(network.ConnRateLimited)
	}
}

// limitedHost is a host that carries a Limiter (*Host does).
type limitedHost interface{ Limiter() *Limiter }

// LimitStreams returns handler wrapped in h's stream limits for proto: a
// token bucket per remote peer, a reset (StreamRateLimited) for a stream
// over it, disconnection and a cool-down after repeated violations, and an
// idle read deadline before handler runs. h carries limits when it is a
// *Host (NewHost builds them from Config); for any other host.Host handler
// is returned unchanged.
func LimitStreams(h host.Host, proto protocol.ID, handler network.StreamHandler) network.StreamHandler {
	if lh, ok := h.(limitedHost); ok {
		if l := lh.Limiter(); l != nil {
			return l.Wrap(proto, handler)
		}
	}
	return handler
}
