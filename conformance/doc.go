// Package conformance holds the tests that check Anya against someone
// else's code or vectors: each subdirectory is one area (conformance/did
// runs @web5/dids from npm), with upstream data copied into its testdata/
// beside a SOURCE note. Tests here never read ../shared.
package conformance
