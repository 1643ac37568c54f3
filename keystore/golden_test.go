package keystore

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestGoldenV1 pins the version-1 file format: a store built from fixed
// randomness and time must encode to the bytes in testdata, and those
// bytes must keep opening to the same keys and BIP-32 master key.
func TestGoldenV1(t *testing.T) {
	for _, tc := range []struct {
		name  string
		unenc bool
	}{{"v1-encrypted", false}, {"v1-unencrypted", true}} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			opts := SoftwareOptions{Unencrypted: tc.unenc, KDF: cheapKDF, Rand: detRand(42), Now: func() time.Time { return now }}
			dir := storeWithKeys(t, opts)
			got, err := os.ReadFile(filepath.Join(dir, fileName))
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", tc.name+".json")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create)", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encoding changed from %s:\n%s", golden, got)
			}

			// Open a copy of the golden file, not the fresh store.
			gdir := filepath.Join(t.TempDir(), "ks")
			if err := os.Mkdir(gdir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(gdir, fileName), want, 0o600); err != nil {
				t.Fatal(err)
			}
			pass := testPass
			if tc.unenc {
				pass = nil
			}
			g := mustOpen(t, gdir, pass, SoftwareOptions{Unencrypted: tc.unenc})
			f := mustOpen(t, dir, pass, SoftwareOptions{Unencrypted: tc.unenc})
			gl, fl := g.List(), f.List()
			if len(gl) != 3 {
				t.Fatalf("golden store has %d keys", len(gl))
			}
			for i := range gl {
				if gl[i].ID != fl[i].ID || !bytes.Equal(gl[i].PublicKey, fl[i].PublicKey) || !gl[i].Created.Equal(now) {
					t.Fatalf("golden key %+v, fresh key %+v", gl[i], fl[i])
				}
				sg := mustSigner(t, g, gl[i].ID)
				sig, err := sg.Sign([]byte("golden"))
				if err != nil || !verify(t, sg, []byte("golden"), sig) {
					t.Fatalf("golden key %s cannot sign: %v", gl[i].ID, err)
				}
			}
			gm, err := g.MasterKey(&chaincfg.MainNetParams)
			if err != nil {
				t.Fatal(err)
			}
			fm, err := f.MasterKey(&chaincfg.MainNetParams)
			if err != nil {
				t.Fatal(err)
			}
			if gm.String() != fm.String() {
				t.Fatal("golden master key differs")
			}
		})
	}
}
