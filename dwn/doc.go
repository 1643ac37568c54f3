// Package dwn is the node's Decentralized Web Node, message-compatible with
// the DIF reference (dwn-sdk-js 0.5.2).
//
// It holds the message model (canonical DAG-CBOR CIDs, UnixFS dataCids,
// General JWS authorization verified through did), the stores behind
// interfaces (MessageStore, EventLog, DataStore; the embedded ones run on
// the node's pebble database with order-preserving secondary indexes, so a
// query reads about as many index entries as it returns), and the Processor
// the transports call. Transports live elsewhere: dwn/server speaks
// dwn-server 0.6.1's HTTP JSON-RPC and WebSocket API. dwn never imports
// node, p2p or cmd.
package dwn
