package node

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/anya-org/anya/dwn"
	"github.com/anya-org/anya/p2p"
	"github.com/libp2p/go-libp2p/core/peer"
)

// remoteDWN finds the node that serves a DID in the DHT, connects to it and
// returns a processor that sends each message there over /anya/dwn/1.0.0.
func (n *Node) remoteDWN(ctx context.Context, did string) (dwn.Processor, error) {
	rec, err := n.dht.Find(ctx, did)
	if err != nil {
		return nil, err
	}
	if err := n.host.Connect(ctx, rec.AddrInfo()); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", rec.PeerID, err)
	}
	return &libp2pRemote{n: n, peer: rec.PeerID}, nil
}

// remoteFor returns the processor of a sync peer: a DID over libp2p, or a
// dwn-server-compatible HTTP endpoint.
func (n *Node) remoteFor(ctx context.Context, peerSpec string) (dwn.Processor, error) {
	if strings.HasPrefix(peerSpec, "did:") {
		return n.remoteDWN(ctx, peerSpec)
	}
	return &httpRemote{url: strings.TrimSuffix(peerSpec, "/") + "/", client: http.DefaultClient}, nil
}

// libp2pRemote sends each message on a stream of its own over the host's
// connection to the peer; a stream closes with its reply, or with the
// reply's data.
type libp2pRemote struct {
	n    *Node
	peer peer.ID
}

func (p *libp2pRemote) ProcessMessage(ctx context.Context, tenant string, message json.RawMessage, opts dwn.ProcessOptions) *dwn.Reply {
	client, err := p2p.DialDWN(ctx, p.n.host, p.peer)
	if err != nil {
		return unreachable(err)
	}
	reply, data, err := client.Process(ctx, tenant, message, opts.Data)
	if err != nil {
		client.Close()
		return unreachable(err)
	}
	if data == nil {
		client.Close()
		return reply
	}
	reply.Data = &closeBoth{ReadCloser: data, also: client.Close}
	return reply
}

// httpRemote speaks dwn-server 0.6.1's HTTP JSON-RPC: the request in the
// dwn-request header, record data as the body, a data reply in the
// dwn-response header with the data as the body.
type httpRemote struct {
	url    string
	client *http.Client
}

func (h *httpRemote) ProcessMessage(ctx context.Context, tenant string, message json.RawMessage, opts dwn.ProcessOptions) *dwn.Reply {
	request, err := json.Marshal(map[string]any{
		"jsonrpc": "2.0", "id": "anya-sync", "method": "dwn.processMessage",
		"params": map[string]any{"target": tenant, "message": message},
	})
	if err != nil {
		return unreachable(err)
	}
	body := opts.Data
	if body == nil {
		body = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, "POST", h.url, body)
	if err != nil {
		return unreachable(err)
	}
	req.Header.Set("dwn-request", string(request))
	if opts.Data != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return unreachable(err)
	}
	var rpc struct {
		Result struct {
			Reply *dwn.Reply `json:"reply"`
		} `json:"result"`
		Error *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if head := resp.Header.Get("dwn-response"); head != "" {
		if err := json.Unmarshal([]byte(head), &rpc); err != nil || rpc.Result.Reply == nil {
			resp.Body.Close()
			return unreachable(fmt.Errorf("%s: bad dwn-response header: %v", h.url, err))
		}
		rpc.Result.Reply.Data = resp.Body
		return rpc.Result.Reply
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&rpc); err != nil {
		return unreachable(fmt.Errorf("%s: HTTP %d: %v", h.url, resp.StatusCode, err))
	}
	if rpc.Error != nil {
		return &dwn.Reply{Status: dwn.Status{Code: 500, Detail: fmt.Sprintf("JsonRpcError: %d %s", rpc.Error.Code, rpc.Error.Message)}}
	}
	if rpc.Result.Reply == nil {
		return unreachable(fmt.Errorf("%s: HTTP %d without a reply", h.url, resp.StatusCode))
	}
	return rpc.Result.Reply
}

func unreachable(err error) *dwn.Reply {
	return &dwn.Reply{Status: dwn.Status{Code: 502, Detail: "RemoteDwnUnreachable: " + err.Error()}}
}

// closeBoth closes a reader and then something else.
type closeBoth struct {
	io.ReadCloser
	also func() error
}

func (c *closeBoth) Close() error {
	err := c.ReadCloser.Close()
	c.also()
	return err
}
