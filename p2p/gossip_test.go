package p2p

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anya-org/anya/keystore"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// gossipGot is one delivered or validated message.
type gossipGot struct {
	data string
	from peer.ID
}

// gossipLog is a list of messages that a test polls.
type gossipLog struct {
	mu   sync.Mutex
	msgs []gossipGot
}

func (l *gossipLog) add(data []byte, from peer.ID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, gossipGot{string(data), from})
}

// find returns the first message whose data is data.
func (l *gossipLog) find(data string) (gossipGot, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, m := range l.msgs {
		if m.data == data {
			return m, true
		}
	}
	return gossipGot{}, false
}

type gossipNode struct {
	host      *Host
	g         *Gossip
	delivered gossipLog // from the node's subscription
	validated gossipLog // every message its validator was asked about
}

// rejectBad rejects messages that start with "bad" and records every call.
func (nd *gossipNode) rejectBad(_ context.Context, from peer.ID, data []byte) pubsub.ValidationResult {
	nd.validated.add(data, from)
	if bytes.HasPrefix(data, []byte("bad")) {
		return pubsub.ValidationReject
	}
	return pubsub.ValidationAccept
}

// newGossipLine starts n nodes on 127.0.0.1 TCP, node i connected only to
// node i-1, each subscribed to OracleAnnouncementsTopic with a collector.
// Nodes 1..n-1 reject messages starting with "bad"; node 0 has no
// validator. opts(i) gives each node's options. It returns once every mesh
// holds its neighbours.
func newGossipLine(t *testing.T, n int, opts func(i int) GossipOptions) []*gossipNode {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	ks := newStoreTB(t)
	nodes := make([]*gossipNode, n)
	for i := range n {
		s, err := ks.Create(fmt.Sprintf("gossip%d", i), keystore.Ed25519)
		if err != nil {
			t.Fatal(err)
		}
		h, err := NewHost(testHostConfig(), s, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		g, err := NewGossip(ctx, h.Host, opts(i))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { g.Close() })
		nd := &gossipNode{host: h, g: g}
		if i > 0 {
			if err := g.RegisterValidator(OracleAnnouncementsTopic, nd.rejectBad); err != nil {
				t.Fatal(err)
			}
		}
		sub, err := g.Subscribe(OracleAnnouncementsTopic)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for {
				data, from, err := sub.Next(ctx)
				if err != nil {
					return
				}
				nd.delivered.add(data, from)
			}
		}()
		if i > 0 {
			prev := nodes[i-1].host
			if err := h.Host.Connect(ctx, peer.AddrInfo{ID: prev.ID(), Addrs: prev.Host.Addrs()}); err != nil {
				t.Fatal(err)
			}
		}
		nodes[i] = nd
	}
	waitFor(t, 20*time.Second, "every mesh holds the node's neighbours", func() error {
		for i, nd := range nodes {
			want := 2
			if i == 0 || i == n-1 {
				want = 1
			}
			if got := nd.g.meshPeers(OracleAnnouncementsTopic); got != want {
				return fmt.Errorf("node %d has %d mesh peers, want %d", i, got, want)
			}
		}
		return nil
	})
	for i, nd := range nodes {
		if want := min(i, 1) + min(n-1-i, 1); len(nd.host.Network().Peers()) != want {
			t.Fatalf("node %d is connected to %d peers, want %d: not a line", i, len(nd.host.Network().Peers()), want)
		}
	}
	return nodes
}

// awaitDelivered waits until every node in nodes has delivered data.
func awaitDelivered(t *testing.T, nodes []*gossipNode, data string, from peer.ID) {
	t.Helper()
	waitFor(t, 10*time.Second, fmt.Sprintf("%.20q delivered everywhere", data), func() error {
		for i, nd := range nodes {
			m, ok := nd.delivered.find(data)
			if !ok {
				return fmt.Errorf("node %d has not delivered it", i)
			}
			if m.from != from {
				t.Fatalf("node %d: author %s, want %s", i, m.from, from)
			}
		}
		return nil
	})
}

func TestGossipLine(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test")
	}
	// Node 0 allows itself larger messages than everyone else, to play a
	// peer that sends what the others refuse.
	const bigLimit = 96 << 10
	start := time.Now()
	nodes := newGossipLine(t, 5, func(i int) GossipOptions {
		if i == 0 {
			return GossipOptions{MaxMessageSize: bigLimit}
		}
		return GossipOptions{}
	})
	t.Logf("5 nodes up, meshes formed in %v", time.Since(start))
	src := nodes[0]
	ctx := context.Background()
	publish := func(data string) {
		t.Helper()
		if err := src.g.Publish(ctx, OracleAnnouncementsTopic, []byte(data)); err != nil {
			t.Fatalf("publish %.20q: %v", data, err)
		}
	}

	t.Run("published at one end reaches every subscriber", func(t *testing.T) {
		start := time.Now()
		publish("hello")
		awaitDelivered(t, nodes, "hello", src.host.ID())
		t.Logf("4 hops in %v", time.Since(start))
	})

	// notForwarded publishes data (which node 1 must refuse), then a good
	// sentinel after it, and checks that no node past node 0 delivered
	// data and none past node 1 was even asked about it.
	notForwarded := func(t *testing.T, data string, node1Sees bool) {
		t.Helper()
		publish(data)
		if node1Sees {
			waitFor(t, 10*time.Second, "node 1 validates the message", func() error {
				m, ok := nodes[1].validated.find(data)
				if !ok {
					return errors.New("not yet")
				}
				if m.from != src.host.ID() {
					t.Fatalf("validator got from=%s, want node 0", m.from)
				}
				return nil
			})
		}
		sentinel := "after " + data[:min(len(data), 16)]
		publish(sentinel)
		awaitDelivered(t, nodes, sentinel, src.host.ID())
		if _, ok := nodes[0].delivered.find(data); !ok {
			t.Errorf("node 0 (no validator) did not deliver its own message")
		}
		for i, nd := range nodes[1:] {
			if _, ok := nd.delivered.find(data); ok {
				t.Errorf("node %d delivered the refused message", i+1)
			}
		}
		for i, nd := range nodes[2:] {
			if _, ok := nd.validated.find(data); ok {
				t.Errorf("node %d received the refused message: node 1 forwarded it", i+2)
			}
		}
	}

	t.Run("rejected message is delivered to no validating node and not forwarded", func(t *testing.T) {
		notForwarded(t, "bad apple", true)
	})

	t.Run("oversize message refused at publish", func(t *testing.T) {
		err := nodes[1].g.Publish(ctx, OracleAnnouncementsTopic, make([]byte, DefaultGossipMaxMessageSize+1))
		if !errors.Is(err, ErrGossipTooLarge) {
			t.Fatalf("publish of %d bytes: %v", DefaultGossipMaxMessageSize+1, err)
		}
		if err := src.g.Publish(ctx, OracleAnnouncementsTopic, make([]byte, bigLimit+1)); !errors.Is(err, ErrGossipTooLarge) {
			t.Fatalf("publish above a custom limit: %v", err)
		}
		// Exactly the limit passes, envelope included, across all hops.
		full := strings.Repeat("f", DefaultGossipMaxMessageSize)
		if err := nodes[1].g.Publish(ctx, OracleAnnouncementsTopic, []byte(full)); err != nil {
			t.Fatal(err)
		}
		awaitDelivered(t, nodes, full, nodes[1].host.ID())
	})

	t.Run("oversize message from a peer is rejected before the validator", func(t *testing.T) {
		// Node 0's own limit lets it publish 80 KiB; node 1's does not.
		notForwarded(t, strings.Repeat("o", 80<<10), false)
		if _, ok := nodes[1].validated.find(strings.Repeat("o", 80<<10)); ok {
			t.Errorf("node 1's validator was asked about an oversize message")
		}
	})

	t.Run("validator replaced after join", func(t *testing.T) {
		last := nodes[4]
		var calls sync.WaitGroup
		calls.Add(1)
		var once sync.Once
		err := last.g.RegisterValidator(OracleAnnouncementsTopic, func(_ context.Context, from peer.ID, data []byte) pubsub.ValidationResult {
			if string(data) == "late" {
				once.Do(calls.Done)
				return pubsub.ValidationIgnore
			}
			return pubsub.ValidationAccept
		})
		if err != nil {
			t.Fatal(err)
		}
		publish("late")
		awaitDelivered(t, nodes[:4], "late", src.host.ID())
		calls.Wait()
		publish("later")
		awaitDelivered(t, nodes, "later", src.host.ID())
		if _, ok := last.delivered.find("late"); ok {
			t.Errorf("node 4 delivered a message its new validator ignored")
		}
		// A node's own validator also vets its local publishes.
		if err := nodes[3].g.Publish(ctx, OracleAnnouncementsTopic, []byte("bad but local")); err == nil {
			t.Errorf("node 3 published a message its own validator rejects")
		}
	})

	t.Run("Cancel stops delivery", func(t *testing.T) {
		nd := nodes[3]
		sub, err := nd.g.Subscribe(OracleAnnouncementsTopic)
		if err != nil {
			t.Fatal(err)
		}
		publish("before cancel")
		nctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		data, from, err := sub.Next(nctx)
		if err != nil || string(data) != "before cancel" || from != src.host.ID() {
			t.Fatalf("Next before Cancel: %q %s %v", data, from, err)
		}
		// A Next blocked when Cancel is called returns an error.
		done := make(chan error, 1)
		go func() {
			_, _, err := sub.Next(nctx)
			done <- err
		}()
		sub.Cancel()
		sub.Cancel()
		if err := <-done; err == nil {
			t.Fatalf("blocked Next returned a message after Cancel")
		}
		publish("after cancel")
		awaitDelivered(t, nodes, "after cancel", src.host.ID())
		if data, _, err := sub.Next(nctx); err == nil {
			t.Fatalf("Next after Cancel delivered %q", data)
		}
	})

	t.Run("Close", func(t *testing.T) {
		g := nodes[4].g
		if err := g.Close(); err != nil {
			t.Fatal(err)
		}
		if err := g.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		if err := g.Publish(ctx, OracleAnnouncementsTopic, []byte("x")); !errors.Is(err, ErrGossipClosed) {
			t.Fatalf("Publish after Close: %v", err)
		}
		if _, err := g.Subscribe(OracleAnnouncementsTopic); !errors.Is(err, ErrGossipClosed) {
			t.Fatalf("Subscribe after Close: %v", err)
		}
		if err := g.RegisterValidator("t", nodes[4].rejectBad); !errors.Is(err, ErrGossipClosed) {
			t.Fatalf("RegisterValidator after Close: %v", err)
		}
		// The rest of the line still works.
		publish("after close")
		awaitDelivered(t, nodes[:4], "after close", src.host.ID())
	})
}

func TestGossipOptions(t *testing.T) {
	ks := newStoreTB(t)
	s, err := ks.Create("gossip", keystore.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHost(testHostConfig(), s, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, err := NewGossip(context.Background(), h.Host, GossipOptions{MaxMessageSize: -1}); err == nil {
		t.Fatalf("negative MaxMessageSize accepted")
	}
	g, err := NewGossip(context.Background(), h.Host, GossipOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.max != DefaultGossipMaxMessageSize {
		t.Fatalf("default limit %d", g.max)
	}
	if err := g.RegisterValidator(OracleAnnouncementsTopic, nil); err == nil {
		t.Fatalf("nil validator accepted")
	}
	// Before Join, then replaced; a node alone delivers to itself.
	reject := func(context.Context, peer.ID, []byte) pubsub.ValidationResult { return pubsub.ValidationReject }
	accept := func(context.Context, peer.ID, []byte) pubsub.ValidationResult { return pubsub.ValidationAccept }
	if err := g.RegisterValidator("/anya/test/1", reject); err != nil {
		t.Fatal(err)
	}
	sub, err := g.Subscribe("/anya/test/1")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Cancel()
	var verr pubsub.ValidationError
	if err := g.Publish(context.Background(), "/anya/test/1", []byte("x")); !errors.As(err, &verr) {
		t.Fatalf("publish refused by own validator: %v", err)
	}
	if err := g.RegisterValidator("/anya/test/1", accept); err != nil {
		t.Fatal(err)
	}
	if err := g.Publish(context.Background(), "/anya/test/1", []byte("y")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	data, from, err := sub.Next(ctx)
	if err != nil || string(data) != "y" || from != h.ID() {
		t.Fatalf("Next: %q %s %v", data, from, err)
	}
	if topics := g.ps.GetTopics(); !slices.Contains(topics, "/anya/test/1") {
		t.Fatalf("topics %v", topics)
	}
}
