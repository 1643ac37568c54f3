package conformance_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestReferenceClients shows that an app built on the reference SDK works
// against the node: harness/sdk-clients.mjs drives a real anya daemon with
// the web5-js client classes an app uses (@web5/agent 0.8.1's
// Web5RpcClient over HTTP and WebSocket, and @web5/api 0.12.0's Web5 /
// DwnApi on a Web5UserAgent whose identity names the node as its DWN
// endpoint): configure a protocol, subscribe, write, query, read, update,
// sync-read, delete and close, asserting each step. It runs offline.
func TestReferenceClients(t *testing.T) {
	harness, nodeBin := harnessSetup(t, "@web5/agent", "@web5/api", "ws")
	work := t.TempDir()
	// The clients make fresh DIDs every run (did:key personas, and a did:jwk
	// identity inside the web5 agent), so the node serves any tenant.
	url := startAnya(t, work, nil, "--dwn-tenants", "*")

	cmd := exec.Command(nodeBin, "sdk-clients.mjs", "--url", url, "--data", filepath.Join(work, "agent"))
	cmd.Dir = harness
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run sdk-clients.mjs: %v\n%s", err, out)
	}
	t.Logf("sdk-clients: %s", lastLine(string(out)))
	if err != nil {
		t.Errorf("the reference clients failed against the node:\n%s", tail(string(out), 80))
	}
}
