package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestBenchP2PCommand runs `anya bench p2p` with tiny sizes (the command is
// not yet under `anya bench`, so it runs on its own).
func TestBenchP2PCommand(t *testing.T) {
	c := benchP2PCommand()
	var out bytes.Buffer
	c.SetOut(&out)
	c.SetErr(&bytes.Buffer{})
	c.SetArgs([]string{"--mib", "1", "--echoes", "20", "--dht-nodes", "3", "--lookups", "3"})
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"raw tcp", "tcp+tls+yamux", "quic-v1", "dht find", "sync throughput: not measured"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
