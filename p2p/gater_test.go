package p2p

import (
	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/anya-org/anya/keystore"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// newLimitHosts starts n hosts on loopback TCP; mod, when set, adjusts
// host i's config.
func newLimitHosts(t *testing.T, n int, mod func(i int, c *Config), opts ...HostOption) []*Host {
	t.Helper()
	ks := newStoreTB(t)
	hosts := make([]*Host, n)
	for i := range n {
		s, err := ks.Create(fmt.Sprintf("host%d", i), keystore.Ed25519)
		if err != nil {
			t.Fatal(err)
		}
		cfg := testHostConfig()
		if mod != nil {
			mod(i, &cfg)
		}
		h, err := NewHost(cfg, s, nil, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		hosts[i] = h
	}
	return hosts
}

func dial(from, to *Host) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return from.Connect(ctx, peer.AddrInfo{ID: to.ID(), Addrs: to.Addrs()})
}

// watchConns records every peer that gets a connection to h.
func watchConns(h *Host) func() map[peer.ID]bool {
	var mu sync.Mutex
	seen := map[peer.ID]bool{}
	h.Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		mu.Lock()
		seen[c.RemotePeer()] = true
		mu.Unlock()
	}})
	return func() map[peer.ID]bool {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(seen)
	}
}

// assertGated checks that from cannot connect to to, which gates it: to
// never holds a connection from it. (An inbound connection is gated once
// the handshake has proved the peer ID, so the dialer may see its own side
// complete for a moment; it is closed at once.)
func assertGated(t *testing.T, what string, from, to *Host, seen func() map[peer.ID]bool) {
	t.Helper()
	if err := dial(from, to); err == nil {
		waitFor(t, 5*time.Second, what+": the dialer's connection is closed", func() error {
			if from.Network().Connectedness(to.ID()) == network.Connected {
				return fmt.Errorf("still connected")
			}
			return nil
		})
	}
	if seen()[from.ID()] {
		t.Errorf("%s: the gated side holds a connection from %s", what, from.ID())
	}
}

func TestParseDenyList(t *testing.T) {
	const id = "12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf"
	d, err := ParseDenyList([]string{id, "/ip4/10.1.2.3/tcp/4001", "/ip4/10.9.9.9/udp/1/quic-v1/p2p/" + id, "192.0.2.0/24", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	p, _ := peer.Decode(id)
	if !d.DeniesPeer(p) {
		t.Error("peer ID not denied")
	}
	for addr, want := range map[string]bool{
		"/ip4/10.1.2.3/tcp/4001":           true,
		"/ip4/10.1.2.3/tcp/40011":          false, // a prefix ends at a component
		"/ip4/10.1.2.3/tcp/4002":           false,
		"/ip4/10.9.9.9/udp/1/quic-v1":      true,
		"/ip4/192.0.2.77/udp/9/quic-v1":    true,
		"/ip6/2001:db8::1/tcp/1":           true,
		"/ip4/127.0.0.1/tcp/4001":          false,
		"/ip4/10.1.2.3/tcp/4001/p2p/" + id: true,
	} {
		if got := d.DeniesAddr(ma.StringCast(addr)); got != want {
			t.Errorf("DeniesAddr(%s) = %v, want %v", addr, got, want)
		}
	}
	for _, bad := range []string{"", "nope", "/ip4/999.0.0.1", "10.0.0.0/99"} {
		cfg := testHostConfig()
		cfg.Deny = []string{bad}
		err := cfg.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), "p2p.deny: ") {
			t.Errorf("Validate(deny=%q) = %v, want a p2p.deny error", bad, err)
		}
	}
}

func TestConfigValidateLimits(t *testing.T) {
	for _, c := range []struct {
		mod func(*Config)
		key string
	}{
		{func(c *Config) { c.RatePerSecond = -1 }, "p2p.rate_per_second"},
		{func(c *Config) { c.Burst = -1 }, "p2p.burst"},
	} {
		cfg := DefaultConfig()
		c.mod(&cfg)
		if err := cfg.Validate(); err == nil || !strings.HasPrefix(err.Error(), c.key+":") {
			t.Errorf("got %v, want an error naming %s", err, c.key)
		}
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestDenyPeer: a host that denies a peer ID neither accepts it nor dials
// it; other peers are unaffected.
func TestDenyPeer(t *testing.T) {
	hs := newLimitHosts(t, 3, nil)
	a, b, c := hs[0], hs[1], hs[2]
	a.gater.deny.peers[b.ID()] = true // as if p2p.deny listed b
	seen := watchConns(a)
	assertGated(t, "inbound", b, a, seen)
	if err := dial(a, b); err == nil {
		t.Fatal("dialled a denied peer")
	}
	if seen()[b.ID()] {
		t.Fatal("a connected to its denied peer")
	}
	if err := dial(c, a); err != nil {
		t.Fatalf("an allowed peer: %v", err)
	}
}

// TestDenyFromConfig: deny entries from Config, a peer ID and a CIDR
// range, are refused both ways.
func TestDenyFromConfig(t *testing.T) {
	hs := newLimitHosts(t, 2, nil)
	for _, entry := range []string{hs[1].ID().String(), "127.0.0.0/8", "/ip4/127.0.0.1"} {
		a := newLimitHosts(t, 1, func(_ int, c *Config) { c.Deny = []string{entry} })[0]
		b := newLimitHosts(t, 1, nil)[0]
		if entry == hs[1].ID().String() {
			b = hs[1]
		}
		seen := watchConns(a)
		assertGated(t, "deny "+entry+" inbound", b, a, seen)
		if err := dial(a, b); err == nil || seen()[b.ID()] {
			t.Errorf("deny %s: dialled the peer", entry)
		}
	}
	if err := dial(hs[0], hs[1]); err != nil {
		t.Fatalf("hosts without a deny list: %v", err)
	}
}

// TestLimitKeysDecode: the [p2p] keys of the limits decode from TOML as the
// sample config writes them (an integer rate included).
func TestLimitKeysDecode(t *testing.T) {
	var c Config
	if _, err := toml.Decode("deny = [\"192.0.2.0/24\"]\nrate_per_second = 10\nburst = 40\n", &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Deny) != 1 || c.RatePerSecond != 10 || c.Burst != 40 {
		t.Fatalf("decoded %+v", c)
	}
}
