package keystore

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseKeyType(t *testing.T) {
	for in, want := range map[string]KeyType{
		"ed25519": Ed25519, "secp256k1": Secp256k1, "p256": P256, "p-256": P256, "P-256": P256, "Ed25519": Ed25519,
	} {
		got, err := ParseKeyType(in)
		if err != nil || got != want {
			t.Fatalf("ParseKeyType(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "rsa", "p384", "secp256r1"} {
		_, err := ParseKeyType(in)
		if err == nil || !strings.Contains(err.Error(), `"`+in+`"`) {
			t.Fatalf("ParseKeyType(%q) error %v should name the value", in, err)
		}
	}
}

func TestValidateID(t *testing.T) {
	for _, id := range []string{"a", "node", "Node-1.key_2", strings.Repeat("z", 64)} {
		if err := ValidateID(id); err != nil {
			t.Fatalf("ValidateID(%q): %v", id, err)
		}
	}
	for _, id := range []string{"", " ", "a b", "a/b", "../x", "é", "a\x00", strings.Repeat("z", 65)} {
		if err := ValidateID(id); err == nil {
			t.Fatalf("ValidateID(%q) accepted", id)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	if DefaultConfig().Backend != BackendSoftware || DefaultConfig().Unencrypted {
		t.Fatalf("default config %+v", DefaultConfig())
	}
	cases := []struct {
		cfg  Config
		want string
	}{
		{Config{Backend: "foo"}, `keystore.backend: unknown backend "foo" (want software)`},
		{Config{Backend: ""}, `keystore.backend: unknown backend "" (want software)`},
		{Config{Backend: "pkcs11"}, `keystore.backend: backend "pkcs11" is not supported yet (issue 6)`},
		{Config{Backend: "software", Unencrypted: true, PassphraseFile: "/p"}, "keystore.passphrase_file"},
	}
	for _, tc := range cases {
		err := tc.cfg.Validate()
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Fatalf("Validate(%+v) = %v, want prefix %q", tc.cfg, err, tc.want)
		}
	}
	ok := Config{Backend: "software", Unencrypted: true}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadPassphrase(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	t.Setenv(EnvPassphrase, "")
	for content, want := range map[string]string{
		"secret\n":      "secret",
		"secret":        "secret",
		"secret\r\n":    "secret",
		"secret\n\n":    "secret\n",
		" spaced pw \n": " spaced pw ",
	} {
		got, err := LoadPassphrase(write("pw", content))
		if err != nil || !bytes.Equal(got, []byte(want)) {
			t.Fatalf("file %q: got %q, %v; want %q", content, got, err, want)
		}
	}

	missing := filepath.Join(dir, "missing")
	_, err := LoadPassphrase(missing)
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing file: error %v should name %s", err, missing)
	}
	_, err = LoadPassphrase(write("empty", "\n"))
	wantErr(t, err, ErrNoPassphrase)
	_, err = LoadPassphrase("")
	wantErr(t, err, ErrNoPassphrase)

	// The environment wins over the file, even a missing one.
	t.Setenv(EnvPassphrase, "from-env")
	for _, f := range []string{"", missing, write("pw2", "from-file\n")} {
		got, err := LoadPassphrase(f)
		if err != nil || string(got) != "from-env" {
			t.Fatalf("LoadPassphrase(%q) = %q, %v", f, got, err)
		}
	}
}
