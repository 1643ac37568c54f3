package node

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/anya-org/anya/p2p"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// apiServer is the HTTP API: open health, info and metrics, and an admin
// surface under /api/v0/ behind a bearer token.
type apiServer struct {
	node  *Node
	token string
	addr  string
	srv   *http.Server
	log   *slog.Logger
}

// Info is the body of GET /info.
type Info struct {
	DID     string   `json:"did"`
	PeerID  string   `json:"peerId"`
	Addrs   []string `json:"addrs"`
	Version string   `json:"version"`
}

// Status is the body of GET /api/v0/status.
type Status struct {
	Info
	UptimeSeconds float64 `json:"uptimeSeconds"`
	Peers         int     `json:"peers"`
	DataDir       string  `json:"dataDir"`
}

func startAPI(n *Node, token string) (*apiServer, error) {
	ln, err := net.Listen("tcp", n.cfg.API.Addr)
	if err != nil {
		return nil, &ConfigError{Key: "api.addr", Err: err}
	}
	a := &apiServer{node: n, token: token, addr: ln.Addr().String(), log: n.log.With("subsys", "api")}
	reg := newMetrics(n)
	mux := http.NewServeMux()
	handle := func(pattern string, admin bool, h http.HandlerFunc) {
		if admin {
			h = a.requireToken(h)
		}
		mux.Handle(pattern, reg.instrument(pattern, a.limitBody(h)))
	}
	handle("GET /health", false, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	handle("GET /info", false, func(w http.ResponseWriter, r *http.Request) {
		// dwn-server's /info fields, then the node's (its version wins).
		fields := n.dwnServer.InfoFields()
		info := n.info()
		fields["did"], fields["peerId"], fields["addrs"], fields["version"] = info.DID, info.PeerID, info.Addrs, info.Version
		writeJSON(w, http.StatusOK, fields)
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg.registry, promhttp.HandlerOpts{Registry: reg.registry}))
	handle("GET /api/v0/status", true, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, Status{
			Info:          n.info(),
			UptimeSeconds: time.Since(n.started).Seconds(),
			Peers:         len(n.host.Network().Peers()),
			DataDir:       n.dataDir,
		})
	})
	handle("GET /api/v0/keys", true, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"keys": keyViews(n.keys.List())})
	})
	handle("POST /api/v0/did/create", true, func(w http.ResponseWriter, r *http.Request) {
		var req CreateDIDRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeError(w, http.StatusBadRequest, "request body is not a JSON object {method, curve}: "+err.Error())
			return
		}
		created, err := CreateDID(n.keys, req)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, created)
	})
	handle("GET /api/v0/did/resolve", true, func(w http.ResponseWriter, r *http.Request) {
		res := n.resolver.Resolve(r.Context(), r.URL.Query().Get("did"))
		writeJSON(w, http.StatusOK, res)
	})
	// Everything else is the DWN, as dwn-server serves it: POST / with the
	// dwn-request header, the WebSocket on GET /, and the REST routes. It
	// bounds record data itself while streaming, so no body limit here.
	handle("GET /api/v0/find", true, func(w http.ResponseWriter, r *http.Request) {
		id := r.URL.Query().Get("did")
		if id == "" {
			writeError(w, http.StatusBadRequest, "find needs ?did=<DID>")
			return
		}
		found, err := n.Find(r.Context(), id)
		switch {
		case errors.Is(err, p2p.ErrRecordNotFound):
			writeError(w, http.StatusNotFound, err.Error())
		case err != nil:
			writeError(w, http.StatusBadGateway, err.Error())
		default:
			writeJSON(w, http.StatusOK, found)
		}
	})
	n.dwnAdminRoutes(handle)
	mux.Handle("/", reg.instrument("dwn", n.dwnServer))
	a.srv = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    n.dwnServer.MaxHeaderBytes(), // dwn-request headers carry whole messages
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelDebug),
	}
	go func() {
		if err := a.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("API server stopped", "err", err)
		}
	}()
	return a, nil
}

func (n *Node) info() Info {
	return Info{DID: n.did, PeerID: n.host.ID().String(), Addrs: n.host.FullAddrs(), Version: Version}
}

func (a *apiServer) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return a.srv.Shutdown(ctx)
}

// requireToken admits a request only with "Authorization: Bearer <token>".
func (a *apiServer) requireToken(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(a.token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="anya admin"`)
			writeError(w, http.StatusUnauthorized, "admin calls need the bearer token from "+TokenPath(a.node.dataDir))
			return
		}
		next(w, r)
	}
}

func (a *apiServer) limitBody(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, a.node.cfg.API.MaxBodyBytes)
		next(w, r)
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// metrics is the node's Prometheus registry (not the global one).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newMetrics(n *Node) *metrics {
	reg := prometheus.NewRegistry()
	m := &metrics{
		registry: reg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "anya_api_requests_total", Help: "HTTP API requests by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "anya_api_request_duration_seconds", Help: "HTTP API request latency by route.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 8),
		}, []string{"route"}),
	}
	buildInfo := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "anya_build_info", Help: "Always 1; labels carry the version.",
	}, []string{"version"})
	buildInfo.WithLabelValues(Version).Set(1)
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests, m.duration, buildInfo,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "anya_p2p_peers", Help: "Peers the libp2p host is connected to.",
		}, func() float64 { return float64(len(n.host.Network().Peers())) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "anya_uptime_seconds", Help: "Seconds since the node started.",
		}, func() float64 { return time.Since(n.started).Seconds() }),
	)
	return m
}

// instrument counts a route's requests and times them.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	return promhttp.InstrumentHandlerDuration(m.duration.MustCurryWith(prometheus.Labels{"route": route}),
		promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(prometheus.Labels{"route": route}), h))
}
