package p2p

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/keystore"
	"github.com/libp2p/go-libp2p/core/peer"
)

// authNode is a host whose DID key is not its libp2p key.
type authNode struct {
	host *Host
	id   testIdentity
	auth *DIDAuth
}

// newAuthNodes starts one host per key type, each with a DID of that type
// (a did:key on a key separate from the Ed25519 host key), all connected
// to the first. resolver is given to every DIDAuth.
func newAuthNodes(t *testing.T, resolver did.Resolver, kinds ...keystore.KeyType) []*authNode {
	t.Helper()
	ks := newStoreTB(t)
	var nodes []*authNode
	for i, kt := range kinds {
		hs, err := ks.Create(fmt.Sprintf("host%d", i), keystore.Ed25519)
		if err != nil {
			t.Fatal(err)
		}
		h, err := NewHost(testHostConfig(), hs, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		id := newIdentity(t, ks, fmt.Sprintf("did%d", i), kt)
		id.peer = h.ID()
		n := &authNode{host: h, id: id}
		n.auth = NewDIDAuth(h.Host, DIDIdentity{DID: id.did, KID: id.kid, Signer: id.signer}, resolver, WithAuthTimeout(5*time.Second))
		if hostDID, _ := did.NewKey(hs.PublicKey()); hostDID == id.did {
			t.Fatal("the DID key must differ from the host key")
		}
		nodes = append(nodes, n)
	}
	for _, n := range nodes[1:] {
		connect(t, n, nodes[0])
	}
	return nodes
}

func connect(t *testing.T, a, b *authNode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.host.Connect(ctx, peer.AddrInfo{ID: b.host.ID(), Addrs: b.host.Addrs()}); err != nil {
		t.Fatal(err)
	}
}

func authenticate(a, b *authNode) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return a.auth.Authenticate(ctx, b.host.ID())
}

// forget drops a's cached proofs so the next Authenticate runs the exchange.
func (n *authNode) forget() {
	n.auth.mu.Lock()
	clear(n.auth.peers)
	n.auth.mu.Unlock()
}

func TestDIDAuthMutual(t *testing.T) {
	nodes := newAuthNodes(t, nil, keystore.Secp256k1, keystore.Ed25519, keystore.P256)
	a, b, c := nodes[0], nodes[1], nodes[2]

	got, err := authenticate(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if got != b.id.did {
		t.Fatalf("a authenticated %s, want %s", got, b.id.did)
	}
	// The responder learned the initiator's DID in the same exchange.
	waitFor(t, 5*time.Second, "b knows a's DID", func() error {
		if d, ok := b.auth.RemoteDID(a.host.ID()); !ok || d != a.id.did {
			return fmt.Errorf("b.RemoteDID(a) = %q, %v", d, ok)
		}
		return nil
	})
	if d, ok := a.auth.RemoteDID(b.host.ID()); !ok || d != b.id.did {
		t.Fatalf("a.RemoteDID(b) = %q, %v", d, ok)
	}
	// The other way, over a fresh exchange, and with a P-256 DID.
	b.forget()
	if got, err := authenticate(b, a); err != nil || got != a.id.did {
		t.Fatalf("b authenticated %q, %v; want %s", got, err, a.id.did)
	}
	if got, err := authenticate(c, a); err != nil || got != a.id.did {
		t.Fatalf("c authenticated %q, %v; want %s", got, err, a.id.did)
	}
	if _, ok := c.auth.RemoteDID(b.host.ID()); ok {
		t.Fatal("c knows a DID for b, which never authenticated to it")
	}
}

func TestDIDAuthExpiryAndDisconnect(t *testing.T) {
	clock := newClock(time.Unix(1_800_000_000, 0))
	nodes := newAuthNodes(t, nil, keystore.Ed25519, keystore.Ed25519)
	a, b := nodes[0], nodes[1]
	a.auth.now = clock.Now
	a.auth.ttl = time.Minute
	if _, err := authenticate(a, b); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.auth.RemoteDID(b.host.ID()); !ok {
		t.Fatal("no DID right after authentication")
	}
	clock.Advance(2 * time.Minute)
	if _, ok := a.auth.RemoteDID(b.host.ID()); ok {
		t.Fatal("the proof outlived its TTL")
	}
	if _, err := authenticate(a, b); err != nil {
		t.Fatal(err)
	}
	// Closing the connection forgets the proof made on it.
	waitFor(t, 5*time.Second, "b knows a", func() error {
		if _, ok := b.auth.RemoteDID(a.host.ID()); !ok {
			return errors.New("not yet")
		}
		return nil
	})
	if err := a.host.Network().ClosePeer(b.host.ID()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the proof to be dropped with the connection", func() error {
		if _, ok := b.auth.RemoteDID(a.host.ID()); ok {
			return errors.New("b still knows a")
		}
		if _, ok := a.auth.RemoteDID(b.host.ID()); ok {
			return errors.New("a still knows b")
		}
		return nil
	})
}

func TestDIDAuthForgedSignature(t *testing.T) {
	nodes := newAuthNodes(t, nil, keystore.Secp256k1, keystore.Ed25519)
	a, b := nodes[0], nodes[1]
	flip := func(m *authMessage) {
		if m.Sig != "" {
			sig, _ := b64.DecodeString(m.Sig)
			sig[10] ^= 1
			m.Sig = b64.EncodeToString(sig)
		}
	}
	// The initiator forges: the responder refuses and says why.
	a.auth.mutate = flip
	_, err := authenticate(a, b)
	if !errors.Is(err, ErrAuthRefused) || !strings.Contains(err.Error(), "bad signature") {
		t.Fatalf("forged initiator proof: err = %v, want a refusal naming a bad signature", err)
	}
	if _, ok := b.auth.RemoteDID(a.host.ID()); ok {
		t.Fatal("b accepted a forged proof")
	}
	// The responder forges: the initiator refuses.
	a.auth.mutate = nil
	b.auth.mutate = flip
	_, err = authenticate(a, b)
	if !errors.Is(err, ErrAuthBadSignature) {
		t.Fatalf("forged responder proof: err = %v, want ErrAuthBadSignature", err)
	}
	if _, ok := a.auth.RemoteDID(b.host.ID()); ok {
		t.Fatal("a accepted a forged proof")
	}
}

func TestDIDAuthReplayedProof(t *testing.T) {
	nodes := newAuthNodes(t, nil, keystore.Ed25519, keystore.Secp256k1, keystore.Ed25519)
	a, b, c := nodes[0], nodes[1], nodes[2]
	connect(t, b, c)

	// b proves its DID to a; keep that proof.
	var mu sync.Mutex
	var captured *authMessage
	b.auth.mutate = func(m *authMessage) {
		if m.Sig != "" {
			mu.Lock()
			cp := *m
			captured = &cp
			mu.Unlock()
		}
	}
	if _, err := authenticate(b, a); err != nil {
		t.Fatal(err)
	}
	replay := func(m *authMessage) {
		if m.Sig != "" {
			mu.Lock()
			*m = *captured
			mu.Unlock()
		}
	}
	b.auth.mutate = replay

	// Replayed to another peer: bound to b→a, not b→c.
	_, err := authenticate(b, c)
	if !errors.Is(err, ErrAuthRefused) || !strings.Contains(err.Error(), "wrong peer binding") {
		t.Fatalf("proof replayed to another peer: err = %v, want a refusal naming the peer binding", err)
	}
	if _, ok := c.auth.RemoteDID(b.host.ID()); ok {
		t.Fatal("c accepted a proof made for a")
	}
	// Replayed to the same peer: it answers an old challenge.
	b.forget()
	_, err = authenticate(b, a)
	if !errors.Is(err, ErrAuthRefused) || !strings.Contains(err.Error(), "replayed challenge") {
		t.Fatalf("proof replayed to the same peer: err = %v, want a refusal naming the replay", err)
	}
}

func TestDIDAuthReplayedChallenge(t *testing.T) {
	nodes := newAuthNodes(t, nil, keystore.Ed25519, keystore.Ed25519)
	a, b := nodes[0], nodes[1]
	a.auth.challenge = func() []byte { return make([]byte, challengeSize) }
	if _, err := authenticate(a, b); err != nil {
		t.Fatalf("first use of a challenge: %v", err)
	}
	a.forget()
	_, err := authenticate(a, b)
	if !errors.Is(err, ErrAuthRefused) || !strings.Contains(err.Error(), "replayed challenge") {
		t.Fatalf("reused challenge: err = %v, want a refusal naming the replay", err)
	}
}

func TestDIDAuthWrongDIDClaim(t *testing.T) {
	nodes := newAuthNodes(t, nil, keystore.Ed25519, keystore.Secp256k1)
	a, b := nodes[0], nodes[1]

	// b claims a's DID but signs with its own key.
	b.auth.self = DIDIdentity{DID: a.id.did, KID: a.id.kid, Signer: b.id.signer}
	b.auth.selfErr = checkIdentity(b.auth.self)
	if err := b.auth.selfErr; !errors.Is(err, ErrAuthIdentity) {
		t.Fatalf("checkIdentity of a stolen did:key = %v, want ErrAuthIdentity", err)
	}
	_, err := authenticate(b, a)
	if !errors.Is(err, ErrAuthIdentity) {
		t.Fatalf("Authenticate with a stolen DID: %v, want ErrAuthIdentity before any exchange", err)
	}
	// Even if it skipped its own check, the verifier refuses.
	b.auth.selfErr = nil
	_, err = authenticate(b, a)
	if !errors.Is(err, ErrAuthRefused) || !strings.Contains(err.Error(), "bad signature") {
		t.Fatalf("stolen DID: err = %v, want a refusal naming a bad signature", err)
	}
	// A kid of another DID.
	b.auth.self = DIDIdentity{DID: a.id.did, KID: b.id.kid, Signer: b.id.signer}
	_, err = authenticate(b, a)
	if !errors.Is(err, ErrAuthRefused) || !strings.Contains(err.Error(), "not a verification method") {
		t.Fatalf("foreign kid: err = %v, want a refusal naming the kid", err)
	}
	if _, ok := a.auth.RemoteDID(b.host.ID()); ok {
		t.Fatal("a accepted a wrong DID claim")
	}
}

// mapResolver resolves the documents it holds.
type mapResolver map[string]*did.Document

func (m mapResolver) Resolve(_ context.Context, d string) *did.Resolution {
	if doc, ok := m[d]; ok {
		return did.Success(doc)
	}
	return did.Failure(did.CodeNotFound, "%s is not known", d)
}

func TestDIDAuthResolvedDID(t *testing.T) {
	docs := mapResolver{}
	nodes := newAuthNodes(t, docs, keystore.Ed25519, keystore.Ed25519)
	a, b := nodes[0], nodes[1]

	// b's DID is a did:web whose key is b's did:key key.
	keyDoc := did.KeyResolver{}.Resolve(context.Background(), b.id.did).Document
	const web = "did:web:bob.example"
	vm := keyDoc.VerificationMethod[0]
	vm.ID, vm.Controller = web+"#key-1", web
	docs[web] = &did.Document{ID: web, VerificationMethod: []did.VerificationMethod{vm},
		AssertionMethod: []did.Reference{{ID: "#key-1"}}}
	b.auth.self = DIDIdentity{DID: web, KID: web + "#key-1", Signer: b.id.signer}
	b.auth.selfErr = checkIdentity(b.auth.self)

	// Listed only under assertionMethod: refused.
	_, err := authenticate(b, a)
	if !errors.Is(err, ErrAuthRefused) || !strings.Contains(err.Error(), "authentication") {
		t.Fatalf("assertion-only key: err = %v, want a refusal naming authentication", err)
	}
	// Under authentication: accepted.
	docs[web].Authentication = []did.Reference{{ID: "#key-1"}}
	if got, err := authenticate(b, a); err != nil || got != a.id.did {
		t.Fatalf("authenticate = %q, %v", got, err)
	}
	waitFor(t, 5*time.Second, "a knows b's did:web", func() error {
		if d, ok := a.auth.RemoteDID(b.host.ID()); !ok || d != web {
			return fmt.Errorf("a.RemoteDID(b) = %q, %v", d, ok)
		}
		return nil
	})
	// A DID nobody can resolve.
	b.forget()
	b.auth.self = DIDIdentity{DID: "did:web:nowhere.example", KID: "did:web:nowhere.example#k", Signer: b.id.signer}
	_, err = authenticate(b, a)
	if !errors.Is(err, ErrAuthRefused) || !strings.Contains(err.Error(), "unresolvable DID") {
		t.Fatalf("unknown DID: err = %v, want a refusal naming an unresolvable DID", err)
	}
}

func TestDIDAuthOversizeFrame(t *testing.T) {
	nodes := newAuthNodes(t, nil, keystore.Ed25519, keystore.Ed25519)
	a, b := nodes[0], nodes[1]
	a.auth.mutate = func(m *authMessage) {
		if m.Challenge != "" {
			m.Error = strings.Repeat("x", MaxDIDAuthFrame)
		}
	}
	if _, err := authenticate(a, b); err == nil {
		t.Fatal("an oversize frame was accepted")
	}
	if _, ok := b.auth.RemoteDID(a.host.ID()); ok {
		t.Fatal("b authenticated a after an oversize frame")
	}
}

func TestDIDAuthStatementDomain(t *testing.T) {
	p1, p2 := peer.ID("p1"), peer.ID("p2")
	c1, c2 := make([]byte, 32), make([]byte, 32)
	c2[0] = 1
	base := statement(roleInitiator, p1, p2, c1, c2, "did:key:z", "did:key:z#z")
	if !strings.HasPrefix(string(base), didAuthDomain) {
		t.Fatal("statement lacks the domain prefix")
	}
	for name, other := range map[string][]byte{
		"role":       statement(roleResponder, p1, p2, c1, c2, "did:key:z", "did:key:z#z"),
		"peers":      statement(roleInitiator, p2, p1, c1, c2, "did:key:z", "did:key:z#z"),
		"challenges": statement(roleInitiator, p1, p2, c2, c1, "did:key:z", "did:key:z#z"),
		"did/kid":    statement(roleInitiator, p1, p2, c1, c2, "did:key:z#", "did:key:z"),
	} {
		if string(other) == string(base) {
			t.Errorf("changing %s leaves the statement unchanged", name)
		}
	}
}
