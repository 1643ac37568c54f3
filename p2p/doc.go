// Package p2p owns Anya's libp2p host: its identity (an Ed25519 key held by
// the keystore, never exported), the transports it listens on (TCP and QUIC,
// listed explicitly), the security handshakes (noise and TLS), the stream
// multiplexer (yamux), and the resource and connection limits that bound what
// peers can make it spend.
//
// Later layers (DHT records of DIDs, DWN streams, gossip) build on the
// host.Host returned by NewHost. Protocol packages never import p2p: they
// define messages as data, and p2p frames them on streams.
package p2p
