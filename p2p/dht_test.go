package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anya-org/anya/keystore"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	dssync "github.com/ipfs/go-datastore/sync"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p/core/peer"
)

// fakeClock is a settable clock shared by every node of a test network.
type fakeClock struct{ ns atomic.Int64 }

func newClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

type testNode struct {
	host  *Host
	dht   *DHT
	store datastore.Batching
	id    testIdentity
}

// testHostConfig listens on loopback TCP only.
func testHostConfig() Config {
	return Config{Listen: []string{"/ip4/127.0.0.1/tcp/0"}, ConnsLow: 32, ConnsHigh: 96, MaxMemoryMB: 64, MaxFDs: 256}
}

// newTestNetwork starts n nodes on 127.0.0.1 in a line: node i bootstraps
// from node i-1. Each node's host identity is also its did:key. It returns
// once every routing table holds a peer.
func newTestNetwork(tb testing.TB, n int, clock *fakeClock, mod func(*DHTOptions)) []*testNode {
	tb.Helper()
	ks := newStoreTB(tb)
	nodes := make([]*testNode, n)
	for i := range n {
		s, err := ks.Create(fmt.Sprintf("node%d", i), keystore.Ed25519)
		if err != nil {
			tb.Fatal(err)
		}
		h, err := NewHost(testHostConfig(), s, nil)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { h.Close() })
		id := identityOf(tb, s)
		id.peer = h.ID()
		opts := DHTOptions{Now: clock.Now, PublishWait: 10 * time.Second, Signer: s, KID: id.kid}
		if i > 0 {
			prev := nodes[i-1].host
			opts.Bootstrap = []peer.AddrInfo{{ID: prev.ID(), Addrs: prev.Host.Addrs()}}
		}
		if mod != nil {
			mod(&opts)
		}
		store := dssync.MutexWrap(datastore.NewMapDatastore())
		d, err := NewDHT(h.Host, store, opts)
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { d.Close() })
		nodes[i] = &testNode{host: h, dht: d, store: store, id: id}
	}
	waitFor(tb, 20*time.Second, "every routing table has a peer", func() error {
		for i, nd := range nodes {
			if nd.dht.Kad().RoutingTable().Size() == 0 {
				return fmt.Errorf("node %d has an empty routing table", i)
			}
		}
		return nil
	})
	return nodes
}

func newStoreTB(tb testing.TB) *keystore.Software {
	tb.Helper()
	ks, err := keystore.CreateSoftware(tb.TempDir(), []byte("p2p test"), keystore.SoftwareOptions{KDF: keystore.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { ks.Close() })
	return ks
}

// waitFor polls cond every 10 ms until it returns nil, failing after limit.
func waitFor(tb testing.TB, limit time.Duration, what string, cond func() error) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("after %v, still not %s: %v", limit, what, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (nd *testNode) publish(tb testing.TB, seq uint64, exp time.Time) *DIDRecord {
	tb.Helper()
	rec := nd.id.record(seq, exp)
	rec.Addrs = nd.host.Host.Addrs()
	if _, err := SignRecord(rec, nd.id.signer, nd.id.kid); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := nd.dht.Publish(ctx, rec); err != nil {
		tb.Fatal(err)
	}
	return rec
}

func (nd *testNode) find(d string) (*DIDRecord, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return nd.dht.Find(ctx, d)
}

// storeHolds reports whether any value in nd's datastore contains b.
func (nd *testNode) storeHolds(tb testing.TB, b []byte) bool {
	res, err := nd.store.Query(context.Background(), query.Query{})
	if err != nil {
		tb.Fatal(err)
	}
	defer res.Close()
	for e := range res.Next() {
		if bytes.Contains(e.Value, b) {
			return true
		}
	}
	return false
}

func TestDHTTenNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	clock := newClock(t0)
	start := time.Now()
	nodes := newTestNetwork(t, 10, clock, nil)
	t.Logf("10 nodes up, routing tables seeded in %v", time.Since(start))

	// Every node publishes its record; every node finds every other.
	exp := t0.Add(time.Hour)
	start = time.Now()
	for _, nd := range nodes {
		nd.publish(t, 1, exp)
	}
	t.Logf("10 publishes in %v", time.Since(start))
	start = time.Now()
	for i, from := range nodes {
		for j, to := range nodes {
			waitFor(t, 10*time.Second, fmt.Sprintf("node %d finds node %d", i, j), func() error {
				rec, err := from.find(to.id.did)
				if err != nil {
					return err
				}
				if rec.PeerID != to.host.ID() || rec.Seq != 1 || len(rec.Addrs) == 0 {
					return fmt.Errorf("wrong record %+v", rec)
				}
				return nil
			})
		}
	}
	t.Logf("100 lookups in %v", time.Since(start))

	victim, attacker := nodes[0], nodes[5]
	key, _ := RecordKey(victim.id.did)

	t.Run("forged record refused on put, Find keeps the good one", func(t *testing.T) {
		_, forged := forge(t, victim.id, attacker.id, 99, exp)
		err := attacker.dht.Kad().PutValue(context.Background(), key, forged)
		if !errors.Is(err, ErrBadSignature) {
			t.Fatalf("raw PutValue of a forged record: %v", err)
		}
		// A malicious peer that skips validation (as js kad-dht does for its
		// own puts) stores the forgery and pushes it to its closest peers.
		evil := newEvilNode(t, nodes[9])
		if err := evil.kad.PutValue(context.Background(), key, forged); err != nil {
			t.Fatalf("evil put: %v", err)
		}
		if !evil.storeHolds(t, forged) {
			t.Fatalf("the evil node does not serve the forgery; the test proves nothing")
		}
		for i, nd := range nodes {
			if nd.storeHolds(t, forged) {
				t.Fatalf("node %d stored the forged record", i)
			}
			rec, err := nd.find(victim.id.did)
			if err != nil || rec.Seq != 1 {
				t.Fatalf("node %d: Find after the forgery: %+v, %v", i, rec, err)
			}
		}
	})

	t.Run("higher sequence replaces lower; rollback refused", func(t *testing.T) {
		victim.publish(t, 2, exp)
		for i, nd := range nodes {
			waitFor(t, 5*time.Second, fmt.Sprintf("node %d sees seq 2", i), func() error {
				rec, err := nd.find(victim.id.did)
				if err != nil {
					return err
				}
				if rec.Seq != 2 {
					return fmt.Errorf("seq %d", rec.Seq)
				}
				return nil
			})
		}
		// Rollback: seq 1 again, validly signed, through the owner's node
		// and as a raw put on another node that holds seq 2.
		old := victim.id.record(1, exp)
		if _, err := SignRecord(old, victim.id.signer, victim.id.kid); err != nil {
			t.Fatal(err)
		}
		if err := victim.dht.Publish(context.Background(), old); err == nil {
			t.Fatalf("a rollback to seq 1 was published")
		}
		if err := nodes[3].dht.Kad().PutValue(context.Background(), key, old.Value); err == nil {
			t.Fatalf("a rollback to seq 1 was put on a node holding seq 2")
		}
		if rec, err := nodes[7].find(victim.id.did); err != nil || rec.Seq != 2 {
			t.Fatalf("after the rollback attempts: %+v, %v", rec, err)
		}
	})

	t.Run("expired record is not returned", func(t *testing.T) {
		// A record that expires in a minute; then the shared clock moves.
		short := nodes[2]
		short.publish(t, 2, clock.Now().Add(time.Minute))
		if _, err := nodes[8].find(short.id.did); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Minute)
		if rec, err := nodes[8].find(short.id.did); !errors.Is(err, ErrRecordNotFound) {
			t.Fatalf("Find of an expired record: %+v, %v", rec, err)
		}
		// An expired record cannot be put either.
		expired := short.id.record(3, clock.Now().Add(-time.Second))
		if _, err := SignRecord(expired, short.id.signer, short.id.kid); err != nil {
			t.Fatal(err)
		}
		if err := short.dht.Kad().PutValue(context.Background(), "/did/"+strings.TrimPrefix(short.id.did, "did:key:"), expired.Value); !errors.Is(err, ErrRecordExpired) {
			t.Fatalf("put of an expired record: %v", err)
		}
		// Records with a later expiry are still found.
		if _, err := nodes[8].find(nodes[4].id.did); err != nil {
			t.Fatal(err)
		}
	})
}

// permissive accepts any /did/ value and prefers the longest, standing in
// for a peer that does not validate.
type permissive struct{}

func (permissive) Validate(string, []byte) error { return nil }
func (permissive) Select(_ string, vals [][]byte) (int, error) {
	best := 0
	for i, v := range vals {
		if len(v) > len(vals[best]) {
			best = i
		}
	}
	return best, nil
}

type evilNode struct {
	kad *dht.IpfsDHT
	testNode
}

func newEvilNode(t *testing.T, via *testNode) *evilNode {
	t.Helper()
	ks := newStoreTB(t)
	s, _ := ks.Create("evil", keystore.Ed25519)
	h, err := NewHost(testHostConfig(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	store := dssync.MutexWrap(datastore.NewMapDatastore())
	kad, err := dht.New(h.Host, dht.Mode(dht.ModeServer), dht.ProtocolPrefix(DHTProtocolPrefix), dht.Datastore(store),
		dht.NamespacedValidator(RecordNamespace, permissive{}),
		dht.BootstrapPeers(peer.AddrInfo{ID: via.host.ID(), Addrs: via.host.Host.Addrs()}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kad.Close() })
	waitFor(t, 10*time.Second, "evil node has peers", func() error {
		if kad.RoutingTable().Size() == 0 {
			return errors.New("empty routing table")
		}
		return nil
	})
	return &evilNode{kad: kad, testNode: testNode{host: h, store: store}}
}

// manualTicker is a Tick the test fires by hand.
type manualTicker struct {
	mu sync.Mutex
	c  chan time.Time
}

func (m *manualTicker) tick(time.Duration) (<-chan time.Time, func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.c = make(chan time.Time)
	return m.c, func() {}
}

func (m *manualTicker) fire(t *testing.T) {
	t.Helper()
	var c chan time.Time
	waitFor(t, 5*time.Second, "Keep is ticking", func() error {
		m.mu.Lock()
		defer m.mu.Unlock()
		if c = m.c; c == nil {
			return errors.New("no ticker yet")
		}
		return nil
	})
	select {
	case c <- time.Now():
	case <-time.After(5 * time.Second):
		t.Fatalf("Keep did not take the tick")
	}
}

func TestDHTKeepRepublishes(t *testing.T) {
	clock := newClock(t0)
	ticker := &manualTicker{}
	nodes := newTestNetwork(t, 3, clock, func(o *DHTOptions) {
		o.TTL = 10 * time.Minute
		o.Tick = ticker.tick
	})
	owner, reader := nodes[0], nodes[2]
	if err := owner.dht.Keep(context.Background(), nil, 10*time.Minute); err == nil {
		t.Fatalf("Keep accepted a period as long as the TTL")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- owner.dht.Keep(ctx, func() (*DIDRecord, error) {
			return &DIDRecord{DID: owner.id.did, PeerID: owner.host.ID(), Addrs: owner.host.Host.Addrs()}, nil
		}, 5*time.Minute)
	}()
	var first *DIDRecord
	waitFor(t, 10*time.Second, "the first record is found", func() error {
		var err error
		first, err = reader.find(owner.id.did)
		return err
	})
	if want := uint64(t0.UnixMilli()); first.Seq != want || !first.Expires.Equal(t0.Add(10*time.Minute)) {
		t.Fatalf("first record: seq %d (want %d), expires %v", first.Seq, want, first.Expires)
	}
	// Five minutes later the ticker fires: a new record, higher seq, later
	// expiry, replaces the first before it expires.
	for round := 1; round <= 3; round++ {
		clock.Advance(5 * time.Minute)
		ticker.fire(t)
		waitFor(t, 10*time.Second, fmt.Sprintf("round %d is found", round), func() error {
			rec, err := reader.find(owner.id.did)
			if err != nil {
				return err
			}
			if want := t0.Add(time.Duration(round)*5*time.Minute + 10*time.Minute); rec.Seq <= first.Seq || !rec.Expires.Equal(want) {
				return fmt.Errorf("seq %d expires %v, want > %d expiring %v", rec.Seq, rec.Expires, first.Seq, want)
			}
			first = rec
			return nil
		})
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Keep returned %v", err)
	}
}

// BenchmarkDHTFind measures the latency of a DID lookup (Find: full
// Kademlia lookup with quorum 0, then verification) among 10 and 20 nodes on
// loopback; p50 and p99 are reported in ms.
func BenchmarkDHTFind(b *testing.B) {
	for _, n := range []int{10, 20} {
		b.Run(fmt.Sprintf("nodes=%d", n), func(b *testing.B) {
			clock := newClock(t0)
			nodes := newTestNetwork(b, n, clock, nil)
			for _, nd := range nodes {
				nd.publish(b, 1, t0.Add(time.Hour))
			}
			// Warm up: every DID found once from node 0.
			for _, nd := range nodes {
				waitFor(b, 10*time.Second, "warm-up lookup", func() error { _, err := nodes[0].find(nd.id.did); return err })
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				from, to := nodes[i%n], nodes[(i*7+3)%n]
				start := time.Now()
				if _, err := from.find(to.id.did); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
