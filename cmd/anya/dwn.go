package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/anya-org/anya/dwn"
	"github.com/anya-org/anya/node"
	"github.com/spf13/cobra"
)

// dwnCommand is `anya dwn`: the owner's records in the running node's DWN,
// through the admin API (the node signs with its identity key).
func dwnCommand(g *globals) *cobra.Command {
	c := &cobra.Command{Use: "dwn", Short: "Write, query, read and delete records in the running node's DWN, or (--peer) in another DID's"}
	c.PersistentFlags().StringVar(&g.peer, "peer", "", "send to the DWN of this DID, found in the DHT and reached over libp2p, signed by this node")
	c.AddCommand(dwnWriteCommand(g), dwnQueryCommand(g), dwnReadCommand(g), dwnDeleteCommand(g))
	return c
}

// dwnClient is apiClient aimed at --peer when given.
func dwnClient(g *globals) (*node.Client, error) {
	c, err := apiClient(g)
	if err != nil || g.peer == "" {
		return c, err
	}
	return c.AtPeer(g.peer), nil
}

// parseTags turns k=v flags into name → values.
func parseTags(flags []string) (map[string][]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	tags := map[string][]string{}
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok || k == "" {
			return nil, usageError{fmt.Errorf("--tag %q: want name=value", f)}
		}
		tags[k] = append(tags[k], v)
	}
	return tags, nil
}

func dwnWriteCommand(g *globals) *cobra.Command {
	var req node.DWNWriteRequest
	var tags []string
	var asJSON bool
	c := &cobra.Command{
		Use:   "write [FILE]",
		Short: "Write a record with the data of FILE (or stdin, or -); prints its recordId",
		Args:  wrapArgs(cobra.MaximumNArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			var err error
			if req.Tags, err = parseTags(tags); err != nil {
				return err
			}
			in := c.InOrStdin()
			if len(args) == 1 && args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			client, err := dwnClient(g)
			if err != nil {
				return err
			}
			res, err := client.DWNWrite(c.Context(), req, in)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.OutOrStdout(), res)
			}
			fmt.Fprintln(c.OutOrStdout(), res.RecordID)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&req.DataFormat, "data-format", "application/octet-stream", "dataFormat (a MIME type)")
	f.StringVar(&req.Schema, "schema", "", "schema URI")
	f.StringVar(&req.Protocol, "protocol", "", "protocol URI (needs --protocol-path)")
	f.StringVar(&req.ProtocolPath, "protocol-path", "", "protocol path, e.g. thread/reply")
	f.StringVar(&req.ParentContextID, "parent-context-id", "", "contextId of the parent record (protocol child records)")
	f.StringVar(&req.Recipient, "recipient", "", "recipient DID")
	f.BoolVar(&req.Published, "published", false, "publish the record (readable by anyone)")
	f.StringArrayVar(&tags, "tag", nil, "tag name=value (numbers and booleans are typed; repeat a name for an array)")
	f.BoolVar(&asJSON, "json", false, "print JSON {recordId, contextId, messageCid, reply}")
	return c
}

func dwnQueryCommand(g *globals) *cobra.Command {
	var (
		schema, protocol, protocolPath, contextID, recipient, dataFormat, published string
		filterJSON, cursorJSON, dateSort                                            string
		tags                                                                        []string
		limit                                                                       int
		asJSON                                                                      bool
	)
	c := &cobra.Command{
		Use:   "query",
		Short: "Query your records (at least one filter flag)",
		Args:  wrapArgs(cobra.NoArgs),
		RunE: func(c *cobra.Command, _ []string) error {
			filter := map[string]any{}
			if filterJSON != "" {
				d := json.NewDecoder(strings.NewReader(filterJSON))
				d.UseNumber()
				if err := d.Decode(&filter); err != nil {
					return usageError{fmt.Errorf("--filter: %w", err)}
				}
			}
			for k, v := range map[string]string{
				"schema": schema, "protocol": protocol, "protocolPath": protocolPath,
				"contextId": contextID, "recipient": recipient, "dataFormat": dataFormat,
			} {
				if v != "" {
					filter[k] = v
				}
			}
			switch published {
			case "":
			case "true", "false":
				filter["published"] = published == "true"
			default:
				return usageError{fmt.Errorf("--published: want true or false, got %q", published)}
			}
			if len(tags) > 0 {
				tm, err := parseTags(tags)
				if err != nil {
					return err
				}
				tf := map[string]any{}
				for k, vs := range tm {
					tf[k] = node.ScalarFromText(vs[len(vs)-1])
				}
				filter["tags"] = tf
			}
			if len(filter) == 0 {
				return usageError{fmt.Errorf("give at least one filter (--schema, --protocol, --tag, --filter, ...)")}
			}
			req := node.DWNQueryRequest{Filter: filter, DateSort: dateSort, Limit: limit}
			if cursorJSON != "" {
				req.Cursor = &dwn.Cursor{}
				if err := json.Unmarshal([]byte(cursorJSON), req.Cursor); err != nil {
					return usageError{fmt.Errorf("--cursor: want the JSON cursor a previous query printed: %w", err)}
				}
			}
			client, err := dwnClient(g)
			if err != nil {
				return err
			}
			res, err := client.DWNQuery(c.Context(), req)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.OutOrStdout(), res)
			}
			return printEntries(c.OutOrStdout(), res)
		},
	}
	f := c.Flags()
	f.StringVar(&schema, "schema", "", "schema URI")
	f.StringVar(&protocol, "protocol", "", "protocol URI")
	f.StringVar(&protocolPath, "protocol-path", "", "protocol path")
	f.StringVar(&contextID, "context-id", "", "contextId prefix")
	f.StringVar(&recipient, "recipient", "", "recipient DID")
	f.StringVar(&dataFormat, "data-format", "", "dataFormat")
	f.StringVar(&published, "published", "", "true or false")
	f.StringArrayVar(&tags, "tag", nil, "tag name=value equality (repeatable)")
	f.StringVar(&filterJSON, "filter", "", "a RecordsQuery filter as JSON; the other flags add to it")
	f.StringVar(&dateSort, "date-sort", "", "createdAscending (default), createdDescending, publishedAscending or publishedDescending")
	f.IntVar(&limit, "limit", 0, "at most this many entries (0: no limit)")
	f.StringVar(&cursorJSON, "cursor", "", "continue after this cursor (the JSON a previous query printed)")
	f.BoolVar(&asJSON, "json", false, "print the whole reply as JSON")
	return c
}

// printEntries writes one line per entry and the next page's cursor.
func printEntries(w io.Writer, res node.DWNQueryResult) error {
	for _, e := range res.Entries {
		var m struct {
			RecordID   string `json:"recordId"`
			Descriptor struct {
				DataFormat   string `json:"dataFormat"`
				DataSize     int64  `json:"dataSize"`
				Schema       string `json:"schema"`
				Protocol     string `json:"protocol"`
				ProtocolPath string `json:"protocolPath"`
				DateCreated  string `json:"dateCreated"`
				Published    bool   `json:"published"`
			} `json:"descriptor"`
		}
		if err := json.Unmarshal(e, &m); err != nil {
			return err
		}
		d := m.Descriptor
		where := d.Schema
		if d.Protocol != "" {
			where = d.Protocol + " " + d.ProtocolPath
		}
		pub := ""
		if d.Published {
			pub = " published"
		}
		fmt.Fprintf(w, "%s  %s  %s  %d B  %s%s\n", m.RecordID, d.DateCreated, d.DataFormat, d.DataSize, where, pub)
	}
	if res.Cursor != nil {
		b, err := json.Marshal(res.Cursor)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "cursor: %s\n", b)
	}
	return nil
}

func dwnReadCommand(g *globals) *cobra.Command {
	var out string
	var asJSON bool
	c := &cobra.Command{
		Use:   "read RECORD_ID",
		Short: "Read a record's data to stdout (or -o FILE)",
		Args:  wrapArgs(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			client, err := dwnClient(g)
			if err != nil {
				return err
			}
			reply, body, err := client.DWNRead(c.Context(), args[0])
			if err != nil {
				return err
			}
			defer body.Close()
			switch {
			case out != "" && out != "-":
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				if _, err := io.Copy(f, body); err != nil {
					f.Close()
					return err
				}
				if err := f.Close(); err != nil {
					return err
				}
			case asJSON:
				// The reply goes to stdout; without -o the data is not
				// written.
			default:
				if _, err := io.Copy(c.OutOrStdout(), body); err != nil {
					return err
				}
			}
			if asJSON {
				var v any
				if err := json.Unmarshal(reply, &v); err != nil {
					return fmt.Errorf("dwn-response header: %w", err)
				}
				return printJSON(c.OutOrStdout(), v)
			}
			return nil
		},
	}
	c.Flags().StringVarP(&out, "output", "o", "", "write the data to this file")
	c.Flags().BoolVar(&asJSON, "json", false, "print the reply (the record's message) as JSON; the data goes only to -o")
	return c
}

func dwnDeleteCommand(g *globals) *cobra.Command {
	var prune, asJSON bool
	c := &cobra.Command{
		Use:   "delete RECORD_ID",
		Short: "Delete a record (--prune: and its descendants)",
		Args:  wrapArgs(cobra.ExactArgs(1)),
		RunE: func(c *cobra.Command, args []string) error {
			client, err := dwnClient(g)
			if err != nil {
				return err
			}
			reply, err := client.DWNDelete(c.Context(), args[0], prune)
			if err != nil {
				return err
			}
			if asJSON {
				var v any
				if err := json.Unmarshal(reply, &v); err != nil {
					return err
				}
				return printJSON(c.OutOrStdout(), v)
			}
			fmt.Fprintln(c.OutOrStdout(), "deleted", args[0])
			return nil
		},
	}
	c.Flags().BoolVar(&prune, "prune", false, "also delete the record's descendants")
	c.Flags().BoolVar(&asJSON, "json", false, "print the reply as JSON")
	return c
}
