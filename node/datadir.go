package node

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/anya-org/anya/keystore"
)

// The files of a data directory.
const (
	configFile     = "anya.toml"
	keystoreDir    = "keystore"
	datastoreDir   = "datastore"
	tokenFile      = "api.token"
	apiAddrFile    = "api.addr"
	passphraseFile = "passphrase"
)

// NodeKeyID is the keystore ID of the node's Ed25519 identity key: its
// libp2p peer ID and its did:key both come from it.
const NodeKeyID = "node"

// ErrNotInitialised means the data directory holds no keystore yet.
var ErrNotInitialised = errors.New("data directory is not initialised (run anya init)")

// ErrAlreadyInitialised means init found an existing keystore and left it alone.
var ErrAlreadyInitialised = errors.New("data directory is already initialised")

// DefaultDataDir is $ANYA_HOME, else ~/.anya.
func DefaultDataDir() string {
	if d := os.Getenv("ANYA_HOME"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".anya"
	}
	return filepath.Join(home, ".anya")
}

// ConfigPath is the config file of a data directory.
func ConfigPath(dataDir string) string { return filepath.Join(dataDir, configFile) }

// KeystorePath is the software keystore's directory.
func KeystorePath(dataDir string) string { return filepath.Join(dataDir, keystoreDir) }

// TokenPath is the admin token's file.
func TokenPath(dataDir string) string { return filepath.Join(dataDir, tokenFile) }

// APIAddrPath is where a running node writes the address its API listens on.
func APIAddrPath(dataDir string) string { return filepath.Join(dataDir, apiAddrFile) }

// Initialised reports whether dataDir holds a keystore.
func Initialised(dataDir string) bool { return keystore.Exists(KeystorePath(dataDir)) }

// Init creates a data directory: a commented anya.toml (unless one exists),
// an encrypted keystore with the node's Ed25519 identity key, and the admin
// token. It refuses to touch a directory that already has a keystore, and a
// non-empty one that holds anything but anya.toml and a passphrase file.
func Init(dataDir string, cfg Config) error {
	if Initialised(dataDir) {
		return fmt.Errorf("%s: %w", dataDir, ErrAlreadyInitialised)
	}
	if err := checkEmpty(dataDir); err != nil {
		return err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if _, err := os.Stat(ConfigPath(dataDir)); errors.Is(err, os.ErrNotExist) {
		if err := writeFileAtomic(ConfigPath(dataDir), []byte(SampleConfig()), 0o600); err != nil {
			return fmt.Errorf("write config: %w", err)
		}
	}
	pass, err := passphrase(dataDir, cfg.Keystore, true)
	if err != nil {
		return err
	}
	defer clear(pass)
	ks, err := keystore.CreateSoftware(KeystorePath(dataDir), pass, keystore.SoftwareOptions{Unencrypted: cfg.Keystore.Unencrypted})
	if err != nil {
		return fmt.Errorf("create keystore: %w", err)
	}
	defer ks.Close()
	if _, err := ks.Create(NodeKeyID, keystore.Ed25519); err != nil {
		return fmt.Errorf("create node key: %w", err)
	}
	_, err = loadOrCreateToken(dataDir)
	return err
}

func checkEmpty(dataDir string) error {
	entries, err := os.ReadDir(dataDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read data directory: %w", err)
	}
	for _, e := range entries {
		switch e.Name() {
		case configFile, passphraseFile:
		default:
			return fmt.Errorf("data directory %s holds %s but no keystore; refusing to initialise over it (move it aside or pick another --data)", dataDir, e.Name())
		}
	}
	return nil
}

// passphrase finds the keystore passphrase: ANYA_PASSPHRASE, else
// keystore.passphrase_file, else <data>/passphrase. When create is set and
// none exists, it generates <data>/passphrase, so a node starts on defaults;
// the daemon warns at every start that the passphrase sits beside the keys.
func passphrase(dataDir string, cfg keystore.Config, create bool) ([]byte, error) {
	if cfg.Unencrypted {
		return nil, nil
	}
	file := cfg.PassphraseFile
	if passphraseBesideKeys(cfg) {
		file = filepath.Join(dataDir, passphraseFile)
		if _, err := os.Stat(file); errors.Is(err, os.ErrNotExist) && create {
			if err := generatePassphrase(file); err != nil {
				return nil, err
			}
		}
	}
	return keystore.LoadPassphrase(file)
}

func generatePassphrase(file string) error {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	text := make([]byte, hex.EncodedLen(len(secret))+1)
	hex.Encode(text, secret)
	text[len(text)-1] = '\n'
	defer clear(text)
	clear(secret)
	if err := writeFileAtomic(file, text, 0o600); err != nil {
		return fmt.Errorf("write generated passphrase: %w", err)
	}
	return nil
}

// passphraseBesideKeys reports whether the passphrase comes from the
// generated file in the data directory.
func passphraseBesideKeys(cfg keystore.Config) bool {
	return !cfg.Unencrypted && cfg.PassphraseFile == "" && os.Getenv(keystore.EnvPassphrase) == ""
}

// loadOrCreateToken returns the admin token, creating it on first use.
func loadOrCreateToken(dataDir string) (string, error) {
	b, err := os.ReadFile(TokenPath(dataDir))
	if err == nil {
		tok := strings.TrimSpace(string(b))
		if len(tok) < 32 {
			return "", fmt.Errorf("admin token %s is too short; delete it to have a new one made", TokenPath(dataDir))
		}
		return tok, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read admin token: %w", err)
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", err
	}
	tok := hex.EncodeToString(secret)
	if err := writeFileAtomic(TokenPath(dataDir), []byte(tok+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write admin token: %w", err)
	}
	return tok, nil
}

// ReadToken reads the admin token of a data directory.
func ReadToken(dataDir string) (string, error) {
	b, err := os.ReadFile(TokenPath(dataDir))
	if err != nil {
		return "", fmt.Errorf("read admin token: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// writeFileAtomic writes a file so that a crash leaves either the old or the
// new content, never a torn one.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
