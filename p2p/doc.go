// Package p2p owns Anya's libp2p host and what runs on it.
//
//   - The host (host.go, identity.go): its identity is an Ed25519 key held by
//     the keystore, never exported; TCP and QUIC, listed explicitly; TLS
//     (preferred: cheaper per byte, and no identity signature per handshake)
//     and noise (what js-libp2p speaks); yamux; resource and connection
//     limits, a deny list and per-peer stream rate limits from config.
//   - Framing (frame.go): every Anya protocol sends unsigned-varint
//     length-prefixed frames with a per-protocol maximum, so no handler
//     waits for the end of a stream.
//   - DID records (didrecord.go, validator.go, dht.go): a private Kademlia
//     DHT (protocol prefix /anya, namespace did) maps a DID to the peer that
//     serves it. Records are signed by a verification method of the DID,
//     carry a sequence number and an expiry, are validated on write and
//     again on read, and the highest valid sequence wins. DHT.Keep
//     republishes a node's record before it expires.
//   - Gossip (gossip.go): gossipsub with signed messages, size limits,
//     flood limits and per-topic validators; the oracle protocol registers
//     its validator on /anya/oracle/announcements/1.
//
// Protocol packages never import p2p: they define messages as data, and p2p
// frames them on streams.
package p2p
