package keystore

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/btcsuite/btcd/btcutil/hdkeychain"
	"github.com/btcsuite/btcd/chaincfg"
)

// SoftwareOptions tunes CreateSoftware and OpenSoftware.
type SoftwareOptions struct {
	// Unencrypted selects a store without encryption. It must match the
	// store's mode on open: there is no silent upgrade or downgrade.
	Unencrypted bool
	// KDF is used by CreateSoftware; zero fields take the values of
	// DefaultKDFParams. OpenSoftware uses the parameters in the file.
	KDF KDFParams
	// Rand is the source of keys, the seed, salts and nonces; nil means
	// crypto/rand. (P-256 signatures always use crypto/rand.)
	Rand io.Reader
	// Now gives key creation times; nil means time.Now.
	Now func() time.Time
}

// Software is the software keystore: keys in an encrypted file in a
// directory. It implements Keystore and is safe for concurrent use.
type Software struct {
	dir         string
	path        string
	unencrypted bool
	rand        io.Reader
	now         func() time.Time
	lock        *dirLock

	mu     sync.RWMutex
	closed bool
	file   *diskFile // what is on disk
	key    []byte    // sealing key; nil when unencrypted
	seed   []byte
	keys   map[string]*keyMaterial
}

var _ Keystore = (*Software)(nil)

// lockedReader serialises reads from a caller's io.Reader, which need not
// be safe for concurrent use.
type lockedReader struct {
	mu sync.Mutex
	r  io.Reader
}

func (l *lockedReader) Read(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.r.Read(p)
}

func (o SoftwareOptions) randReader() io.Reader {
	if o.Rand == nil {
		return rand.Reader
	}
	return &lockedReader{r: o.Rand}
}

func (o SoftwareOptions) clock() func() time.Time {
	if o.Now == nil {
		return time.Now
	}
	return o.Now
}

// Exists reports whether dir holds a keystore file.
func Exists(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, fileName))
	return err == nil
}

// CreateSoftware makes a new store in dir (created with mode 0700 if
// needed), with a new BIP-32 seed and no keys. It fails with ErrExists if a
// store is already there, without touching it. An encrypted store needs a
// non-empty passphrase; an unencrypted one ignores it. The returned store
// is open and locked.
func CreateSoftware(dir string, passphrase []byte, opts SoftwareOptions) (*Software, error) {
	if dir == "" {
		return nil, errors.New("keystore: no directory given")
	}
	if !opts.Unencrypted && len(passphrase) == 0 {
		return nil, noPassphrase(dir)
	}
	kdf := opts.KDF.withDefaults()
	if err := kdf.check(); err != nil {
		return nil, fmt.Errorf("keystore: KDF parameters: %w", err)
	}
	if Exists(dir) {
		return nil, fmt.Errorf("keystore %s: %w", dir, ErrExists)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return withLock(dir, func(lock *dirLock) (*Software, error) {
		return create(dir, passphrase, opts, kdf, lock)
	})
}

// withLock locks dir and runs fn; the lock is released if fn fails and
// otherwise belongs to the store fn returns.
func withLock(dir string, fn func(*dirLock) (*Software, error)) (*Software, error) {
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s, err := fn(lock)
	if err != nil {
		lock.release()
		return nil, err
	}
	return s, nil
}

// create does the work of CreateSoftware once dir is locked.
func create(dir string, passphrase []byte, opts SoftwareOptions, kdf KDFParams, lock *dirLock) (*Software, error) {
	if Exists(dir) {
		return nil, fmt.Errorf("keystore %s: %w", dir, ErrExists)
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	s := &Software{
		dir:         dir,
		path:        filepath.Join(dir, fileName),
		unencrypted: opts.Unencrypted,
		rand:        opts.randReader(),
		now:         opts.clock(),
		lock:        lock,
		keys:        make(map[string]*keyMaterial),
	}
	ok := false
	defer func() {
		if !ok {
			s.wipe()
		}
	}()
	s.seed = make([]byte, seedLen)
	if _, err := io.ReadFull(s.rand, s.seed); err != nil {
		return nil, fmt.Errorf("keystore: read random seed: %w", err)
	}
	enc := !opts.Unencrypted
	f := &diskFile{Version: formatVersion, Encrypted: &enc, Keys: []diskKey{}}
	if enc {
		salt := make([]byte, saltLen)
		if _, err := io.ReadFull(s.rand, salt); err != nil {
			return nil, fmt.Errorf("keystore: read random salt: %w", err)
		}
		f.KDF = &diskKDF{Name: kdfName, Time: kdf.Time, MemoryKiB: kdf.MemoryKiB, Threads: kdf.Threads, Salt: salt}
		s.key = deriveKey(passphrase, f.KDF)
		var err error
		if f.Check, err = seal(s.key, s.rand, checkPlaintext, []byte(aadCheck)); err != nil {
			return nil, err
		}
		if f.Seed, err = seal(s.key, s.rand, s.seed, []byte(aadSeed)); err != nil {
			return nil, err
		}
	} else {
		f.Seed = bytes.Clone(s.seed)
	}
	s.file = f
	if _, err := s.write(f); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// OpenSoftware opens the store in dir. It never creates or rewrites
// anything but the lock file. It fails with ErrNotFound if there is no
// store, ErrLocked if another process has it open, ErrModeMismatch if
// opts.Unencrypted does not match the store, ErrNoPassphrase or
// ErrWrongPassphrase, and ErrCorrupt if the file is damaged or a private
// key does not match its public key.
func OpenSoftware(dir string, passphrase []byte, opts SoftwareOptions) (*Software, error) {
	if dir == "" {
		return nil, errors.New("keystore: no directory given")
	}
	path := filepath.Join(dir, fileName)
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("keystore %s: %w", dir, ErrNotFound)
		}
		return nil, fmt.Errorf("keystore: %w", err)
	}
	return withLock(dir, func(lock *dirLock) (*Software, error) {
		return openLocked(dir, path, passphrase, opts, lock)
	})
}

// openLocked does the work of OpenSoftware once dir is locked.
func openLocked(dir, path string, passphrase []byte, opts SoftwareOptions, lock *dirLock) (*Software, error) {
	data, err := readFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("keystore %s: %w", dir, ErrNotFound)
		}
		return nil, fmt.Errorf("keystore: %w", err)
	}
	f, err := decodeFile(data)
	clear(data)
	if err != nil {
		return nil, corrupt(path, err)
	}
	fileOK := false
	defer func() {
		if !fileOK {
			f.wipe()
		}
	}()
	switch {
	case f.encrypted() && opts.Unencrypted:
		return nil, fmt.Errorf("keystore %s is encrypted and needs a passphrase; keystore.unencrypted is set but an encrypted store is never opened as unencrypted: %w", path, ErrModeMismatch)
	case !f.encrypted() && !opts.Unencrypted:
		return nil, fmt.Errorf("keystore %s is unencrypted but keystore.unencrypted is not set; set it to use this store: %w", path, ErrModeMismatch)
	}
	var key []byte
	if f.encrypted() {
		if len(passphrase) == 0 {
			return nil, noPassphrase(dir)
		}
		key = deriveKey(passphrase, f.KDF)
	}
	u, err := unseal(f, key)
	if err != nil {
		clear(key)
		if errors.Is(err, errBadKey) {
			return nil, fmt.Errorf("keystore %s: %w", path, ErrWrongPassphrase)
		}
		return nil, corrupt(path, err)
	}
	fileOK = true
	return &Software{
		dir:         dir,
		path:        path,
		unencrypted: !f.encrypted(),
		rand:        opts.randReader(),
		now:         opts.clock(),
		lock:        lock,
		file:        f,
		key:         key,
		seed:        u.seed,
		keys:        u.keys,
	}, nil
}

// ReadPublic describes the keys in the store in dir, sorted by ID, without
// the passphrase and without taking the lock. It checks the file's
// structure but cannot authenticate it.
func ReadPublic(dir string) ([]KeyInfo, error) {
	path := filepath.Join(dir, fileName)
	data, err := readFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("keystore %s: %w", dir, ErrNotFound)
		}
		return nil, fmt.Errorf("keystore: %w", err)
	}
	f, err := decodeFile(data)
	clear(data)
	if err != nil {
		return nil, corrupt(path, err)
	}
	defer f.wipe()
	return f.infos(), nil
}

// readFile reads the keystore file, refusing one larger than maxFileSize.
func readFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	return io.ReadAll(io.LimitReader(fh, maxFileSize+1))
}

// corrupt wraps a decoding error with ErrCorrupt and the path.
func corrupt(path string, err error) error {
	return fmt.Errorf("keystore %s: %w: %s", path, ErrCorrupt, err.Error())
}

func noPassphrase(dir string) error {
	return fmt.Errorf("keystore %s: %w: set %s or keystore.passphrase_file (or keystore.unencrypted = true)", dir, ErrNoPassphrase, EnvPassphrase)
}

// write replaces keystore.json with f atomically: write a temporary file
// in the same directory, sync it, rename it over the old file and sync the
// directory. A failure before the rename leaves the old file in place;
// committed reports whether the rename happened (a later directory sync
// can still fail).
func (s *Software) write(f *diskFile) (committed bool, err error) {
	data, err := encodeFile(f)
	if err != nil {
		return false, fmt.Errorf("keystore: encode: %w", err)
	}
	defer clear(data)
	tmp, err := os.CreateTemp(s.dir, "."+fileName+".tmp-*")
	if err != nil {
		return false, fmt.Errorf("keystore: %w", err)
	}
	name := tmp.Name()
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return false, fmt.Errorf("keystore: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return false, fmt.Errorf("keystore: write %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		return false, fmt.Errorf("keystore: sync %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("keystore: close %s: %w", name, err)
	}
	if err := os.Rename(name, s.path); err != nil {
		return false, fmt.Errorf("keystore: %w", err)
	}
	renamed = true
	if err := syncDir(s.dir); err != nil {
		return true, fmt.Errorf("keystore: sync %s: %w", s.dir, err)
	}
	return true, nil
}

// Create makes a new key of type t under id and writes the store. It fails
// with ErrExists if id is taken.
func (s *Software) Create(id string, t KeyType) (Signer, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if !t.valid() {
		return nil, fmt.Errorf("keystore: unknown key type %q (want ed25519, secp256k1 or p256)", t)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if _, ok := s.keys[id]; ok {
		return nil, fmt.Errorf("keystore: key %q: %w", id, ErrExists)
	}
	m, err := generateKey(t, s.rand)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			m.zero()
		}
	}()
	secret, err := m.secret()
	if err != nil {
		return nil, fmt.Errorf("keystore: %w", err)
	}
	defer clear(secret)
	dk := diskKey{
		ID:        id,
		Type:      t,
		PublicKey: bytes.Clone(m.pub),
		Created:   s.now().UTC().Format(time.RFC3339Nano),
	}
	if s.unencrypted {
		dk.Private = bytes.Clone(secret)
	} else if dk.Private, err = seal(s.key, s.rand, secret, keyAAD(&dk)); err != nil {
		return nil, err
	}
	nf := s.file.clone()
	nf.Keys = append(nf.Keys, dk)
	slices.SortFunc(nf.Keys, func(a, b diskKey) int { return strings.Compare(a.ID, b.ID) })
	committed, err := s.write(nf)
	if !committed {
		clear(dk.Private)
		return nil, err
	}
	// The new file is in place: keep memory in step with it even if the
	// directory sync failed.
	s.file = nf
	s.keys[id] = m
	ok = true
	if err != nil {
		return nil, err
	}
	return s.signer(id, m), nil
}

// Signer returns the signer for id, or an error wrapping ErrNotFound.
func (s *Software) Signer(id string) (Signer, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	m, ok := s.keys[id]
	if !ok {
		return nil, fmt.Errorf("keystore: key %q: %w", id, ErrNotFound)
	}
	return s.signer(id, m), nil
}

func (s *Software) signer(id string, m *keyMaterial) Signer {
	g := &softSigner{s: s, id: id, m: m}
	if m.t == Secp256k1 {
		return &schnorrSigner{g}
	}
	return g
}

// List describes all keys, sorted by ID. It works after Close.
func (s *Software) List() []KeyInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.file.infos()
}

// Unencrypted reports whether the store keeps its secrets unencrypted.
func (s *Software) Unencrypted() bool { return s.unencrypted }

// Dir returns the store's directory.
func (s *Software) Dir() string { return s.dir }

// MasterKey returns the BIP-32 master extended private key for net, made
// from the store's seed. The caller must call Zero on it when done.
func (s *Software) MasterKey(net *chaincfg.Params) (*hdkeychain.ExtendedKey, error) {
	if net == nil {
		return nil, errors.New("keystore: MasterKey: no network parameters")
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, ErrClosed
	}
	k, err := hdkeychain.NewMaster(s.seed, net)
	if err != nil {
		return nil, fmt.Errorf("keystore: BIP-32 master key: %w", err)
	}
	return k, nil
}

// Close zeroes the secrets held in memory and releases the lock. Signers
// from this store fail with ErrClosed afterwards. Close is idempotent.
func (s *Software) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.wipe()
	if err := s.lock.release(); err != nil {
		return fmt.Errorf("keystore: release lock: %w", err)
	}
	return nil
}

// wipe clears every secret s holds.
func (s *Software) wipe() {
	clear(s.key)
	clear(s.seed)
	for _, m := range s.keys {
		m.zero()
	}
	if s.file != nil {
		s.file.wipe()
	}
}

// String implements fmt.Stringer; the store never prints its contents.
func (s *Software) String() string { return redacted }

// GoString implements fmt.GoStringer.
func (s *Software) GoString() string { return redacted }

// Format implements fmt.Formatter; every verb prints "[redacted]".
func (s *Software) Format(f fmt.State, verb rune) { formatRedacted(f, verb) }

// softSigner is a Signer over one key of a Software store.
type softSigner struct {
	s  *Software
	id string
	m  *keyMaterial
}

// ID returns the key's ID.
func (g *softSigner) ID() string { return g.id }

// Type returns the key's type.
func (g *softSigner) Type() KeyType { return g.m.t }

// PublicKey returns ed25519.PublicKey, *btcec.PublicKey or
// *ecdsa.PublicKey.
func (g *softSigner) PublicKey() crypto.PublicKey { return g.m.publicKey() }

// Sign signs msg as described on Signer.
func (g *softSigner) Sign(msg []byte) ([]byte, error) {
	g.s.mu.RLock()
	defer g.s.mu.RUnlock()
	if g.s.closed {
		return nil, ErrClosed
	}
	return g.m.sign(msg)
}

// String implements fmt.Stringer; a signer never prints its key.
func (g softSigner) String() string { return redacted }

// GoString implements fmt.GoStringer.
func (g softSigner) GoString() string { return redacted }

// Format implements fmt.Formatter; every verb prints "[redacted]".
func (g softSigner) Format(f fmt.State, verb rune) { formatRedacted(f, verb) }

// schnorrSigner is a secp256k1 softSigner that also makes BIP-340
// signatures.
type schnorrSigner struct {
	*softSigner
}

var _ SchnorrSigner = (*schnorrSigner)(nil)

// SignSchnorr makes a BIP-340 signature of a 32-byte hash.
func (g *schnorrSigner) SignSchnorr(hash []byte) ([]byte, error) {
	g.s.mu.RLock()
	defer g.s.mu.RUnlock()
	if g.s.closed {
		return nil, ErrClosed
	}
	return g.m.signSchnorr(hash, g.s.rand)
}
