package p2p

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/keystore"
	"github.com/btcsuite/btcd/btcec/v2"
	btcecdsa "github.com/btcsuite/btcd/btcec/v2/ecdsa"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// DID record wire format, version 1.
//
// The DHT value is a JSON envelope holding the signed bytes verbatim:
//
//	{"payload":"<base64url, no padding>","sig":"<base64url, no padding>"}
//
// payload is a UTF-8 JSON object:
//
//	{"v":1,"did":"did:key:z6Mk…","kid":"did:key:z6Mk…#z6Mk…",
//	 "peer":"12D3KooW…","addrs":["/ip4/…/tcp/4420"],
//	 "services":[{"id":"#dwn","type":"DecentralizedWebNode","endpoint":"…"}],
//	 "seq":7,"exp":1767225600000}
//
// seq and exp (Unix milliseconds) are integers no larger than 2^53-1, so a
// JavaScript peer reads them exactly. sig is made by the verification
// method kid over explicit bytes, never over re-encoded JSON:
//
//	"anya-didrec-v1\x00" ‖ key ‖ "\x00" ‖ payload
//
// Why JSON and why this shape: a JS peer (js kad-dht with our validator
// ported) must read and verify records, and JSON is what both sides parse
// without a schema compiler; because the signature covers the payload
// bytes as transmitted, Go's encoding/json and JS JSON.stringify never need
// to agree on a canonical form (the rule of docs/p2p.md §5). The DHT key is
// inside the signed bytes, so a record cannot be replayed under another key.
// Unknown payload members are ignored (they are signed, so they are safe),
// which leaves room for additions without a version bump; "v" changes when
// the meaning of a known member changes.

// RecordNamespace is the DHT key namespace of DID records.
const RecordNamespace = "did"

// MaxRecordSize bounds an encoded DID record (the DHT value).
const MaxRecordSize = 8 << 10

// maxSafeInteger is 2^53-1, the largest integer a JS number holds exactly.
const maxSafeInteger = 1<<53 - 1

const (
	recordVersion = 1
	recordDomain  = "anya-didrec-v1\x00"
)

// Errors of VerifyRecord and SignRecord; the returned errors wrap one of
// them (errors.Is) and add what exactly is wrong.
var (
	ErrRecordTooLarge  = errors.New("p2p: DID record too large")
	ErrRecordMalformed = errors.New("p2p: malformed DID record")
	ErrRecordKey       = errors.New("p2p: DID record key/DID mismatch")
	ErrBadSignature    = errors.New("p2p: DID record has a bad signature")
	ErrRecordExpired   = errors.New("p2p: DID record expired")
	ErrUnresolvable    = errors.New("p2p: DID record signer cannot be resolved")
)

// Service is a service endpoint announced in a DID record.
type Service struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Endpoint string `json:"endpoint"`
}

// DIDRecord maps a DID to the peer that serves it, where to dial that
// peer, and the DID's service endpoints. Seq orders the records of one DID
// (the highest valid one wins); Expires ends its validity.
type DIDRecord struct {
	DID      string
	PeerID   peer.ID
	Addrs    []ma.Multiaddr
	Services []Service
	Seq      uint64
	Expires  time.Time
	// KID is the verification method that signed the record; set by
	// SignRecord and VerifyRecord.
	KID string
	// Value is the encoded, signed record (the DHT value); set by
	// SignRecord and VerifyRecord.
	Value []byte
}

// AddrInfo returns the record's peer and addresses.
func (r *DIDRecord) AddrInfo() peer.AddrInfo {
	return peer.AddrInfo{ID: r.PeerID, Addrs: r.Addrs}
}

type recordEnvelope struct {
	Payload string `json:"payload"`
	Sig     string `json:"sig"`
}

type recordPayload struct {
	V        int       `json:"v"`
	DID      string    `json:"did"`
	KID      string    `json:"kid"`
	Peer     string    `json:"peer"`
	Addrs    []string  `json:"addrs"`
	Services []Service `json:"services,omitempty"`
	Seq      uint64    `json:"seq"`
	Exp      int64     `json:"exp"`
}

var b64 = base64.RawURLEncoding

// RecordKey returns the DHT key of did's record: "/did/<method-specific
// id>" for did:key (the key is the public key), and "/did/<method>:<id>"
// for every other method (a did:key id never holds a colon, so the two
// cannot collide).
func RecordKey(d string) (string, error) {
	p, err := did.Parse(d)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrRecordKey, err)
	}
	if p.Method == "key" {
		return "/" + RecordNamespace + "/" + p.ID, nil
	}
	return "/" + RecordNamespace + "/" + p.Method + ":" + p.ID, nil
}

// didFromKey inverts RecordKey, accepting only the canonical key.
func didFromKey(key string) (did.Parsed, error) {
	rest, ok := strings.CutPrefix(key, "/"+RecordNamespace+"/")
	if !ok {
		return did.Parsed{}, fmt.Errorf("%w: key %s is not in the /%s/ namespace", ErrRecordKey, quote(key), RecordNamespace)
	}
	d := "did:key:" + rest
	if strings.Contains(rest, ":") {
		d = "did:" + rest
	}
	p, err := did.Parse(d)
	if err != nil {
		return did.Parsed{}, fmt.Errorf("%w: key %s does not name a DID: %v", ErrRecordKey, quote(key), err)
	}
	return p, nil
}

func signingInput(key string, payload []byte) []byte {
	out := make([]byte, 0, len(recordDomain)+len(key)+1+len(payload))
	out = append(out, recordDomain...)
	out = append(out, key...)
	out = append(out, 0)
	return append(out, payload...)
}

// SignRecord encodes rec, signs it with signer as the verification method
// kid (a DID URL of rec.DID), and sets rec.KID and rec.Value, which it
// also returns. For a did:key the signer must hold the DID's own key and
// kid must be its one verification method; other methods are checked only
// by verifiers, through the DID document.
func SignRecord(rec *DIDRecord, signer keystore.Signer, kid string) ([]byte, error) {
	key, err := RecordKey(rec.DID)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(kid, rec.DID+"#") {
		return nil, fmt.Errorf("%w: kid %s is not a verification method of %s", ErrRecordKey, quote(kid), rec.DID)
	}
	if p, _ := did.Parse(rec.DID); p.Method == "key" {
		own, err := did.NewKey(signer.PublicKey())
		if err != nil {
			return nil, fmt.Errorf("p2p: sign DID record: %w", err)
		}
		if own != rec.DID {
			return nil, fmt.Errorf("%w: signer %s holds %s, not %s", ErrRecordKey, signer.ID(), own, rec.DID)
		}
		if kid != rec.DID+"#"+p.ID {
			return nil, fmt.Errorf("%w: kid of %s must be %s#%s", ErrRecordKey, rec.DID, rec.DID, p.ID)
		}
	}
	pl, err := rec.payload(kid)
	if err != nil {
		return nil, err
	}
	payload, err := json.Marshal(pl)
	if err != nil {
		return nil, fmt.Errorf("p2p: encode DID record: %w", err)
	}
	sig, err := signer.Sign(signingInput(key, payload))
	if err != nil {
		return nil, fmt.Errorf("p2p: sign DID record: %w", err)
	}
	value, err := json.Marshal(recordEnvelope{Payload: b64.EncodeToString(payload), Sig: b64.EncodeToString(sig)})
	if err != nil {
		return nil, fmt.Errorf("p2p: encode DID record: %w", err)
	}
	if len(value) > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrRecordTooLarge, len(value), MaxRecordSize)
	}
	rec.KID, rec.Value = kid, value
	return value, nil
}

func (r *DIDRecord) payload(kid string) (*recordPayload, error) {
	bad := func(format string, args ...any) (*recordPayload, error) {
		return nil, fmt.Errorf("%w: %s", ErrRecordMalformed, fmt.Sprintf(format, args...))
	}
	if r.PeerID.Validate() != nil {
		return bad("no valid peer ID")
	}
	if r.Seq > maxSafeInteger {
		return bad("seq %d is above 2^53-1", r.Seq)
	}
	exp := r.Expires.UnixMilli()
	if r.Expires.IsZero() || exp <= 0 || exp > maxSafeInteger {
		return bad("expiry %v is out of range", r.Expires)
	}
	p := &recordPayload{V: recordVersion, DID: r.DID, KID: kid, Peer: r.PeerID.String(), Addrs: []string{}, Services: r.Services, Seq: r.Seq, Exp: exp}
	for _, a := range r.Addrs {
		p.Addrs = append(p.Addrs, a.String())
	}
	return p, nil
}

// VerifyRecord decodes value, the record stored under key, and checks it
// against the current time: see VerifyRecordAt.
func VerifyRecord(ctx context.Context, key string, value []byte, resolver did.Resolver) (*DIDRecord, error) {
	return VerifyRecordAt(ctx, key, value, resolver, time.Now())
}

// VerifyRecordAt decodes value, the record stored under key, and checks
// that it is at most MaxRecordSize, well formed, not expired at now, about
// the DID the key names, and signed by a verification method of that DID
// listed under assertionMethod or authentication. A did:key is checked
// offline (the key is the public key); a did:jwk too when resolver is nil;
// any other DID is resolved through resolver, which must then be set.
func VerifyRecordAt(ctx context.Context, key string, value []byte, resolver did.Resolver, now time.Time) (*DIDRecord, error) {
	if len(value) > MaxRecordSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrRecordTooLarge, len(value), MaxRecordSize)
	}
	bad := func(format string, args ...any) (*DIDRecord, error) {
		return nil, fmt.Errorf("%w: %s", ErrRecordMalformed, fmt.Sprintf(format, args...))
	}
	p, err := didFromKey(key)
	if err != nil {
		return nil, err
	}
	var env recordEnvelope
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		return bad("envelope: %v", err)
	}
	if dec.More() {
		return bad("envelope: data after the JSON object")
	}
	payload, err := b64.DecodeString(env.Payload)
	if err != nil {
		return bad("payload is not unpadded base64url: %v", err)
	}
	sig, err := b64.DecodeString(env.Sig)
	if err != nil {
		return bad("sig is not unpadded base64url: %v", err)
	}
	var pl recordPayload
	if err := json.Unmarshal(payload, &pl); err != nil {
		return bad("payload: %v", err)
	}
	switch {
	case pl.V != recordVersion:
		return bad("version %d, want %d", pl.V, recordVersion)
	case pl.DID != p.DID:
		return nil, fmt.Errorf("%w: key %s names %s, the record is about %s", ErrRecordKey, quote(key), p.DID, quote(pl.DID))
	case !strings.HasPrefix(pl.KID, pl.DID+"#"):
		return nil, fmt.Errorf("%w: kid %s is not a verification method of %s", ErrRecordKey, quote(pl.KID), pl.DID)
	case pl.Seq > maxSafeInteger:
		return bad("seq %d is above 2^53-1", pl.Seq)
	case pl.Exp <= 0 || pl.Exp > maxSafeInteger:
		return bad("exp %d is out of range", pl.Exp)
	}
	rec := &DIDRecord{DID: pl.DID, KID: pl.KID, Seq: pl.Seq, Expires: time.UnixMilli(pl.Exp), Services: pl.Services, Value: value}
	if rec.PeerID, err = peer.Decode(pl.Peer); err != nil {
		return bad("peer %s: %v", quote(pl.Peer), err)
	}
	for _, s := range pl.Addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return bad("addr %s: %v", quote(s), err)
		}
		rec.Addrs = append(rec.Addrs, a)
	}
	if !now.Before(rec.Expires) {
		return nil, fmt.Errorf("%w: seq %d expired at %s", ErrRecordExpired, rec.Seq, rec.Expires.UTC().Format(time.RFC3339Nano))
	}
	pub, err := signingKey(ctx, p, pl.KID, resolver)
	if err != nil {
		return nil, err
	}
	if err := verifySignature(pub, signingInput(key, payload), sig); err != nil {
		return nil, fmt.Errorf("%w: by %s: %v", ErrBadSignature, pl.KID, err)
	}
	return rec, nil
}

// signingKey returns the public key of the verification method kid of the
// DID p, which must be listed under assertionMethod or authentication.
func signingKey(ctx context.Context, p did.Parsed, kid string, resolver did.Resolver) (crypto.PublicKey, error) {
	switch {
	case p.Method == "key":
		resolver = did.KeyResolver{}
	case resolver == nil && p.Method == "jwk":
		resolver = did.JWKResolver{}
	case resolver == nil:
		return nil, fmt.Errorf("%w: no resolver for did:%s", ErrUnresolvable, p.Method)
	}
	res := resolver.Resolve(ctx, p.DID)
	if err := res.Err(); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrUnresolvable, p.DID, err)
	}
	doc := res.Document
	if doc.ID != p.DID {
		return nil, fmt.Errorf("%w: resolving %s gave the document of %s", ErrUnresolvable, p.DID, quote(doc.ID))
	}
	vm, err := doc.FindMethod(kid)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	if !mayAssert(doc, vm.ID) {
		return nil, fmt.Errorf("%w: %s is not listed under assertionMethod or authentication of %s", ErrBadSignature, quote(vm.ID), p.DID)
	}
	pub, err := vm.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSignature, err)
	}
	return pub, nil
}

func mayAssert(doc *did.Document, vmID string) bool {
	abs := func(id string) string {
		if strings.HasPrefix(id, "#") {
			return doc.ID + id
		}
		return id
	}
	for _, rel := range [][]did.Reference{doc.AssertionMethod, doc.Authentication} {
		for _, r := range rel {
			if abs(r.ID) == abs(vmID) {
				return true
			}
		}
	}
	return false
}

// verifySignature checks sig in the keystore.Signer formats: Ed25519
// (RFC 8032), secp256k1 and P-256 (64-byte r‖s ECDSA over sha256(msg); for
// secp256k1 only low-S, so signatures are not malleable).
func verifySignature(pub crypto.PublicKey, msg, sig []byte) error {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if len(sig) != ed25519.SignatureSize || !ed25519.Verify(k, msg, sig) {
			return errors.New("ed25519 signature does not verify")
		}
		return nil
	case *btcec.PublicKey:
		if len(sig) != 64 {
			return fmt.Errorf("secp256k1 signature is %d bytes, want 64", len(sig))
		}
		var r, s btcec.ModNScalar
		if r.SetByteSlice(sig[:32]) || s.SetByteSlice(sig[32:]) || r.IsZero() || s.IsZero() {
			return errors.New("secp256k1 signature r or s is out of range")
		}
		if s.IsOverHalfOrder() {
			return errors.New("secp256k1 signature is not low-S")
		}
		h := sha256.Sum256(msg)
		if !btcecdsa.NewSignature(&r, &s).Verify(h[:], k) {
			return errors.New("secp256k1 signature does not verify")
		}
		return nil
	case *ecdsa.PublicKey:
		if len(sig) != 64 {
			return fmt.Errorf("P-256 signature is %d bytes, want 64", len(sig))
		}
		h := sha256.Sum256(msg)
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(k, h[:], r, s) {
			return errors.New("P-256 signature does not verify")
		}
		return nil
	case *ecdh.PublicKey:
		return errors.New("an X25519 key cannot sign")
	}
	return fmt.Errorf("unsupported key type %T", pub)
}

// quote formats a possibly long, untrusted input for an error message.
func quote(s string) string {
	const limit = 120
	if len(s) > limit {
		return fmt.Sprintf("%q…", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}
