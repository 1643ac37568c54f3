// Package oracle holds DLC oracle announcements and attestations as data
// (dlcspecs wire format), for a node that runs as an oracle and for peers
// that gossip its announcements.
//
// Status: the package is a placeholder until issue 7 lands it.
package oracle
