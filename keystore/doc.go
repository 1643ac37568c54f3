// Package keystore holds the node's private keys and signs with them without
// letting the keys leave it.
//
// A key is addressed by an ID (1-64 characters from [a-zA-Z0-9._-]) and has
// one of three types: Ed25519 (the libp2p identity and DID keys), secp256k1
// (ECDSA with low-S for Bitcoin, and BIP-340 Schnorr through SchnorrSigner)
// and P-256. The store also holds one BIP-32 seed for a later wallet
// (Software.MasterKey).
//
// The Keystore and Signer interfaces are backend-neutral: the software store
// in this package implements them now, and a PKCS#11 backend (issue 6) will
// implement them later. Callers that need BIP-340 signatures type-assert a
// Signer to SchnorrSigner, which a PKCS#11 token cannot provide.
//
// # The software store
//
// CreateSoftware and OpenSoftware manage a directory (the node passes
// <data>/keystore, mode 0700) holding keystore.json (mode 0600) and a lock
// file. keystore.json is versioned JSON. The public part of every key (ID,
// type, public key, creation time) is in clear, so ReadPublic works without
// the passphrase (for example for `anya id` while the node is stopped). Each
// private key, the BIP-32 seed and a check value are sealed with
// XChaCha20-Poly1305 under a 256-bit key derived from the passphrase and a
// random salt with argon2id. The additional data of a key's seal binds its
// ID, type, public key and creation time, so editing or swapping the clear
// metadata is detected. The check value lets OpenSoftware tell a wrong
// passphrase (ErrWrongPassphrase) from a damaged file (ErrCorrupt).
//
// A store created with SoftwareOptions.Unencrypted keeps its secrets in
// plain hex, marked "encrypted": false in the file. The mode is fixed at
// creation: opening an encrypted store as unencrypted, or the reverse, fails
// with ErrModeMismatch, so a configuration change can never silently
// downgrade a store. Software.Unencrypted reports the mode so the node can
// warn at every start.
//
// # Safety rules
//
//   - Opening never writes keystore.json. Creating a key rewrites it
//     atomically: a temporary file in the same directory is written, synced
//     and renamed over the old one, and the directory is synced. A corrupt
//     or wrongly unlocked store is therefore never overwritten.
//   - A flock(2) on keystore.lock stops two processes from using one store
//     at once (ErrLocked). The lock is released by Close or process exit.
//   - Secrets are never logged or formatted: Software and the Signer values
//     print "[redacted]". Passphrase-derived keys, decrypted buffers and
//     seed copies are cleared after use and Close clears the keys held in
//     memory. This is best effort: the Go runtime may have copied memory,
//     and crypto/ecdsa keeps P-256 scalars in a form that cannot be cleared.
//     The passphrase slice belongs to the caller, who should clear it once
//     CreateSoftware or OpenSoftware returns.
//
// Errors are wrapped with the directory, file or key ID concerned; compare
// them with errors.Is against ErrNotFound, ErrExists, ErrWrongPassphrase,
// ErrCorrupt, ErrLocked, ErrModeMismatch, ErrNoPassphrase and ErrClosed.
package keystore
