package did

import (
	"errors"
	"fmt"
	"time"
)

// Duration is a time.Duration that reads and writes TOML/JSON text such as
// "15m" or "10s" (time.ParseDuration).
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration as time.Duration.String does.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(time.Duration(d).String()), nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// Config is the [did] section of the node configuration.
type Config struct {
	// CacheTTL is how long a successful resolution stays cached.
	CacheTTL Duration `toml:"cache_ttl"`
	// WebTimeout bounds one did:web fetch.
	WebTimeout Duration `toml:"web_timeout"`
}

// DefaultConfig returns cache_ttl = "15m", web_timeout = "10s".
func DefaultConfig() Config {
	return Config{CacheTTL: Duration(DefaultCacheTTL), WebTimeout: Duration(DefaultWebTimeout)}
}

// Validate reports every invalid key, named as in the config file.
func (c Config) Validate() error {
	var errs []error
	if c.CacheTTL <= 0 {
		errs = append(errs, fmt.Errorf("did.cache_ttl: must be > 0, got %v", c.CacheTTL.Std()))
	}
	if c.WebTimeout <= 0 {
		errs = append(errs, fmt.Errorf("did.web_timeout: must be > 0, got %v", c.WebTimeout.Std()))
	} else if c.WebTimeout.Std() > 5*time.Minute {
		errs = append(errs, fmt.Errorf("did.web_timeout: must be at most 5m, got %v", c.WebTimeout.Std()))
	}
	return errors.Join(errs...)
}
