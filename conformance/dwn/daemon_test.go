package conformance_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// harnessSetup checks that the harness's npm packages are installed and
// returns the harness directory and the node binary to run it with. Without
// them the test skips, or fails when ANYA_REQUIRE_CONFORMANCE=1.
func harnessSetup(t *testing.T, packages ...string) (dir, nodeBin string) {
	t.Helper()
	dir, err := filepath.Abs("harness")
	if err != nil {
		t.Fatal(err)
	}
	nodeBin = os.Getenv("ANYA_CONFORMANCE_NODE")
	if nodeBin == "" {
		nodeBin = "node"
	}
	for _, pkg := range packages {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg)); err != nil {
			if os.Getenv("ANYA_REQUIRE_CONFORMANCE") == "1" {
				t.Fatalf("harness/node_modules/%s is missing (run make test-deps): %v", pkg, err)
			}
			t.Skipf("harness/node_modules/%s is missing; run `make test-deps` (ANYA_REQUIRE_CONFORMANCE=1 makes this a failure)", pkg)
		}
	}
	return dir, nodeBin
}

// startAnya builds anya into work, starts `anya daemon` on loopback with the
// extra arguments and environment, and returns its API URL once /health
// answers. The daemon is killed when the test ends; its log is shown if the
// test failed.
func startAnya(t *testing.T, work string, env []string, args ...string) string {
	t.Helper()
	bin := filepath.Join(work, "anya")
	build := exec.Command("go", "build", "-o", bin, "github.com/anya-org/anya/cmd/anya")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build anya: %v\n%s", err, out)
	}
	data := filepath.Join(work, "node")
	daemon := exec.Command(bin, append([]string{"--data", data, "daemon", "--api-addr", "127.0.0.1:0",
		"--p2p-listen", "/ip4/127.0.0.1/tcp/0"}, args...)...)
	daemon.Env = append(append(os.Environ(), "ANYA_PASSPHRASE=conformance", "ANYA_LOG_LEVEL=warn"), env...)
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
	return waitHealthy(t, data)
}
