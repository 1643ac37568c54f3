package dwnsync

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/anya-org/anya/did"
)

// Config is the [sync] section of the node's configuration: the DWNs that
// keep a copy of the node's own DWN, synced both ways.
type Config struct {
	// Peers lists them: a DID (found in the DHT, reached over libp2p) or the
	// http(s) URL of a DWN endpoint. Each must serve the node's DID as a
	// tenant.
	Peers []string `toml:"peers"`
	// Interval is how often each peer is synced.
	Interval did.Duration `toml:"interval"`
}

// DefaultConfig syncs with no peer, every minute once peers are set.
func DefaultConfig() Config {
	return Config{Interval: did.Duration(time.Minute)}
}

// Validate reports the first invalid key, named as in anya.toml.
func (c Config) Validate() error {
	for _, p := range c.Peers {
		if strings.HasPrefix(p, "did:") {
			if _, err := did.Parse(p); err != nil {
				return fmt.Errorf("sync.peers: %q: %w", p, err)
			}
			continue
		}
		u, err := url.Parse(p)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("sync.peers: %q is neither a DID nor an http(s) URL", p)
		}
	}
	if c.Interval.Std() < time.Second {
		return errors.New("sync.interval: must be at least 1s")
	}
	return nil
}
