// Package server serves a dwn.Processor with dwn-server 0.6.1's HTTP and
// WebSocket API, so that web5-js clients (HttpDwnRpcClient, the sync engine,
// WebSocket subscriptions) talk to the node as to the reference server.
//
// A Server is an http.Handler for the paths the node does not serve itself
// (it keeps /health, /info and /metrics, merging InfoFields into /info):
//
//   - POST /: one JSON-RPC 2.0 request in the dwn-request header; record
//     data, if any, is the raw body, streamed into ProcessOptions.Data and
//     cut at Options.MaxDataSize. A reply with data comes back as the body,
//     with the whole JSON-RPC response in the dwn-response header.
//   - GET / with an Upgrade: the WebSocket API, one JSON-RPC request per
//     frame, with rpc.subscribe.dwn.processMessage and rpc.subscribe.close
//     for live subscriptions; closing the socket closes them.
//   - GET / otherwise: a plain-text banner.
//   - GET /{did}/records/{id}, /{did}/read/records/{id}, /{did}/query,
//     /{did}/query/protocols, /{did}/read/protocols/{b64url}[/{path}]:
//     anonymous reads built from the URL.
//
// HTTP statuses of POST / follow the reference (200 whenever the DWN
// replied, whatever its code; 400 for a missing or unparsable dwn-request;
// 500 for every other JSON-RPC error), and answer where the reference does
// not: an unknown method gets -32601 with 500, an rpc.subscribe.close
// without params is answered, and a message or data over its limit gets 413
// with -50400 naming the limit.
//
// The package knows nothing of the DWN's rules: it checks only what it must
// to route a request (method, params.target, descriptor interface and
// method), and leaves every other check to the Processor.
package server
