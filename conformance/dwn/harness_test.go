package conformance_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/anya-org/anya/dwn/pgstore/pgtest"
)

// TestDifferentialHarness runs the dwn-sdk-js 0.5.2 differential harness
// (harness/, 300+ scenarios) against a real anya daemon, once on the
// embedded store and once on PostgreSQL: every message goes both to the
// SDK's in-process Dwn and to the node, and the replies must agree.
// Scenarios listed in expected-failures.txt are known gaps: they must fail
// (so the list shrinks as the DWN grows), every other must pass.
func TestDifferentialHarness(t *testing.T) {
	t.Run("embedded", func(t *testing.T) { runHarness(t, "") })
	t.Run("postgres", func(t *testing.T) { runHarness(t, pgtest.FreshDatabase(t)) })
}

// runHarness runs the harness against a daemon whose DWN uses store ("":
// the embedded one).
func runHarness(t *testing.T, store string) {
	harness, nodeBin := harnessSetup(t, "@tbd54566975/dwn-sdk-js")
	work := t.TempDir()

	tenantsFile := filepath.Join(work, "tenants.txt")
	run(t, harness, nodeBin, "run.mjs", "--write-tenants", tenantsFile)
	tenants, err := os.ReadFile(tenantsFile)
	if err != nil {
		t.Fatal(err)
	}

	url := startAnya(t, work, []string{"ANYA_DWN_STORE=" + store},
		"--dwn-tenants", strings.Join(strings.Fields(string(tenants)), ","))

	results := filepath.Join(work, "results.json")
	cmd := exec.Command(nodeBin, "run.mjs", "--url", url, "--tenants-file", tenantsFile, "--out", results)
	cmd.Dir = harness
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("run harness: %v\n%s", err, out)
	}
	summary := lastLine(string(out))
	t.Logf("harness: %s", summary)

	var res struct {
		Scenarios []struct {
			Name   string `json:"name"`
			Status string `json:"status"`
		} `json:"scenarios"`
	}
	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatalf("harness wrote no results (%v):\n%s", err, out)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Scenarios) < 150 {
		t.Fatalf("harness ran %d scenarios, want at least 150", len(res.Scenarios))
	}
	expected := expectedFailures(t)
	var unexpected, fixed []string
	failed := 0
	for _, s := range res.Scenarios {
		known := expected[s.Name]
		delete(expected, s.Name)
		switch {
		case s.Status == "fail" && !known:
			unexpected = append(unexpected, s.Name)
		case s.Status == "pass" && known:
			fixed = append(fixed, s.Name)
		}
		if s.Status == "fail" {
			failed++
		}
	}
	t.Logf("%d scenarios, %d failing, %d of them listed in expected-failures.txt", len(res.Scenarios), failed, failed-len(unexpected))
	if len(unexpected) > 0 {
		t.Errorf("%d scenarios fail against the SDK that are not known gaps (details in the harness output):\n  %s", len(unexpected), strings.Join(unexpected, "\n  "))
	}
	if len(fixed) > 0 {
		t.Errorf("%d scenarios listed in expected-failures.txt now pass; remove them from the list:\n  %s", len(fixed), strings.Join(fixed, "\n  "))
	}
	if len(expected) > 0 {
		stale := slices.Sorted(func(yield func(string) bool) {
			for k := range expected {
				if !yield(k) {
					return
				}
			}
		})
		t.Errorf("expected-failures.txt names scenarios the harness does not have:\n  %s", strings.Join(stale, "\n  "))
	}
	if t.Failed() {
		t.Logf("harness output (tail):\n%s", tail(string(out), 200))
	}
}

func run(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

// waitHealthy polls until the daemon has written its API address and
// answers /health.
func waitHealthy(t *testing.T, data string) string {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if b, err := os.ReadFile(filepath.Join(data, "api.addr")); err == nil {
			url := "http://" + strings.TrimSpace(string(b))
			if resp, err := http.Get(url + "/health"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return url
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("anya daemon did not become healthy")
	return ""
}

// expectedFailures reads expected-failures.txt: one scenario name a line,
// # comments allowed.
func expectedFailures(t *testing.T) map[string]bool {
	f, err := os.Open("expected-failures.txt")
	if errors.Is(err, os.ErrNotExist) {
		return map[string]bool{}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			out[line] = true
		}
	}
	return out
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
