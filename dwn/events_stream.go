package dwn

import (
	"encoding/json"
	"sync"
)

// eventStream is the in-memory event stream of live subscriptions (the
// reference's EventEmitterStream): each accepted RecordsWrite, RecordsDelete
// and ProtocolsConfigure is offered to the tenant's subscriptions whose
// filters match its indexes. Nothing is replayed.
type eventStream struct {
	mu     sync.Mutex
	next   uint64
	subs   map[uint64]*subscriber
	closed bool
}

type subscriber struct {
	tenant  string
	filters []Filter
	deliver func(json.RawMessage)
	// mu orders deliveries to one subscriber and lets Close wait for the
	// one in flight.
	mu     sync.Mutex
	closed bool
}

func newEventStream() *eventStream {
	return &eventStream{subs: make(map[uint64]*subscriber)}
}

// subscribe adds a subscription and returns its Close func, or nil when
// the stream is closed.
func (s *eventStream) subscribe(tenant string, filters []Filter, deliver func(json.RawMessage)) func() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.next++
	id := s.next
	sub := &subscriber{tenant: tenant, filters: filters, deliver: deliver}
	s.subs[id] = sub
	return func() error {
		s.mu.Lock()
		delete(s.subs, id)
		s.mu.Unlock()
		sub.mu.Lock()
		sub.closed = true
		sub.mu.Unlock()
		return nil
	}
}

// emit offers an event to the matching subscriptions of tenant.
func (s *eventStream) emit(tenant string, event json.RawMessage, ix Indexes) {
	s.mu.Lock()
	var targets []*subscriber
	for _, sub := range s.subs {
		if sub.tenant == tenant && matchesAny(sub.filters, ix) {
			targets = append(targets, sub)
		}
	}
	s.mu.Unlock()
	for _, sub := range targets {
		sub.mu.Lock()
		if !sub.closed {
			sub.deliver(event)
		}
		sub.mu.Unlock()
	}
}

func (s *eventStream) close() {
	s.mu.Lock()
	subs := s.subs
	s.subs = make(map[uint64]*subscriber)
	s.closed = true
	s.mu.Unlock()
	for _, sub := range subs {
		sub.mu.Lock()
		sub.closed = true
		sub.mu.Unlock()
	}
}

// recordEvent is the JSON of an event: {"message": …, "initialWrite"?: …}.
func recordEvent(message, initialWrite []byte) json.RawMessage {
	out := append([]byte(`{"message":`), message...)
	if initialWrite != nil {
		out = append(out, `,"initialWrite":`...)
		out = append(out, initialWrite...)
	}
	return append(out, '}')
}
