package p2p

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/anya-org/anya/keystore"
	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/muxer/yamux"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/security/noise"
	libp2ptls "github.com/libp2p/go-libp2p/p2p/security/tls"
	libp2pquic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"
	"github.com/quic-go/quic-go"
	"go.uber.org/fx"
)

// UserAgent is what the host announces over identify.
const UserAgent = "anya"

// Host is a running libp2p host and what it was started with.
type Host struct {
	host.Host
	log     *slog.Logger
	limiter *Limiter
	gater   *Gater
	once    sync.Once
	err     error
}

// HostOption adjusts NewHost.
type HostOption func(*hostOptions)

type hostOptions struct {
	limits LimitOptions
}

// WithLimits sets the stream limits' options other than the rate and burst,
// which come from Config (tests use it for the clock, strikes and
// cool-down).
func WithLimits(o LimitOptions) HostOption {
	return func(h *hostOptions) { h.limits = o }
}

// NewHost builds and starts a libp2p host whose identity is the Ed25519
// signer, listening on cfg.Listen. It dials cfg.Bootstrap in the background.
// Its connection gater refuses cfg.Deny and peers cooling down after a
// flood; LimitStreams(h, …) applies its per-peer stream limits
// (cfg.RatePerSecond, cfg.Burst).
func NewHost(cfg Config, identity keystore.Signer, log *slog.Logger, opts ...HostOption) (*Host, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var o hostOptions
	for _, f := range opts {
		f(&o)
	}
	deny, err := ParseDenyList(cfg.Deny)
	if err != nil {
		return nil, fmt.Errorf("p2p.deny: %w", err)
	}
	o.limits.RatePerSecond, o.limits.Burst = cfg.RatePerSecond, cfg.Burst
	if o.limits.Logger == nil {
		o.limits.Logger = log
	}
	streams := NewLimiter(o.limits)
	gater := NewGater(deny, streams)
	key, err := IdentityKey(identity)
	if err != nil {
		return nil, err
	}
	srk, tgk, err := quicKeys(identity)
	if err != nil {
		return nil, err
	}
	limits := rcmgr.DefaultLimits
	libp2p.SetDefaultServiceLimits(&limits)
	limiter := rcmgr.NewFixedLimiter(limits.Scale(int64(cfg.MaxMemoryMB)<<20, cfg.MaxFDs))
	rm, err := rcmgr.NewResourceManager(limiter)
	if err != nil {
		return nil, fmt.Errorf("p2p: resource manager: %w", err)
	}
	cm, err := connmgr.NewConnManager(cfg.ConnsLow, cfg.ConnsHigh, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		rm.Close()
		return nil, fmt.Errorf("p2p: connection manager: %w", err)
	}
	h, err := libp2p.New(
		libp2p.Identity(key),
		libp2p.WithFxOption(fx.Decorate(
			func() quic.StatelessResetKey { return srk },
			func() quic.TokenGeneratorKey { return tgk },
		)),
		libp2p.ListenAddrStrings(cfg.Listen...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(libp2pquic.NewTransport),
		libp2p.Security(libp2ptls.ID, libp2ptls.New),
		libp2p.Security(noise.ID, noise.New),
		libp2p.Muxer(yamux.ID, yamux.DefaultTransport),
		libp2p.ResourceManager(rm),
		libp2p.ConnectionManager(cm),
		libp2p.ConnectionGater(gater),
		libp2p.UserAgent(UserAgent),
	)
	if err != nil {
		rm.Close()
		cm.Close()
		return nil, fmt.Errorf("p2p: start host: %w", err)
	}
	streams.attach(h.Network())
	return &Host{Host: h, log: log, limiter: streams, gater: gater}, nil
}

// Limiter returns the host's stream limiter (see LimitStreams).
func (h *Host) Limiter() *Limiter { return h.limiter }

// ConnectBootstrap dials every bootstrap peer, each with its own timeout, and returns
// how many it reached. Failures are logged, not returned: a node must start
// even when its bootstrap peers are down.
func (h *Host) ConnectBootstrap(ctx context.Context, bootstrap []string) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for _, s := range bootstrap {
		info, err := ParseBootstrap(s)
		if err != nil {
			h.log.Warn("bad bootstrap address", "addr", s, "err", err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			defer cancel()
			if err := h.Host.Connect(cctx, *info); err != nil {
				h.log.Warn("bootstrap dial failed", "peer", info.ID, "err", err)
				return
			}
			mu.Lock()
			ok++
			mu.Unlock()
		}()
	}
	wg.Wait()
	return ok
}

// FullAddrs returns the host's listen addresses with its peer ID appended,
// as peers dial them. (Addrs is libp2p's own, unchanged, so *Host still
// satisfies host.Host.)
func (h *Host) FullAddrs() []string {
	var out []string
	for _, a := range h.Host.Addrs() {
		out = append(out, a.String()+"/p2p/"+h.ID().String())
	}
	return out
}

// Close stops the host; it is safe to call more than once.
func (h *Host) Close() error {
	h.once.Do(func() { h.err = h.Host.Close() })
	return h.err
}

// ParseBootstrap reads a peer multiaddr ending in /p2p/<peer ID>.
func ParseBootstrap(s string) (*peer.AddrInfo, error) {
	addr, err := ma.NewMultiaddr(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not a multiaddr: %w", s, err)
	}
	info, err := peer.AddrInfoFromP2pAddr(addr)
	if err != nil {
		return nil, fmt.Errorf("%q must end in /p2p/<peer ID>: %w", s, err)
	}
	return info, nil
}
