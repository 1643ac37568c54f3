package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// OracleAnnouncementsTopic is the gossipsub topic on which oracles announce
// themselves. The oracle protocol registers its validator for it.
const OracleAnnouncementsTopic = "/anya/oracle/announcements/1"

// DefaultGossipMaxMessageSize is the largest payload a gossip message may
// carry unless GossipOptions.MaxMessageSize says otherwise.
const DefaultGossipMaxMessageSize = 64 << 10

// Limits that bound what a flooding peer can make this node hold. Every
// queue is bounded; when one is full gossipsub drops, it never grows.
const (
	// gossipEnvelopeSlack is the room allowed on the wire above the payload
	// limit for the signed envelope (author, seqno, topic, signature, key)
	// and piggybacked control messages.
	gossipEnvelopeSlack = 64 << 10
	// gossipValidateQueue is the validation front-end queue shared by all
	// peers (pubsub default 32); when full, incoming messages are dropped.
	gossipValidateQueue = 256
	// gossipValidateThrottle bounds validations in flight across all topics
	// (pubsub default 8192). With 64 KiB payloads that is at most 16 MiB.
	gossipValidateThrottle = 256
	// gossipTopicConcurrency bounds validations in flight per topic
	// (pubsub default 1024).
	gossipTopicConcurrency = 64
	// gossipValidateTimeout bounds one run of a validator; a validator that
	// takes longer counts as ignore.
	gossipValidateTimeout = 10 * time.Second
	// gossipPeerQueue bounds the outbound RPC queue per peer (default 32).
	gossipPeerQueue = 64
	// gossipSubBuffer is the buffer of each subscription. A subscriber that
	// falls this far behind loses messages rather than stalling gossip.
	gossipSubBuffer = 64
)

// ErrGossipTooLarge is returned by Publish for a payload above
// GossipOptions.MaxMessageSize.
var ErrGossipTooLarge = errors.New("p2p: gossip message too large")

// ErrGossipClosed is returned once Close has been called.
var ErrGossipClosed = errors.New("p2p: gossip closed")

// GossipOptions configures NewGossip. The zero value is usable.
type GossipOptions struct {
	// MaxMessageSize is the largest payload accepted, in bytes, for
	// publishing and from peers. Default DefaultGossipMaxMessageSize.
	MaxMessageSize int
	// Log receives gossip logs; nil discards them.
	Log *slog.Logger
}

// GossipValidator decides a message: pubsub.ValidationAccept delivers and
// forwards it; pubsub.ValidationReject drops it and penalises from in the
// peer score; pubsub.ValidationIgnore drops it without penalty. from is the
// peer that passed the message to this node (the one penalised), or this
// node's own ID for a local Publish; it is not necessarily the author.
// Validators run concurrently and must not keep data.
type GossipValidator func(ctx context.Context, from peer.ID, data []byte) pubsub.ValidationResult

// Gossip is a gossipsub router on a libp2p host. Messages are signed by
// their author and verified by every receiver (StrictSign), bounded in size,
// and passed through the validator registered for their topic before they
// are delivered or forwarded.
type Gossip struct {
	ps     *pubsub.PubSub
	host   host.Host
	log    *slog.Logger
	max    int
	cancel context.CancelFunc
	mesh   *meshTracer

	mu     sync.Mutex
	closed bool
	topics map[string]*pubsub.Topic
	vals   map[string]*atomic.Pointer[GossipValidator]
	subs   map[*GossipSubscription]struct{}
}

// NewGossip starts gossipsub on h. It runs until Close is called or ctx is
// done. Peer scoring is on with penalties only (invalid messages and
// gossip misbehaviour), so peers that send rejected messages lose first
// gossip, then the right to publish to us, then are ignored.
func NewGossip(ctx context.Context, h host.Host, opts GossipOptions) (*Gossip, error) {
	if opts.MaxMessageSize < 0 {
		return nil, fmt.Errorf("p2p: gossip: negative MaxMessageSize %d", opts.MaxMessageSize)
	}
	if opts.MaxMessageSize == 0 {
		opts.MaxMessageSize = DefaultGossipMaxMessageSize
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = log.With("subsys", "gossip")
	ctx, cancel := context.WithCancel(ctx)
	g := &Gossip{
		host:   h,
		log:    log,
		max:    opts.MaxMessageSize,
		cancel: cancel,
		mesh:   newMeshTracer(),
		topics: make(map[string]*pubsub.Topic),
		vals:   make(map[string]*atomic.Pointer[GossipValidator]),
		subs:   make(map[*GossipSubscription]struct{}),
	}
	ps, err := pubsub.NewGossipSub(ctx, h,
		pubsub.WithMessageSignaturePolicy(pubsub.StrictSign),
		pubsub.WithMaxMessageSize(opts.MaxMessageSize+gossipEnvelopeSlack),
		pubsub.WithValidateQueueSize(gossipValidateQueue),
		pubsub.WithValidateThrottle(gossipValidateThrottle),
		pubsub.WithPeerOutboundQueueSize(gossipPeerQueue),
		pubsub.WithPeerScore(gossipScoreParams(), gossipScoreThresholds()),
		pubsub.WithPeerGater(pubsub.NewPeerGaterParams(0.33,
			pubsub.ScoreParameterDecay(2*time.Minute), pubsub.ScoreParameterDecay(10*time.Minute))),
		pubsub.WithRawTracer(g.mesh),
		pubsub.WithLogger(log),
	)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("p2p: start gossipsub: %w", err)
	}
	g.ps = ps
	return g, nil
}

// gossipScoreParams turns on the penalties of peer scoring and none of the
// rewards: P4 (invalid messages, per topic, see gossipTopicScoreParams) and
// P7 (broken IHAVE promises, GRAFT during backoff). IP colocation is off:
// a personal node often shares an address with its peers (NAT, loopback).
func gossipScoreParams() *pubsub.PeerScoreParams {
	return &pubsub.PeerScoreParams{
		SkipAtomicValidation:      true,
		Topics:                    map[string]*pubsub.TopicScoreParams{OracleAnnouncementsTopic: gossipTopicScoreParams()},
		AppSpecificScore:          func(peer.ID) float64 { return 0 },
		BehaviourPenaltyWeight:    -1,
		BehaviourPenaltyThreshold: 6,
		BehaviourPenaltyDecay:     pubsub.ScoreParameterDecay(10 * time.Minute),
		DecayInterval:             pubsub.DefaultDecayInterval,
		DecayToZero:               pubsub.DefaultDecayToZero,
		RetainScore:               10 * time.Minute,
	}
}

// gossipTopicScoreParams penalises invalid messages: the penalty is the
// square of the count of rejected messages, decaying over an hour, so a
// peer that sends 4 loses gossip, 8 its right to publish to us, 9 is
// graylisted (see gossipScoreThresholds).
func gossipTopicScoreParams() *pubsub.TopicScoreParams {
	return &pubsub.TopicScoreParams{
		SkipAtomicValidation: true,
		TopicWeight:          1,
		// P1 is off (weight 0), but gossipsub divides by the quantum.
		TimeInMeshQuantum:              time.Second,
		InvalidMessageDeliveriesWeight: -1,
		InvalidMessageDeliveriesDecay:  pubsub.ScoreParameterDecay(time.Hour),
	}
}

func gossipScoreThresholds() *pubsub.PeerScoreThresholds {
	return &pubsub.PeerScoreThresholds{
		GossipThreshold:   -10,
		PublishThreshold:  -50,
		GraylistThreshold: -80,
	}
}

// RegisterValidator sets the validator of topic, replacing the previous one
// (at first, one that accepts everything). It may be called before or after
// the topic is joined; the replacement is atomic, no message passes
// between the old validator and the new one. Whatever the validator says,
// payloads above MaxMessageSize are rejected first.
func (g *Gossip) RegisterValidator(topic string, v GossipValidator) error {
	if v == nil {
		return errors.New("p2p: gossip: nil validator")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	slot, err := g.slotLocked(topic)
	if err != nil {
		return err
	}
	slot.Store(&v)
	return nil
}

// slotLocked returns topic's validator slot, registering with pubsub the
// validator that reads it. g.mu is held.
func (g *Gossip) slotLocked(topic string) (*atomic.Pointer[GossipValidator], error) {
	if g.closed {
		return nil, ErrGossipClosed
	}
	if slot, ok := g.vals[topic]; ok {
		return slot, nil
	}
	slot := new(atomic.Pointer[GossipValidator])
	err := g.ps.RegisterTopicValidator(topic, g.validator(topic, slot),
		pubsub.WithValidatorTimeout(gossipValidateTimeout),
		pubsub.WithValidatorConcurrency(gossipTopicConcurrency))
	if err != nil {
		return nil, fmt.Errorf("p2p: gossip: register validator for %s: %w", topic, err)
	}
	g.vals[topic] = slot
	return slot, nil
}

func (g *Gossip) validator(topic string, slot *atomic.Pointer[GossipValidator]) pubsub.ValidatorEx {
	return func(ctx context.Context, from peer.ID, msg *pubsub.Message) pubsub.ValidationResult {
		if len(msg.Data) > g.max {
			g.log.Debug("oversize gossip message rejected", "topic", topic, "from", from, "size", len(msg.Data))
			return pubsub.ValidationReject
		}
		v := slot.Load()
		if v == nil {
			return pubsub.ValidationAccept
		}
		res := (*v)(ctx, from, msg.Data)
		if res == pubsub.ValidationReject {
			g.log.Debug("gossip message rejected", "topic", topic, "from", from, "author", msg.GetFrom())
		}
		return res
	}
}

// topic returns the joined topic, joining it (and installing its validator
// slot) on first use.
func (g *Gossip) topic(name string) (*pubsub.Topic, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, err := g.slotLocked(name); err != nil {
		return nil, err
	}
	if t, ok := g.topics[name]; ok {
		return t, nil
	}
	t, err := g.ps.Join(name)
	if err != nil {
		return nil, fmt.Errorf("p2p: gossip: join %s: %w", name, err)
	}
	// The oracle topic's score parameters are set at start; every other
	// topic gets the same penalty for invalid messages when joined.
	if name != OracleAnnouncementsTopic {
		if err := t.SetScoreParams(gossipTopicScoreParams()); err != nil {
			t.Close()
			return nil, fmt.Errorf("p2p: gossip: score parameters for %s: %w", name, err)
		}
	}
	g.topics[name] = t
	return t, nil
}

// Publish signs data and sends it to topic's mesh, joining the topic if
// needed. It first runs this node's own validator for the topic: a
// rejected or ignored message is not sent and Publish returns an error. A
// payload above MaxMessageSize returns ErrGossipTooLarge. Publish does not
// wait for peers: with none, the message reaches only local subscribers.
func (g *Gossip) Publish(ctx context.Context, topic string, data []byte) error {
	if len(data) > g.max {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrGossipTooLarge, len(data), g.max)
	}
	t, err := g.topic(topic)
	if err != nil {
		return err
	}
	if err := t.Publish(ctx, data); err != nil {
		return fmt.Errorf("p2p: gossip: publish to %s: %w", topic, err)
	}
	return nil
}

// Subscribe joins topic if needed and returns a subscription to the
// messages that pass validation, including this node's own.
func (g *Gossip) Subscribe(topic string) (*GossipSubscription, error) {
	t, err := g.topic(topic)
	if err != nil {
		return nil, err
	}
	sub, err := t.Subscribe(pubsub.WithBufferSize(gossipSubBuffer))
	if err != nil {
		return nil, fmt.Errorf("p2p: gossip: subscribe to %s: %w", topic, err)
	}
	s := &GossipSubscription{sub: sub, g: g}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		sub.Cancel()
		return nil, ErrGossipClosed
	}
	g.subs[s] = struct{}{}
	return s, nil
}

// meshPeers reports how many connected peers are in this node's mesh for
// topic.
func (g *Gossip) meshPeers(topic string) int {
	return g.mesh.count(topic, func(p peer.ID) bool {
		return g.host.Network().Connectedness(p) == network.Connected
	})
}

// Close cancels every subscription, leaves every topic and stops gossipsub.
// It is safe to call more than once.
func (g *Gossip) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	subs, topics := g.subs, g.topics
	g.subs, g.topics = nil, nil
	g.mu.Unlock()
	for s := range subs {
		s.sub.Cancel()
	}
	var errs []error
	for name, t := range topics {
		if err := t.Close(); err != nil {
			errs = append(errs, fmt.Errorf("p2p: gossip: leave %s: %w", name, err))
		}
	}
	g.cancel()
	return errors.Join(errs...)
}

// GossipSubscription delivers the validated messages of one topic.
type GossipSubscription struct {
	sub  *pubsub.Subscription
	g    *Gossip
	once sync.Once
}

// Next blocks until the next message and returns its payload and author
// (verified by its signature). It returns an error when ctx is done or the
// subscription is cancelled.
func (s *GossipSubscription) Next(ctx context.Context) ([]byte, peer.ID, error) {
	msg, err := s.sub.Next(ctx)
	if err != nil {
		return nil, "", err
	}
	return msg.Data, msg.GetFrom(), nil
}

// Cancel ends the subscription; a blocked Next returns an error. Safe to
// call more than once.
func (s *GossipSubscription) Cancel() {
	s.once.Do(func() {
		s.sub.Cancel()
		s.g.mu.Lock()
		delete(s.g.subs, s)
		s.g.mu.Unlock()
	})
}

// meshTracer tracks which peers gossipsub has grafted into this node's mesh
// per topic. Gossipsub calls it from its event loop, so it only records.
// Peers that disconnect are not pruned here; count filters them.
type meshTracer struct {
	mu   sync.Mutex
	mesh map[string]map[peer.ID]struct{}
}

func newMeshTracer() *meshTracer {
	return &meshTracer{mesh: make(map[string]map[peer.ID]struct{})}
}

func (m *meshTracer) count(topic string, keep func(peer.ID) bool) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for p := range m.mesh[topic] {
		if keep(p) {
			n++
		}
	}
	return n
}

func (m *meshTracer) Graft(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mesh[topic] == nil {
		m.mesh[topic] = make(map[peer.ID]struct{})
	}
	m.mesh[topic][p] = struct{}{}
}

func (m *meshTracer) Prune(p peer.ID, topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mesh[topic], p)
}

func (m *meshTracer) Leave(topic string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.mesh, topic)
}

func (*meshTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (*meshTracer) OnClosedOutboundStream(peer.ID)                       {}
func (*meshTracer) Join(string)                                          {}
func (*meshTracer) ValidateMessage(*pubsub.Message)                      {}
func (*meshTracer) DeliverMessage(*pubsub.Message)                       {}
func (*meshTracer) RejectMessage(*pubsub.Message, string)                {}
func (*meshTracer) DuplicateMessage(*pubsub.Message)                     {}
func (*meshTracer) ThrottlePeer(peer.ID)                                 {}
func (*meshTracer) RecvRPC(*pubsub.RPC)                                  {}
func (*meshTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (*meshTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (*meshTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (*meshTracer) UndeliverableMessage(*pubsub.Message)                 {}

var _ pubsub.RawTracer = (*meshTracer)(nil)
