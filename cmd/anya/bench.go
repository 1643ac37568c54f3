package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/dwn"
	"github.com/anya-org/anya/keystore"
	"github.com/spf13/cobra"
)

// benchSchema is the schema of every record `anya bench dwn` writes.
const benchSchema = "https://example.com/bench"

// benchCommand is `anya bench`: load generators against DWN endpoints.
func benchCommand() *cobra.Command {
	c := &cobra.Command{Use: "bench", Short: "Measure a DWN endpoint (anya or dwn-server) or the p2p stack"}
	c.AddCommand(benchDWNCommand(), benchP2PCommand())
	return c
}

// benchConfig is what one `anya bench dwn` run does.
type benchConfig struct {
	URL         string
	Writes      int
	Concurrency int
	Queries     int
	DataSize    int
	Timeout     time.Duration
}

func benchDWNCommand() *cobra.Command {
	var cfg benchConfig
	var tenantFile, personaFile string
	var asJSON bool
	c := &cobra.Command{
		Use:   "dwn",
		Short: "Write N small records and run Q queries over dwn-server's HTTP JSON-RPC, as a throwaway Ed25519 persona",
		Long: `Makes a throwaway did:key persona, pre-signs N RecordsWrite messages of about
100 B of JSON (schema ` + benchSchema + `) and Q RecordsQuery messages by that
schema with limit 20, sends them with C workers to POST / of the target (the
dwn-request header, the data as an octet-stream body), and reports rates,
latency percentiles and every reply that was not 202 (writes) or 200 (queries).

The target must serve the persona as a tenant: dwn-server serves anyone; an
anya node needs --dwn-tenants. Run once with --persona FILE --tenant-file T
--writes 0 --queries 0 to make the persona, start the node with
--dwn-tenants "$(cat T)", then bench with --persona FILE.`,
		Args: wrapArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if cfg.URL == "" {
				return usageError{fmt.Errorf("--url is required")}
			}
			if cfg.Writes < 0 || cfg.Queries < 0 || cfg.Concurrency < 1 || cfg.DataSize < 16 {
				return usageError{fmt.Errorf("want --writes >= 0, --queries >= 0, --concurrency >= 1, --data-size >= 16")}
			}
			p, err := newBenchPersona(personaFile)
			if err != nil {
				return err
			}
			info := c.OutOrStdout()
			if asJSON {
				info = c.ErrOrStderr()
			}
			fmt.Fprintf(info, "tenant: %s\n", p.author.DID)
			if tenantFile != "" {
				if err := os.WriteFile(tenantFile, []byte(p.author.DID+"\n"), 0o644); err != nil {
					return err
				}
			}
			res, err := runBench(c.Context(), cfg, p.author, info)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.OutOrStdout(), res)
			}
			printBench(c.OutOrStdout(), res)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&cfg.URL, "url", "", "DWN endpoint, e.g. http://127.0.0.1:3000")
	f.IntVar(&cfg.Writes, "writes", 1000, "RecordsWrite messages to send")
	f.IntVar(&cfg.Concurrency, "concurrency", 8, "requests in flight")
	f.IntVar(&cfg.Queries, "queries", 100, "RecordsQuery messages to send after the writes")
	f.IntVar(&cfg.DataSize, "data-size", 100, "bytes of JSON data per record")
	f.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "timeout of one request")
	f.StringVar(&tenantFile, "tenant-file", "", "write the persona's DID to this file")
	f.StringVar(&personaFile, "persona", "", "keep the persona's key seed in this file (created when missing), to bench as the same tenant again")
	f.BoolVar(&asJSON, "json", false, "print the results as JSON (progress goes to stderr)")
	return c
}

// benchPersona is the Ed25519 did:key the bench writes as, held in
// memory: a fresh key, or the one whose seed is in a persona file (created
// when missing) so that a node can be started with the persona as tenant
// before the bench runs.
type benchPersona struct {
	author dwn.Author
}

// newBenchPersona makes a fresh persona, or loads the persona file (hex of
// a 32-byte seed), creating it when it does not exist.
func newBenchPersona(file string) (*benchPersona, error) {
	seed := make([]byte, ed25519.SeedSize)
	switch b, err := os.ReadFile(file); {
	case file == "":
		rand.Read(seed)
	case err == nil:
		s, err := hex.DecodeString(strings.TrimSpace(string(b)))
		if err != nil || len(s) != ed25519.SeedSize {
			return nil, fmt.Errorf("persona file %s: want the hex of a 32-byte Ed25519 seed", file)
		}
		seed = s
	case errors.Is(err, fs.ErrNotExist):
		rand.Read(seed)
		if err := os.WriteFile(file, []byte(hex.EncodeToString(seed)+"\n"), 0o600); err != nil {
			return nil, err
		}
	default:
		return nil, err
	}
	s := benchSigner{key: ed25519.NewKeyFromSeed(seed)}
	d, err := did.NewKey(s.PublicKey())
	if err != nil {
		return nil, err
	}
	return &benchPersona{author: dwn.KeyAuthor(d, s)}, nil
}

// benchSigner is a keystore.Signer over an Ed25519 key in memory; the
// bench's persona is throwaway, so it needs no keystore.
type benchSigner struct{ key ed25519.PrivateKey }

func (s benchSigner) ID() string                      { return "bench" }
func (s benchSigner) Type() keystore.KeyType          { return keystore.Ed25519 }
func (s benchSigner) PublicKey() crypto.PublicKey     { return s.key.Public() }
func (s benchSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.key, msg), nil }

// benchRequest is one pre-encoded JSON-RPC request.
type benchRequest struct {
	header string // the dwn-request header
	body   []byte // record data, nil for none
}

// encodeDWNRequest builds dwn-server's JSON-RPC request for message:
// {"jsonrpc":"2.0","id","method":"dwn.processMessage","params":{"target","message"}}.
func encodeDWNRequest(id, target string, message json.RawMessage, data []byte) (benchRequest, error) {
	h, err := json.Marshal(struct {
		JSONRPC string `json:"jsonrpc"`
		ID      string `json:"id"`
		Method  string `json:"method"`
		Params  struct {
			Target  string          `json:"target"`
			Message json.RawMessage `json:"message"`
		} `json:"params"`
	}{JSONRPC: "2.0", ID: id, Method: "dwn.processMessage", Params: struct {
		Target  string          `json:"target"`
		Message json.RawMessage `json:"message"`
	}{target, message}})
	if err != nil {
		return benchRequest{}, err
	}
	return benchRequest{header: string(h), body: data}, nil
}

// newHTTPRequest makes the HTTP request for r.
func (r benchRequest) newHTTPRequest(ctx context.Context, url string) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(r.body))
	if err != nil {
		return nil, err
	}
	if r.body == nil {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	}
	req.Header.Set("dwn-request", r.header)
	req.Header.Set("Content-Type", "application/octet-stream")
	return req, nil
}

// replyCode reads the DWN status code from a JSON-RPC response body:
// "202" for result.reply.status.code 202, "rpc<code>" for a JSON-RPC
// error, "http<status>" when the body says nothing.
func replyCode(httpStatus int, body []byte) string {
	var r struct {
		Result *struct {
			Reply struct {
				Status struct {
					Code int `json:"code"`
				} `json:"status"`
			} `json:"reply"`
		} `json:"result"`
		Error *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &r) == nil {
		switch {
		case r.Result != nil && r.Result.Reply.Status.Code != 0:
			return strconv.Itoa(r.Result.Reply.Status.Code)
		case r.Error != nil:
			return "rpc" + strconv.Itoa(r.Error.Code)
		}
	}
	return "http" + strconv.Itoa(httpStatus)
}

// benchData is n bytes of JSON for record i.
func benchData(i, n int) []byte {
	b := fmt.Appendf(nil, `{"i":%d,"text":"`, i)
	for len(b) < n-2 {
		b = append(b, 'a'+byte(len(b)%26))
	}
	return append(b, '"', '}')
}

// presignWrites builds n RecordsWrite requests with distinct timestamps.
func presignWrites(a dwn.Author, n, dataSize int, start time.Time) ([]benchRequest, error) {
	reqs := make([]benchRequest, n)
	for i := range reqs {
		data := benchData(i, dataSize)
		msg, err := dwn.NewRecordsWrite(a, dwn.RecordsWriteOptions{
			Data:             data,
			DataFormat:       "application/json",
			Schema:           benchSchema,
			MessageTimestamp: start.Add(time.Duration(i) * time.Microsecond),
		})
		if err != nil {
			return nil, err
		}
		if reqs[i], err = encodeDWNRequest(benchID(), a.DID, msg, data); err != nil {
			return nil, err
		}
	}
	return reqs, nil
}

// presignQueries builds n RecordsQuery requests by benchSchema, limit 20.
func presignQueries(a dwn.Author, n int, start time.Time) ([]benchRequest, error) {
	reqs := make([]benchRequest, n)
	for i := range reqs {
		msg, err := dwn.NewRecordsQuery(&a, map[string]any{"schema": benchSchema}, "", 20, nil, start.Add(time.Duration(i)*time.Microsecond))
		if err != nil {
			return nil, err
		}
		if reqs[i], err = encodeDWNRequest(benchID(), a.DID, msg, nil); err != nil {
			return nil, err
		}
	}
	return reqs, nil
}

// benchID is a random UUIDv4, as dwn clients use for JSON-RPC ids.
func benchID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// phaseResult is the outcome of one phase (writes or queries).
type phaseResult struct {
	Count       int     `json:"count"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"perSecond"`
	P50Ms       float64 `json:"p50Ms"`
	P95Ms       float64 `json:"p95Ms"`
	P99Ms       float64 `json:"p99Ms"`
	MaxMs       float64 `json:"maxMs"`
	// OK counts replies with the expected code (202 for writes, 200 for
	// queries); Unexpected counts the others by code: "409", "401",
	// "rpc-32603", "http500", "error" (no reply at all).
	OK         int            `json:"ok"`
	Unexpected map[string]int `json:"unexpected,omitempty"`
}

// benchResult is the outcome of a run.
type benchResult struct {
	URL     string       `json:"url"`
	Tenant  string       `json:"tenant"`
	Writes  *phaseResult `json:"writes,omitempty"`
	Queries *phaseResult `json:"queries,omitempty"`
}

// percentile is the nearest-rank p-th percentile (0 < p <= 100) of sorted
// durations, in milliseconds; 0 for none.
func percentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return ms(sorted[rank-1])
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// summarize turns latencies and codes into a phaseResult.
func summarize(lat []time.Duration, codes []string, want string, concurrency int, wall time.Duration) *phaseResult {
	r := &phaseResult{Count: len(lat), Concurrency: concurrency, Seconds: wall.Seconds()}
	if wall > 0 {
		r.PerSecond = float64(len(lat)) / wall.Seconds()
	}
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	r.P50Ms, r.P95Ms, r.P99Ms = percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99)
	if len(sorted) > 0 {
		r.MaxMs = ms(sorted[len(sorted)-1])
	}
	for _, c := range codes {
		if c == want {
			r.OK++
			continue
		}
		if r.Unexpected == nil {
			r.Unexpected = map[string]int{}
		}
		r.Unexpected[c]++
	}
	return r
}

// runPhase sends reqs with c workers and measures each round trip.
func runPhase(ctx context.Context, client *http.Client, url string, reqs []benchRequest, c int, want string) *phaseResult {
	lat := make([]time.Duration, len(reqs))
	codes := make([]string, len(reqs))
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range min(c, max(len(reqs), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(reqs) || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				codes[i] = sendOne(ctx, client, url, reqs[i])
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	n := min(int(next.Load()), len(reqs))
	return summarize(lat[:n], codes[:n], want, c, wall)
}

// sendOne sends one request and returns its reply code (see replyCode), or
// "error" when no response came.
func sendOne(ctx context.Context, client *http.Client, url string, r benchRequest) string {
	req, err := r.newHTTPRequest(ctx, url)
	if err != nil {
		return "error"
	}
	resp, err := client.Do(req)
	if err != nil {
		return "error"
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return "error"
	}
	return replyCode(resp.StatusCode, body)
}

// runBench pre-signs everything, then runs the writes and the queries.
func runBench(ctx context.Context, cfg benchConfig, a dwn.Author, progress io.Writer) (benchResult, error) {
	url := strings.TrimSuffix(cfg.URL, "/") + "/"
	res := benchResult{URL: url, Tenant: a.DID}
	start := time.Now().UTC()
	fmt.Fprintf(progress, "signing %d writes and %d queries\n", cfg.Writes, cfg.Queries)
	writes, err := presignWrites(a, cfg.Writes, cfg.DataSize, start)
	if err != nil {
		return res, err
	}
	queries, err := presignQueries(a, cfg.Queries, start.Add(time.Duration(cfg.Writes+1)*time.Microsecond))
	if err != nil {
		return res, err
	}
	client := &http.Client{
		Timeout:   cfg.Timeout,
		Transport: &http.Transport{MaxIdleConns: cfg.Concurrency * 2, MaxIdleConnsPerHost: cfg.Concurrency * 2, IdleConnTimeout: time.Minute},
	}
	defer client.CloseIdleConnections()
	if cfg.Writes > 0 {
		fmt.Fprintf(progress, "writing to %s with %d workers\n", url, cfg.Concurrency)
		res.Writes = runPhase(ctx, client, url, writes, cfg.Concurrency, "202")
	}
	if cfg.Queries > 0 {
		fmt.Fprintf(progress, "querying with %d workers\n", cfg.Concurrency)
		res.Queries = runPhase(ctx, client, url, queries, cfg.Concurrency, "200")
	}
	return res, ctx.Err()
}

func printBench(w io.Writer, r benchResult) {
	line := func(name, unit string, p *phaseResult) {
		if p == nil {
			return
		}
		fmt.Fprintf(w, "%-8s %6d in %6.2fs  %8.1f %s/s  p50 %7.2f ms  p95 %7.2f ms  p99 %7.2f ms  max %7.2f ms  ok %d",
			name, p.Count, p.Seconds, p.PerSecond, unit, p.P50Ms, p.P95Ms, p.P99Ms, p.MaxMs, p.OK)
		if len(p.Unexpected) > 0 {
			keys := make([]string, 0, len(p.Unexpected))
			for k := range p.Unexpected {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = fmt.Sprintf("%s×%d", k, p.Unexpected[k])
			}
			fmt.Fprintf(w, "  unexpected %s", strings.Join(parts, " "))
		}
		fmt.Fprintln(w)
	}
	line("writes", "writes", r.Writes)
	line("queries", "queries", r.Queries)
}
