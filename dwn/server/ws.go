package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/anya-org/anya/dwn"
)

// writeWait bounds one WebSocket write.
const writeWait = 10 * time.Second

// outQueue is how many frames may wait for a slow socket; a socket whose
// subscription events overflow it is dropped rather than stall the DWN.
const outQueue = 1024

// wsConn is one WebSocket: a reader, a worker that handles its requests one
// at a time (so replies come in request order), and the only writer, which
// also pings. Subscriptions are keyed by their JSON-RPC id.
type wsConn struct {
	s      *Server
	c      *websocket.Conn
	ctx    context.Context
	cancel context.CancelFunc
	out    chan []byte
	done   chan struct{}
	once   sync.Once

	mu     sync.Mutex
	subs   map[string]*wsSub
	closed bool
}

// wsSub is one subscription of a socket. Events that arrive before the
// subscribe reply has been queued wait in pending, so a client never sees
// an event for an id it has not been told about.
type wsSub struct {
	id      json.RawMessage
	close   func() error // nil until the DWN has replied
	ready   bool
	pending [][]byte
}

func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return
	}
	c, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		s.log.Debug("websocket upgrade failed", "err", err)
		return // the upgrader has answered
	}
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	conn := &wsConn{s: s, c: c, ctx: ctx, cancel: cancel,
		out: make(chan []byte, outQueue), done: make(chan struct{}), subs: make(map[string]*wsSub)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		_ = c.Close()
		return
	}
	s.conns[conn] = struct{}{}
	s.mu.Unlock()

	go conn.writeLoop()
	reqs := make(chan []byte, 16)
	go conn.work(reqs)
	conn.readLoop(reqs)
}

// readLoop reads frames until the socket fails, misses its pongs or closes.
func (c *wsConn) readLoop(reqs chan<- []byte) {
	defer close(reqs)
	defer c.close()
	pongWait := 2 * c.s.opts.PingInterval
	c.c.SetReadLimit(c.s.opts.MaxMessageSize + headerSlack)
	_ = c.c.SetReadDeadline(time.Now().Add(pongWait))
	c.c.SetPongHandler(func(string) error {
		return c.c.SetReadDeadline(time.Now().Add(pongWait))
	})
	for {
		_, b, err := c.c.ReadMessage()
		if err != nil {
			c.s.log.Debug("websocket closed", "err", err)
			return
		}
		select {
		case reqs <- b:
		case <-c.done:
			return
		}
	}
}

// work handles requests in order and queues their replies.
func (c *wsConn) work(reqs <-chan []byte) {
	for b := range reqs {
		if resp := c.handle(b); resp != nil {
			c.sendReply(resp)
		}
	}
}

// writeLoop is the socket's only writer.
func (c *wsConn) writeLoop() {
	ticker := time.NewTicker(c.s.opts.PingInterval)
	defer ticker.Stop()
	defer c.c.Close()
	for {
		select {
		case b := <-c.out:
			_ = c.c.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.c.WriteMessage(websocket.TextMessage, b); err != nil {
				c.s.log.Debug("websocket write failed", "err", err)
				c.close()
				return
			}
		case <-ticker.C:
			if err := c.c.WriteControl(websocket.PingMessage, nil, time.Now().Add(writeWait)); err != nil {
				c.close()
				return
			}
		case <-c.done:
			_ = c.c.WriteControl(websocket.CloseMessage,
				websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
			return
		}
	}
}

// close ends the socket and every subscription it holds; idempotent.
func (c *wsConn) close() {
	c.once.Do(func() {
		c.cancel()
		close(c.done)
		c.mu.Lock()
		c.closed = true
		subs := c.subs
		c.subs = make(map[string]*wsSub)
		c.mu.Unlock()
		for _, sub := range subs {
			if sub.close != nil {
				if err := sub.close(); err != nil {
					c.s.log.Debug("closing subscription", "err", err)
				}
			}
		}
		c.s.mu.Lock()
		delete(c.s.conns, c)
		c.s.mu.Unlock()
	})
}

// sendReply queues a reply, waiting for room.
func (c *wsConn) sendReply(resp *Response) {
	b, err := encodeResponse(resp)
	if err != nil {
		b, _ = json.Marshal(failure(resp.ID, rpcErr(CodeInternalError, "encoding reply: %s", err)))
	}
	select {
	case c.out <- b:
	case <-c.done:
	}
}

// queueEvent queues an event frame without blocking; with c.mu held. A full
// queue drops the socket.
func (c *wsConn) queueEvent(b []byte) {
	select {
	case c.out <- b:
	default:
		c.s.log.Debug("websocket too slow for its subscription events; dropping it")
		go c.close() // not here: the DWN's event emitter called us
	}
}

// handle answers one frame; nil when the answer has been sent already.
func (c *wsConn) handle(b []byte) *Response {
	req, err := ParseRequest(b)
	if err != nil {
		var e *Error
		errors.As(err, &e)
		return failure(newUUID(), e)
	}
	id := responseID(req)
	switch req.Method {
	case MethodProcessMessage, MethodSubscribeMessage:
		return c.process(req, id)
	case MethodSubscribeClose:
		return c.closeSubscription(req, id)
	}
	return failure(id, rpcErr(CodeMethodNotFound, "method %q not found", req.Method))
}

// process handles dwn.processMessage and rpc.subscribe.dwn.processMessage.
func (c *wsConn) process(req *Request, id json.RawMessage) *Response {
	params, e := parseProcessParams(req.Params, c.s.opts.MaxMessageSize)
	if e != nil {
		return failure(id, e)
	}
	iface, method, _ := descriptorOf(params.Message)
	if iface == "Records" && method == "Write" {
		// No way to send the data on a socket (dwn-server #108).
		return failure(id, rpcErr(CodeInvalidParams, "RecordsWrite is not supported via ws"))
	}
	if method == "Subscribe" {
		if req.Method != MethodSubscribeMessage || req.Subscription == nil || len(req.Subscription.ID) == 0 {
			return failure(id, rpcErr(CodeInvalidRequest, "subscribe methods must contain a subscriptionRequest context"))
		}
		return c.subscribe(req, id, params)
	}
	reply := c.s.p.ProcessMessage(c.ctx, params.Target, params.Message, dwn.ProcessOptions{})
	if reply == nil {
		return failure(id, rpcErr(CodeInternalError, "the DWN gave no reply"))
	}
	if reply.Data != nil {
		// As the reference: a socket has nowhere to put record data.
		_ = reply.Data.Close()
	}
	return replied(id, reply)
}

// subscribe opens a subscription and sends its reply, then its events.
func (c *wsConn) subscribe(req *Request, id json.RawMessage, params *ProcessParams) *Response {
	subID := req.Subscription.ID
	key := subKey(subID)
	sub := &wsSub{id: subID}
	c.mu.Lock()
	switch {
	case c.closed:
		c.mu.Unlock()
		return nil
	case c.subs[key] != nil:
		c.mu.Unlock()
		return failure(id, rpcErr(CodeInvalidParams, "the subscribe id: %s is in use by an active subscription", subID))
	case len(c.subs) >= c.s.opts.MaxSubscriptions:
		c.mu.Unlock()
		return failure(id, rpcErr(CodeBadRequest, "too many subscriptions on this socket (limit %d)", c.s.opts.MaxSubscriptions))
	}
	c.subs[key] = sub
	c.mu.Unlock()

	reply := c.s.p.ProcessMessage(c.ctx, params.Target, params.Message, dwn.ProcessOptions{
		Events: func(event json.RawMessage) { c.event(key, sub, event) },
	})
	if reply != nil && reply.Data != nil {
		_ = reply.Data.Close()
	}
	c.mu.Lock()
	ours := c.subs[key] == sub
	opened := reply != nil && reply.Subscription != nil && reply.Subscription.Close != nil
	if !opened || !ours {
		if ours {
			delete(c.subs, key)
		}
		c.mu.Unlock()
		if opened {
			_ = reply.Subscription.Close() // the socket closed meanwhile
			return nil
		}
		if reply == nil {
			return failure(id, rpcErr(CodeInternalError, "the DWN gave no reply"))
		}
		return replied(id, reply)
	}
	sub.close = reply.Subscription.Close
	c.mu.Unlock()

	c.sendReply(replied(id, reply))
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs[key] == sub {
		for _, b := range sub.pending {
			c.queueEvent(b)
		}
		sub.pending, sub.ready = nil, true
	}
	return nil
}

// event sends one subscription event as {"jsonrpc","id":<sub id>,"result":{"event"}}.
func (c *wsConn) event(key string, sub *wsSub, event json.RawMessage) {
	b, err := json.Marshal(success(sub.id, map[string]json.RawMessage{"event": event}))
	if err != nil {
		c.s.log.Debug("dropping an event that is not JSON", "err", err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.subs[key] != sub {
		return // closed
	}
	if !sub.ready {
		if len(sub.pending) >= outQueue {
			c.s.log.Debug("subscription events overflow before its reply; dropping the socket")
			go c.close()
			return
		}
		sub.pending = append(sub.pending, b)
		return
	}
	c.queueEvent(b)
}

// closeSubscription handles rpc.subscribe.close. Unlike the reference it
// answers when params is missing.
func (c *wsConn) closeSubscription(req *Request, id json.RawMessage) *Response {
	if req.Subscription == nil || len(req.Subscription.ID) == 0 {
		return failure(id, rpcErr(CodeInvalidRequest, "subscribe options do not exist"))
	}
	key := subKey(req.Subscription.ID)
	c.mu.Lock()
	sub := c.subs[key]
	if sub != nil && sub.close != nil {
		delete(c.subs, key)
	}
	c.mu.Unlock()
	if sub == nil || sub.close == nil {
		return failure(id, rpcErr(CodeInvalidParams, "subscription %s does not exist.", req.Subscription.ID))
	}
	if err := sub.close(); err != nil {
		return failure(id, rpcErr(CodeInternalError, "unknown subscription close error for %s: %s", req.Subscription.ID, err))
	}
	// status is a number here, as in the reference.
	return success(id, map[string]any{"reply": map[string]any{"status": 200, "detail": "Accepted"}})
}

// numConns counts the open WebSockets.
func (s *Server) numConns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
