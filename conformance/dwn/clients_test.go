package conformance_test

import (
	"errors"
	"os"
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
	harness, err := filepath.Abs("harness")
	if err != nil {
		t.Fatal(err)
	}
	nodeBin := os.Getenv("ANYA_CONFORMANCE_NODE")
	if nodeBin == "" {
		nodeBin = "node"
	}
	for _, pkg := range []string{"@web5/agent", "@web5/api", "ws"} {
		if _, err := os.Stat(filepath.Join(harness, "node_modules", pkg)); err != nil {
			if os.Getenv("ANYA_REQUIRE_CONFORMANCE") == "1" {
				t.Fatalf("harness/node_modules/%s is missing (run make test-deps): %v", pkg, err)
			}
			t.Skipf("harness/node_modules/%s is missing; run `make test-deps` (ANYA_REQUIRE_CONFORMANCE=1 makes this a failure)", pkg)
		}
	}
	work := t.TempDir()
	bin := filepath.Join(work, "anya")
	build := exec.Command("go", "build", "-o", bin, "github.com/anya-org/anya/cmd/anya")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build anya: %v\n%s", err, out)
	}

	// The clients make fresh DIDs every run (did:key personas, and a did:jwk
	// identity inside the web5 agent), so the node serves any tenant.
	data := filepath.Join(work, "node")
	daemon := exec.Command(bin, "--data", data, "daemon", "--api-addr", "127.0.0.1:0",
		"--p2p-listen", "/ip4/127.0.0.1/tcp/0", "--dwn-tenants", "*")
	daemon.Env = append(os.Environ(), "ANYA_PASSPHRASE=conformance", "ANYA_LOG_LEVEL=warn")
	logs, err := os.Create(filepath.Join(work, "daemon.log"))
	if err != nil {
		t.Fatal(err)
	}
	daemon.Stdout, daemon.Stderr = logs, logs
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		daemon.Process.Kill()
		daemon.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(logs.Name())
			t.Logf("daemon log:\n%s", b)
		}
	})
	url := waitHealthy(t, data)

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
