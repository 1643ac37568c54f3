package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/dwn"
	dwnsync "github.com/anya-org/anya/dwn/sync"
	"github.com/anya-org/anya/keystore"
	"github.com/anya-org/anya/p2p"
)

// Config is the whole configuration tree; each section belongs to the
// package that uses it. Precedence: defaults < anya.toml < ANYA_SECTION_KEY
// environment variables < command-line flags.
type Config struct {
	API      APIConfig       `toml:"api"`
	Log      LogConfig       `toml:"log"`
	Storage  StorageConfig   `toml:"storage"`
	P2P      p2p.Config      `toml:"p2p"`
	Keystore keystore.Config `toml:"keystore"`
	DID      did.Config      `toml:"did"`
	DWN      dwn.Config      `toml:"dwn"`
	Sync     dwnsync.Config  `toml:"sync"`
}

// APIConfig is the [api] section.
type APIConfig struct {
	// Addr is where the HTTP API listens. Loopback by default; any other
	// address must be set on purpose.
	Addr string `toml:"addr"`
	// MaxBodyBytes bounds every request body.
	MaxBodyBytes int64 `toml:"max_body_bytes"`
}

// LogConfig is the [log] section.
type LogConfig struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// StorageConfig is the [storage] section.
type StorageConfig struct {
	// CacheMB is pebble's block cache size.
	CacheMB int `toml:"cache_mb"`
}

// DefaultAPIAddr is the API's default listen address.
const DefaultAPIAddr = "127.0.0.1:8420"

// DefaultConfig returns the defaults a node runs on when nothing is set.
func DefaultConfig() Config {
	return Config{
		API:      APIConfig{Addr: DefaultAPIAddr, MaxBodyBytes: 1 << 20},
		Log:      LogConfig{Level: "info", Format: "text"},
		Storage:  StorageConfig{CacheMB: 16},
		P2P:      p2p.DefaultConfig(),
		Keystore: keystore.DefaultConfig(),
		DID:      did.DefaultConfig(),
		DWN:      dwn.DefaultConfig(),
		Sync:     dwnsync.DefaultConfig(),
	}
}

// ConfigError names the configuration key that is wrong; the CLI exits 2 on it.
type ConfigError struct {
	Key    string // section.key, or "" when the file itself is unreadable
	Source string // where the value came from: a file path, an environment variable, a flag
	Err    error
}

func (e *ConfigError) Error() string {
	where := ""
	if e.Source != "" {
		where = " (from " + e.Source + ")"
	}
	if e.Key == "" {
		return fmt.Sprintf("config%s: %v", where, e.Err)
	}
	return fmt.Sprintf("config %s%s: %v", e.Key, where, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }

// Validate checks every section; the first error names its key.
func (c Config) Validate() error {
	for _, v := range []interface{ Validate() error }{c.API, c.Log, c.Storage, c.P2P, c.Keystore, c.DID, c.DWN, c.Sync} {
		if err := v.Validate(); err != nil {
			return &ConfigError{Err: err}
		}
	}
	return nil
}

// Validate checks the [api] section.
func (c APIConfig) Validate() error {
	host, port, err := net.SplitHostPort(c.Addr)
	if err != nil {
		return fmt.Errorf("api.addr: %q is not host:port: %w", c.Addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return fmt.Errorf("api.addr: port %q is not a number from 0 to 65535", port)
	}
	if host == "" {
		return fmt.Errorf("api.addr: %q has no host; name one (127.0.0.1 keeps the API on loopback)", c.Addr)
	}
	if c.MaxBodyBytes < 1024 {
		return errors.New("api.max_body_bytes: must be at least 1024")
	}
	return nil
}

// Validate checks the [log] section.
func (c LogConfig) Validate() error {
	if _, err := parseLevel(c.Level); err != nil {
		return fmt.Errorf("log.level: %w", err)
	}
	if c.Format != "text" && c.Format != "json" {
		return fmt.Errorf("log.format: %q is neither text nor json", c.Format)
	}
	return nil
}

// Validate checks the [storage] section.
func (c StorageConfig) Validate() error {
	if c.CacheMB < 1 {
		return errors.New("storage.cache_mb: must be at least 1")
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not one of debug, info, warn, error", s)
	}
	return l, nil
}

// LoadConfig builds the configuration for a data directory: defaults, then
// <data>/anya.toml if it exists, then the environment, then the flags (a map
// from section.key to the flag's text, holding only flags the user set).
func LoadConfig(dataDir string, env []string, flags map[string]string) (Config, error) {
	cfg := DefaultConfig()
	path := ConfigPath(dataDir)
	if _, err := os.Stat(path); err == nil {
		md, err := toml.DecodeFile(path, &cfg)
		if err != nil {
			var perr toml.ParseError
			if errors.As(err, &perr) {
				return cfg, &ConfigError{Source: path, Err: errors.New(perr.ErrorWithPosition())}
			}
			return cfg, &ConfigError{Source: path, Err: err}
		}
		if undecoded := md.Undecoded(); len(undecoded) > 0 {
			return cfg, &ConfigError{Key: undecoded[0].String(), Source: path, Err: errors.New("unknown key")}
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return cfg, &ConfigError{Source: path, Err: err}
	}
	keys := configKeys(&cfg)
	for _, kv := range env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, "ANYA_") {
			continue
		}
		key, known := envKey(keys, name)
		if !known {
			continue // ANYA_HOME, ANYA_PASSPHRASE and variables of other tools
		}
		if err := keys[key].set(val); err != nil {
			return cfg, &ConfigError{Key: key, Source: "environment variable " + name, Err: err}
		}
	}
	for key, val := range flags {
		f, ok := keys[key]
		if !ok {
			return cfg, &ConfigError{Key: key, Err: errors.New("unknown key")}
		}
		if err := f.set(val); err != nil {
			return cfg, &ConfigError{Key: key, Source: "flag", Err: err}
		}
	}
	if err := cfg.Validate(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// EnvName is the environment variable that sets a section.key.
func EnvName(key string) string {
	return "ANYA_" + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

func envKey(keys map[string]field, name string) (string, bool) {
	for k := range keys {
		if EnvName(k) == name {
			return k, true
		}
	}
	return "", false
}

// field is one settable leaf of the config tree.
type field struct{ v reflect.Value }

var textUnmarshaler = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()

func (f field) set(s string) error {
	if f.v.Addr().Type().Implements(textUnmarshaler) {
		return f.v.Addr().Interface().(interface{ UnmarshalText([]byte) error }).UnmarshalText([]byte(s))
	}
	switch f.v.Kind() {
	case reflect.String:
		f.v.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return fmt.Errorf("%q is not true or false", s)
		}
		f.v.SetBool(b)
	case reflect.Int, reflect.Int64, reflect.Int32:
		if f.v.Type() == reflect.TypeFor[time.Duration]() {
			d, err := time.ParseDuration(s)
			if err != nil {
				return fmt.Errorf("%q is not a duration such as 30s or 15m", s)
			}
			f.v.SetInt(int64(d))
			return nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		f.v.SetInt(n)
	case reflect.Slice:
		if f.v.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("cannot set a %s from text", f.v.Type())
		}
		var items []string
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				items = append(items, item)
			}
		}
		f.v.Set(reflect.ValueOf(items))
	default:
		return fmt.Errorf("cannot set a %s from text", f.v.Type())
	}
	return nil
}

// configKeys maps every section.key of the tree to its field.
func configKeys(cfg *Config) map[string]field {
	keys := map[string]field{}
	root := reflect.ValueOf(cfg).Elem()
	for i := range root.NumField() {
		section := root.Type().Field(i).Tag.Get("toml")
		sv := root.Field(i)
		for j := range sv.NumField() {
			name := sv.Type().Field(j).Tag.Get("toml")
			if name == "" || name == "-" || !sv.Type().Field(j).IsExported() {
				continue
			}
			keys[section+"."+name] = field{sv.Field(j)}
		}
	}
	return keys
}
