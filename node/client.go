package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// ErrNotRunning means no node answers on the data directory's API address.
var ErrNotRunning = errors.New("no running node answers")

// Client calls a running node's API with the admin token.
type Client struct {
	base  string
	token string
	http  *http.Client
	peer  string // see AtPeer
}

// AtPeer returns a client whose DWN calls go to the DWN of another DID: the
// node finds it in the DHT and forwards each message over libp2p.
func (c *Client) AtPeer(did string) *Client {
	cp := *c
	cp.peer = did
	return &cp
}

// url is the address of an API path, with the peer parameter when set.
func (c *Client) url(path string) string {
	if c.peer == "" {
		return c.base + path
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return c.base + path + sep + "peer=" + url.QueryEscape(c.peer)
}

// NewClient finds the API of the node running on dataDir: the address it
// wrote to <data>/api.addr, else api.addr from the config.
func NewClient(dataDir string, cfg Config) (*Client, error) {
	addr := cfg.API.Addr
	if b, err := os.ReadFile(APIAddrPath(dataDir)); err == nil {
		addr = strings.TrimSpace(string(b))
	}
	token, err := ReadToken(dataDir)
	if err != nil {
		return nil, err
	}
	return &Client{base: "http://" + addr, token: token, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// Call sends a request (body marshalled as JSON when not nil) and decodes
// the JSON reply into out. A reply other than 200 becomes an error carrying
// the API's message.
func (c *Client) Call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%w at %s: %v", ErrNotRunning, c.base, err)
	}
	defer resp.Body.Close()
	return decodeReply(resp, method, path, out)
}
