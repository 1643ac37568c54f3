// Package rgb issues and transfers RGB assets (NIA schema, rgb-protocol
// 0.11.1 line) and encodes the consignments nodes exchange peer to peer.
//
// Status: the package is a placeholder until issue 8 lands it.
package rgb
