package dwn

import (
	"errors"
	"fmt"
	"strings"
)

// Config is the [dwn] section of the node's configuration.
type Config struct {
	// Tenants lists the DIDs served besides the node's own; "*" serves any
	// DID, as dwn-server does. A message for any other DID gets 401.
	Tenants []string `toml:"tenants"`
	// Store is "" for the embedded store in the node's datastore, or a
	// postgres:// URL.
	Store string `toml:"store"`
	// MaxDataSize bounds one record's data, in bytes; enforced while the
	// data streams in.
	MaxDataSize int64 `toml:"max_data_size"`
	// MaxMessageSize bounds one message's JSON, in bytes.
	MaxMessageSize int64 `toml:"max_message_size"`
}

// DefaultConfig serves only the node's DID from the embedded store, with
// record data up to 1 GiB and messages up to 1 MiB.
func DefaultConfig() Config {
	return Config{MaxDataSize: 1 << 30, MaxMessageSize: 1 << 20}
}

// Validate reports the first invalid key, named as in anya.toml.
func (c Config) Validate() error {
	for _, t := range c.Tenants {
		if t != "*" && !strings.HasPrefix(t, "did:") {
			return fmt.Errorf("dwn.tenants: %q is neither a DID nor *", t)
		}
	}
	if c.Store != "" && !strings.HasPrefix(c.Store, "postgres://") && !strings.HasPrefix(c.Store, "postgresql://") {
		return fmt.Errorf("dwn.store: %q is not empty (embedded) or a postgres:// URL", c.Store)
	}
	if c.MaxDataSize < 1 {
		return errors.New("dwn.max_data_size: must be at least 1 byte")
	}
	if c.MaxMessageSize < 1024 {
		return errors.New("dwn.max_message_size: must be at least 1024 bytes")
	}
	return nil
}

// Serves reports whether the tenant list admits did; owner is always served.
func (c Config) Serves(owner, did string) bool {
	if did == owner {
		return true
	}
	for _, t := range c.Tenants {
		if t == "*" || t == did {
			return true
		}
	}
	return false
}
