package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/node"
	"github.com/spf13/cobra"
)

// usageError is a wrong command line; main exits 2 on it.
type usageError struct{ error }

// flagKeys maps daemon flags to the config keys they set.
var flagKeys = map[string]string{
	"api-addr":    "api.addr",
	"p2p-listen":  "p2p.listen",
	"bootstrap":   "p2p.bootstrap",
	"dwn-tenants": "dwn.tenants",
}

type globals struct {
	dataDir string
	peer    string // anya dwn --peer
}

func newRootCommand() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "anya",
		Short:         "Anya: a personal peer-to-peer node for DIDs, DWNs, DLCs and RGB",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&g.dataDir, "data", node.DefaultDataDir(), "data directory (ANYA_HOME)")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see %s --help)", err, c.CommandPath())}
	})
	root.AddCommand(initCommand(g), daemonCommand(g), idCommand(g), didCommand(g), statusCommand(g), findCommand(g), versionCommand(), dwnCommand(g), benchCommand())
	for _, c := range root.Commands() {
		c.Args = wrapArgs(c.Args)
	}
	return root
}

func wrapArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	if check == nil {
		check = cobra.NoArgs
	}
	return func(c *cobra.Command, args []string) error {
		if err := check(c, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}

func initCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "init",
		Short: "Create the data directory: config, encrypted keystore with the node key, admin token",
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := node.LoadConfig(g.dataDir, os.Environ(), nil)
			if err != nil {
				return err
			}
			if err := node.Init(g.dataDir, cfg); err != nil {
				return err
			}
			id, err := node.ReadIdentity(g.dataDir)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "initialised %s\ndid:  %s\npeer: %s\n", g.dataDir, id.DID, id.PeerID)
			return nil
		},
	}
}

func daemonCommand(g *globals) *cobra.Command {
	c := &cobra.Command{
		Use:   "daemon",
		Short: "Run the node (initialises the data directory on first start)",
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := loadConfig(c, g)
			if err != nil {
				return err
			}
			log, err := newLogger(cfg.Log, c.ErrOrStderr())
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			return node.Run(ctx, node.Options{DataDir: g.dataDir, Config: cfg, Log: log})
		},
	}
	def := node.DefaultConfig()
	c.Flags().String("api-addr", def.API.Addr, "HTTP API address (api.addr)")
	c.Flags().StringSlice("p2p-listen", def.P2P.Listen, "libp2p listen multiaddrs, comma-separated (p2p.listen)")
	c.Flags().StringSlice("bootstrap", nil, "peers to dial at start, /…/p2p/<peer ID>, comma-separated (p2p.bootstrap)")
	c.Flags().StringSlice("dwn-tenants", nil, "DIDs the DWN serves besides the node's, or * for any (dwn.tenants)")
	return c
}

// loadConfig loads the data directory's config with the flags the user set.
func loadConfig(c *cobra.Command, g *globals) (node.Config, error) {
	flags := map[string]string{}
	for name, key := range flagKeys {
		f := c.Flags().Lookup(name)
		if f == nil || !f.Changed {
			continue
		}
		if sv, ok := f.Value.(interface{ GetSlice() []string }); ok {
			flags[key] = strings.Join(sv.GetSlice(), ",")
		} else {
			flags[key] = f.Value.String()
		}
	}
	return node.LoadConfig(g.dataDir, os.Environ(), flags)
}

// createDID asks the running node to make the key; with no node running it
// opens the keystore itself.
func createDID(ctx context.Context, dataDir string, cfg node.Config, req node.CreateDIDRequest) (node.CreatedDID, error) {
	var created node.CreatedDID
	if err := req.Validate(); err != nil {
		return created, usageError{err}
	}
	if client, err := node.NewClient(dataDir, cfg); err == nil {
		err = client.Call(ctx, "POST", "/api/v0/did/create", req, &created)
		if !errors.Is(err, node.ErrNotRunning) {
			return created, err
		}
	}
	ks, err := node.OpenKeystore(dataDir, cfg)
	if err != nil {
		return created, err
	}
	defer ks.Close()
	return node.CreateDID(ks, req)
}

func newLogger(cfg node.LogConfig, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.Level)); err != nil {
		return nil, &node.ConfigError{Key: "log.level", Err: err}
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}

func idCommand(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "id",
		Short: "Print the node's DID and peer ID (offline; no passphrase needed)",
		RunE: func(c *cobra.Command, _ []string) error {
			id, err := node.ReadIdentity(g.dataDir)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.OutOrStdout(), id)
			}
			fmt.Fprintf(c.OutOrStdout(), "did:  %s\npeer: %s\n", id.DID, id.PeerID)
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func didCommand(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "did", Short: "Create and resolve DIDs"}
	var method, curve string
	var asJSON bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Make a key in the keystore and print the DID over it (through the running node, else offline)",
		RunE: func(c *cobra.Command, _ []string) error {
			cfg, err := node.LoadConfig(g.dataDir, os.Environ(), nil)
			if err != nil {
				return err
			}
			req := node.CreateDIDRequest{Method: method, Curve: curve}
			created, err := createDID(c.Context(), g.dataDir, cfg, req)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.OutOrStdout(), created)
			}
			fmt.Fprintln(c.OutOrStdout(), created.DID)
			return nil
		},
	}
	create.Flags().StringVar(&method, "method", "key", "DID method: key or jwk")
	create.Flags().StringVar(&curve, "curve", "ed25519", "key curve: ed25519, secp256k1 or p256")
	create.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	create.Args = wrapArgs(nil)

	var resolveJSON bool
	resolve := &cobra.Command{
		Use:   "resolve DID",
		Short: "Resolve a DID (did:key, did:jwk, did:web) and print its document",
		RunE: func(c *cobra.Command, args []string) error {
			res := did.NewRegistry(did.RegistryConfig{}).Resolve(c.Context(), args[0])
			if resolveJSON {
				if err := printJSON(c.OutOrStdout(), res); err != nil {
					return err
				}
			} else if res.Document != nil {
				if err := printJSON(c.OutOrStdout(), res.Document); err != nil {
					return err
				}
			}
			return res.Err()
		},
	}
	resolve.Flags().BoolVar(&resolveJSON, "json", false, "print the whole W3C resolution result")
	resolve.Args = wrapArgs(cobra.ExactArgs(1))
	c.AddCommand(create, resolve)
	return c
}

func statusCommand(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "status",
		Short: "Ask the running node for its status (uses the admin token)",
		RunE: func(c *cobra.Command, _ []string) error {
			client, err := apiClient(g)
			if err != nil {
				return err
			}
			var st node.Status
			if err := client.Call(c.Context(), "GET", "/api/v0/status", nil, &st); err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.OutOrStdout(), st)
			}
			fmt.Fprintf(c.OutOrStdout(), "did:     %s\npeer:    %s\nversion: %s\nuptime:  %.0fs\npeers:   %d\n", st.DID, st.PeerID, st.Version, st.UptimeSeconds, st.Peers)
			for _, a := range st.Addrs {
				fmt.Fprintf(c.OutOrStdout(), "addr:    %s\n", a)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func findCommand(g *globals) *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "find DID",
		Short: "Look a DID up in the DHT of signed DID records (through the running node)",
		RunE: func(c *cobra.Command, args []string) error {
			client, err := apiClient(g)
			if err != nil {
				return err
			}
			var found node.Found
			if err := client.Call(c.Context(), "GET", "/api/v0/find?did="+url.QueryEscape(args[0]), nil, &found); err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.OutOrStdout(), found)
			}
			fmt.Fprintf(c.OutOrStdout(), "did:     %s\npeer:    %s\nseq:     %d\nexpires: %s\n", found.DID, found.PeerID, found.Seq, found.Expires.Format(time.RFC3339))
			for _, a := range found.Addrs {
				fmt.Fprintf(c.OutOrStdout(), "addr:    %s\n", a)
			}
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	c.Args = cobra.ExactArgs(1)
	return c
}

// apiClient is the admin API client of the node running on the data
// directory.
func apiClient(g *globals) (*node.Client, error) {
	cfg, err := node.LoadConfig(g.dataDir, os.Environ(), nil)
	if err != nil {
		return nil, err
	}
	return node.NewClient(g.dataDir, cfg)
}

func versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Run: func(c *cobra.Command, _ []string) {
			fmt.Fprintln(c.OutOrStdout(), "anya", node.Version)
		},
	}
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
