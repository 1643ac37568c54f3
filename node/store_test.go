package node

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	ds "github.com/ipfs/go-datastore"
)

// writerEnv makes the test binary act as a writer process: it writes keys
// one after another and prints "ack N" after each Put returns.
const writerEnv = "ANYA_TEST_DATASTORE_WRITER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(writerEnv); dir != "" {
		os.Exit(runWriter(dir))
	}
	os.Exit(m.Run())
}

func runWriter(dir string) int {
	store, err := OpenDatastore(dir, DefaultConfig().Storage)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := 0; ; i++ {
		if err := store.Put(context.Background(), ds.NewKey(fmt.Sprintf("/k/%08d", i)), []byte(strconv.Itoa(i))); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Printf("ack %d\n", i)
	}
}

// An acknowledged write survives the writer being killed with SIGKILL.
func TestAcknowledgedWritesSurviveKill(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), writerEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := -1
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		n, err := strconv.Atoi(strings.TrimPrefix(lines.Text(), "ack "))
		if err != nil {
			t.Fatalf("writer said %q", lines.Text())
		}
		acked = n
		if acked >= 300 {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if acked < 300 {
		t.Fatalf("writer stopped after %d acks", acked)
	}

	store, err := OpenDatastore(dir, DefaultConfig().Storage)
	if err != nil {
		t.Fatalf("reopen after SIGKILL: %v", err)
	}
	defer store.Close()
	for i := 0; i <= acked; i++ {
		v, err := store.Get(context.Background(), ds.NewKey(fmt.Sprintf("/k/%08d", i)))
		if err != nil {
			t.Fatalf("acknowledged key %d of %d lost after SIGKILL: %v", i, acked, err)
		}
		if string(v) != strconv.Itoa(i) {
			t.Fatalf("key %d holds %q", i, v)
		}
	}
}
