package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/dwn"
	"github.com/anya-org/anya/keystore"
)

// A daemon killed with SIGKILL while a record's data streams in leaves no
// half-written record: after restart the record is not there, and the same
// write succeeds.
func TestDWNWriteKilledMidStreamLeavesNothing(t *testing.T) {
	ks, err := keystore.CreateSoftware(t.TempDir(), []byte("p"), keystore.SoftwareOptions{KDF: keystore.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	signer, err := ks.Create("alice", keystore.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	alice, err := did.NewKey(signer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	author := dwn.KeyAuthor(alice, signer)
	data := bytes.Repeat([]byte("0123456789abcdef"), 2<<20) // 32 MiB
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	msg, err := dwn.NewRecordsWrite(author, dwn.RecordsWriteOptions{Data: data, DataFormat: "application/octet-stream", Schema: "https://example.com/blob", DateCreated: now, MessageTimestamp: now})
	if err != nil {
		t.Fatal(err)
	}
	var fields struct {
		RecordID string `json:"recordId"`
	}
	json.Unmarshal(msg, &fields)

	datadir := t.TempDir() + "/node"
	env := []string{pass, "ANYA_DWN_TENANTS=" + alice}
	d := startDaemon(t, datadir, env)

	// Send half the data, wait until the daemon has read it, then kill it.
	pr, pw := io.Pipe()
	sent := make(chan error, 1)
	go func() {
		req, _ := http.NewRequest("POST", d.api+"/", pr)
		req.Header.Set("dwn-request", rpcRequest(alice, msg))
		req.Header.Set("Content-Type", "application/octet-stream")
		req.ContentLength = int64(len(data))
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		sent <- err
	}()
	// Write returns once the client has taken the bytes; all but what the
	// socket buffers hold has then reached the daemon.
	if _, err := pw.Write(data[:len(data)/2]); err != nil {
		t.Fatal(err)
	}
	d.cmd.Process.Kill()
	<-d.done
	pw.CloseWithError(io.ErrClosedPipe)
	<-sent

	d = startDaemon(t, datadir, env)
	defer d.stop(t)
	read, err := dwn.NewRecordsRead(&author, fields.RecordID, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if code := post(t, d.api, rpcRequest(alice, read), nil); code != 404 {
		t.Fatalf("after a kill mid-write, RecordsRead = %d, want 404", code)
	}
	if code := post(t, d.api, rpcRequest(alice, msg), data); code != 202 {
		t.Fatalf("writing the record again = %d, want 202", code)
	}
	if code := post(t, d.api, rpcRequest(alice, read), nil); code != 200 {
		t.Fatalf("RecordsRead after the rewrite = %d, want 200", code)
	}
}

func rpcRequest(target string, msg json.RawMessage) string {
	return fmt.Sprintf(`{"jsonrpc":"2.0","id":"1","method":"dwn.processMessage","params":{"target":%q,"message":%s}}`, target, msg)
}

// post sends one DWN message (with data when not nil) and returns the DWN
// status code of the reply.
func post(t *testing.T, api, request string, data []byte) int {
	t.Helper()
	req, _ := http.NewRequest("POST", api+"/", bytes.NewReader(data))
	req.Header.Set("dwn-request", request)
	if data != nil {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	reply := resp.Header.Get("dwn-response")
	if reply == "" {
		b, _ := io.ReadAll(resp.Body)
		reply = string(b)
	}
	var r struct {
		Result struct {
			Reply struct {
				Status struct{ Code int } `json:"status"`
			} `json:"reply"`
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(reply), &r); err != nil {
		t.Fatalf("reply %q: %v", strings.TrimSpace(reply), err)
	}
	return r.Result.Reply.Status.Code
}
