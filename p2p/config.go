package p2p

import (
	"errors"
	"fmt"
	"math"

	ma "github.com/multiformats/go-multiaddr"
)

// Config is the [p2p] section of anya.toml.
type Config struct {
	// Listen lists the multiaddrs the host listens on.
	Listen []string `toml:"listen"`
	// Bootstrap lists peers (multiaddrs ending in /p2p/<peer ID>) dialled at start.
	Bootstrap []string `toml:"bootstrap"`
	// ConnsLow and ConnsHigh are the connection manager's water marks.
	ConnsLow  int `toml:"conns_low"`
	ConnsHigh int `toml:"conns_high"`
	// MaxMemoryMB and MaxFDs scale the libp2p resource manager's limits.
	MaxMemoryMB int `toml:"max_memory_mb"`
	MaxFDs      int `toml:"max_fds"`
	// Deny lists peers and addresses never dialled nor accepted: peer IDs,
	// multiaddr prefixes (/ip4/203.0.113.7, /ip4/…/tcp/4001/p2p/<peer ID>)
	// and CIDR ranges (203.0.113.0/24). See DenyList.
	Deny []string `toml:"deny"`
	// RatePerSecond and Burst bound the new streams each peer may open on
	// each Anya protocol (a token bucket per peer and protocol); a peer
	// that keeps exceeding them is disconnected and refused for a while.
	// Zero takes DefaultRatePerSecond and DefaultBurst.
	RatePerSecond float64 `toml:"rate_per_second"`
	Burst         int     `toml:"burst"`
}

// DefaultPort is the TCP and UDP port a node listens on by default.
const DefaultPort = 4420

// DefaultConfig returns the defaults: TCP and QUIC on every IPv4 interface,
// port 4420, no bootstrap peers.
func DefaultConfig() Config {
	return Config{
		Listen: []string{
			fmt.Sprintf("/ip4/0.0.0.0/tcp/%d", DefaultPort),
			fmt.Sprintf("/ip4/0.0.0.0/udp/%d/quic-v1", DefaultPort),
		},
		ConnsLow:      64,
		ConnsHigh:     192,
		MaxMemoryMB:   256,
		MaxFDs:        512,
		RatePerSecond: DefaultRatePerSecond,
		Burst:         DefaultBurst,
	}
}

// Validate reports the first invalid key, named as it is in anya.toml.
func (c Config) Validate() error {
	for _, s := range c.Listen {
		if _, err := ma.NewMultiaddr(s); err != nil {
			return fmt.Errorf("p2p.listen: %q is not a multiaddr: %w", s, err)
		}
	}
	for _, s := range c.Bootstrap {
		if _, err := ParseBootstrap(s); err != nil {
			return fmt.Errorf("p2p.bootstrap: %w", err)
		}
	}
	if _, err := ParseDenyList(c.Deny); err != nil {
		return fmt.Errorf("p2p.deny: %w", err)
	}
	switch {
	case c.RatePerSecond < 0 || math.IsNaN(c.RatePerSecond) || math.IsInf(c.RatePerSecond, 0):
		return errors.New("p2p.rate_per_second: must be a finite number, at least 0 (0 takes the default)")
	case c.Burst < 0:
		return errors.New("p2p.burst: must not be negative (0 takes the default)")
	case c.ConnsLow < 0:
		return errors.New("p2p.conns_low: must not be negative")
	case c.ConnsHigh < c.ConnsLow || c.ConnsHigh == 0:
		return fmt.Errorf("p2p.conns_high: must be positive and at least p2p.conns_low (%d)", c.ConnsLow)
	case c.MaxMemoryMB < 16:
		return errors.New("p2p.max_memory_mb: must be at least 16")
	case c.MaxFDs < 16:
		return errors.New("p2p.max_fds: must be at least 16")
	}
	return nil
}
