package did

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
)

// Resolver resolves a DID. Resolve never returns nil: failures are
// Resolutions with an error code (see Resolution.Err).
type Resolver interface {
	Resolve(ctx context.Context, did string) *Resolution
}

// DefaultCacheTTL is the resolution cache TTL when none is configured; the
// DWN reference caches resolutions for 15 minutes too.
const DefaultCacheTTL = 15 * time.Minute

// RegistryConfig configures a Registry.
type RegistryConfig struct {
	// Cache stores successful resolutions; nil disables caching. The node
	// passes a namespaced store; keys are "/<base64url(DID)>".
	Cache datastore.Datastore
	// TTL of a cached resolution; zero means DefaultCacheTTL.
	TTL time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// HTTPClient is used by the default did:web resolver; nil means a
	// client with WebTimeout.
	HTTPClient *http.Client
	// WebTimeout bounds a did:web fetch; zero means DefaultWebTimeout.
	WebTimeout time.Duration
	// Methods maps method names to resolvers; nil means DefaultMethods.
	Methods map[string]Resolver
	// Logger receives debug lines about cache failures; nil discards them.
	Logger *slog.Logger
}

// DefaultMethods returns the key, jwk and web resolvers.
func DefaultMethods(client *http.Client, webTimeout time.Duration) map[string]Resolver {
	return map[string]Resolver{
		"key": KeyResolver{},
		"jwk": JWKResolver{},
		"web": WebResolver{Client: client, Timeout: webTimeout},
	}
}

// Registry dispatches DIDs to method resolvers and caches successful
// resolutions with a TTL. Errors are never cached, and neither are the
// results of resolvers that compute documents from the DID alone (see
// Offline): recomputing a did:key is faster than reading it back, and a
// peer sending fresh did:keys must not be able to fill the datastore. It is safe for
// concurrent use.
type Registry struct {
	cache     datastore.Datastore
	ttl       time.Duration
	now       func() time.Time
	methods   map[string]Resolver
	supported string
	log       *slog.Logger
}

// NewRegistry returns a Registry for cfg.
func NewRegistry(cfg RegistryConfig) *Registry {
	r := &Registry{cache: cfg.Cache, ttl: cfg.TTL, now: cfg.Now, methods: cfg.Methods, log: cfg.Logger}
	if r.ttl <= 0 {
		r.ttl = DefaultCacheTTL
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.methods == nil {
		r.methods = DefaultMethods(cfg.HTTPClient, cfg.WebTimeout)
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	names := make([]string, 0, len(r.methods))
	for name := range r.methods {
		names = append(names, name)
	}
	slices.Sort(names)
	r.supported = strings.Join(names, ", ")
	return r
}

// cacheEntry is the stored form of a cached resolution.
type cacheEntry struct {
	Expires    int64       `json:"expires"` // Unix nanoseconds
	Resolution *Resolution `json:"resolution"`
}

func cacheKey(did string) datastore.Key {
	return datastore.RawKey("/" + base64.RawURLEncoding.EncodeToString([]byte(did)))
}

// Resolve resolves did through its method's resolver, or the cache. It
// never returns nil.
func (r *Registry) Resolve(ctx context.Context, did string) *Resolution {
	p, err := Parse(did)
	if err != nil {
		return failureFrom(err)
	}
	m, ok := r.methods[p.Method]
	if !ok {
		return Failure(CodeMethodNotSupported, "method %s is not supported (supported: %s)", quote(p.Method), r.supported)
	}
	o, offline := m.(Offline)
	cache := !offline || !o.Offline()
	if cache {
		if res := r.cached(ctx, did); res != nil {
			return res
		}
	}
	res := m.Resolve(ctx, did)
	switch {
	case res == nil:
		return Failure(CodeInternalError, "did:%s resolver returned nothing for %s", p.Method, quote(did))
	case res.Err() != nil:
		if res.Context == "" {
			res.Context = ResolutionContext
		}
		return res
	case res.Document.ID != did:
		return Failure(CodeInternalError, "did:%s resolver returned a document with id %s for %s", p.Method, quote(res.Document.ID), quote(did))
	}
	if cache {
		r.store(ctx, did, res)
	}
	return res
}

// Offline is implemented by resolvers that derive the document from the DID
// alone, with no I/O; the Registry does not cache their results.
type Offline interface {
	Offline() bool
}

// cached returns an unexpired cached resolution of did, or nil.
func (r *Registry) cached(ctx context.Context, did string) *Resolution {
	if r.cache == nil {
		return nil
	}
	key := cacheKey(did)
	b, err := r.cache.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, datastore.ErrNotFound) {
			r.log.Debug("did cache read failed", "did", did, "err", err)
		}
		return nil
	}
	var e cacheEntry
	if err := json.Unmarshal(b, &e); err != nil || e.Resolution == nil || e.Resolution.Err() != nil {
		r.log.Debug("did cache entry unreadable, dropping it", "did", did, "err", err)
		r.drop(ctx, key)
		return nil
	}
	if r.now().UnixNano() >= e.Expires {
		r.drop(ctx, key)
		return nil
	}
	return e.Resolution
}

func (r *Registry) store(ctx context.Context, did string, res *Resolution) {
	if r.cache == nil {
		return
	}
	b, err := json.Marshal(cacheEntry{Expires: r.now().Add(r.ttl).UnixNano(), Resolution: res})
	if err == nil {
		err = r.cache.Put(ctx, cacheKey(did), b)
	}
	if err != nil {
		r.log.Debug("did cache write failed", "did", did, "err", err)
	}
}

func (r *Registry) drop(ctx context.Context, key datastore.Key) {
	if err := r.cache.Delete(ctx, key); err != nil {
		r.log.Debug("did cache delete failed", "key", key.String(), "err", err)
	}
}

// Prune deletes expired cache entries and reports how many it deleted. An
// entry is otherwise only dropped when its DID is resolved again, so the
// node should call Prune periodically (for example once per TTL).
func (r *Registry) Prune(ctx context.Context) (int, error) {
	if r.cache == nil {
		return 0, nil
	}
	res, err := r.cache.Query(ctx, query.Query{})
	if err != nil {
		return 0, fmt.Errorf("did: prune cache: %w", err)
	}
	defer res.Close()
	now := r.now().UnixNano()
	var expired []datastore.Key
	for e := range res.Next() {
		if e.Error != nil {
			return 0, fmt.Errorf("did: prune cache: %w", e.Error)
		}
		var ce cacheEntry
		if json.Unmarshal(e.Value, &ce) != nil || now >= ce.Expires {
			expired = append(expired, datastore.NewKey(e.Key))
		}
	}
	for i, k := range expired {
		if err := r.cache.Delete(ctx, k); err != nil {
			return i, fmt.Errorf("did: prune cache: %w", err)
		}
	}
	return len(expired), nil
}

// String names the registry's methods, for logs.
func (r *Registry) String() string {
	return fmt.Sprintf("did.Registry{methods: %s, ttl: %v}", r.supported, r.ttl)
}
