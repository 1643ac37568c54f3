package p2p

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/keystore"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
)

// t0 is the fixed clock of these tests.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// testIdentity is a keystore signer with its did:key and kid.
type testIdentity struct {
	signer keystore.Signer
	did    string
	kid    string
	peer   peer.ID
}

func newIdentity(t testing.TB, ks *keystore.Software, name string, kt keystore.KeyType) testIdentity {
	t.Helper()
	s, err := ks.Create(name, kt)
	if err != nil {
		t.Fatal(err)
	}
	return identityOf(t, s)
}

func identityOf(t testing.TB, s keystore.Signer) testIdentity {
	t.Helper()
	d, err := did.NewKey(s.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	id := testIdentity{signer: s, did: d, kid: d + "#" + strings.TrimPrefix(d, "did:key:")}
	// Any valid peer ID will do for records; use a fixed one.
	id.peer, _ = peer.Decode("12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA")
	return id
}

func (id testIdentity) record(seq uint64, exp time.Time) *DIDRecord {
	return &DIDRecord{
		DID:      id.did,
		PeerID:   id.peer,
		Addrs:    []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/4420")},
		Services: []Service{{ID: "#dwn", Type: "DecentralizedWebNode", Endpoint: "http://127.0.0.1:3000"}},
		Seq:      seq,
		Expires:  exp,
	}
}

func (id testIdentity) sign(t testing.TB, seq uint64, exp time.Time) (string, []byte) {
	t.Helper()
	v, err := SignRecord(id.record(seq, exp), id.signer, id.kid)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := RecordKey(id.did)
	return key, v
}

// goldenRecord is the record of goldenIdentity, seq 7,
// expiring at t0+1h. Ed25519 signatures are deterministic, so these bytes
// are fixed; a JS port of the format must produce them too.
const goldenRecord = `{"payload":"eyJ2IjoxLCJkaWQiOiJkaWQ6a2V5Ono2TWtzcEZCdW1mMVpwTHg0WVhYM0s1Q25QVjFyVGZFN3RtUFY5SlZjdmE4clljYSIsImtpZCI6ImRpZDprZXk6ejZNa3NwRkJ1bWYxWnBMeDRZWFgzSzVDblBWMXJUZkU3dG1QVjlKVmN2YThyWWNhI3o2TWtzcEZCdW1mMVpwTHg0WVhYM0s1Q25QVjFyVGZFN3RtUFY5SlZjdmE4clljYSIsInBlZXIiOiIxMkQzS29vV0QzZWNraWZXcFJuOXdRcE1HOVI5aFgzc0QxNTh6N0VxSFdtd2VRQUpVNVNBIiwiYWRkcnMiOlsiL2lwNC8xMjcuMC4wLjEvdGNwLzQ0MjAiXSwic2VydmljZXMiOlt7ImlkIjoiI2R3biIsInR5cGUiOiJEZWNlbnRyYWxpemVkV2ViTm9kZSIsImVuZHBvaW50IjoiaHR0cDovLzEyNy4wLjAuMTozMDAwIn1dLCJzZXEiOjcsImV4cCI6MTc2NzMyNjY0NTAwMH0","sig":"q1qOMTsqhFwls7I-trE60tjgyymiPKvydHTp-un2FmZIWtE5IxO60n0-oesvPeyW3nIkr30Jis0s2Bkd-IW_CQ"}`

// seedSigner is an Ed25519 keystore.Signer from a fixed seed, so golden
// bytes do not depend on how the keystore draws its randomness.
type seedSigner struct{ k ed25519.PrivateKey }

func (s seedSigner) ID() string                      { return "seed" }
func (s seedSigner) Type() keystore.KeyType          { return keystore.Ed25519 }
func (s seedSigner) PublicKey() crypto.PublicKey     { return s.k.Public() }
func (s seedSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.k, msg), nil }

func goldenIdentity(t testing.TB) testIdentity {
	seed := sha256.Sum256([]byte("anya p2p golden DID record"))
	return identityOf(t, seedSigner{ed25519.NewKeyFromSeed(seed[:])})
}

func TestDIDRecordGolden(t *testing.T) {
	id := goldenIdentity(t)
	key, v := id.sign(t, 7, t0.Add(time.Hour))
	if key != "/did/"+strings.TrimPrefix(id.did, "did:key:") {
		t.Fatalf("key %s", key)
	}
	if string(v) != goldenRecord {
		t.Fatalf("encode:\n got %s\nwant %s", v, goldenRecord)
	}
	rec, err := VerifyRecordAt(context.Background(), key, []byte(goldenRecord), nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := id.record(7, t0.Add(time.Hour))
	if rec.DID != want.DID || rec.PeerID != want.PeerID || rec.Seq != 7 || !rec.Expires.Equal(want.Expires) ||
		len(rec.Addrs) != 1 || !rec.Addrs[0].Equal(want.Addrs[0]) || len(rec.Services) != 1 || rec.Services[0] != want.Services[0] || rec.KID != id.kid {
		t.Fatalf("decode: got %+v", rec)
	}
}

func TestDIDRecordKeyTypes(t *testing.T) {
	ks := newStore(t)
	for _, kt := range []keystore.KeyType{keystore.Ed25519, keystore.Secp256k1, keystore.P256} {
		t.Run(string(kt), func(t *testing.T) {
			id := newIdentity(t, ks, string(kt), kt)
			key, v := id.sign(t, 1, t0.Add(time.Minute))
			if _, err := VerifyRecordAt(context.Background(), key, v, nil, t0); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// forge builds a record about victim signed by attacker's key, with the
// victim's kid, in the valid wire format.
func forge(t testing.TB, victim, attacker testIdentity, seq uint64, exp time.Time) (string, []byte) {
	t.Helper()
	key, _ := RecordKey(victim.did)
	pl, err := victim.record(seq, exp).payload(victim.kid)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(pl)
	sig, err := attacker.signer.Sign(signingInput(key, payload))
	if err != nil {
		t.Fatal(err)
	}
	v, _ := json.Marshal(recordEnvelope{Payload: b64.EncodeToString(payload), Sig: b64.EncodeToString(sig)})
	return key, v
}

func TestVerifyRecordRefuses(t *testing.T) {
	ks := newStore(t)
	alice := newIdentity(t, ks, "alice", keystore.Ed25519)
	bob := newIdentity(t, ks, "bob", keystore.Ed25519)
	aliceKey, good := alice.sign(t, 3, t0.Add(time.Hour))
	bobKey, _ := RecordKey(bob.did)
	_, forged := forge(t, alice, bob, 9, t0.Add(time.Hour))
	envelope := func(payload string, sig string) []byte {
		b, _ := json.Marshal(recordEnvelope{Payload: payload, Sig: sig})
		return b
	}
	var env recordEnvelope
	json.Unmarshal(good, &env)
	payloadWith := func(edit func(*recordPayload)) []byte {
		var pl recordPayload
		raw, _ := b64.DecodeString(env.Payload)
		json.Unmarshal(raw, &pl)
		edit(&pl)
		b, _ := json.Marshal(pl)
		return envelope(b64.EncodeToString(b), env.Sig)
	}
	cases := []struct {
		name  string
		key   string
		value []byte
		now   time.Time
		want  error
		text  string
	}{
		{"another key's signature", aliceKey, forged, t0, ErrBadSignature, "bad signature"},
		{"record replayed under another DID's key", bobKey, good, t0, ErrRecordKey, "mismatch"},
		{"expired", aliceKey, good, t0.Add(time.Hour), ErrRecordExpired, "expired"},
		{"oversize", aliceKey, append(good, make([]byte, MaxRecordSize)...), t0, ErrRecordTooLarge, "limit is 8192"},
		{"not JSON", aliceKey, []byte("seq=1"), t0, ErrRecordMalformed, "malformed"},
		{"unknown envelope member", aliceKey, []byte(`{"payload":"","sig":"","x":1}`), t0, ErrRecordMalformed, ""},
		{"trailing data", aliceKey, append(append([]byte{}, good...), "{}"...), t0, ErrRecordMalformed, ""},
		{"bad base64", aliceKey, envelope("!!", env.Sig), t0, ErrRecordMalformed, ""},
		{"edited seq", aliceKey, payloadWith(func(p *recordPayload) { p.Seq = 4 }), t0, ErrBadSignature, ""},
		{"edited expiry", aliceKey, payloadWith(func(p *recordPayload) { p.Exp += 1000 }), t0, ErrBadSignature, ""},
		{"version 2", aliceKey, payloadWith(func(p *recordPayload) { p.V = 2 }), t0, ErrRecordMalformed, ""},
		{"kid of another DID", aliceKey, payloadWith(func(p *recordPayload) { p.KID = bob.kid }), t0, ErrRecordKey, ""},
		{"kid not in the document", aliceKey, payloadWith(func(p *recordPayload) { p.KID = alice.did + "#other" }), t0, ErrBadSignature, ""},
		{"seq beyond 2^53", aliceKey, payloadWith(func(p *recordPayload) { p.Seq = 1 << 60 }), t0, ErrRecordMalformed, ""},
		{"bad peer ID", aliceKey, payloadWith(func(p *recordPayload) { p.Peer = "nope" }), t0, ErrRecordMalformed, ""},
		{"bad multiaddr", aliceKey, payloadWith(func(p *recordPayload) { p.Addrs = []string{"/nope"} }), t0, ErrRecordMalformed, ""},
		{"key outside the namespace", "/pk/" + strings.TrimPrefix(alice.did, "did:key:"), good, t0, ErrRecordKey, ""},
		{"key that is no DID", "/did/", good, t0, ErrRecordKey, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := VerifyRecordAt(context.Background(), tc.key, tc.value, nil, tc.now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.text) {
				t.Fatalf("error %q does not say %q", err, tc.text)
			}
		})
	}
}

func TestSignRecordRefuses(t *testing.T) {
	ks := newStore(t)
	alice := newIdentity(t, ks, "alice", keystore.Ed25519)
	bob := newIdentity(t, ks, "bob", keystore.Ed25519)
	if _, err := SignRecord(alice.record(1, t0), bob.signer, alice.kid); !errors.Is(err, ErrRecordKey) {
		t.Fatalf("signing alice's did:key with bob's key: %v", err)
	}
	if _, err := SignRecord(alice.record(1, t0), alice.signer, alice.did+"#other"); !errors.Is(err, ErrRecordKey) {
		t.Fatalf("a did:key kid other than its one method: %v", err)
	}
	big := alice.record(1, t0)
	big.Services = []Service{{ID: "#x", Type: "t", Endpoint: strings.Repeat("a", MaxRecordSize)}}
	if _, err := SignRecord(big, alice.signer, alice.kid); !errors.Is(err, ErrRecordTooLarge) {
		t.Fatalf("oversize: %v", err)
	}
	if _, err := SignRecord(alice.record(1, time.Time{}), alice.signer, alice.kid); !errors.Is(err, ErrRecordMalformed) {
		t.Fatalf("no expiry: %v", err)
	}
}

// webResolver serves one did:web document whose single method is the key of
// a did:key identity, listed under the given relationships.
type webResolver struct {
	did      string
	from     testIdentity
	keyAgree bool
}

func (w webResolver) Resolve(ctx context.Context, d string) *did.Resolution {
	if d != w.did {
		return did.Failure(did.CodeNotFound, "no such DID")
	}
	res := did.KeyResolver{}.Resolve(ctx, w.from.did)
	doc := res.Document
	doc.ID = w.did
	doc.VerificationMethod[0].ID = "#key-1"
	doc.VerificationMethod[0].Controller = w.did
	ref := []did.Reference{{ID: "#key-1"}}
	doc.Authentication, doc.AssertionMethod, doc.CapabilityInvocation, doc.CapabilityDelegation = ref, ref, ref, ref
	if w.keyAgree {
		doc.Authentication, doc.AssertionMethod, doc.KeyAgreement = nil, nil, ref
	}
	return did.Success(doc)
}

func TestDIDRecordThroughResolver(t *testing.T) {
	ks := newStore(t)
	alice := newIdentity(t, ks, "alice", keystore.Ed25519)
	bob := newIdentity(t, ks, "bob", keystore.Ed25519)
	const web = "did:web:example.com"
	rec := alice.record(1, t0.Add(time.Hour))
	rec.DID = web
	v, err := SignRecord(rec, alice.signer, web+"#key-1")
	if err != nil {
		t.Fatal(err)
	}
	key, _ := RecordKey(web)
	if key != "/did/web:example.com" {
		t.Fatalf("key %s", key)
	}
	ctx := context.Background()
	if _, err := VerifyRecordAt(ctx, key, v, webResolver{did: web, from: alice}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyRecordAt(ctx, key, v, nil, t0); !errors.Is(err, ErrUnresolvable) {
		t.Fatalf("without a resolver: %v", err)
	}
	if _, err := VerifyRecordAt(ctx, key, v, webResolver{did: web, from: bob}, t0); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("document holding another key: %v", err)
	}
	if _, err := VerifyRecordAt(ctx, key, v, webResolver{did: web, from: alice, keyAgree: true}, t0); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("key-agreement-only method: %v", err)
	}
	if _, err := VerifyRecordAt(ctx, key, v, webResolver{did: "did:web:other", from: alice}, t0); !errors.Is(err, ErrUnresolvable) {
		t.Fatalf("unresolvable DID: %v", err)
	}

	// did:jwk is offline like did:key, with no resolver.
	jwk, err := did.NewJWK(alice.signer.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	rec = alice.record(1, t0.Add(time.Hour))
	rec.DID = jwk
	v, err = SignRecord(rec, alice.signer, jwk+"#0")
	if err != nil {
		t.Fatal(err)
	}
	key, _ = RecordKey(jwk)
	if _, err := VerifyRecordAt(ctx, key, v, nil, t0); err != nil {
		t.Fatal(err)
	}
}

func TestValidatorSelect(t *testing.T) {
	ks := newStore(t)
	alice := newIdentity(t, ks, "alice", keystore.Ed25519)
	bob := newIdentity(t, ks, "bob", keystore.Ed25519)
	now := t0
	v := &Validator{Now: func() time.Time { return now }}
	key, s1 := alice.sign(t, 1, t0.Add(time.Hour))
	_, s2 := alice.sign(t, 2, t0.Add(time.Hour))
	_, s2later := alice.sign(t, 2, t0.Add(2*time.Hour))
	_, s5expired := alice.sign(t, 5, t0.Add(time.Second))
	_, forged := forge(t, alice, bob, 9, t0.Add(time.Hour))
	now = t0.Add(time.Minute)
	if err := v.Validate(key, s1); err != nil {
		t.Fatal(err)
	}
	for _, err := range []error{v.Validate(key, forged), v.Validate(key, s5expired)} {
		if err == nil {
			t.Fatalf("Validate accepted a forged or expired record")
		}
	}
	cases := []struct {
		name   string
		values [][]byte
		want   int
	}{
		{"higher seq", [][]byte{s1, s2}, 1},
		{"higher seq first", [][]byte{s2, s1}, 0},
		{"tie: later expiry", [][]byte{s2, s2later, s1}, 1},
		{"forged and expired never win", [][]byte{forged, s5expired, s1}, 2},
	}
	for _, tc := range cases {
		got, err := v.Select(key, tc.values)
		if err != nil || got != tc.want {
			t.Fatalf("%s: got %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
	// Equal seq and expiry: the bytewise larger value wins, whatever the order.
	_, a := alice.sign(t, 3, t0.Add(time.Hour))
	r := alice.record(3, t0.Add(time.Hour))
	r.Addrs = nil
	b, _ := SignRecord(r, alice.signer, alice.kid)
	ab, ba := [][]byte{a, b}, [][]byte{b, a}
	i, _ := v.Select(key, ab)
	j, _ := v.Select(key, ba)
	if !bytes.Equal(ab[i], ba[j]) || bytes.Compare(ab[i], ab[1-i]) < 0 {
		t.Fatalf("tie break: not the bytewise larger value, or depends on order")
	}
	if _, err := v.Select(key, [][]byte{forged}); err == nil {
		t.Fatalf("Select chose among only invalid values")
	}
}

func FuzzVerifyRecord(f *testing.F) {
	id := goldenIdentity(f)
	key, v := id.sign(f, 1, t0.Add(time.Hour))
	f.Add(key, v)
	f.Add(key, []byte(goldenRecord))
	f.Add("/did/web:example.com", v)
	f.Add(key, []byte(`{"payload":"e30","sig":""}`))
	f.Fuzz(func(t *testing.T, key string, value []byte) {
		rec, err := VerifyRecordAt(context.Background(), key, value, nil, t0)
		if err != nil {
			return
		}
		// Whatever verifies is within bounds and bound to its key.
		if len(value) > MaxRecordSize || rec.Seq > maxSafeInteger || !t0.Before(rec.Expires) {
			t.Fatalf("accepted an out-of-bounds record: %+v", rec)
		}
		if k, err := RecordKey(rec.DID); err != nil || k != key {
			t.Fatalf("record about %s accepted under key %s", rec.DID, key)
		}
	})
}
