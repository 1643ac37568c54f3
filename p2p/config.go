package p2p

import (
	"errors"
	"fmt"

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
		ConnsLow:    64,
		ConnsHigh:   192,
		MaxMemoryMB: 256,
		MaxFDs:      512,
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
	switch {
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
