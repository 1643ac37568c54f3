package p2p

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/keystore"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// In-process benchmarks of the p2p stack (`anya bench p2p`): stream
// throughput over TCP (with the security the hosts negotiate: TLS, else noise) + yamux and QUIC beside raw TCP, round trips on a
// reused stream, and DID record lookups on a DHT of local nodes. Every host
// lives in this process on 127.0.0.1, so the figures are CPU bound: compare
// ratios, not absolute numbers, across machines.

// benchProtocol is the bench's own protocol, served only by bench hosts.
const (
	benchBulkProtocol = protocol.ID("/anya/bench/bulk/1.0.0")
	benchEchoProtocol = protocol.ID("/anya/bench/echo/1.0.0")
	maxBenchEchoFrame = 64 << 10
)

// BenchOptions sizes RunBench. Zero fields take the defaults in brackets.
type BenchOptions struct {
	// Bytes is sent once over each transport [256 MiB], in writes of
	// WriteSize [256 KiB].
	Bytes     int64
	WriteSize int
	// Echoes round trips of EchoSize bytes [10000 of 64 B] run on one
	// reused stream per transport.
	Echoes   int
	EchoSize int
	// DHTNodes nodes [20] each publish a DID record; Lookups finds [100]
	// then run from node i for the record of another node. DHTNodes < 2
	// skips the DHT.
	DHTNodes int
	Lookups  int
	// Progress gets a line per phase; nil discards.
	Progress io.Writer
}

func (o *BenchOptions) defaults() {
	if o.Bytes <= 0 {
		o.Bytes = 256 << 20
	}
	if o.WriteSize <= 0 {
		o.WriteSize = 256 << 10
	}
	if o.Echoes <= 0 {
		o.Echoes = 10000
	}
	if o.EchoSize <= 0 {
		o.EchoSize = 64
	}
	o.EchoSize = min(o.EchoSize, maxBenchEchoFrame)
	if o.DHTNodes == 0 {
		o.DHTNodes = 20
	}
	if o.Lookups <= 0 {
		o.Lookups = 100
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// BenchThroughput is one bulk transfer.
type BenchThroughput struct {
	Transport string  `json:"transport"`
	Bytes     int64   `json:"bytes"`
	Seconds   float64 `json:"seconds"`
	MiBps     float64 `json:"mibPerSecond"`
	// VsRaw is MiBps over raw TCP's (1 for raw TCP itself).
	VsRaw float64 `json:"vsRaw"`
}

// BenchLatency summarizes round trips or lookups.
type BenchLatency struct {
	Name  string  `json:"name"`
	Count int     `json:"count"`
	P50Ms float64 `json:"p50Ms"`
	P99Ms float64 `json:"p99Ms"`
	MaxMs float64 `json:"maxMs"`
}

// BenchResult is what RunBench measured.
type BenchResult struct {
	Throughput []BenchThroughput `json:"throughput"`
	RoundTrip  []BenchLatency    `json:"roundTrip"`
	// DHTSetupSeconds is the time to start DHTNodes nodes and fill their
	// routing tables; DHTLookup the latency of Find. Nil when skipped.
	DHTNodes        int           `json:"dhtNodes,omitempty"`
	DHTSetupSeconds float64       `json:"dhtSetupSeconds,omitempty"`
	DHTLookup       *BenchLatency `json:"dhtLookup,omitempty"`
}

// benchSigner is an in-memory Ed25519 keystore.Signer: bench hosts are
// throwaway and need no keystore.
type benchSigner struct{ key ed25519.PrivateKey }

func newBenchSigner() benchSigner {
	_, k, _ := ed25519.GenerateKey(rand.Reader)
	return benchSigner{key: k}
}

func (s benchSigner) ID() string                      { return "bench" }
func (s benchSigner) Type() keystore.KeyType          { return keystore.Ed25519 }
func (s benchSigner) PublicKey() crypto.PublicKey     { return s.key.Public() }
func (s benchSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }

// newBenchHost starts a host on loopback listening on listen.
func newBenchHost(listen string) (*Host, benchSigner, error) {
	cfg := DefaultConfig()
	cfg.Listen = []string{listen}
	s := newBenchSigner()
	h, err := NewHost(cfg, s, nil)
	return h, s, err
}

// RunBench runs every measurement in turn and returns the figures.
func RunBench(ctx context.Context, opts BenchOptions) (BenchResult, error) {
	opts.defaults()
	var res BenchResult

	// Raw TCP: the baseline.
	fmt.Fprintf(opts.Progress, "raw tcp: %d MiB\n", opts.Bytes>>20)
	raw, rawEcho, err := benchRawTCP(ctx, opts)
	if err != nil {
		return res, fmt.Errorf("p2p: bench raw tcp: %w", err)
	}
	res.Throughput = append(res.Throughput, raw)
	res.RoundTrip = append(res.RoundTrip, rawEcho)

	for _, tr := range []struct{ name, listen string }{
		{"tcp+{security}+yamux", "/ip4/127.0.0.1/tcp/0"},
		{"quic-v1", "/ip4/127.0.0.1/udp/0/quic-v1"},
	} {
		short := strings.Replace(tr.name, "+{security}", "", 1)
		fmt.Fprintf(opts.Progress, "%s: %d MiB\n", short, opts.Bytes>>20)
		t, e, err := benchLibp2p(ctx, tr.name, tr.listen, opts)
		if err != nil {
			return res, fmt.Errorf("p2p: bench %s: %w", short, err)
		}
		if raw.MiBps > 0 {
			t.VsRaw = t.MiBps / raw.MiBps
		}
		res.Throughput = append(res.Throughput, t)
		res.RoundTrip = append(res.RoundTrip, e)
	}

	if opts.DHTNodes >= 2 {
		fmt.Fprintf(opts.Progress, "dht: %d nodes, %d lookups\n", opts.DHTNodes, opts.Lookups)
		setup, lookup, err := benchDHT(ctx, opts)
		if err != nil {
			return res, fmt.Errorf("p2p: bench dht: %w", err)
		}
		res.DHTNodes, res.DHTSetupSeconds, res.DHTLookup = opts.DHTNodes, setup.Seconds(), &lookup
	}
	return res, ctx.Err()
}

// serveBulk reads an 8-byte length, then that many bytes, then answers one
// byte.
func serveBulk(rw io.ReadWriter) error {
	var hdr [8]byte
	if _, err := io.ReadFull(rw, hdr[:]); err != nil {
		return err
	}
	n := int64(binary.BigEndian.Uint64(hdr[:]))
	if _, err := io.CopyN(io.Discard, rw, n); err != nil {
		return err
	}
	_, err := rw.Write([]byte{1})
	return err
}

// sendBulk sends n bytes as serveBulk reads them and waits for the answer.
func sendBulk(rw io.ReadWriter, n int64, writeSize int) (time.Duration, error) {
	buf := make([]byte, writeSize)
	rand.Read(buf)
	start := time.Now()
	var hdr [8]byte
	binary.BigEndian.PutUint64(hdr[:], uint64(n))
	if _, err := rw.Write(hdr[:]); err != nil {
		return 0, err
	}
	for left := n; left > 0; {
		k := min(int64(len(buf)), left)
		if _, err := rw.Write(buf[:k]); err != nil {
			return 0, err
		}
		left -= k
	}
	if _, err := io.ReadFull(rw, hdr[:1]); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// serveEchoFrames answers every frame with itself until end of stream.
func serveEchoFrames(rw io.ReadWriter) error {
	for {
		b, err := ReadFrame(rw, maxBenchEchoFrame)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := WriteFrame(rw, b); err != nil {
			return err
		}
	}
}

// echoFrames runs n framed round trips of size bytes on rw.
func echoFrames(ctx context.Context, name string, rw io.ReadWriter, n, size int) (BenchLatency, error) {
	msg := make([]byte, size)
	lat := make([]time.Duration, 0, n)
	for range n {
		if err := ctx.Err(); err != nil {
			return BenchLatency{}, err
		}
		t0 := time.Now()
		if err := WriteFrame(rw, msg); err != nil {
			return BenchLatency{}, err
		}
		if _, err := ReadFrame(rw, maxBenchEchoFrame); err != nil {
			return BenchLatency{}, err
		}
		lat = append(lat, time.Since(t0))
	}
	return summarizeLatency(name, lat), nil
}

func throughput(name string, n int64, d time.Duration) BenchThroughput {
	t := BenchThroughput{Transport: name, Bytes: n, Seconds: d.Seconds(), VsRaw: 1}
	if d > 0 {
		t.MiBps = float64(n) / (1 << 20) / d.Seconds()
	}
	return t
}

func benchRawTCP(ctx context.Context, opts BenchOptions) (BenchThroughput, BenchLatency, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return BenchThroughput{}, BenchLatency{}, err
	}
	defer ln.Close()
	go func() {
		first := true
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			serve := serveEchoFrames
			if first {
				serve, first = serveBulk, false
			}
			go func() {
				defer c.Close()
				_ = serve(c)
			}()
		}
	}()
	dial := func() (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", ln.Addr().String())
	}
	c, err := dial()
	if err != nil {
		return BenchThroughput{}, BenchLatency{}, err
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	d, err := sendBulk(c, opts.Bytes, opts.WriteSize)
	stop()
	c.Close()
	if err != nil {
		return BenchThroughput{}, BenchLatency{}, err
	}
	e, err := dial()
	if err != nil {
		return BenchThroughput{}, BenchLatency{}, err
	}
	defer e.Close()
	lat, err := echoFrames(ctx, "raw tcp", e, opts.Echoes, opts.EchoSize)
	return throughput("raw tcp", opts.Bytes, d), lat, err
}

// securityName shortens a security protocol ID: /tls/1.0.0 → tls.
func securityName(id protocol.ID) string {
	parts := strings.Split(strings.Trim(string(id), "/"), "/")
	return parts[0]
}

func benchLibp2p(ctx context.Context, name, listen string, opts BenchOptions) (BenchThroughput, BenchLatency, error) {
	srv, _, err := newBenchHost(listen)
	if err != nil {
		return BenchThroughput{}, BenchLatency{}, err
	}
	defer srv.Close()
	cli, _, err := newBenchHost(listen)
	if err != nil {
		return BenchThroughput{}, BenchLatency{}, err
	}
	defer cli.Close()
	srv.SetStreamHandler(benchBulkProtocol, func(s network.Stream) {
		if err := serveBulk(s); err != nil {
			_ = s.Reset()
			return
		}
		_ = s.Close()
	})
	srv.SetStreamHandler(benchEchoProtocol, func(s network.Stream) {
		if err := serveEchoFrames(s); err != nil {
			_ = s.Reset()
			return
		}
		_ = s.Close()
	})
	if err := cli.Connect(ctx, peer.AddrInfo{ID: srv.ID(), Addrs: srv.Addrs()}); err != nil {
		return BenchThroughput{}, BenchLatency{}, err
	}
	s, err := cli.NewStream(ctx, srv.ID(), benchBulkProtocol)
	if err != nil {
		return BenchThroughput{}, BenchLatency{}, err
	}
	// Name the run after what was negotiated, not what was asked for.
	if st := s.Conn().ConnState(); st.Security != "" {
		name = strings.Replace(name, "{security}", securityName(st.Security), 1)
	} else {
		name = strings.Replace(name, "+{security}", "", 1)
	}
	stop := context.AfterFunc(ctx, func() { _ = s.Reset() })
	d, err := sendBulk(s, opts.Bytes, opts.WriteSize)
	stop()
	_ = s.Close()
	if err != nil {
		return BenchThroughput{}, BenchLatency{}, err
	}
	e, err := cli.NewStream(ctx, srv.ID(), benchEchoProtocol)
	if err != nil {
		return BenchThroughput{}, BenchLatency{}, err
	}
	defer e.Close()
	lat, err := echoFrames(ctx, name, e, opts.Echoes, opts.EchoSize)
	return throughput(name, opts.Bytes, d), lat, err
}

// benchDHT starts opts.DHTNodes DHT nodes in a line (node i bootstraps from
// node i-1), has each publish its DID record, and times Lookups finds, each
// from node i of the record of node i+1+i/n (mod n), never its own.
func benchDHT(ctx context.Context, opts BenchOptions) (time.Duration, BenchLatency, error) {
	n := opts.DHTNodes
	type node struct {
		h   *Host
		d   *DHT
		s   benchSigner
		did string
	}
	nodes := make([]*node, 0, n)
	defer func() {
		for _, nd := range slices.Backward(nodes) {
			nd.d.Close()
			nd.h.Close()
		}
	}()
	start := time.Now()
	for i := range n {
		h, s, err := newBenchHost("/ip4/127.0.0.1/tcp/0")
		if err != nil {
			return 0, BenchLatency{}, err
		}
		dopts := DHTOptions{}
		if i > 0 {
			prev := nodes[i-1].h
			dopts.Bootstrap = []peer.AddrInfo{{ID: prev.ID(), Addrs: prev.Addrs()}}
		}
		d, err := NewDHT(h, dssync.MutexWrap(datastore.NewMapDatastore()), dopts)
		if err != nil {
			h.Close()
			return 0, BenchLatency{}, err
		}
		id, err := did.NewKey(s.PublicKey())
		if err != nil {
			return 0, BenchLatency{}, err
		}
		nodes = append(nodes, &node{h: h, d: d, s: s, did: id})
	}
	for {
		ready := true
		for _, nd := range nodes {
			if nd.d.Kad().RoutingTable().Size() == 0 {
				ready = false
			}
		}
		if ready {
			break
		}
		select {
		case <-ctx.Done():
			return 0, BenchLatency{}, ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
		if time.Since(start) > time.Minute {
			return 0, BenchLatency{}, errors.New("routing tables still empty after a minute")
		}
	}
	setup := time.Since(start)
	for _, nd := range nodes {
		rec := &DIDRecord{DID: nd.did, PeerID: nd.h.ID(), Addrs: nd.h.Addrs(), Seq: 1, Expires: time.Now().Add(time.Hour)}
		kid := nd.did + "#" + strings.TrimPrefix(nd.did, "did:key:")
		if _, err := SignRecord(rec, nd.s, kid); err != nil {
			return 0, BenchLatency{}, err
		}
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := nd.d.Publish(pctx, rec)
		cancel()
		if err != nil {
			return 0, BenchLatency{}, err
		}
	}
	lat := make([]time.Duration, 0, opts.Lookups)
	for i := range opts.Lookups {
		from := nodes[i%n]
		target := nodes[(i%n+1+(i/n)%(n-1))%n]
		fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		t0 := time.Now()
		rec, err := from.d.Find(fctx, target.did)
		lat = append(lat, time.Since(t0))
		cancel()
		if err != nil {
			return 0, BenchLatency{}, err
		}
		if rec.PeerID != target.h.ID() {
			return 0, BenchLatency{}, fmt.Errorf("found %s for %s, want %s", rec.PeerID, target.did, target.h.ID())
		}
	}
	return setup, summarizeLatency("dht find", lat), nil
}

// summarizeLatency returns nearest-rank percentiles of lat.
func summarizeLatency(name string, lat []time.Duration) BenchLatency {
	s := slices.Clone(lat)
	slices.Sort(s)
	l := BenchLatency{Name: name, Count: len(s)}
	if len(s) == 0 {
		return l
	}
	pct := func(p float64) float64 {
		r := min(max(int(math.Ceil(p/100*float64(len(s)))), 1), len(s))
		return float64(s[r-1]) / float64(time.Millisecond)
	}
	l.P50Ms, l.P99Ms, l.MaxMs = pct(50), pct(99), pct(100)
	return l
}
