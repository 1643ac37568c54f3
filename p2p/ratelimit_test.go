package p2p

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

const limitTestProto = protocol.ID("/anya/test-echo/1.0.0")

// serveEcho registers a limited framed echo on h and returns how many
// streams reached it.
func serveEcho(h *Host) *atomic.Int64 {
	var n atomic.Int64
	h.SetStreamHandler(limitTestProto, LimitStreams(h, limitTestProto, func(s network.Stream) {
		n.Add(1)
		defer s.Close()
		b, err := ReadFrame(s, 1024)
		if err != nil {
			_ = s.Reset()
			return
		}
		_ = WriteFrame(s, b)
	}))
	return &n
}

// echo opens a stream from h to p and does one framed round trip.
func echo(h *Host, p peer.ID) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := h.NewStream(ctx, p, limitTestProto)
	if err != nil {
		return err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(5 * time.Second))
	if err := WriteFrame(s, []byte("hi")); err != nil {
		return err
	}
	b, err := ReadFrame(s, 1024)
	if err == nil && string(b) != "hi" {
		err = fmt.Errorf("echo returned %q", b)
	}
	return err
}

// TestFloodingPeer: with 1 stream/s and bursts of 2, a peer's third stream
// is reset; its third reset disconnects it and the server refuses it until
// the cool-down passes. A well-behaved peer is unaffected throughout.
func TestFloodingPeer(t *testing.T) {
	clock := newClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	hs := newLimitHosts(t, 3, func(i int, c *Config) {
		if i == 0 {
			c.RatePerSecond, c.Burst = 1, 2
		}
	}, WithLimits(LimitOptions{Strikes: 3, StrikeWindow: 10 * time.Second, CoolDown: time.Minute, Now: clock.Now}))
	srv, flood, good := hs[0], hs[1], hs[2]
	served := serveEcho(srv)
	seen := watchConns(srv)
	for _, c := range []*Host{flood, good} {
		if err := dial(c, srv); err != nil {
			t.Fatal(err)
		}
	}

	for i := range 2 {
		if err := echo(flood, srv.ID()); err != nil {
			t.Fatalf("stream %d within the burst: %v", i, err)
		}
		if err := echo(good, srv.ID()); err != nil {
			t.Fatalf("well-behaved stream %d: %v", i, err)
		}
	}
	// Strikes one and two: reset, still connected.
	for i := range 2 {
		err := echo(flood, srv.ID())
		var se *network.StreamError
		if !errors.As(err, &se) || se.ErrorCode != network.StreamRateLimited {
			t.Fatalf("stream %d over the limit: got %v, want a StreamRateLimited reset", i+3, err)
		}
		if srv.Network().Connectedness(flood.ID()) != network.Connected {
			t.Fatal("disconnected before the third strike")
		}
	}
	if err := echo(flood, srv.ID()); err == nil {
		t.Fatal("the third stream over the limit was served")
	}
	waitFor(t, 5*time.Second, "the flooding peer is disconnected", func() error {
		if srv.Network().Connectedness(flood.ID()) == network.Connected {
			return fmt.Errorf("still connected")
		}
		return nil
	})
	if got := served.Load(); got != 4 {
		t.Fatalf("handler reached %d times, want 4 (2 per peer)", got)
	}
	if !srv.Limiter().CoolingDown(flood.ID()) {
		t.Fatal("the flooding peer is not cooling down")
	}

	// Refused both ways during the cool-down, even after a while.
	clock.Advance(30 * time.Second)
	seen = watchConns(srv)
	assertGated(t, "cooling down", flood, srv, seen)
	if err := dial(srv, flood); err == nil {
		t.Fatal("the server dialled a peer cooling down")
	}

	// The well-behaved peer was never touched, and its bucket refilled.
	if srv.Network().Connectedness(good.ID()) != network.Connected {
		t.Fatal("the well-behaved peer was disconnected")
	}
	if err := echo(good, srv.ID()); err != nil {
		t.Fatalf("well-behaved peer after the flood: %v", err)
	}

	// After the cool-down the peer is welcome again, with a full bucket.
	clock.Advance(31 * time.Second)
	if srv.Limiter().CoolingDown(flood.ID()) {
		t.Fatal("still cooling down after the cool-down")
	}
	flood.Network().(*swarm.Swarm).Backoff().Clear(srv.ID())
	if err := dial(flood, srv); err != nil {
		t.Fatalf("reconnect after the cool-down: %v", err)
	}
	for i := range 2 {
		if err := echo(flood, srv.ID()); err != nil {
			t.Fatalf("stream %d after the cool-down: %v", i, err)
		}
	}
}

// TestIdleStream: a peer that opens a stream and stalls mid-frame is
// dropped at the wrapper's read deadline.
func TestIdleStream(t *testing.T) {
	hs := newLimitHosts(t, 2, nil, WithLimits(LimitOptions{IdleTimeout: 100 * time.Millisecond}))
	srv, cli := hs[0], hs[1]
	got := make(chan error, 1)
	srv.SetStreamHandler(limitTestProto, LimitStreams(srv, limitTestProto, func(s network.Stream) {
		_, err := ReadFrame(s, 1024)
		got <- err
		_ = s.Reset()
	}))
	if err := dial(cli, srv); err != nil {
		t.Fatal(err)
	}
	s, err := cli.NewStream(context.Background(), srv.ID(), limitTestProto)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Reset()
	if _, err := s.Write([]byte{10, 'a'}); err != nil { // 1 of 10 promised bytes
		t.Fatal(err)
	}
	select {
	case err := <-got:
		var timeout interface{ Timeout() bool }
		if !errors.As(err, &timeout) || !timeout.Timeout() {
			t.Fatalf("handler read: %v, want a deadline error", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a stalled stream was not dropped")
	}
}

// TestUnknownProtocolCostsNothing: a stream for a protocol nobody serves is
// refused by multistream-select; no handler runs and the limiter never
// hears of it.
func TestUnknownProtocolCostsNothing(t *testing.T) {
	hs := newLimitHosts(t, 2, nil)
	srv, cli := hs[0], hs[1]
	served := serveEcho(srv)
	if err := dial(cli, srv); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s, err := cli.NewStream(ctx, srv.ID(), "/anya/unknown/1.0.0")
		if err == nil {
			_ = s.SetDeadline(time.Now().Add(5 * time.Second))
			_, err = s.Read(make([]byte, 1)) // a lazy select learns the refusal here
			_ = s.Reset()
		}
		cancel()
		if err == nil {
			t.Fatal("a stream for an unknown protocol was accepted")
		}
	}
	if n := served.Load(); n != 0 {
		t.Fatalf("a handler ran %d times", n)
	}
	l := srv.Limiter()
	l.mu.Lock()
	buckets, strikes := len(l.buckets), len(l.strikes)
	l.mu.Unlock()
	if buckets != 0 || strikes != 0 {
		t.Fatalf("the limiter holds %d buckets and %d strikes, want none", buckets, strikes)
	}
	if srv.Network().Connectedness(cli.ID()) != network.Connected {
		t.Fatal("the peer was disconnected")
	}
	if err := echo(cli, srv.ID()); err != nil {
		t.Fatal(err)
	}
}
