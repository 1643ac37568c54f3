package node

import (
	"bytes"
	"encoding"
	"fmt"
	"strings"
	"text/template"
)

// sampleConfig documents every key. Each value shown is the default; every
// key section.key can also be set with the environment variable
// ANYA_SECTION_KEY, and flags override both.
const sampleConfig = `# Anya node configuration.
# Precedence: built-in defaults < this file < environment (ANYA_SECTION_KEY) < flags.
# Every value below is the default. Lists can be given in the environment as comma-separated text.

[api]
# HTTP API address (--api-addr, ANYA_API_ADDR). Loopback by default: /health, /info
# and /metrics are open to anyone who can reach it; /api/v0/ needs the admin token
# kept in <data>/api.token.
addr = {{q .API.Addr}}
# Largest request body the API accepts, in bytes.
max_body_bytes = {{.API.MaxBodyBytes}}

[log]
# debug, info, warn or error.
level = {{q .Log.Level}}
# text or json.
format = {{q .Log.Format}}

[storage]
# Pebble block cache, in MiB.
cache_mb = {{.Storage.CacheMB}}

[p2p]
# Multiaddrs to listen on (--p2p-listen, ANYA_P2P_LISTEN).
listen = {{list .P2P.Listen}}
# Peers to dial at start, each ending in /p2p/<peer ID> (--bootstrap, ANYA_P2P_BOOTSTRAP).
bootstrap = {{list .P2P.Bootstrap}}
# Connection manager water marks: above conns_high, connections are trimmed to conns_low.
conns_low = {{.P2P.ConnsLow}}
conns_high = {{.P2P.ConnsHigh}}
# Resource manager: memory (MiB) and file descriptors libp2p may use in all.
max_memory_mb = {{.P2P.MaxMemoryMB}}
max_fds = {{.P2P.MaxFDs}}
# Peers and addresses never dialled nor accepted: peer IDs, multiaddr prefixes
# (/ip4/203.0.113.7, /ip4/203.0.113.7/tcp/4001/p2p/<peer ID>) and CIDR ranges (203.0.113.0/24).
deny = {{list .P2P.Deny}}
# New streams each peer may open per second on each Anya protocol, and the burst above that.
# A peer that keeps exceeding them is disconnected and refused for 5 minutes. 0 takes the default.
rate_per_second = {{.P2P.RatePerSecond}}
burst = {{.P2P.Burst}}

[keystore]
# "software": an encrypted key file in <data>/keystore.
backend = {{q .Keystore.Backend}}
# The passphrase comes from ANYA_PASSPHRASE, else this file, else <data>/passphrase,
# which init generates when neither is set (a warning is logged at every start:
# move the passphrase off the machine, or into a file readable only by you).
passphrase_file = {{q .Keystore.PassphraseFile}}
# Store keys unencrypted. Only for throwaway nodes: a warning is logged at every start.
unencrypted = {{.Keystore.Unencrypted}}
# PKCS#11 settings, for the HSM backend.
pkcs11_module = {{q .Keystore.PKCS11Module}}
pkcs11_token = {{q .Keystore.PKCS11Token}}
pkcs11_pin_file = {{q .Keystore.PKCS11PINFile}}

[did]
# How long resolved DID documents stay in the cache.
cache_ttl = {{q .DID.CacheTTL}}
# Timeout of a did:web fetch.
web_timeout = {{q .DID.WebTimeout}}

[dwn]
# DIDs the Decentralized Web Node serves besides the node's own (--dwn-tenants,
# ANYA_DWN_TENANTS); "*" serves any DID. Messages for other DIDs get 401.
tenants = {{list .DWN.Tenants}}
# "" keeps DWN messages in the node's datastore; a postgres:// URL uses PostgreSQL.
store = {{q .DWN.Store}}
# Largest record data, in bytes, enforced while it streams in.
max_data_size = {{.DWN.MaxDataSize}}
# Largest message JSON, in bytes.
max_message_size = {{.DWN.MaxMessageSize}}

[sync]
# DWNs that keep a copy of this node's own DWN, synced both ways: DIDs (found in
# the DHT, reached over libp2p) or http(s) URLs of DWN endpoints. Each must serve
# this node's DID as a tenant (anya: dwn.tenants).
peers = {{list .Sync.Peers}}
# How often each peer is synced.
interval = {{q .Sync.Interval}}
`

// SampleConfig renders the commented config file with the default values.
func SampleConfig() string {
	funcs := template.FuncMap{
		"q": func(v any) string {
			if m, ok := v.(encoding.TextMarshaler); ok {
				b, _ := m.MarshalText()
				return fmt.Sprintf("%q", b)
			}
			return fmt.Sprintf("%q", fmt.Sprint(v))
		},
		"list": func(items []string) string {
			q := make([]string, len(items))
			for i, s := range items {
				q[i] = fmt.Sprintf("%q", s)
			}
			return "[" + strings.Join(q, ", ") + "]"
		},
	}
	t := template.Must(template.New("config").Funcs(funcs).Parse(sampleConfig))
	var b bytes.Buffer
	if err := t.Execute(&b, DefaultConfig()); err != nil {
		panic(err) // the template and the defaults are both compiled in
	}
	return b.String()
}
