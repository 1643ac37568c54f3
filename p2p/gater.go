package p2p

import (
	"fmt"
	"net"
	"strings"

	"github.com/libp2p/go-libp2p/core/connmgr"
	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// DenyList is a parsed p2p.deny: peer IDs, multiaddr prefixes and CIDR
// ranges that the host never dials and never accepts.
//
// An entry is one of
//
//	12D3KooW…                      a peer ID
//	/ip4/203.0.113.7               a multiaddr prefix, matched component by
//	/ip4/203.0.113.7/tcp/4001      component against the remote address
//	/ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…   a prefix and a peer ID: both are denied
//	203.0.113.0/24, 2001:db8::/32  a CIDR range of remote IPs
type DenyList struct {
	peers    map[peer.ID]bool
	prefixes []string // multiaddr strings, no trailing slash
	nets     []*net.IPNet
}

// ParseDenyList parses entries as described at DenyList. The error names
// the first bad entry.
func ParseDenyList(entries []string) (*DenyList, error) {
	d := &DenyList{peers: map[peer.ID]bool{}}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
			return nil, fmt.Errorf("empty entry")
		case strings.HasPrefix(e, "/"):
			a, err := ma.NewMultiaddr(e)
			if err != nil {
				return nil, fmt.Errorf("%q is not a multiaddr: %w", e, err)
			}
			rest, id := peer.SplitAddr(a)
			if id != "" {
				d.peers[id] = true
			}
			if rest != nil && len(rest) > 0 {
				d.prefixes = append(d.prefixes, rest.String())
			}
		case strings.Contains(e, "/"):
			_, n, err := net.ParseCIDR(e)
			if err != nil {
				return nil, fmt.Errorf("%q is not a CIDR range: %w", e, err)
			}
			d.nets = append(d.nets, n)
		default:
			id, err := peer.Decode(e)
			if err != nil {
				return nil, fmt.Errorf("%q is not a peer ID, multiaddr or CIDR range: %w", e, err)
			}
			d.peers[id] = true
		}
	}
	return d, nil
}

// DeniesPeer reports whether p is on the list.
func (d *DenyList) DeniesPeer(p peer.ID) bool { return d != nil && d.peers[p] }

// DeniesAddr reports whether a matches a multiaddr prefix or its IP lies in
// a denied range.
func (d *DenyList) DeniesAddr(a ma.Multiaddr) bool {
	if d == nil || a == nil {
		return false
	}
	s := a.String()
	for _, p := range d.prefixes {
		if strings.HasPrefix(s, p) && (len(s) == len(p) || s[len(p)] == '/') {
			return true
		}
	}
	if len(d.nets) > 0 {
		if ip, err := manet.ToIP(a); err == nil {
			for _, n := range d.nets {
				if n.Contains(ip) {
					return true
				}
			}
		}
	}
	return false
}

// Gater is the host's connection gater: it refuses peers and addresses on
// the deny list, in both directions, and peers the stream limiter has put
// in a cool-down (see Limiter).
type Gater struct {
	deny    *DenyList
	limiter *Limiter // nil: no cool-downs
}

var _ connmgr.ConnectionGater = (*Gater)(nil)

// NewGater returns a gater over deny and, when limiter is not nil, its
// cool-downs.
func NewGater(deny *DenyList, limiter *Limiter) *Gater {
	return &Gater{deny: deny, limiter: limiter}
}

func (g *Gater) refusesPeer(p peer.ID) bool {
	return g.deny.DeniesPeer(p) || (g.limiter != nil && g.limiter.CoolingDown(p))
}

// InterceptPeerDial refuses to dial a denied or cooling-down peer.
func (g *Gater) InterceptPeerDial(p peer.ID) bool { return !g.refusesPeer(p) }

// InterceptAddrDial refuses to dial a denied address.
func (g *Gater) InterceptAddrDial(p peer.ID, a ma.Multiaddr) bool {
	return !g.refusesPeer(p) && !g.deny.DeniesAddr(a)
}

// InterceptAccept refuses an inbound connection from a denied address
// before any handshake.
func (g *Gater) InterceptAccept(c network.ConnMultiaddrs) bool {
	return !g.deny.DeniesAddr(c.RemoteMultiaddr())
}

// InterceptSecured refuses a connection, either way, once the handshake has
// proved a denied or cooling-down peer ID.
func (g *Gater) InterceptSecured(_ network.Direction, p peer.ID, c network.ConnMultiaddrs) bool {
	return !g.refusesPeer(p) && !g.deny.DeniesAddr(c.RemoteMultiaddr())
}

// InterceptUpgraded allows every connection that got this far.
func (g *Gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) { return true, 0 }
