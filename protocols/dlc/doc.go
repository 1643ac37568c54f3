// Package dlc holds Discreet Log Contract messages as data, in the dlcspecs
// wire format: each message type has an encoder, a decoder and a maximum
// size. Streams and negotiation state live elsewhere; dlc never imports
// node, p2p or chain.
//
// Status: the package is a placeholder until issue 7 lands it.
package dlc
