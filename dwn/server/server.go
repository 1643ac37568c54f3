package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/anya-org/anya/dwn"
)

// SDKVersion is the dwn-sdk-js version whose messages the node speaks; it is
// the sdkVersion of /info.
const SDKVersion = "0.5.2"

// headerSlack is what a dwn-request header needs besides its message: the
// JSON-RPC envelope and the request's other headers.
const headerSlack = 64 << 10

// ioIdle is how long a streamed body may stall before the connection is
// dropped; each read or write of record data pushes the deadline on.
const ioIdle = 60 * time.Second

// ErrDataTooLarge is what ProcessOptions.Data returns once a request's record
// data passes MaxDataSize.
var ErrDataTooLarge = errors.New("record data too large")

// Options configures a Server. Zero values take the defaults of
// dwn.DefaultConfig and dwn-server.
type Options struct {
	// MaxDataSize bounds one request's record data, in bytes; enforced while
	// it streams. Default 1 GiB.
	MaxDataSize int64
	// MaxMessageSize bounds one message's JSON, in bytes. Default 1 MiB.
	MaxMessageSize int64
	// Logger receives debug lines about bad requests and dropped sockets.
	Logger *slog.Logger
	// Version is the node's version, reported as /info's version.
	Version string
	// URL is the public base URL, reported as /info's url.
	URL string
	// Now gives the messageTimestamp of the anonymous messages the REST
	// routes build. Default time.Now.
	Now func() time.Time
	// MaxHeaderBytes is what the node's http.Server.MaxHeaderBytes should be
	// for dwn-request headers carrying MaxMessageSize messages; the Server
	// only reports it (see Server.MaxHeaderBytes). Default MaxMessageSize
	// plus 64 KiB.
	MaxHeaderBytes int
	// MaxSubscriptions bounds the open subscriptions of one WebSocket.
	// Default 100.
	MaxSubscriptions int
	// PingInterval is how often a WebSocket is pinged; one that has not
	// answered within two intervals is dropped. Default 30 s.
	PingInterval time.Duration
	// DisableWebSocket turns the WebSocket API off, as DS_WEBSOCKET_SERVER=off.
	DisableWebSocket bool
}

func (o *Options) setDefaults() {
	if o.MaxDataSize <= 0 {
		o.MaxDataSize = dwn.DefaultConfig().MaxDataSize
	}
	if o.MaxMessageSize <= 0 {
		o.MaxMessageSize = dwn.DefaultConfig().MaxMessageSize
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = int(o.MaxMessageSize) + headerSlack
	}
	if o.MaxSubscriptions <= 0 {
		o.MaxSubscriptions = 100
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 30 * time.Second
	}
}

// Server is dwn-server 0.6.1's API in front of a dwn.Processor: JSON-RPC on
// POST /, the WebSocket API on GET / (upgrade), a banner on plain GET /, and
// the anonymous REST read routes. It is an http.Handler.
type Server struct {
	p        dwn.Processor
	opts     Options
	log      *slog.Logger
	mux      *http.ServeMux
	upgrader websocket.Upgrader

	mu     sync.Mutex
	conns  map[*wsConn]struct{}
	closed bool
}

// New returns a Server that processes messages with p.
func New(p dwn.Processor, opts Options) *Server {
	opts.setDefaults()
	s := &Server{
		p:     p,
		opts:  opts,
		log:   opts.Logger,
		mux:   http.NewServeMux(),
		conns: make(map[*wsConn]struct{}),
	}
	s.upgrader = websocket.Upgrader{
		ReadBufferSize:  32 << 10,
		WriteBufferSize: 32 << 10,
		// Browsers' web5 apps connect from any origin, as with dwn-server's
		// ws server; the API takes no cookies, so this grants nothing.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	s.mux.HandleFunc("POST /{$}", s.handleRPC)
	s.mux.HandleFunc("GET /{$}", s.handleRoot)
	s.routes()
	return s
}

// ServeHTTP serves the API with dwn-server's CORS headers (the `cors`
// package's defaults plus exposedHeaders: dwn-response).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Expose-Headers", "dwn-response")
	if r.Method == http.MethodOptions {
		h.Set("Access-Control-Allow-Methods", "GET,HEAD,PUT,PATCH,POST,DELETE")
		h.Add("Vary", "Access-Control-Request-Headers")
		if req := r.Header.Get("Access-Control-Request-Headers"); req != "" {
			h.Set("Access-Control-Allow-Headers", req)
		}
		h.Set("Content-Length", "0")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// InfoFields are dwn-server's GET /info fields, for the node to merge into
// its own /info.
func (s *Server) InfoFields() map[string]any {
	return map[string]any{
		"server":                   "anya",
		"maxFileSize":              s.opts.MaxDataSize,
		"registrationRequirements": []string{},
		"version":                  s.opts.Version,
		"sdkVersion":               SDKVersion,
		"webSocketSupport":         !s.opts.DisableWebSocket,
		"url":                      s.opts.URL,
	}
}

// MaxHeaderBytes is the http.Server.MaxHeaderBytes the node needs so that a
// dwn-request header can carry a MaxMessageSize message.
func (s *Server) MaxHeaderBytes() int { return s.opts.MaxHeaderBytes }

// Close closes every WebSocket and, with it, its subscriptions; later
// upgrades are refused. http.Server.Shutdown does not see hijacked
// connections, so the node calls Close as well.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*wsConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	return nil
}

// handleRoot upgrades to the WebSocket API or gives the banner.
func (s *Server) handleRoot(w http.ResponseWriter, r *http.Request) {
	if websocket.IsWebSocketUpgrade(r) && !s.opts.DisableWebSocket {
		s.serveWS(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "please use a web5 client, for example: https://github.com/TBD54566975/web5-js ")
}

// handleRPC serves POST /: the JSON-RPC request in the dwn-request header,
// record data (if any) as the body.
//
// HTTP statuses: 200 when the message was processed, whatever the DWN code;
// 400 when dwn-request is missing or not a JSON-RPC object (-50400); 413
// when the message or the data is over its limit (-50400 naming the limit);
// 500 for every other JSON-RPC error, as the reference, including an
// unknown method (-32601), where the reference never answers.
func (s *Server) handleRPC(w http.ResponseWriter, r *http.Request) {
	header := r.Header.Get("dwn-request")
	if header == "" {
		writeRPC(w, http.StatusBadRequest, failure(newUUID(), rpcErr(CodeBadRequest, "request payload required.")))
		return
	}
	req, err := ParseRequest([]byte(header))
	if err != nil {
		s.log.Debug("bad dwn-request header", "err", err)
		var e *Error
		errors.As(err, &e)
		writeRPC(w, http.StatusBadRequest, failure(newUUID(), e))
		return
	}
	id := responseID(req)
	if req.Method != MethodProcessMessage {
		e := rpcErr(CodeMethodNotFound, "method %q not found", req.Method)
		if strings.HasPrefix(req.Method, subscribePrefix) {
			e = rpcErr(CodeInvalidRequest, "subscriptions are not supported via http")
		}
		writeRPC(w, http.StatusInternalServerError, failure(id, e))
		return
	}
	params, e := parseProcessParams(req.Params, s.opts.MaxMessageSize)
	if e != nil {
		writeRPC(w, statusOf(e), failure(id, e))
		return
	}
	if _, method, _ := descriptorOf(params.Message); method == "Subscribe" {
		writeRPC(w, http.StatusInternalServerError, failure(id,
			rpcErr(CodeInvalidRequest, "subscribe methods must contain a subscriptionRequest context")))
		return
	}

	var data *limitedReader
	var opts dwn.ProcessOptions
	if r.ContentLength > 0 || len(r.TransferEncoding) > 0 {
		if r.ContentLength > s.opts.MaxDataSize {
			writeRPC(w, http.StatusRequestEntityTooLarge, failure(id, errDataTooLarge(s.opts.MaxDataSize)))
			return
		}
		rc := http.NewResponseController(w)
		data = &limitedReader{r: r.Body, left: s.opts.MaxDataSize, limit: s.opts.MaxDataSize,
			onRead: func() { _ = rc.SetReadDeadline(time.Now().Add(ioIdle)) }}
		opts.Data = data
	}
	reply := s.p.ProcessMessage(r.Context(), params.Target, params.Message, opts)
	// The server's WriteTimeout started counting when the headers were read;
	// a long upload or a slow DWN must not use it up.
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(ioIdle))
	if data != nil && data.exceeded.Load() {
		if reply != nil && reply.Data != nil {
			_ = reply.Data.Close()
		}
		writeRPC(w, http.StatusRequestEntityTooLarge, failure(id, errDataTooLarge(s.opts.MaxDataSize)))
		return
	}
	if reply == nil {
		writeRPC(w, http.StatusInternalServerError, failure(id, rpcErr(CodeInternalError, "the DWN gave no reply")))
		return
	}
	resp := replied(id, reply)
	if reply.Data == nil {
		writeRPC(w, http.StatusOK, resp)
		return
	}
	defer reply.Data.Close()
	head, err := asciiJSON(resp)
	if err != nil {
		writeRPC(w, http.StatusInternalServerError, failure(id, rpcErr(CodeInternalError, "encoding reply: %s", err)))
		return
	}
	w.Header().Set("dwn-response", string(head))
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(http.StatusOK)
	s.stream(w, reply.Data)
}

// stream copies record data to w, pushing the write deadline on as it goes
// so that a large body is not cut by the server's WriteTimeout.
func (s *Server) stream(w http.ResponseWriter, data io.Reader) {
	rc := http.NewResponseController(w)
	buf := make([]byte, 64<<10)
	for {
		n, err := data.Read(buf)
		if n > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(ioIdle))
			if _, werr := w.Write(buf[:n]); werr != nil {
				s.log.Debug("writing record data", "err", werr)
				return
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			// The status line is gone: abort the response (net/http's own
			// mechanism, recovered by the server) so that the client sees a
			// broken body rather than a chunked body that ends cleanly.
			s.log.Debug("reading record data", "err", err)
			panic(http.ErrAbortHandler)
		}
	}
}

func statusOf(e *Error) int {
	if e.Code == CodeBadRequest {
		return http.StatusRequestEntityTooLarge // only size limits reach here
	}
	return http.StatusInternalServerError
}

func errDataTooLarge(limit int64) *Error {
	return rpcErr(CodeBadRequest, "record data is over the %d-byte limit (dwn.max_data_size)", limit)
}

func writeRPC(w http.ResponseWriter, code int, resp *Response) {
	b, err := encodeResponse(resp)
	if err != nil {
		http.Error(w, "encoding reply: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding reply: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}

// limitedReader passes at most limit bytes of r and fails with
// ErrDataTooLarge as soon as r holds more.
type limitedReader struct {
	r        io.Reader
	left     int64
	limit    int64
	exceeded atomic.Bool
	onRead   func()
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.exceeded.Load() {
		return 0, fmt.Errorf("%w: over %d bytes", ErrDataTooLarge, l.limit)
	}
	if l.onRead != nil {
		l.onRead()
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		l.exceeded.Store(true)
		return int(l.left), fmt.Errorf("%w: over %d bytes", ErrDataTooLarge, l.limit)
	}
	l.left -= int64(n)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		// A MaxBytesReader the node put in front is a data limit too.
		l.exceeded.Store(true)
		return n, fmt.Errorf("%w: over %d bytes", ErrDataTooLarge, mbe.Limit)
	}
	return n, err
}
