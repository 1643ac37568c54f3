package p2p

import (
	"context"
	"testing"
	"time"
)

// TestRunBench runs every measurement with tiny sizes.
func TestRunBench(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := RunBench(ctx, BenchOptions{Bytes: 1 << 20, WriteSize: 64 << 10, Echoes: 50, DHTNodes: 4, Lookups: 8})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Throughput) != 3 || len(res.RoundTrip) != 3 {
		t.Fatalf("got %d throughputs and %d round trips, want 3 each", len(res.Throughput), len(res.RoundTrip))
	}
	for _, r := range res.Throughput {
		if r.Bytes != 1<<20 || r.MiBps <= 0 || r.VsRaw <= 0 {
			t.Errorf("throughput %+v", r)
		}
	}
	for _, r := range res.RoundTrip {
		if r.Count != 50 || r.P50Ms <= 0 || r.P99Ms < r.P50Ms {
			t.Errorf("round trip %+v", r)
		}
	}
	if res.DHTNodes != 4 || res.DHTLookup == nil || res.DHTLookup.Count != 8 || res.DHTLookup.P50Ms <= 0 {
		t.Errorf("dht %+v %+v", res.DHTNodes, res.DHTLookup)
	}
}
