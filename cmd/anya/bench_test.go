package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkStartToHealth measures the binary's start, with an existing data
// directory, until /health answers; it also reports the idle daemon's RSS.
func BenchmarkStartToHealth(b *testing.B) {
	data := filepath.Join(b.TempDir(), "node")
	env := []string{pass}
	startDaemon(b, data, env).stop(b)
	var rssMB float64
	b.ResetTimer()
	for range b.N {
		d := startDaemon(b, data, env)
		b.StopTimer()
		rssMB = idleRSS(b, d.cmd.Process.Pid)
		d.stop(b)
		b.StartTimer()
	}
	b.ReportMetric(rssMB, "idle-RSS-MB")
}

func (d *daemon) stop(t testing.TB) {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(20 * time.Second):
		t.Fatalf("daemon did not stop")
	}
}

// idleRSS lets the daemon settle, then reads its resident set size.
func idleRSS(t testing.TB, pid int) float64 {
	// Idle means idle for a while: this measures memory after start-up
	// settles; it waits on no state, so it sleeps.
	time.Sleep(2 * time.Second)
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return float64(kb) / 1024
		}
	}
	t.Fatal("no VmRSS")
	return 0
}
