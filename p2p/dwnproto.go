package p2p

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anya-org/anya/dwn"
	"github.com/anya-org/anya/dwn/server"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// DWN over libp2p, /anya/dwn/1.0.0.
//
// The same JSON-RPC requests as dwn-server's HTTP API (the dwn-request
// header), in length-prefixed frames (frame.go). One stream carries any
// number of requests, one after the other; the server reads requests until
// the client closes its side.
//
// Request:
//
//	frame  {"jsonrpc":"2.0","id":…,"method":"dwn.processMessage",
//	        "params":{"target":"did:…","message":{…}},"data":true}
//	frames record data, each 1..MaxDWNDataFrame bytes        (only with "data":true)
//	frame  empty: end of data                                (only with "data":true)
//
// Response:
//
//	frame  {"jsonrpc":"2.0","id":…,"result":{"reply":{…}},"data":true}
//	       or {"jsonrpc":"2.0","id":…,"error":{"code":…,"message":"…"}}
//	frames reply data (a RecordsRead), then an empty frame   (only with "data":true)
//
// "data" is our one extension of JSON-RPC: it says whether data frames
// follow, so an empty record is told apart from no data. A bad request gets
// a JSON-RPC error with dwn-server's codes and the stream goes on; a frame
// over its limit, or record data over MaxDataSize, resets the stream (the
// server logs the limit; the framing can no longer be trusted).

// DWNProtocol is the protocol ID of DWN over libp2p.
const DWNProtocol = protocol.ID("/anya/dwn/1.0.0")

// MaxDWNDataFrame bounds one frame of record data.
const MaxDWNDataFrame = 1 << 20

// MaxDWNResponseFrame bounds a response frame (a reply with its entries).
const MaxDWNResponseFrame = 16 << 20

// dwnEnvelopeOverhead is what a request frame may hold beyond the message.
const dwnEnvelopeOverhead = 64 << 10

const (
	defaultDWNTimeout = 30 * time.Second
	defaultDWNIdle    = 5 * time.Minute
)

// ErrDWNStream is wrapped by client errors that leave the stream unusable.
var ErrDWNStream = errors.New("p2p: dwn stream failed")

// DWNProtoOptions configures ServeDWN. Zero sizes take dwn.DefaultConfig's.
type DWNProtoOptions struct {
	// MaxMessageSize bounds a message's JSON (dwn.max_message_size).
	MaxMessageSize int64
	// MaxDataSize bounds one record's data (dwn.max_data_size).
	MaxDataSize int64
	// Auth, when set, requires the remote peer to prove a DID (see
	// DIDAuth): the server authenticates it on the first request of a
	// stream unless it already has. Requests from a peer that cannot get
	// -50401. The DID reaches the processor through RemoteDIDFromContext.
	Auth *DIDAuth
	// Timeout bounds every frame read or write once a request has begun
	// (default 30 s); IdleTimeout bounds the wait for the next request
	// (default 5 min).
	Timeout     time.Duration
	IdleTimeout time.Duration
	// Logger receives debug lines about bad peer input; nil discards them.
	Logger *slog.Logger
}

func (o *DWNProtoOptions) defaults() {
	def := dwn.DefaultConfig()
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = def.MaxMessageSize
	}
	if o.MaxDataSize <= 0 {
		o.MaxDataSize = def.MaxDataSize
	}
	if o.Timeout <= 0 {
		o.Timeout = defaultDWNTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = defaultDWNIdle
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

type remoteDIDKey struct{}

// RemoteDIDFromContext returns the DID the remote peer proved, in the
// context ServeDWN gives the processor when DWNProtoOptions.Auth is set.
func RemoteDIDFromContext(ctx context.Context) (string, bool) {
	d, ok := ctx.Value(remoteDIDKey{}).(string)
	return d, ok
}

// DWNRequest is a decoded request frame.
type DWNRequest struct {
	// ID is the request's id as raw JSON; nil when absent.
	ID      json.RawMessage
	Target  string
	Message json.RawMessage
	// Data says record data frames follow the request.
	Data bool
}

// dwnRequestWire is the request frame as the client writes it.
type dwnRequestWire struct {
	JSONRPC string               `json:"jsonrpc"`
	ID      json.RawMessage      `json:"id,omitempty"`
	Method  string               `json:"method"`
	Params  server.ProcessParams `json:"params"`
	Data    bool                 `json:"data,omitempty"`
}

// DecodeDWNRequest reads a request frame. The request is returned whenever
// its envelope parsed, even with an error, so that the server knows its id
// and whether data frames follow; a nil request means the frame is not a
// JSON-RPC object at all. Errors carry dwn-server's codes: -50400 for an
// unparseable request or a message over maxMessage, -32600 for a wrong
// jsonrpc version or a subscription, -32601 for an unknown method, -32602
// for bad params, -32603 for a message without a descriptor.
func DecodeDWNRequest(b []byte, maxMessage int64) (*DWNRequest, *server.Error) {
	req, err := server.ParseRequest(b)
	if err != nil {
		var e *server.Error
		if !errors.As(err, &e) {
			e = &server.Error{Code: server.CodeBadRequest, Message: err.Error()}
		}
		return nil, e
	}
	var ext struct {
		Data json.RawMessage `json:"data"`
	}
	_ = json.Unmarshal(b, &ext) // ParseRequest has parsed b as an object
	out := &DWNRequest{ID: req.ID}
	switch string(ext.Data) {
	case "", "false", "null":
	case "true":
		out.Data = true
	default:
		return nil, rpcError(server.CodeBadRequest, "data must be true or false, not %s", quote(string(ext.Data)))
	}
	switch {
	case req.JSONRPC != "2.0":
		return out, rpcError(server.CodeInvalidRequest, "jsonrpc must be \"2.0\", not %s", quote(req.JSONRPC))
	case strings.HasPrefix(req.Method, "rpc.subscribe."):
		return out, rpcError(server.CodeInvalidRequest, "subscriptions are not supported over %s", DWNProtocol)
	case req.Method != server.MethodProcessMessage:
		return out, rpcError(server.CodeMethodNotFound, "method %s not found", quote(req.Method))
	}
	var p server.ProcessParams
	if len(req.Params) > 0 {
		if err := json.Unmarshal(req.Params, &p); err != nil {
			return out, rpcError(server.CodeInvalidParams, "params: %v", err)
		}
	}
	method, e := dwnDescriptorMethod(p.Message)
	if e != nil {
		return out, e
	}
	switch {
	case maxMessage > 0 && int64(len(p.Message)) > maxMessage:
		return out, rpcError(server.CodeBadRequest, "message is %d bytes, over the %d-byte limit (dwn.max_message_size)", len(p.Message), maxMessage)
	case p.Target == "":
		return out, rpcError(server.CodeInvalidParams, "params.target is required: the DID of the tenant")
	case method == "Subscribe":
		return out, rpcError(server.CodeInvalidRequest, "subscriptions are not supported over %s", DWNProtocol)
	}
	out.Target, out.Message = p.Target, p.Message
	return out, nil
}

// dwnDescriptorMethod reads descriptor.method, with dwn-server's -32603
// for a missing message or descriptor.
func dwnDescriptorMethod(message json.RawMessage) (string, *server.Error) {
	if len(message) == 0 || bytes.Equal(message, []byte("null")) {
		return "", rpcError(server.CodeInternalError, "params.message is required")
	}
	var m struct {
		Descriptor *struct {
			Method string `json:"method"`
		} `json:"descriptor"`
	}
	if err := json.Unmarshal(message, &m); err != nil {
		return "", rpcError(server.CodeInternalError, "params.message is not a JSON object: %v", err)
	}
	if m.Descriptor == nil {
		return "", rpcError(server.CodeInternalError, "params.message has no descriptor")
	}
	return m.Descriptor.Method, nil
}

func rpcError(code int, format string, args ...any) *server.Error {
	return &server.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ServeDWN answers /anya/dwn/1.0.0 on h with p, behind h's stream limits
// (LimitStreams). Remove it with
// h.RemoveStreamHandler(DWNProtocol).
func ServeDWN(h host.Host, p dwn.Processor, opts DWNProtoOptions) {
	opts.defaults()
	s := &dwnServer{p: p, opts: opts, log: opts.Logger.With("subsys", "p2p-dwn")}
	h.SetStreamHandler(DWNProtocol, LimitStreams(h, DWNProtocol, s.handle))
}

type dwnServer struct {
	p    dwn.Processor
	opts DWNProtoOptions
	log  *slog.Logger
}

// errReset marks an error after which the stream is reset.
type errReset struct{ error }

func (e errReset) Unwrap() error { return e.error }

// errClose marks an error after which the stream is closed, so that the
// error response already written still reaches the client.
type errClose struct{ error }

func (e errClose) Unwrap() error { return e.error }

func (s *dwnServer) handle(st network.Stream) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	remote := st.Conn().RemotePeer()
	var authErr error
	authed := false
	for {
		_ = st.SetReadDeadline(time.Now().Add(s.opts.IdleTimeout))
		b, err := ReadFrame(st, int(s.opts.MaxMessageSize)+dwnEnvelopeOverhead)
		if err == io.EOF {
			_ = st.Close()
			return
		}
		if err != nil {
			s.log.Debug("bad request frame", "peer", remote, "err", err)
			_ = st.ResetWithError(network.StreamProtocolViolation)
			return
		}
		if s.opts.Auth != nil && !authed {
			var d string
			if d, authErr = s.authenticate(ctx, remote); authErr == nil {
				ctx = context.WithValue(ctx, remoteDIDKey{}, d)
				authed = true
			}
		}
		if err := s.serve(ctx, st, b, authErr); err != nil {
			s.log.Debug("dwn stream ended", "peer", remote, "err", err)
			var r errReset
			var c errClose
			switch {
			case errors.As(err, &c):
				_ = st.Close()
			case errors.As(err, &r):
				_ = st.ResetWithError(network.StreamProtocolViolation)
			default:
				_ = st.Reset()
			}
			return
		}
	}
}

func (s *dwnServer) authenticate(ctx context.Context, p peer.ID) (string, error) {
	if d, ok := s.opts.Auth.RemoteDID(p); ok {
		return d, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	return s.opts.Auth.Authenticate(ctx, p)
}

// serve answers one request whose frame is b. A returned error ends the
// stream.
func (s *dwnServer) serve(ctx context.Context, st network.Stream, b []byte, authErr error) error {
	req, e := DecodeDWNRequest(b, s.opts.MaxMessageSize)
	if req == nil {
		// Not a JSON-RPC object: whether data follows is unknown, so the
		// framing is lost after the answer.
		if err := s.writeResponse(st, errorResponse(nil, e), nil); err != nil {
			return err
		}
		return errClose{fmt.Errorf("unparseable request: %s", e.Message)}
	}
	data := &dataFrameReader{r: st, limit: s.opts.MaxDataSize, timeout: s.opts.Timeout, done: !req.Data}
	if e == nil && authErr != nil {
		e = rpcError(server.CodeUnauthorized, "the peer has not proved a DID: %v", authErr)
	}
	if e != nil {
		if err := data.drain(); err != nil {
			return err
		}
		return s.writeResponse(st, errorResponse(req.ID, e), nil)
	}
	var popts dwn.ProcessOptions
	if req.Data {
		popts.Data = data
	}
	reply := s.p.ProcessMessage(ctx, req.Target, req.Message, popts)
	if err := data.drain(); err != nil {
		if reply != nil && reply.Data != nil {
			_ = reply.Data.Close()
		}
		return err
	}
	if reply == nil {
		return s.writeResponse(st, errorResponse(req.ID, rpcError(server.CodeInternalError, "the DWN gave no reply")), nil)
	}
	if reply.Data != nil {
		defer reply.Data.Close()
	}
	head, err := replyResponse(req.ID, reply)
	if err != nil {
		return s.writeResponse(st, errorResponse(req.ID, rpcError(server.CodeInternalError, "encoding reply: %v", err)), nil)
	}
	if len(head) > MaxDWNResponseFrame {
		return s.writeResponse(st, errorResponse(req.ID, rpcError(server.CodeInternalError,
			"reply of %d bytes exceeds the %d-byte response frame limit", len(head), MaxDWNResponseFrame)), nil)
	}
	return s.writeResponse(st, head, reply.Data)
}

// writeResponse writes a response frame and, when data is set, the data
// frames and the empty end frame.
func (s *dwnServer) writeResponse(st network.Stream, head []byte, data io.Reader) error {
	_ = st.SetWriteDeadline(time.Now().Add(s.opts.Timeout))
	if err := WriteFrame(st, head); err != nil {
		return err
	}
	if data == nil {
		return nil
	}
	return writeDataFrames(st, data, s.opts.Timeout)
}

// writeDataFrames copies r to w as data frames and ends them with an empty
// frame, pushing the write deadline on for each frame.
func writeDataFrames(st network.Stream, r io.Reader, timeout time.Duration) error {
	buf := make([]byte, MaxDWNDataFrame)
	for {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			_ = st.SetWriteDeadline(time.Now().Add(timeout))
			if werr := WriteFrame(st, buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return fmt.Errorf("p2p: read record data: %w", err)
		}
	}
	_ = st.SetWriteDeadline(time.Now().Add(timeout))
	return WriteFrame(st, nil)
}

func errorResponse(id json.RawMessage, e *server.Error) []byte {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	b, _ := json.Marshal(server.Response{JSONRPC: "2.0", ID: id, Error: e}) // strings and ints only
	return b
}

// replyResponse encodes {"jsonrpc":"2.0","id":…,"result":{"reply":…}} and
// "data":true when reply data follows, copying stored messages as they are
// (dwn.Reply.AppendJSON).
func replyResponse(id json.RawMessage, reply *dwn.Reply) ([]byte, error) {
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	b := append([]byte(`{"jsonrpc":"2.0","id":`), id...)
	b = append(b, `,"result":{"reply":`...)
	b, err := reply.AppendJSON(b)
	if err != nil {
		return nil, err
	}
	b = append(b, '}')
	if reply.Data != nil {
		b = append(b, `,"data":true`...)
	}
	return append(b, '}'), nil
}

// dataFrameReader reads data frames up to the empty end frame as one
// stream, at most limit bytes in all (limit 0: no total limit).
type dataFrameReader struct {
	r       network.Stream
	limit   int64
	timeout time.Duration
	total   int64
	buf     []byte
	done    bool
	err     error
}

func (d *dataFrameReader) Read(p []byte) (int, error) {
	for len(d.buf) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		if d.done {
			return 0, io.EOF
		}
		_ = d.r.SetReadDeadline(time.Now().Add(d.timeout))
		b, err := ReadFrame(d.r, MaxDWNDataFrame)
		switch {
		case err == io.EOF:
			d.err = errReset{fmt.Errorf("p2p: dwn: stream ended inside record data: %w", io.ErrUnexpectedEOF)}
		case err != nil:
			d.err = errReset{fmt.Errorf("p2p: dwn: record data: %w", err)}
		case len(b) == 0:
			d.done = true
		case d.limit > 0 && d.total+int64(len(b)) > d.limit:
			d.err = errReset{fmt.Errorf("p2p: dwn: record data exceeds the %d-byte limit (dwn.max_data_size)", d.limit)}
		default:
			d.total += int64(len(b))
			d.buf = b
		}
	}
	n := copy(p, d.buf)
	d.buf = d.buf[n:]
	return n, nil
}

// drain reads what is left up to the end frame; an error means the stream
// must be reset.
func (d *dataFrameReader) drain() error {
	d.buf = nil
	for !d.done {
		if _, err := d.Read(nil); err != nil && err != io.EOF {
			return err
		}
		d.buf = nil
	}
	return nil
}

// DWNClient sends DWN requests to one peer over one stream, one at a time.
type DWNClient struct {
	st      network.Stream
	timeout time.Duration
	sem     chan struct{} // held from a request until its reply data is closed
	nextID  atomic.Int64
	broken  atomic.Pointer[error]
}

// DialDWN opens a /anya/dwn/1.0.0 stream to p.
func DialDWN(ctx context.Context, h host.Host, p peer.ID) (*DWNClient, error) {
	st, err := h.NewStream(ctx, p, DWNProtocol)
	if err != nil {
		return nil, fmt.Errorf("p2p: dwn: open stream to %s: %w", p, err)
	}
	return &DWNClient{st: st, timeout: defaultDWNTimeout, sem: make(chan struct{}, 1)}, nil
}

// Close ends the stream; the server sees end of stream and stops.
func (c *DWNClient) Close() error {
	c.fail(fmt.Errorf("%w: client closed", ErrDWNStream))
	return c.st.Close()
}

func (c *DWNClient) fail(err error) {
	c.broken.CompareAndSwap(nil, &err)
}

// Process sends message for tenant target, with data (nil for none) as its
// record data, and returns the reply. When the reply carries data (a
// RecordsRead), the returned reader (also reply.Data) yields it; the
// caller must close it, and the next Process on this client waits until
// then. A JSON-RPC error is returned as a *server.Error (errors.As); a
// transport error wraps ErrDWNStream and leaves the client unusable.
func (c *DWNClient) Process(ctx context.Context, target string, message json.RawMessage, data io.Reader) (*dwn.Reply, io.ReadCloser, error) {
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	release := true
	defer func() {
		if release {
			<-c.sem
		}
	}()
	if p := c.broken.Load(); p != nil {
		return nil, nil, *p
	}
	stop := context.AfterFunc(ctx, func() { _ = c.st.SetDeadline(time.Now()) })
	defer stop()
	bad := func(err error) (*dwn.Reply, io.ReadCloser, error) {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", err, ctx.Err())
		}
		err = fmt.Errorf("%w: %w", ErrDWNStream, err)
		c.fail(err)
		_ = c.st.Reset()
		return nil, nil, err
	}

	id := c.nextID.Add(1)
	req, err := json.Marshal(dwnRequestWire{JSONRPC: "2.0", ID: json.RawMessage(fmt.Sprint(id)), Method: server.MethodProcessMessage,
		Params: server.ProcessParams{Target: target, Message: message}, Data: data != nil})
	if err != nil {
		return nil, nil, fmt.Errorf("p2p: dwn: encode request: %w", err)
	}
	_ = c.st.SetWriteDeadline(c.deadline(ctx))
	if err := WriteFrame(c.st, req); err != nil {
		return bad(err)
	}
	if data != nil {
		if err := writeDataFrames(c.st, data, c.timeout); err != nil {
			return bad(fmt.Errorf("sending record data: %w", c.resetReason(err)))
		}
	}
	_ = c.st.SetReadDeadline(c.deadline(ctx))
	b, err := ReadFrame(c.st, MaxDWNResponseFrame)
	if err != nil {
		return bad(fmt.Errorf("reading response: %w", c.resetReason(err)))
	}
	var resp struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Result  *struct {
			Reply *dwn.Reply `json:"reply"`
		} `json:"result"`
		Error *server.Error `json:"error"`
		Data  bool          `json:"data"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return bad(fmt.Errorf("bad response: %v", err))
	}
	if resp.Error != nil {
		if resp.Data {
			return bad(errors.New("bad response: an error with data"))
		}
		return nil, nil, resp.Error
	}
	if string(resp.ID) != fmt.Sprint(id) {
		return bad(fmt.Errorf("response id %s does not match request id %d", quote(string(resp.ID)), id))
	}
	if resp.Result == nil || resp.Result.Reply == nil {
		return bad(errors.New("bad response: no result.reply"))
	}
	reply := resp.Result.Reply
	if !resp.Data {
		return reply, nil, nil
	}
	rd := &clientData{c: c, fr: &dataFrameReader{r: c.st, timeout: c.timeout}}
	reply.Data = rd
	release = false // rd.Close releases
	return reply, rd, nil
}

// resetReason explains a stream reset by the server.
func (c *DWNClient) resetReason(err error) error {
	var se *network.StreamError
	if errors.As(err, &se) && se.ErrorCode == network.StreamProtocolViolation {
		return fmt.Errorf("the server reset the stream: a frame or the record data exceeded its limit, or the framing was wrong: %w", err)
	}
	return err
}

func (c *DWNClient) deadline(ctx context.Context) time.Time {
	d := time.Now().Add(c.timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

// clientData is reply data read from the stream; Close drains what is left
// so the stream can carry the next request.
type clientData struct {
	c    *DWNClient
	fr   *dataFrameReader
	once sync.Once
	err  error
}

func (d *clientData) Read(p []byte) (int, error) {
	n, err := d.fr.Read(p)
	if err != nil && err != io.EOF {
		var r errReset
		if errors.As(err, &r) {
			err = r.error
		}
		err = fmt.Errorf("%w: reply data: %w", ErrDWNStream, err)
		d.c.fail(err)
	}
	return n, err
}

func (d *clientData) Close() error {
	d.once.Do(func() {
		if err := d.fr.drain(); err != nil {
			d.err = fmt.Errorf("%w: draining reply data: %w", ErrDWNStream, err)
			d.c.fail(d.err)
			_ = d.c.st.Reset()
		}
		<-d.c.sem
	})
	return d.err
}
