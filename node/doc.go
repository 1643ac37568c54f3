// Package node wires an Anya node together and runs it.
//
// It owns the data directory (config, keystore, datastore, admin token), the
// typed configuration tree whose sections belong to their packages, the
// lifecycle (subsystems start in dependency order and stop in reverse, with a
// cleanup stack that unwinds on a failed start), the HTTP API with its
// Prometheus metrics, and the operations the CLI performs either through a
// running node's API or offline on the data directory.
//
// node may import every other package; no other package imports node.
package node
