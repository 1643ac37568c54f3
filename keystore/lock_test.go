//go:build unix

package keystore

import (
	"bufio"
	"os"
	"os/exec"
	"testing"
	"time"
)

const envHoldLock = "ANYA_KEYSTORE_TEST_HOLD_LOCK"

// TestHelperHoldLock is not a test: TestLockAcrossProcesses runs the test
// binary with it to hold a store open in another process.
func TestHelperHoldLock(t *testing.T) {
	dir := os.Getenv(envHoldLock)
	if dir == "" {
		t.Skip("helper process only")
	}
	s, err := OpenSoftware(dir, nil, SoftwareOptions{Unencrypted: true})
	if err != nil {
		os.Stdout.WriteString("error: " + err.Error() + "\n")
		os.Exit(2)
	}
	defer s.Close()
	os.Stdout.WriteString("locked\n")
	time.Sleep(time.Minute) // killed by the parent
}

func TestLockAcrossProcesses(t *testing.T) {
	dir := storeWithKeys(t, SoftwareOptions{Unencrypted: true})
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperHoldLock$")
	cmd.Env = append(os.Environ(), envHoldLock+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "locked\n" {
		t.Fatalf("helper said %q, %v", line, err)
	}
	_, err = OpenSoftware(dir, nil, SoftwareOptions{Unencrypted: true})
	wantErr(t, err, ErrLocked)

	// A crashed holder releases the lock.
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	mustOpen(t, dir, nil, SoftwareOptions{Unencrypted: true})
}
