package did_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/anya-org/anya/did"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
)

// countingResolver counts calls and answers from a fixed function.
type countingResolver struct {
	calls atomic.Int32
	fn    func(id string) *did.Resolution
}

func (c *countingResolver) Resolve(_ context.Context, id string) *did.Resolution {
	c.calls.Add(1)
	return c.fn(id)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestRegistryCacheTTL(t *testing.T) {
	ds := dssync.MutexWrap(datastore.NewMapDatastore())
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	key := &countingResolver{fn: func(id string) *did.Resolution { return did.KeyResolver{}.Resolve(ctx, id) }}
	cfg := did.RegistryConfig{Cache: ds, TTL: time.Minute, Now: clk.Now, Methods: map[string]did.Resolver{"key": key}}
	reg := did.NewRegistry(cfg)
	id := "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"

	first := mustResolve(t, reg, id)
	second := mustResolve(t, reg, id)
	if n := key.calls.Load(); n != 1 {
		t.Fatalf("resolver called %d times, want 1 (cache hit)", n)
	}
	if a, b := asJSON(t, first), asJSON(t, second); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("cached result differs:\n%v\n%v", a, b)
	}

	// A new Registry on the same datastore sees the entry.
	reg2 := did.NewRegistry(cfg)
	mustResolve(t, reg2, id)
	if n := key.calls.Load(); n != 1 {
		t.Fatalf("after new Registry: resolver called %d times, want 1", n)
	}

	// Just before expiry: still cached. At expiry: resolved again.
	clk.Add(time.Minute - time.Nanosecond)
	mustResolve(t, reg, id)
	if n := key.calls.Load(); n != 1 {
		t.Fatalf("before expiry: %d calls", n)
	}
	clk.Add(time.Nanosecond)
	mustResolve(t, reg, id)
	if n := key.calls.Load(); n != 2 {
		t.Fatalf("after expiry: %d calls, want 2", n)
	}
	mustResolve(t, reg, id)
	if n := key.calls.Load(); n != 2 {
		t.Fatalf("re-cached: %d calls, want 2", n)
	}

	// Errors are never cached.
	bad := "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWq"
	for range 3 {
		if reg.Resolve(ctx, bad).Err() == nil {
			t.Fatal("bad DID resolved")
		}
	}
	if n := key.calls.Load(); n != 5 {
		t.Fatalf("error path: %d calls, want 5", n)
	}
	res, err := ds.Query(ctx, queryAll)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := res.Rest()
	if len(entries) != 1 {
		t.Errorf("datastore holds %d entries, want 1", len(entries))
	}

	// Prune deletes only expired entries.
	if n, err := reg.Prune(ctx); n != 0 || err != nil {
		t.Errorf("Prune before expiry = %d, %v", n, err)
	}
	clk.Add(time.Minute)
	if n, err := reg.Prune(ctx); n != 1 || err != nil {
		t.Errorf("Prune after expiry = %d, %v", n, err)
	}
}

func TestRegistryNotFoundNotCached(t *testing.T) {
	var base string
	var hits atomic.Int32
	base, client := webServer(t, func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			http.NotFound(w, r)
			return
		}
		fmt.Fprint(w, webDoc(base))
	})
	reg := did.NewRegistry(did.RegistryConfig{Cache: dssync.MutexWrap(datastore.NewMapDatastore()), HTTPClient: client})
	if err := reg.Resolve(ctx, base).Err(); err == nil || !strings.Contains(err.Error(), "notFound") {
		t.Fatalf("first: %v", err)
	}
	mustResolve(t, reg, base)
	mustResolve(t, reg, base)
	if n := hits.Load(); n != 2 {
		t.Errorf("server hit %d times, want 2", n)
	}
}

func TestRegistryCorruptCacheEntry(t *testing.T) {
	ds := dssync.MutexWrap(datastore.NewMapDatastore())
	reg := did.NewRegistry(did.RegistryConfig{Cache: ds})
	id := "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	mustResolve(t, reg, id)
	res, _ := ds.Query(ctx, queryAll)
	entries, _ := res.Rest()
	for _, e := range entries {
		ds.Put(ctx, datastore.NewKey(e.Key), []byte("{not json"))
	}
	mustResolve(t, reg, id)
}

func TestRegistryMisbehavingMethod(t *testing.T) {
	reg := did.NewRegistry(did.RegistryConfig{Methods: map[string]did.Resolver{
		"nil":   &countingResolver{fn: func(string) *did.Resolution { return nil }},
		"wrong": &countingResolver{fn: func(string) *did.Resolution { return did.Success(&did.Document{ID: "did:other:x"}) }},
	}})
	for _, id := range []string{"did:nil:x", "did:wrong:x"} {
		res := reg.Resolve(ctx, id)
		b, _ := json.Marshal(res)
		if res.ResolutionMetadata.Error != did.CodeInternalError {
			t.Errorf("%s: %s", id, b)
		}
	}
}

func TestRegistryConcurrent(t *testing.T) {
	reg := did.NewRegistry(did.RegistryConfig{Cache: dssync.MutexWrap(datastore.NewMapDatastore())})
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				id := "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
				if (i+j)%2 == 0 {
					id = "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme"
				}
				if err := reg.Resolve(ctx, id).Err(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

// did:key and did:jwk are computed, never cached: a peer sending fresh DIDs
// must not be able to fill the datastore.
func TestRegistryDoesNotCacheOfflineMethods(t *testing.T) {
	ds := dssync.MutexWrap(datastore.NewMapDatastore())
	reg := did.NewRegistry(did.RegistryConfig{Cache: ds})
	mustResolve(t, reg, "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp")
	res, err := ds.Query(ctx, queryAll)
	if err != nil {
		t.Fatal(err)
	}
	if entries, _ := res.Rest(); len(entries) != 0 {
		t.Fatalf("did:key resolution was cached: %d entries", len(entries))
	}
}
