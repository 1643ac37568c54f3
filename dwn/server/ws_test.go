package server

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/anya-org/anya/dwn"
)

const tenant = "did:key:z6MkTenant"

// wsClient is a test's WebSocket to the server.
type wsClient struct {
	t *testing.T
	c *websocket.Conn
}

func dial(t *testing.T, ts *httptest.Server) *wsClient {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	t.Cleanup(func() { c.Close() })
	return &wsClient{t: t, c: c}
}

func (w *wsClient) send(v any) {
	w.t.Helper()
	var b []byte
	switch v := v.(type) {
	case string:
		b = []byte(v)
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			w.t.Fatal(err)
		}
	}
	if err := w.c.WriteMessage(websocket.TextMessage, b); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsClient) recv() rpcResult {
	w.t.Helper()
	_ = w.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := w.c.ReadMessage()
	if err != nil {
		w.t.Fatal(err)
	}
	return decodeRPC(w.t, b)
}

func (w *wsClient) call(v any) rpcResult {
	w.t.Helper()
	w.send(v)
	return w.recv()
}

func process(id any, message json.RawMessage) map[string]any {
	return map[string]any{"jsonrpc": "2.0", "id": id, "method": MethodProcessMessage,
		"params": map[string]any{"target": tenant, "message": message}}
}

func subscribeReq(id, subID any, message json.RawMessage) map[string]any {
	return map[string]any{"jsonrpc": "2.0", "id": id, "method": MethodSubscribeMessage,
		"params": map[string]any{"target": tenant, "message": message}, "subscription": map[string]any{"id": subID}}
}

func closeReq(id, subID any) map[string]any {
	return map[string]any{"jsonrpc": "2.0", "id": id, "method": MethodSubscribeClose,
		"params": map[string]any{}, "subscription": map[string]any{"id": subID}}
}

func wantErr(t *testing.T, r rpcResult, id string, code int, contains string) {
	t.Helper()
	if r.Error == nil || r.Error.Code != code {
		t.Fatalf("got %+v / %+v, want error %d", r.Error, r.Result, code)
	}
	if id != "" && string(r.ID) != id {
		t.Fatalf("id %s, want %s", r.ID, id)
	}
	mustContain(t, r.Error.Message, contains)
}

func TestWSProcessMessage(t *testing.T) {
	body := &trackedBody{Reader: strings.NewReader("data")}
	p := &recordingProcessor{script: func(c *call) *dwn.Reply {
		if c.Method == "Read" {
			return &dwn.Reply{Status: dwn.Status{Code: 200, Detail: "OK"}, Entry: json.RawMessage(`{"recordsWrite":{}}`), Data: body}
		}
		return nil
	}}
	_, ts := newTestServer(t, p, Options{})
	ws := dial(t, ts)

	r := ws.call(process("q1", msg("Records", "Query")))
	if r.Error != nil || string(r.ID) != `"q1"` || string(r.Result.Reply) != `{"status":{"code":202,"detail":"Accepted"}}` {
		t.Fatalf("process: %+v", r)
	}
	if c := p.Calls()[0]; c.Tenant != tenant || c.HadData || c.Events != nil {
		t.Fatalf("processor saw %+v", c)
	}
	r = ws.call(process("rd", msg("Records", "Read")))
	if r.Error != nil || !strings.Contains(string(r.Result.Reply), `"entry":{"recordsWrite":{}}`) {
		t.Fatalf("read: %+v", r)
	}
	waitFor(t, "read data closed", body.closed.Load)

	wantErr(t, ws.call(process("w1", msg("Records", "Write"))), `"w1"`, CodeInvalidParams, "RecordsWrite is not supported via ws")
	wantErr(t, ws.call(map[string]any{"jsonrpc": "2.0", "id": 3, "method": "dwn.nope", "params": map[string]any{}}), "3", CodeMethodNotFound, "dwn.nope")
	wantErr(t, ws.call("{not json"), "", CodeBadRequest, "invalid character")
	wantErr(t, ws.call(""), "", CodeBadRequest, "request payload required.")
	wantErr(t, ws.call(process("s0", msg("Records", "Subscribe"))), `"s0"`, CodeInvalidRequest, "subscriptionRequest")
	wantErr(t, ws.call(map[string]any{"jsonrpc": "2.0", "id": "s1", "method": MethodSubscribeMessage,
		"params": map[string]any{"target": tenant, "message": msg("Records", "Subscribe")}}), `"s1"`, CodeInvalidRequest, "subscriptionRequest")
	wantErr(t, ws.call(map[string]any{"jsonrpc": "2.0", "id": "m", "method": MethodProcessMessage, "params": map[string]any{"target": tenant}}),
		`"m"`, CodeInternalError, "params.message")
	if n := len(p.Calls()); n != 2 {
		t.Fatalf("processor called %d times, want 2", n)
	}
}

func TestWSSubscription(t *testing.T) {
	// The double emits one event before it even replies: it must reach the
	// client after the reply.
	p := &recordingProcessor{}
	p.script = func(c *call) *dwn.Reply {
		if c.Method != "Subscribe" {
			return nil
		}
		r := p.openSub(c, "bafysubscribecid")
		c.Events(json.RawMessage(`{"message":{"n":0}}`))
		return r
	}
	_, ts := newTestServer(t, p, Options{})
	ws := dial(t, ts)

	r := ws.call(subscribeReq("req-1", "sub-1", msg("Records", "Subscribe")))
	if r.Error != nil || string(r.ID) != `"req-1"` {
		t.Fatalf("subscribe: %+v", r)
	}
	var reply struct {
		Status       dwn.Status `json:"status"`
		Subscription struct{ ID string }
	}
	if err := json.Unmarshal(r.Result.Reply, &reply); err != nil || reply.Subscription.ID != "bafysubscribecid" || reply.Status.Code != 200 {
		t.Fatalf("subscribe reply %s", r.Result.Reply)
	}
	if c := p.Calls()[0]; c.Events == nil {
		t.Fatal("the processor got no Events callback")
	}
	sub := p.Subs()[0]
	for i := 1; i <= 3; i++ {
		go sub.events(json.RawMessage(`{"message":{"n":` + string(rune('0'+i)) + `}}`))
	}
	seen := map[string]bool{}
	for i := 0; i <= 3; i++ {
		ev := ws.recv()
		if string(ev.ID) != `"sub-1"` || ev.Result == nil || ev.Result.Event == nil {
			t.Fatalf("event frame %+v", ev)
		}
		seen[string(ev.Result.Event)] = true
	}
	if len(seen) != 4 || !seen[`{"message":{"n":0}}`] {
		t.Fatalf("events %v", seen)
	}

	wantErr(t, ws.call(subscribeReq("req-2", "sub-1", msg("Records", "Subscribe"))), `"req-2"`, CodeInvalidParams, "in use")
	if len(p.Calls()) != 1 {
		t.Fatal("a reused subscription id reached the processor")
	}
	wantErr(t, ws.call(map[string]any{"jsonrpc": "2.0", "id": "c0", "method": MethodSubscribeClose, "params": map[string]any{}}),
		`"c0"`, CodeInvalidRequest, "subscribe options do not exist")
	wantErr(t, ws.call(closeReq("c1", "sub-404")), `"c1"`, CodeInvalidParams, "does not exist")

	r = ws.call(closeReq("c2", "sub-1"))
	if r.Error != nil || string(r.ID) != `"c2"` || string(r.Result.Reply) != `{"detail":"Accepted","status":200}` {
		t.Fatalf("close: %+v %s", r.Error, r.Result.Reply)
	}
	if !sub.closed.Load() {
		t.Fatal("subscription not closed")
	}
	sub.events(json.RawMessage(`{"message":"late"}`)) // dropped: closed
	wantErr(t, ws.call(closeReq("c3", "sub-1")), `"c3"`, CodeInvalidParams, "does not exist")

	// The id is free again; and a close without params is answered.
	r = ws.call(subscribeReq("req-3", "sub-1", msg("Messages", "Subscribe")))
	if r.Error != nil {
		t.Fatalf("resubscribe: %+v", r.Error)
	}
	ws.recv() // its early event
	r = ws.call(map[string]any{"jsonrpc": "2.0", "id": "c4", "method": MethodSubscribeClose, "subscription": map[string]any{"id": "sub-1"}})
	if r.Error != nil || string(r.ID) != `"c4"` {
		t.Fatalf("close without params: %+v", r)
	}
	if !p.Subs()[1].closed.Load() {
		t.Fatal("second subscription not closed")
	}
}

func TestWSSocketCloseClosesSubscriptions(t *testing.T) {
	p := &recordingProcessor{}
	s, ts := newTestServer(t, p, Options{})
	ws := dial(t, ts)
	for _, id := range []any{"a", 2} {
		if r := ws.call(subscribeReq("r", id, msg("Records", "Subscribe"))); r.Error != nil {
			t.Fatal(r.Error)
		}
	}
	// "2" and 2 are different ids, as in a JS Map.
	if r := ws.call(subscribeReq("r", "2", msg("Records", "Subscribe"))); r.Error != nil {
		t.Fatal(r.Error)
	}
	ws.c.Close()
	waitFor(t, "subscriptions closed with the socket", func() bool {
		for _, sub := range p.Subs() {
			if !sub.closed.Load() {
				return false
			}
		}
		return len(p.Subs()) == 3
	})
	waitFor(t, "socket forgotten", func() bool { return s.numConns() == 0 })
}

func TestWSMaxSubscriptions(t *testing.T) {
	p := &recordingProcessor{}
	_, ts := newTestServer(t, p, Options{MaxSubscriptions: 2})
	ws := dial(t, ts)
	for _, id := range []string{"a", "b"} {
		if r := ws.call(subscribeReq("r", id, msg("Records", "Subscribe"))); r.Error != nil {
			t.Fatal(r.Error)
		}
	}
	wantErr(t, ws.call(subscribeReq("r", "c", msg("Records", "Subscribe"))), `"r"`, CodeBadRequest, "limit 2")
	if r := ws.call(closeReq("x", "a")); r.Error != nil {
		t.Fatal(r.Error)
	}
	if r := ws.call(subscribeReq("r", "c", msg("Records", "Subscribe"))); r.Error != nil {
		t.Fatal(r.Error)
	}
}

func TestWSFailedSubscribeFreesID(t *testing.T) {
	p := &recordingProcessor{script: func(c *call) *dwn.Reply {
		return &dwn.Reply{Status: dwn.Status{Code: 401, Detail: "GeneralJwsVerifierInvalidSignature: bad"}}
	}}
	_, ts := newTestServer(t, p, Options{})
	ws := dial(t, ts)
	for i := 0; i < 2; i++ {
		r := ws.call(subscribeReq("r", "s", msg("Records", "Subscribe")))
		if r.Error != nil || !strings.Contains(string(r.Result.Reply), `"code":401`) {
			t.Fatalf("attempt %d: %+v", i, r)
		}
	}
}

func TestWSDropsSocketThatMissesPongs(t *testing.T) {
	p := &recordingProcessor{}
	s, ts := newTestServer(t, p, Options{PingInterval: 20 * time.Millisecond})
	ws := dial(t, ts)
	if r := ws.call(subscribeReq("r", "s", msg("Records", "Subscribe"))); r.Error != nil {
		t.Fatal(r.Error)
	}
	// A client that reads answers pings; this one stops reading, so it
	// never sees them.
	waitFor(t, "unresponsive socket dropped", func() bool { return s.numConns() == 0 })
	waitFor(t, "its subscription closed", p.Subs()[0].closed.Load)
}

func TestWSKeepsSocketThatAnswersPings(t *testing.T) {
	p := &recordingProcessor{}
	s, ts := newTestServer(t, p, Options{PingInterval: 100 * time.Millisecond})
	ws := dial(t, ts)
	pings := make(chan struct{}, 100)
	ws.c.SetPingHandler(func(data string) error {
		pings <- struct{}{}
		return ws.c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	go func() {
		for {
			if _, _, err := ws.c.ReadMessage(); err != nil {
				return
			}
		}
	}()
	for i := 0; i < 6; i++ { // six intervals: three pong deadlines
		select {
		case <-pings:
		case <-time.After(5 * time.Second):
			t.Fatal("no ping")
		}
	}
	if s.numConns() != 1 {
		t.Fatal("a socket that answers pings was dropped")
	}
}

func TestWSMessageSizeBound(t *testing.T) {
	_, ts := newTestServer(t, &recordingProcessor{}, Options{MaxMessageSize: 1024})
	ws := dial(t, ts)
	r := ws.call(process("big", json.RawMessage(`{"descriptor":{"interface":"Records","method":"Query","pad":"`+strings.Repeat("p", 2048)+`"}}`)))
	wantErr(t, r, `"big"`, CodeBadRequest, "1024-byte limit")
	// A frame past the message limit plus envelope slack ends the socket.
	ws.send(strings.Repeat(" ", 1024+headerSlack+1))
	_ = ws.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := ws.c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("read after an oversized frame: %v", err)
	}
}

func TestServerCloseEndsSockets(t *testing.T) {
	p := &recordingProcessor{}
	s, ts := newTestServer(t, p, Options{})
	ws := dial(t, ts)
	if r := ws.call(subscribeReq("r", "s", msg("Records", "Subscribe"))); r.Error != nil {
		t.Fatal(r.Error)
	}
	_ = s.Close()
	_ = ws.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := ws.c.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Fatalf("read after Close: %v", err)
	}
	if !p.Subs()[0].closed.Load() {
		t.Fatal("subscription open after Close")
	}
	if _, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/", nil); err == nil {
		t.Fatal("upgrade accepted after Close")
	}
}
