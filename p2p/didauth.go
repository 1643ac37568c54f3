package p2p

import (
	"context"
	"crypto"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/anya-org/anya/did"
	"github.com/anya-org/anya/keystore"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/multiformats/go-varint"
)

// DID authentication, /anya/didauth/1.0.0.
//
// The libp2p handshake proves a peer ID; this protocol proves, on top of
// it, which DID the peer speaks for, with a key of that DID that need not
// be the libp2p key. Both sides prove their DID in one exchange of four
// JSON frames, each at most MaxDIDAuthFrame bytes:
//
//	initiator → responder  {"v":1,"challenge":cI}
//	responder → initiator  {"v":1,"challenge":cR,"from":R,"to":I,"for":cI,"did":…,"kid":…,"sig":…}
//	initiator → responder  {"v":1,"from":I,"to":R,"for":cR,"did":…,"kid":…,"sig":…}
//	responder → initiator  {"v":1} or {"v":1,"error":"…"}
//
// Challenges are 32 random bytes, binary fields unpadded base64url. Each
// signature is made by the verification method kid of did, over explicit
// bytes, never over JSON:
//
//	"anya-didauth-v1\x00" ‖ lp(protocol ID) ‖ lp(role) ‖ lp(signer peer ID)
//	‖ lp(verifier peer ID) ‖ lp(cI) ‖ lp(cR) ‖ lp(did) ‖ lp(kid)
//
// where lp is an unsigned-varint length followed by the bytes, role is
// "initiator" or "responder" (so one side's proof cannot be reflected as the
// other's), and peer IDs are their binary form. The verifier rebuilds these
// bytes from what it knows (its own and the remote peer ID, both
// challenges), so a proof made for another peer or another challenge does
// not verify; the from/to/for members only let it say why. The method must
// be listed under authentication in the DID document: did:key is checked
// offline, other methods through the resolver.

// DIDAuthProtocol is the protocol ID of DID authentication.
const DIDAuthProtocol = protocol.ID("/anya/didauth/1.0.0")

// MaxDIDAuthFrame bounds every frame of DID authentication.
const MaxDIDAuthFrame = 8 << 10

const (
	didAuthVersion   = 1
	didAuthDomain    = "anya-didauth-v1\x00"
	challengeSize    = 32
	roleInitiator    = "initiator"
	roleResponder    = "responder"
	defaultAuthTTL   = time.Hour
	defaultAuthWait  = 10 * time.Second
	replayWindow     = 10 * time.Minute
	maxSeenChallenge = 1 << 14
)

// Errors of DID authentication; returned errors wrap one of them.
var (
	// ErrAuthBadSignature: the proof's signature does not verify with the
	// named key, or the key is not a usable authentication method of the DID.
	ErrAuthBadSignature = errors.New("p2p: didauth: bad signature")
	// ErrAuthPeerBinding: the proof was made for other peers.
	ErrAuthPeerBinding = errors.New("p2p: didauth: wrong peer binding")
	// ErrAuthReplay: a challenge was seen before, reflected back, or the
	// proof answers another challenge.
	ErrAuthReplay = errors.New("p2p: didauth: replayed challenge")
	// ErrAuthUnresolvable: the DID cannot be resolved to a document.
	ErrAuthUnresolvable = errors.New("p2p: didauth: unresolvable DID")
	// ErrAuthMalformed: a frame is not a well-formed message of the protocol.
	ErrAuthMalformed = errors.New("p2p: didauth: malformed message")
	// ErrAuthRefused: the remote peer refused our proof; the error carries
	// its reason.
	ErrAuthRefused = errors.New("p2p: didauth: refused by peer")
	// ErrAuthIdentity: our own DIDIdentity is unusable.
	ErrAuthIdentity = errors.New("p2p: didauth: bad local identity")
)

// DIDIdentity is the DID a node proves, the verification method (a DID URL
// listed under the DID's authentication) and a signer holding its key.
type DIDIdentity struct {
	DID    string
	KID    string
	Signer keystore.Signer
}

// DIDAuthOption adjusts a DIDAuth.
type DIDAuthOption func(*DIDAuth)

// WithAuthTTL sets how long an authenticated DID is remembered for a
// connection (default one hour).
func WithAuthTTL(d time.Duration) DIDAuthOption { return func(a *DIDAuth) { a.ttl = d } }

// WithAuthTimeout bounds each read and write of the exchange (default 10 s).
func WithAuthTimeout(d time.Duration) DIDAuthOption { return func(a *DIDAuth) { a.timeout = d } }

// WithAuthClock sets the clock used for expiry.
func WithAuthClock(now func() time.Time) DIDAuthOption { return func(a *DIDAuth) { a.now = now } }

// WithAuthLogger sets the logger; bad peer input is logged at debug level.
func WithAuthLogger(l *slog.Logger) DIDAuthOption { return func(a *DIDAuth) { a.log = l } }

// DIDAuth runs DID authentication on a host: it answers
// /anya/didauth/1.0.0 and authenticates peers on demand, remembering the
// DID each connected peer proved.
type DIDAuth struct {
	h        host.Host
	self     DIDIdentity
	selfErr  error
	resolver did.Resolver
	ttl      time.Duration
	timeout  time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu    sync.Mutex
	peers map[peer.ID]authEntry
	seen  map[string]time.Time // remote challenges, against replay

	// mutate, when set (tests only), alters each outgoing message.
	mutate func(*authMessage)
	// challenge makes our challenges; a test hook.
	challenge func() []byte
}

type authEntry struct {
	did     string
	conn    string // network.Conn ID the proof was made on
	expires time.Time
}

// NewDIDAuth registers the DID authentication handler on h, behind h's
// stream limits (LimitStreams), and returns the DIDAuth that proves self. resolver resolves remote DIDs other than
// did:key (and did:jwk, resolved offline when resolver is nil). An
// unusable self (a kid outside the DID, a did:key whose key the signer does
// not hold) makes every Authenticate fail and every inbound exchange be
// refused with ErrAuthIdentity.
func NewDIDAuth(h host.Host, self DIDIdentity, resolver did.Resolver, opts ...DIDAuthOption) *DIDAuth {
	a := &DIDAuth{h: h, self: self, resolver: resolver, ttl: defaultAuthTTL, timeout: defaultAuthWait,
		now: time.Now, peers: map[peer.ID]authEntry{}, seen: map[string]time.Time{}, challenge: newChallenge}
	for _, o := range opts {
		o(a)
	}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	a.log = a.log.With("subsys", "didauth")
	a.selfErr = checkIdentity(self)
	h.SetStreamHandler(DIDAuthProtocol, LimitStreams(h, DIDAuthProtocol, a.handle))
	return a
}

// Close removes the stream handler.
func (a *DIDAuth) Close() error {
	a.h.RemoveStreamHandler(DIDAuthProtocol)
	return nil
}

func checkIdentity(self DIDIdentity) error {
	p, err := did.Parse(self.DID)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrAuthIdentity, err)
	}
	if self.Signer == nil {
		return fmt.Errorf("%w: no signer for %s", ErrAuthIdentity, self.DID)
	}
	if !strings.HasPrefix(self.KID, self.DID+"#") {
		return fmt.Errorf("%w: kid %s is not a verification method of %s", ErrAuthIdentity, quote(self.KID), self.DID)
	}
	if p.Method == "key" {
		own, err := did.NewKey(self.Signer.PublicKey())
		if err != nil || own != self.DID {
			return fmt.Errorf("%w: signer %s does not hold the key of %s", ErrAuthIdentity, self.Signer.ID(), self.DID)
		}
	}
	return nil
}

// RemoteDID returns the DID peer p proved on a connection that is still
// open, in either direction, unless the proof has expired.
func (a *DIDAuth) RemoteDID(p peer.ID) (string, bool) {
	a.mu.Lock()
	e, ok := a.peers[p]
	a.mu.Unlock()
	if !ok || !a.now().Before(e.expires) {
		return "", false
	}
	for _, c := range a.h.Network().ConnsToPeer(p) {
		if c.ID() == e.conn {
			return e.did, true
		}
	}
	return "", false
}

// Authenticate returns the DID peer p proves, running the exchange on a new
// stream unless p already proved one on an open connection. p learns our
// DID in the same exchange.
func (a *DIDAuth) Authenticate(ctx context.Context, p peer.ID) (string, error) {
	if d, ok := a.RemoteDID(p); ok {
		return d, nil
	}
	if a.selfErr != nil {
		return "", a.selfErr
	}
	s, err := a.h.NewStream(ctx, p, DIDAuthProtocol)
	if err != nil {
		return "", fmt.Errorf("p2p: didauth: open stream to %s: %w", p, err)
	}
	d, err := a.initiate(ctx, s)
	if err != nil {
		closeAfter(s, err)
		return "", fmt.Errorf("p2p: didauth with %s: %w", p, err)
	}
	_ = s.Close()
	return d, nil
}

// authMessage is one frame of the exchange; see the protocol comment.
type authMessage struct {
	V         int    `json:"v"`
	Challenge string `json:"challenge,omitempty"`
	From      string `json:"from,omitempty"`
	To        string `json:"to,omitempty"`
	For       string `json:"for,omitempty"`
	DID       string `json:"did,omitempty"`
	KID       string `json:"kid,omitempty"`
	Sig       string `json:"sig,omitempty"`
	Error     string `json:"error,omitempty"`
}

// exchange is one run of the protocol as one side sees it.
type exchange struct {
	s          network.Stream
	local      peer.ID
	remote     peer.ID
	initiatorC []byte
	responderC []byte
}

func (a *DIDAuth) initiate(ctx context.Context, s network.Stream) (string, error) {
	x := &exchange{s: s, local: a.h.ID(), remote: s.Conn().RemotePeer()}
	x.initiatorC = a.challenge()
	if err := a.send(ctx, x, &authMessage{V: didAuthVersion, Challenge: b64.EncodeToString(x.initiatorC)}); err != nil {
		return "", err
	}
	m, err := a.recv(ctx, x)
	if err != nil {
		return "", err
	}
	if m.Error != "" {
		return "", refused(m.Error)
	}
	if x.responderC, err = a.takeChallenge(m.Challenge, x.initiatorC); err != nil {
		return "", a.refuse(ctx, x, err)
	}
	remoteDID, err := a.verify(ctx, x, m, roleResponder, x.initiatorC)
	if err != nil {
		return "", a.refuse(ctx, x, err)
	}
	proof, err := a.prove(x, roleInitiator, x.responderC)
	if err != nil {
		return "", err
	}
	if err := a.send(ctx, x, proof); err != nil {
		return "", err
	}
	if m, err = a.recv(ctx, x); err != nil {
		return "", err
	}
	if m.Error != "" {
		return "", refused(m.Error)
	}
	a.remember(x, remoteDID)
	return remoteDID, nil
}

func (a *DIDAuth) handle(s network.Stream) {
	ctx, cancel := context.WithTimeout(context.Background(), 4*a.timeout)
	defer cancel()
	d, err := a.respond(ctx, s)
	if err != nil {
		a.log.Debug("inbound authentication failed", "peer", s.Conn().RemotePeer(), "err", err)
		closeAfter(s, err)
		return
	}
	a.log.Debug("peer authenticated", "peer", s.Conn().RemotePeer(), "did", d)
	_ = s.Close()
}

func (a *DIDAuth) respond(ctx context.Context, s network.Stream) (string, error) {
	x := &exchange{s: s, local: a.h.ID(), remote: s.Conn().RemotePeer()}
	m, err := a.recv(ctx, x)
	if err != nil {
		return "", err
	}
	if a.selfErr != nil {
		return "", a.refuse(ctx, x, a.selfErr)
	}
	x.responderC = a.challenge()
	if x.initiatorC, err = a.takeChallenge(m.Challenge, x.responderC); err != nil {
		return "", a.refuse(ctx, x, err)
	}
	proof, err := a.prove(x, roleResponder, x.initiatorC)
	if err != nil {
		return "", a.refuse(ctx, x, err)
	}
	proof.Challenge = b64.EncodeToString(x.responderC)
	if err := a.send(ctx, x, proof); err != nil {
		return "", err
	}
	if m, err = a.recv(ctx, x); err != nil {
		return "", err
	}
	if m.Error != "" {
		return "", refused(m.Error)
	}
	remoteDID, err := a.verify(ctx, x, m, roleInitiator, x.responderC)
	if err != nil {
		return "", a.refuse(ctx, x, err)
	}
	if err := a.send(ctx, x, &authMessage{V: didAuthVersion}); err != nil {
		return "", err
	}
	a.remember(x, remoteDID)
	return remoteDID, nil
}

// refuse tells the peer why, best effort, and returns err marked so that
// the stream is closed (letting the reason arrive) rather than reset.
func (a *DIDAuth) refuse(ctx context.Context, x *exchange, err error) error {
	if a.send(ctx, x, &authMessage{V: didAuthVersion, Error: err.Error()}) != nil {
		return err
	}
	return &refusal{err}
}

// refused reports the peer's reason, bounded (a frame holds at most 8 KiB).
func refused(reason string) error {
	if len(reason) > 1024 {
		reason = reason[:1024] + "…"
	}
	return fmt.Errorf("%w: %q", ErrAuthRefused, reason)
}

// refusal is an error the peer was told about.
type refusal struct{ error }

func (r *refusal) Unwrap() error { return r.error }

// closeAfter ends a failed exchange: a clean close after a refusal the
// peer must still read, a reset otherwise.
func closeAfter(s network.Stream, err error) {
	var r *refusal
	if errors.As(err, &r) {
		_ = s.Close()
		return
	}
	_ = s.Reset()
}

func (a *DIDAuth) remember(x *exchange, remoteDID string) {
	a.mu.Lock()
	a.peers[x.remote] = authEntry{did: remoteDID, conn: x.s.Conn().ID(), expires: a.now().Add(a.ttl)}
	a.mu.Unlock()
}

func newChallenge() []byte {
	c := make([]byte, challengeSize)
	_, _ = rand.Read(c) // crypto/rand.Read never fails (Go 1.24+)
	return c
}

// takeChallenge decodes the remote challenge and refuses one that is our
// own reflected back or that was seen within the replay window.
func (a *DIDAuth) takeChallenge(s string, own []byte) ([]byte, error) {
	c, err := b64.DecodeString(s)
	if err != nil || len(c) != challengeSize {
		return nil, fmt.Errorf("%w: challenge must be %d bytes of unpadded base64url", ErrAuthMalformed, challengeSize)
	}
	if string(c) == string(own) {
		return nil, fmt.Errorf("%w: the peer reflected our challenge", ErrAuthReplay)
	}
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if t, ok := a.seen[string(c)]; ok && now.Sub(t) < replayWindow {
		return nil, fmt.Errorf("%w: challenge %s was used before", ErrAuthReplay, s)
	}
	if len(a.seen) >= maxSeenChallenge {
		for k, t := range a.seen {
			if now.Sub(t) >= replayWindow {
				delete(a.seen, k)
			}
		}
		// Still full: drop arbitrary entries rather than grow without bound.
		for k := range a.seen {
			if len(a.seen) < maxSeenChallenge {
				break
			}
			delete(a.seen, k)
		}
	}
	a.seen[string(c)] = now
	return c, nil
}

// statement is the byte string a side of role signs; see the protocol comment.
func statement(role string, signer, verifier peer.ID, cI, cR []byte, d, kid string) []byte {
	fields := [][]byte{[]byte(DIDAuthProtocol), []byte(role), []byte(signer), []byte(verifier), cI, cR, []byte(d), []byte(kid)}
	n := len(didAuthDomain)
	for _, f := range fields {
		n += varint.UvarintSize(uint64(len(f))) + len(f)
	}
	out := append(make([]byte, 0, n), didAuthDomain...)
	for _, f := range fields {
		out = append(out, varint.ToUvarint(uint64(len(f)))...)
		out = append(out, f...)
	}
	return out
}

func (a *DIDAuth) prove(x *exchange, role string, answered []byte) (*authMessage, error) {
	msg := statement(role, x.local, x.remote, x.initiatorC, x.responderC, a.self.DID, a.self.KID)
	sig, err := a.self.Signer.Sign(msg)
	if err != nil {
		return nil, fmt.Errorf("p2p: didauth: sign: %w", err)
	}
	return &authMessage{V: didAuthVersion, From: x.local.String(), To: x.remote.String(),
		For: b64.EncodeToString(answered), DID: a.self.DID, KID: a.self.KID, Sig: b64.EncodeToString(sig)}, nil
}

// verify checks the remote side's proof m, made as role in answer to our
// challenge own, and returns the DID it proves.
func (a *DIDAuth) verify(ctx context.Context, x *exchange, m *authMessage, role string, own []byte) (string, error) {
	switch {
	case m.From != x.remote.String() || m.To != x.local.String():
		return "", fmt.Errorf("%w: proof is from %s to %s, this connection is from %s to %s",
			ErrAuthPeerBinding, quote(m.From), quote(m.To), x.remote, x.local)
	case m.For != b64.EncodeToString(own):
		return "", fmt.Errorf("%w: proof answers challenge %s, not ours", ErrAuthReplay, quote(m.For))
	}
	p, err := did.Parse(m.DID)
	if err != nil {
		return "", fmt.Errorf("%w: did %s: %v", ErrAuthMalformed, quote(m.DID), err)
	}
	if !strings.HasPrefix(m.KID, p.DID+"#") {
		return "", fmt.Errorf("%w: kid %s is not a verification method of %s", ErrAuthBadSignature, quote(m.KID), p.DID)
	}
	sig, err := b64.DecodeString(m.Sig)
	if err != nil {
		return "", fmt.Errorf("%w: sig is not unpadded base64url", ErrAuthMalformed)
	}
	pub, err := a.authenticationKey(ctx, p, m.KID)
	if err != nil {
		return "", err
	}
	msg := statement(role, x.remote, x.local, x.initiatorC, x.responderC, p.DID, m.KID)
	if err := verifySignature(pub, msg, sig); err != nil {
		return "", fmt.Errorf("%w: by %s for %s: %v", ErrAuthBadSignature, m.KID, p.DID, err)
	}
	return p.DID, nil
}

// authenticationKey returns the key of kid, which must be listed under the
// authentication of p's document. It uses signingKey (which admits
// assertionMethod too) and then checks authentication in the document that
// signingKey resolved.
func (a *DIDAuth) authenticationKey(ctx context.Context, p did.Parsed, kid string) (crypto.PublicKey, error) {
	var r did.Resolver
	var cr *capturingResolver
	if a.resolver != nil {
		cr = &capturingResolver{inner: a.resolver}
		r = cr
	}
	pub, err := signingKey(ctx, p, kid, r)
	switch {
	case errors.Is(err, ErrUnresolvable):
		return nil, fmt.Errorf("%w: %v", ErrAuthUnresolvable, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %v", ErrAuthBadSignature, err)
	}
	var doc *did.Document
	if cr != nil {
		doc = cr.doc
	}
	if doc == nil {
		// signingKey resolved offline itself (did:key, or did:jwk without a
		// resolver); so do we, to read authentication.
		var off did.Resolver = did.KeyResolver{}
		if p.Method == "jwk" {
			off = did.JWKResolver{}
		}
		doc = off.Resolve(ctx, p.DID).Document
	}
	if doc == nil || !listed(doc, doc.Authentication, kid) {
		return nil, fmt.Errorf("%w: %s is not listed under authentication of %s", ErrAuthBadSignature, quote(kid), p.DID)
	}
	return pub, nil
}

func listed(doc *did.Document, refs []did.Reference, vmID string) bool {
	abs := func(id string) string {
		if strings.HasPrefix(id, "#") {
			return doc.ID + id
		}
		return id
	}
	for _, r := range refs {
		if abs(r.ID) == abs(vmID) {
			return true
		}
	}
	return false
}

// capturingResolver remembers the document it resolved.
type capturingResolver struct {
	inner did.Resolver
	doc   *did.Document
}

func (c *capturingResolver) Resolve(ctx context.Context, d string) *did.Resolution {
	res := c.inner.Resolve(ctx, d)
	if res != nil && res.Err() == nil {
		c.doc = res.Document
	}
	return res
}

func (a *DIDAuth) send(ctx context.Context, x *exchange, m *authMessage) error {
	if a.mutate != nil {
		a.mutate(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("p2p: didauth: encode: %w", err)
	}
	_ = x.s.SetWriteDeadline(a.deadline(ctx))
	return WriteFrame(x.s, b)
}

func (a *DIDAuth) recv(ctx context.Context, x *exchange) (*authMessage, error) {
	_ = x.s.SetReadDeadline(a.deadline(ctx))
	b, err := ReadFrame(x.s, MaxDIDAuthFrame)
	if err != nil {
		return nil, fmt.Errorf("p2p: didauth: read: %w", err)
	}
	var m authMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAuthMalformed, err)
	}
	if m.V != didAuthVersion {
		return nil, fmt.Errorf("%w: version %d, want %d", ErrAuthMalformed, m.V, didAuthVersion)
	}
	return &m, nil
}

// deadline is the sooner of ctx's deadline and one timeout from now.
func (a *DIDAuth) deadline(ctx context.Context) time.Time {
	d := time.Now().Add(a.timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}
