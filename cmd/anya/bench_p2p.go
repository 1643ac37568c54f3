package main

import (
	"fmt"
	"io"

	"github.com/anya-org/anya/p2p"
	"github.com/spf13/cobra"
)

// benchP2PCommand is `anya bench p2p`: the p2p stack measured in this
// process on loopback (p2p.RunBench).
func benchP2PCommand() *cobra.Command {
	var opts p2p.BenchOptions
	var mib int64
	var asJSON bool
	c := &cobra.Command{
		Use:   "p2p",
		Short: "Measure libp2p throughput, round trips and DHT lookups in this process on loopback",
		Long: `Runs, in this process on 127.0.0.1, with throwaway identities:

  throughput  the same bytes over raw TCP (net.Conn), TCP+noise+yamux and
              QUIC (one stream each), in MiB/s and as a ratio to raw TCP
              (target: libp2p >= 50% of raw TCP);
  round trip  framed echoes on one reused stream per transport (p50/p99);
  DHT lookup  --dht-nodes nodes each publish their DID record, then
              --lookups finds from other nodes (p50/p99; target < 50 ms).

Everything shares one machine's CPUs, so the figures are CPU bound:
compare ratios across machines, not absolute numbers. Sync throughput is
not measured yet.`,
		Args: wrapArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			if mib < 1 || opts.Echoes < 1 || opts.Lookups < 1 || opts.DHTNodes == 0 || opts.DHTNodes == 1 {
				return usageError{fmt.Errorf("want --mib >= 1, --echoes >= 1, --lookups >= 1, and --dht-nodes >= 2 or -1 to skip the DHT")}
			}
			opts.Bytes = mib << 20
			opts.Progress = c.ErrOrStderr()
			res, err := p2p.RunBench(c.Context(), opts)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.OutOrStdout(), res)
			}
			printBenchP2P(c.OutOrStdout(), res)
			return nil
		},
	}
	f := c.Flags()
	f.Int64Var(&mib, "mib", 256, "MiB sent over each transport")
	f.IntVar(&opts.WriteSize, "write-size", 256<<10, "bytes per write")
	f.IntVar(&opts.Echoes, "echoes", 10000, "round trips per transport")
	f.IntVar(&opts.EchoSize, "echo-size", 64, "bytes per echoed message")
	f.IntVar(&opts.DHTNodes, "dht-nodes", 20, "DHT nodes (-1 skips the DHT)")
	f.IntVar(&opts.Lookups, "lookups", 100, "DHT finds")
	f.BoolVar(&asJSON, "json", false, "print the results as JSON (progress goes to stderr)")
	return c
}

func printBenchP2P(w io.Writer, r p2p.BenchResult) {
	fmt.Fprintf(w, "%-16s %8s %8s %9s %8s\n", "throughput", "MiB", "s", "MiB/s", "vs raw")
	for _, t := range r.Throughput {
		fmt.Fprintf(w, "%-16s %8d %8.2f %9.1f %7.0f%%\n", t.Transport, t.Bytes>>20, t.Seconds, t.MiBps, 100*t.VsRaw)
	}
	fmt.Fprintln(w, "target: libp2p >= 50% of raw tcp")
	fmt.Fprintf(w, "\n%-16s %8s %9s %9s %9s\n", "round trip", "count", "p50 ms", "p99 ms", "max ms")
	for _, l := range r.RoundTrip {
		fmt.Fprintf(w, "%-16s %8d %9.3f %9.3f %9.3f\n", l.Name, l.Count, l.P50Ms, l.P99Ms, l.MaxMs)
	}
	if l := r.DHTLookup; l != nil {
		fmt.Fprintf(w, "\ndht: %d nodes, setup %.2f s\n", r.DHTNodes, r.DHTSetupSeconds)
		fmt.Fprintf(w, "%-16s %8d %9.3f %9.3f %9.3f   target: p50 and p99 < 50 ms\n", l.Name, l.Count, l.P50Ms, l.P99Ms, l.MaxMs)
	}
	fmt.Fprintln(w, "\nsync throughput: not measured yet (later)")
}
