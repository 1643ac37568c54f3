package dwn

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// killedWriterEnv makes the test binary a process that starts writing record
// data and never finishes: the parent kills it mid-write.
const killedWriterEnv = "ANYA_TEST_DWN_DATA_WRITER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(killedWriterEnv); dir != "" {
		db, err := pebble.Open(dir, &pebble.Options{Logger: quietLogger{}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		data := NewPebbleDataStore(db)
		r := io.MultiReader(bytes.NewReader(bytes.Repeat([]byte{7}, 40<<20)), stallAfterSignal{})
		data.Put(ctx, "t", "rec", "cid", r, 0)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// stallAfterSignal tells the parent that 40 MiB were handed over, then blocks.
type stallAfterSignal struct{}

func (stallAfterSignal) Read([]byte) (int, error) {
	fmt.Println("written")
	select {}
}

// A process killed in the middle of writing record data leaves nothing
// visible after restart.
func TestDataKilledMidWriteIsInvisible(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), killedWriterEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Reading blocks until the writer has handed over 40 MiB (or died).
	line, _ := bufio.NewReader(out).ReadString('\n')
	if strings.TrimSpace(line) != "written" {
		cmd.Process.Kill()
		t.Fatalf("writer never reached the middle of its write (said %q)", line)
	}
	cmd.Process.Kill()
	cmd.Wait()

	db := openPebble(t, dir)
	defer db.Close()
	data := NewPebbleDataStore(db)
	if _, _, err := data.Get(ctx, "t", "rec", "cid"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("half-written data is visible after a kill: %v", err)
	}
	// The same key can be written afterwards, and the orphans are gone.
	if _, err := data.Put(ctx, "t", "rec", "cid", strings.NewReader("whole"), 0); err != nil {
		t.Fatal(err)
	}
	rc, _, err := data.Get(ctx, "t", "rec", "cid")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if b, _ := io.ReadAll(rc); string(b) != "whole" {
		t.Fatalf("rewritten data reads %q", b)
	}
}
