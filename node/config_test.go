package node

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

func TestDefaultConfigIsValid(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	if got := DefaultConfig().API.Addr; !strings.HasPrefix(got, "127.0.0.1:") {
		t.Fatalf("API must default to loopback, got %s", got)
	}
}

// The commented sample written by init must decode to exactly the defaults
// and mention every key, so the documentation cannot drift from the code.
func TestSampleConfigMatchesDefaults(t *testing.T) {
	var got Config
	md, err := toml.Decode(SampleConfig(), &got)
	if err != nil {
		t.Fatalf("sample config does not parse: %v", err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		t.Fatalf("sample config has keys the tree lacks: %v", u)
	}
	if !reflect.DeepEqual(normalise(got), normalise(DefaultConfig())) {
		t.Fatalf("sample config decodes to\n%+v\nwant the defaults\n%+v", got, DefaultConfig())
	}
	for key := range configKeys(&got) {
		if !md.IsDefined(strings.Split(key, ".")...) {
			t.Errorf("sample config does not document %s", key)
		}
	}
}

// normalise treats nil and empty slices alike.
func normalise(c Config) Config {
	if len(c.P2P.Bootstrap) == 0 {
		c.P2P.Bootstrap = nil
	}
	if len(c.DWN.Tenants) == 0 {
		c.DWN.Tenants = nil
	}
	if len(c.P2P.Deny) == 0 {
		c.P2P.Deny = nil
	}
	if len(c.Sync.Peers) == 0 {
		c.Sync.Peers = nil
	}
	return c
}

func writeConfig(t *testing.T, dir, text string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "anya.toml"), []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	writeConfig(t, dir, "[api]\naddr = \"127.0.0.1:1111\"\n[log]\nlevel = \"debug\"\n[p2p]\nconns_low = 10\n")

	cfg, err := LoadConfig(dir, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.API.Addr != "127.0.0.1:1111" || cfg.Log.Level != "debug" || cfg.P2P.ConnsLow != 10 {
		t.Fatalf("file values not applied: %+v", cfg)
	}
	if cfg.P2P.ConnsHigh != DefaultConfig().P2P.ConnsHigh {
		t.Fatalf("a key absent from the file must keep its default")
	}

	env := []string{"ANYA_API_ADDR=127.0.0.1:2222", "ANYA_P2P_LISTEN=/ip4/127.0.0.1/tcp/1, /ip4/127.0.0.1/udp/1/quic-v1", "ANYA_HOME=/elsewhere", "OTHER=1"}
	cfg, err = LoadConfig(dir, env, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.API.Addr != "127.0.0.1:2222" {
		t.Fatalf("environment must override the file, got %s", cfg.API.Addr)
	}
	if want := []string{"/ip4/127.0.0.1/tcp/1", "/ip4/127.0.0.1/udp/1/quic-v1"}; !reflect.DeepEqual(cfg.P2P.Listen, want) {
		t.Fatalf("list from environment: got %q want %q", cfg.P2P.Listen, want)
	}
	if cfg.Log.Level != "debug" {
		t.Fatalf("file value lost when the environment sets another key")
	}

	cfg, err = LoadConfig(dir, env, map[string]string{"api.addr": "127.0.0.1:3333"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.API.Addr != "127.0.0.1:3333" {
		t.Fatalf("flags must override the environment, got %s", cfg.API.Addr)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	cases := []struct {
		name, file string
		env        []string
		flags      map[string]string
		key        string
	}{
		{name: "bad level in file", file: "[log]\nlevel = \"loud\"\n", key: "log.level"},
		{name: "unknown key in file", file: "[api]\nadress = \"x\"\n", key: "api.adress"},
		{name: "wrong type in file", file: "[p2p]\nconns_low = \"many\"\n", key: ""},
		{name: "bad number in env", env: []string{"ANYA_P2P_CONNS_HIGH=lots"}, key: "p2p.conns_high"},
		{name: "bad bool in env", env: []string{"ANYA_KEYSTORE_UNENCRYPTED=perhaps"}, key: "keystore.unencrypted"},
		{name: "bad multiaddr flag", flags: map[string]string{"p2p.listen": "tcp://0.0.0.0:1"}, key: "p2p.listen"},
		{name: "bad api addr flag", flags: map[string]string{"api.addr": "localhost"}, key: "api.addr"},
		{name: "bad bootstrap", env: []string{"ANYA_P2P_BOOTSTRAP=/ip4/127.0.0.1/tcp/1"}, key: "p2p.bootstrap"},
		{name: "unknown keystore backend", env: []string{"ANYA_KEYSTORE_BACKEND=tpm"}, key: "keystore.backend"},
		{name: "bad tenant", env: []string{"ANYA_DWN_TENANTS=did:key:z6Mk1,alice"}, key: "dwn.tenants"},
		{name: "bad dwn store", env: []string{"ANYA_DWN_STORE=mysql://x"}, key: "dwn.store"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.file != "" {
				writeConfig(t, dir, tc.file)
			}
			_, err := LoadConfig(dir, tc.env, tc.flags)
			var cerr *ConfigError
			if !errors.As(err, &cerr) {
				t.Fatalf("want a *ConfigError, got %v", err)
			}
			if !strings.Contains(err.Error(), tc.key) {
				t.Fatalf("error %q does not name %s", err, tc.key)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	for key, want := range map[string]string{
		"keystore.pkcs11_module": "ANYA_KEYSTORE_PKCS11_MODULE",
		"api.addr":               "ANYA_API_ADDR",
		"p2p.listen":             "ANYA_P2P_LISTEN",
	} {
		if got := EnvName(key); got != want {
			t.Errorf("EnvName(%s) = %s, want %s", key, got, want)
		}
	}
	var cfg Config
	if _, ok := configKeys(&cfg)["keystore.pkcs11_module"]; !ok {
		t.Fatalf("keystore.pkcs11_module is not a config key")
	}
}
