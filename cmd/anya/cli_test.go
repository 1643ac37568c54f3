package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// anyaBin is the binary under test, built once by TestMain.
var anyaBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "anya-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	anyaBin = filepath.Join(dir, "anya")
	build := exec.Command("go", "build", "-o", anyaBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build anya:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// anya runs the binary with a clean environment plus env.
func anya(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(anyaBin, args...)
	cmd.Env = append([]string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH")}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run anya %v: %v", args, err)
	}
	return result{out.String(), errb.String(), code}
}

var pass = "ANYA_PASSPHRASE=cli test passphrase"

func TestInitIDAndResolveOffline(t *testing.T) {
	data := filepath.Join(t.TempDir(), "node")
	r := anya(t, []string{pass}, "--data", data, "init")
	if r.code != 0 {
		t.Fatalf("init: %+v", r)
	}
	r = anya(t, nil, "--data", data, "id", "--json")
	var id struct{ DID, PeerID string }
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &id) != nil || !strings.HasPrefix(id.DID, "did:key:z6Mk") || id.PeerID == "" {
		t.Fatalf("id --json without passphrase: %+v", r)
	}
	if r := anya(t, []string{pass}, "--data", data, "init"); r.code == 0 || !strings.Contains(r.stderr, "already initialised") {
		t.Fatalf("second init must refuse: %+v", r)
	}

	r = anya(t, nil, "did", "resolve", id.DID, "--json")
	var res struct {
		DIDDocument struct{ ID string } `json:"didDocument"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || res.DIDDocument.ID != id.DID {
		t.Fatalf("did resolve: %+v", r)
	}

	r = anya(t, []string{pass}, "--data", data, "did", "create", "--method", "jwk", "--curve", "p256")
	created := strings.TrimSpace(r.stdout)
	if r.code != 0 || !strings.HasPrefix(created, "did:jwk:") {
		t.Fatalf("offline did create: %+v", r)
	}
	if r := anya(t, nil, "did", "resolve", created); r.code != 0 || !strings.Contains(r.stdout, `"crv": "P-256"`) {
		t.Fatalf("resolve created did:jwk: %+v", r)
	}
}

func TestBadInputExitCodes(t *testing.T) {
	cases := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"invalid did", nil, []string{"did", "resolve", "did:key:abc"}, 1, "invalidDid"},
		{"unsupported method", nil, []string{"did", "resolve", "did:example:123"}, 1, "methodNotSupported"},
		{"unknown flag", nil, []string{"daemon", "--no-such-flag"}, 2, "no-such-flag"},
		{"missing argument", nil, []string{"did", "resolve"}, 2, "arg"},
		{"bad flag value", []string{pass}, []string{"daemon", "--api-addr", "nope"}, 2, "api.addr"},
		{"bad env value", []string{pass, "ANYA_LOG_LEVEL=shouty"}, []string{"daemon"}, 2, "log.level"},
		{"bad curve", []string{pass}, []string{"did", "create", "--curve", "ed448"}, 2, "ed448"},
		{"id before init", nil, []string{"id"}, 1, "anya init"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--data", filepath.Join(t.TempDir(), "d")}, tc.args...)
			r := anya(t, tc.env, args...)
			if r.code != tc.code || !strings.Contains(r.stderr+r.stdout, tc.want) {
				t.Fatalf("exit %d, want %d naming %q; stderr: %s stdout: %s", r.code, tc.code, tc.want, r.stderr, r.stdout)
			}
		})
	}
}

// daemon starts `anya daemon` and waits until /health answers.
type daemon struct {
	cmd  *exec.Cmd
	api  string
	logs *bytes.Buffer
	done chan error
}

func startDaemon(t testing.TB, data string, env []string) *daemon {
	t.Helper()
	cmd := exec.Command(anyaBin, "--data", data, "daemon", "--api-addr", "127.0.0.1:0",
		"--p2p-listen", "/ip4/127.0.0.1/tcp/0,/ip4/127.0.0.1/udp/0/quic-v1")
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH")}, env...)
	logs := &bytes.Buffer{}
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, logs: logs, done: make(chan error, 1)}
	copied := make(chan struct{})
	go func() { io.Copy(logs, stderr); close(copied) }()
	go func() { <-copied; d.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	addrFile := filepath.Join(data, "api.addr")
	deadline := time.Now().Add(20 * time.Second)
	for {
		if b, err := os.ReadFile(addrFile); err == nil {
			d.api = "http://" + strings.TrimSpace(string(b))
			if resp, err := http.Get(d.api + "/health"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return d
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("daemon did not become healthy; logs:\n%s", logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestDaemonLifecycle(t *testing.T) {
	data := filepath.Join(t.TempDir(), "node")
	d := startDaemon(t, data, []string{pass})

	resp, err := http.Get(d.api + "/info")
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		DID, PeerID string
		Addrs       []string
	}
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	if !strings.HasPrefix(info.DID, "did:key:z6Mk") {
		t.Fatalf("/info did = %q", info.DID)
	}

	r := anya(t, nil, "--data", data, "status", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, info.DID) {
		t.Fatalf("status through the API: %+v", r)
	}
	r = anya(t, nil, "--data", data, "did", "create", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, "did:key:z6Mk") {
		t.Fatalf("did create through the running node: %+v", r)
	}

	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		if err != nil {
			t.Fatalf("daemon exit after SIGTERM: %v\n%s", err, d.logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("daemon did not stop after SIGTERM")
	}
	logs := d.logs.String()
	for _, want := range []string{info.DID, info.PeerID, "node started", "node stopping"} {
		if !strings.Contains(logs, want) {
			t.Errorf("daemon logs lack %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "cli test passphrase") {
		t.Fatalf("the passphrase appears in the logs")
	}
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		if strings.Contains(sc.Text(), "level=ERROR") {
			t.Errorf("error logged during a clean run: %s", sc.Text())
		}
	}
	if _, err := os.Stat(filepath.Join(data, "api.addr")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("api.addr not removed on shutdown")
	}
}

// anya find works across separately started daemons joined by --bootstrap.
func TestFindAcrossDaemons(t *testing.T) {
	dataA, dataB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	a := startDaemon(t, dataA, []string{pass})
	defer a.stop(t)
	infoA := a.info(t)
	b := startDaemon(t, dataB, []string{pass, "ANYA_P2P_BOOTSTRAP=" + infoA.Addrs[0]})
	defer b.stop(t)

	deadline := time.Now().Add(60 * time.Second)
	for {
		r := anya(t, nil, "--data", dataB, "find", infoA.DID, "--json")
		if r.code == 0 {
			var found struct{ DID, PeerID string }
			if err := json.Unmarshal([]byte(r.stdout), &found); err != nil || found.DID != infoA.DID || found.PeerID == "" {
				t.Fatalf("find printed %q", r.stdout)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("anya find never found %s: %s", infoA.DID, r.stderr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if r := anya(t, nil, "--data", dataB, "find", "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"); r.code == 0 {
		t.Fatalf("find succeeded for an unpublished DID: %s", r.stdout)
	}
}

// daemonInfo is what a daemon's /info says of it.
type daemonInfo struct {
	DID   string
	Addrs []string // dialable, TCP and QUIC (see startDaemon)
}

func (d *daemon) info(t testing.TB) daemonInfo {
	t.Helper()
	resp, err := http.Get(d.api + "/info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info daemonInfo
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info.DID == "" || len(info.Addrs) == 0 {
		t.Fatalf("/info: %+v %v", info, err)
	}
	return info
}
