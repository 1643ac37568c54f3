// Package conformance_test checks Anya's did package against @web5/dids
// 1.2.0, the DID library the DWN reference verifies signatures with.
//
// gen.mjs (Node) creates did:key and did:jwk DIDs with @web5/dids and writes
// their resolution results, plus those of invalid DIDs, to a JSON file; the
// test resolves the same DIDs with did.NewRegistry and requires identical
// documents and resolution results, the same error codes, and the same DID
// strings from did.NewKey / did.NewJWK for the same public keys.
//
// Setup: `npm ci` in conformance/did (package.json and package-lock.json pin
// @web5/dids 1.2.0). Environment:
//
//	ANYA_CONFORMANCE_NODE     the node binary to run (default "node" on PATH)
//	ANYA_REQUIRE_CONFORMANCE  "1": fail instead of skipping when Node or
//	                          node_modules is missing
//	ANYA_CONFORMANCE_N        DIDs generated per kind (default 10)
package conformance_test
