package node

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/anya-org/anya/dwn"
	"github.com/anya-org/anya/p2p"
)

// remoteDWN finds the node that serves a DID in the DHT, connects to it and
// returns a processor that sends one message there over /anya/dwn/1.0.0.
func (n *Node) remoteDWN(ctx context.Context, did string) (dwn.Processor, error) {
	rec, err := n.dht.Find(ctx, did)
	if err != nil {
		return nil, err
	}
	if err := n.host.Connect(ctx, rec.AddrInfo()); err != nil {
		return nil, fmt.Errorf("connect to %s: %w", rec.PeerID, err)
	}
	client, err := p2p.DialDWN(ctx, n.host, rec.PeerID)
	if err != nil {
		return nil, err
	}
	return &remoteProcessor{client: client}, nil
}

// remoteProcessor is a dwn.Processor for one message to a peer's DWN; its
// stream closes with the reply, or with the reply's data.
type remoteProcessor struct{ client *p2p.DWNClient }

func (p *remoteProcessor) ProcessMessage(ctx context.Context, tenant string, message json.RawMessage, opts dwn.ProcessOptions) *dwn.Reply {
	reply, data, err := p.client.Process(ctx, tenant, message, opts.Data)
	if err != nil {
		p.client.Close()
		return &dwn.Reply{Status: dwn.Status{Code: 502, Detail: "RemoteDwnUnreachable: " + err.Error()}}
	}
	if data == nil {
		p.client.Close()
		return reply
	}
	reply.Data = &closeBoth{ReadCloser: data, also: p.client.Close}
	return reply
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
