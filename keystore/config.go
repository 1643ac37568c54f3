package keystore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Backend names.
const (
	BackendSoftware = "software"
	BackendPKCS11   = "pkcs11"
)

// Environment variables read by this package.
const (
	// EnvPassphrase holds the keystore passphrase; it takes precedence over
	// the passphrase file.
	EnvPassphrase = "ANYA_PASSPHRASE"
	// EnvPKCS11Module overrides Config.PKCS11Module (issue 6; read by the
	// node's config loader).
	EnvPKCS11Module = "ANYA_KEYSTORE_PKCS11_MODULE"
)

// Config is the [keystore] section of anya.toml.
type Config struct {
	// Backend is "software" (the default). "pkcs11", the HSM backend, comes
	// with issue 6 and is refused until then.
	Backend string `toml:"backend"`
	// PassphraseFile is the file holding the passphrase. "" means the
	// environment variable ANYA_PASSPHRASE or the node's default file.
	PassphraseFile string `toml:"passphrase_file"`
	// Unencrypted stores keys without encryption. The node logs a warning
	// at every start when it is set.
	Unencrypted bool `toml:"unencrypted"`
	// PKCS11Module is the path of the PKCS#11 module (issue 6; env
	// ANYA_KEYSTORE_PKCS11_MODULE).
	PKCS11Module string `toml:"pkcs11_module"`
	// PKCS11Token is the label of the PKCS#11 token (issue 6).
	PKCS11Token string `toml:"pkcs11_token"`
	// PKCS11PINFile is the file holding the token PIN (issue 6).
	PKCS11PINFile string `toml:"pkcs11_pin_file"`
}

// DefaultConfig returns the default [keystore] section: an encrypted
// software store.
func DefaultConfig() Config {
	return Config{Backend: BackendSoftware}
}

// Validate checks the section. Errors name the offending key.
func (c Config) Validate() error {
	switch c.Backend {
	case BackendSoftware:
	case BackendPKCS11:
		return fmt.Errorf("keystore.backend: backend %q is not supported yet (issue 6); use %q", c.Backend, BackendSoftware)
	default:
		return fmt.Errorf("keystore.backend: unknown backend %q (want %s)", c.Backend, BackendSoftware)
	}
	if c.Unencrypted && c.PassphraseFile != "" {
		return fmt.Errorf("keystore.passphrase_file: set to %q but keystore.unencrypted is true; remove one of them", c.PassphraseFile)
	}
	return nil
}

// LoadPassphrase returns the keystore passphrase: the value of
// ANYA_PASSPHRASE if it is set and not empty, else the contents of file
// with one trailing newline ("\n" or "\r\n") removed. The caller should
// clear the returned slice after use. An empty passphrase is an error
// wrapping ErrNoPassphrase.
func LoadPassphrase(file string) ([]byte, error) {
	if v := os.Getenv(EnvPassphrase); v != "" {
		return []byte(v), nil
	}
	if file == "" {
		return nil, fmt.Errorf("keystore: %w: %s is not set and no passphrase file is configured", ErrNoPassphrase, EnvPassphrase)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("keystore: read passphrase file %s: %w", file, err)
	}
	p := b
	if n := len(p); n > 0 && p[n-1] == '\n' {
		p = p[:n-1]
		if n := len(p); n > 0 && p[n-1] == '\r' {
			p = p[:n-1]
		}
	}
	if len(p) == 0 {
		clear(b)
		return nil, fmt.Errorf("keystore: %w: passphrase file %s is empty", ErrNoPassphrase, file)
	}
	out := make([]byte, len(p))
	copy(out, p)
	clear(b)
	return out, nil
}
