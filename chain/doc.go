// Package chain anchors and settles on Bitcoin: script verification with
// btcd's engine, Taproot, and a JSON-RPC client for Bitcoin Core or btcd.
//
// Status: the package is a placeholder until issue 5 lands it.
package chain
