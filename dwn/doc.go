// Package dwn is the node's Decentralized Web Node: message-compatible with
// the DIF reference (dwn-sdk-js 0.5.2), stored in the node's datastore, and
// served over HTTP JSON-RPC and libp2p streams by the packages that own
// those transports. It depends on did for signature verification and never
// imports node, p2p or cmd.
//
// Status: the package is a placeholder until issue 3 lands its handlers.
package dwn
