package protocol

import (
	"testing"
)

const (
	tGranted = "2024-01-01T00:00:00.000000Z"
	tExpires = "2025-01-01T00:00:00.000000Z"
	tMid     = "2024-06-01T00:00:00.000000Z"
)

func TestParseGrant(t *testing.T) {
	cases := []struct {
		name, data, code string
	}{
		{"records write", `{"dateExpires":"` + tExpires + `","scope":{"interface":"Records","method":"Write","protocol":"https://e.com/p"},"conditions":{"publication":"Required"}}`, ""},
		{"messages query no protocol", `{"dateExpires":"` + tExpires + `","scope":{"interface":"Messages","method":"Query"},"delegated":true,"description":"d","requestId":"r"}`, ""},
		{"protocols configure", `{"dateExpires":"` + tExpires + `","scope":{"interface":"Protocols","method":"Configure","protocol":"https://e.com/p"}}`, ""},
		{"missing dateExpires", `{"scope":{"interface":"Messages","method":"Query"}}`, CodeSchemaValidatorFailure},
		{"missing scope", `{"dateExpires":"` + tExpires + `"}`, CodeSchemaValidatorFailure},
		{"bad dateExpires", `{"dateExpires":"2025-01-01T00:00:00Z","scope":{"interface":"Messages","method":"Query"}}`, CodeSchemaValidatorFailure},
		{"extra key", `{"dateExpires":"` + tExpires + `","scope":{"interface":"Messages","method":"Query"},"foo":1}`, CodeSchemaValidatorAdditionalPropertyNotAllowed},
		{"messages write scope", `{"dateExpires":"` + tExpires + `","scope":{"interface":"Messages","method":"Write"}}`, CodeSchemaValidatorFailure},
		{"protocols scope with contextId", `{"dateExpires":"` + tExpires + `","scope":{"interface":"Protocols","method":"Query","contextId":"x"}}`, CodeSchemaValidatorFailure},
		{"bad publication", `{"dateExpires":"` + tExpires + `","scope":{"interface":"Messages","method":"Query"},"conditions":{"publication":"Maybe"}}`, CodeSchemaValidatorFailure},
		{"conditions extra", `{"dateExpires":"` + tExpires + `","scope":{"interface":"Messages","method":"Query"},"conditions":{"x":1}}`, CodeSchemaValidatorAdditionalPropertyNotAllowed},
		{"protocol not normalized", `{"dateExpires":"` + tExpires + `","scope":{"interface":"Records","method":"Read","protocol":"e.com/p"}}`, CodeURLProtocolNotNormalized},
		{"contextId and protocolPath", `{"dateExpires":"` + tExpires + `","scope":{"interface":"Records","method":"Read","protocol":"https://e.com/p","contextId":"c","protocolPath":"a"}}`, CodePermissionsProtocolValidateScopeContextIDProhibitedProperties},
		{"impossible date", `{"dateExpires":"2025-13-01T00:00:00.000000Z","scope":{"interface":"Messages","method":"Query"}}`, CodeTimestampInvalid},
		{"not json", `{`, CodeSchemaValidatorFailure},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := ParseGrant("g1", "did:alice", "did:bob", tGranted, []byte(c.data))
			if got := codeOf(err); got != c.code {
				t.Fatalf("code = %q (%v), want %q", got, err, c.code)
			}
			if err == nil && (g.ID != "g1" || g.Grantor != "did:alice" || g.Grantee != "did:bob" || g.DateExpires != tExpires) {
				t.Fatalf("grant = %+v", g)
			}
		})
	}
}

func TestGrantAuthorize(t *testing.T) {
	grant := func(s Scope, pub string) *Grant {
		return &Grant{ID: "g1", Grantor: "did:alice", Grantee: "did:bob", DateGranted: tGranted, DateExpires: tExpires, Scope: s, Publication: pub}
	}
	rw := Scope{Interface: "Records", Method: "Write", Protocol: "https://e.com/p"}
	req := func(mod func(*GrantRequest)) GrantRequest {
		r := GrantRequest{Interface: "Records", Method: "Write", Protocol: "https://e.com/p", ContextID: "c1/c2", ProtocolPath: "a/b", MessageTimestamp: tMid, Author: "did:bob", Tenant: "did:alice"}
		if mod != nil {
			mod(&r)
		}
		return r
	}
	cases := []struct {
		name string
		g    *Grant
		req  GrantRequest
		code string
	}{
		{"ok", grant(rw, ""), req(nil), ""},
		{"wrong grantee", grant(rw, ""), req(func(r *GrantRequest) { r.Author = "did:eve" }), CodeGrantAuthorizationNotGrantedToAuthor},
		{"wrong grantor", grant(rw, ""), req(func(r *GrantRequest) { r.Tenant = "did:eve" }), CodeGrantAuthorizationNotGrantedForTenant},
		{"before granted", grant(rw, ""), req(func(r *GrantRequest) { r.MessageTimestamp = "2023-12-31T23:59:59.999999Z" }), CodeGrantAuthorizationGrantNotYetActive},
		{"at granted", grant(rw, ""), req(func(r *GrantRequest) { r.MessageTimestamp = tGranted }), ""},
		{"at expiry", grant(rw, ""), req(func(r *GrantRequest) { r.MessageTimestamp = tExpires }), CodeGrantAuthorizationGrantExpired},
		{"revoked before", grant(rw, ""), req(func(r *GrantRequest) { r.RevokedAt = "2024-03-01T00:00:00.000000Z" }), CodeGrantAuthorizationGrantRevoked},
		{"revoked at", grant(rw, ""), req(func(r *GrantRequest) { r.RevokedAt = tMid }), CodeGrantAuthorizationGrantRevoked},
		{"revoked after", grant(rw, ""), req(func(r *GrantRequest) { r.RevokedAt = "2024-07-01T00:00:00.000000Z" }), ""},
		{"interface mismatch", grant(rw, ""), req(func(r *GrantRequest) { r.Interface = "Protocols" }), CodeGrantAuthorizationInterfaceMismatch},
		{"method mismatch", grant(rw, ""), req(func(r *GrantRequest) { r.Method = "Read" }), CodeGrantAuthorizationMethodMismatch},
		{"record protocol mismatch", grant(rw, ""), req(func(r *GrantRequest) { r.Protocol = "https://e.com/q" }), CodeRecordsGrantAuthorizationScopeProtocolMismatch},
		{"contextId prefix ok", grant(Scope{Interface: "Records", Method: "Write", Protocol: "https://e.com/p", ContextID: "c1"}, ""), req(nil), ""},
		{"contextId mismatch", grant(Scope{Interface: "Records", Method: "Write", Protocol: "https://e.com/p", ContextID: "c9"}, ""), req(nil), CodeRecordsGrantAuthorizationScopeContextIDMismatch},
		{"protocolPath ok", grant(Scope{Interface: "Records", Method: "Write", Protocol: "https://e.com/p", ProtocolPath: "a/b"}, ""), req(nil), ""},
		{"protocolPath mismatch", grant(Scope{Interface: "Records", Method: "Write", Protocol: "https://e.com/p", ProtocolPath: "a"}, ""), req(nil), CodeRecordsGrantAuthorizationScopeProtocolPathMismatch},
		{"publication required", grant(rw, PublicationRequired), req(nil), CodeRecordsGrantAuthorizationConditionPublicationRequired},
		{"publication required met", grant(rw, PublicationRequired), req(func(r *GrantRequest) { r.Published = true }), ""},
		{"publication prohibited", grant(rw, PublicationProhibited), req(func(r *GrantRequest) { r.Published = true }), CodeRecordsGrantAuthorizationConditionPublicationProhibited},
		{"read scope", grant(Scope{Interface: "Records", Method: "Read", Protocol: "https://e.com/p", ProtocolPath: "x"}, PublicationRequired), req(func(r *GrantRequest) { r.Method = "Read" }), CodeRecordsGrantAuthorizationScopeProtocolPathMismatch},
		{"read ignores publication", grant(Scope{Interface: "Records", Method: "Read", Protocol: "https://e.com/p"}, PublicationRequired), req(func(r *GrantRequest) { r.Method = "Read" }), ""},
		{"query protocol mismatch", grant(Scope{Interface: "Records", Method: "Query", Protocol: "https://e.com/p"}, ""), req(func(r *GrantRequest) { r.Method = "Query"; r.Protocol = "" }), CodeRecordsGrantAuthorizationQueryOrSubscribeProtocolScopeMismatch},
		{"subscribe ok", grant(Scope{Interface: "Records", Method: "Subscribe", Protocol: "https://e.com/p"}, ""), req(func(r *GrantRequest) { r.Method = "Subscribe" }), ""},
		{"delete protocol mismatch", grant(Scope{Interface: "Records", Method: "Delete", Protocol: "https://e.com/p"}, ""), req(func(r *GrantRequest) { r.Method = "Delete"; r.Protocol = "https://e.com/q" }), CodeRecordsGrantAuthorizationDeleteProtocolScopeMismatch},
		{"configure unrestricted", grant(Scope{Interface: "Protocols", Method: "Configure"}, ""), req(func(r *GrantRequest) { r.Interface, r.Method, r.Protocol = "Protocols", "Configure", "https://any" }), ""},
		{"configure mismatch", grant(Scope{Interface: "Protocols", Method: "Configure", Protocol: "https://e.com/p"}, ""), req(func(r *GrantRequest) { r.Interface, r.Method, r.Protocol = "Protocols", "Configure", "https://any" }), CodeProtocolsGrantAuthorizationScopeProtocolMismatch},
		{"protocols query mismatch", grant(Scope{Interface: "Protocols", Method: "Query", Protocol: "https://e.com/p"}, ""), req(func(r *GrantRequest) { r.Interface, r.Method, r.Protocol = "Protocols", "Query", "" }), CodeProtocolsGrantAuthorizationQueryProtocolScopeMismatch},
		{"messages query filters ok", grant(Scope{Interface: "Messages", Method: "Query", Protocol: "https://e.com/p"}, ""), req(func(r *GrantRequest) {
			r.Interface, r.Method, r.FilterProtocols = "Messages", "Query", []string{"https://e.com/p", "https://e.com/p"}
		}), ""},
		{"messages query filter without protocol", grant(Scope{Interface: "Messages", Method: "Subscribe", Protocol: "https://e.com/p"}, ""), req(func(r *GrantRequest) {
			r.Interface, r.Method, r.FilterProtocols = "Messages", "Subscribe", []string{"https://e.com/p", ""}
		}), CodeMessagesGrantAuthorizationMismatchedProtocol},
		{"messages read ok", grant(Scope{Interface: "Messages", Method: "Read", Protocol: "https://e.com/p"}, ""), req(func(r *GrantRequest) { r.Interface, r.Method = "Messages", "Read" }), ""},
		{"messages read permission record", grant(Scope{Interface: "Messages", Method: "Read", Protocol: "https://e.com/p"}, ""), req(func(r *GrantRequest) {
			r.Interface, r.Method, r.Protocol, r.ScopeProtocol = "Messages", "Read", PermissionsProtocol, "https://e.com/p"
		}), ""},
		{"messages read other", grant(Scope{Interface: "Messages", Method: "Read", Protocol: "https://e.com/p"}, ""), req(func(r *GrantRequest) { r.Interface, r.Method, r.Protocol = "Messages", "Read", "https://e.com/q" }), CodeMessagesReadVerifyScopeFailed},
		{"messages read unscoped", grant(Scope{Interface: "Messages", Method: "Read"}, ""), req(func(r *GrantRequest) { r.Interface, r.Method, r.Protocol = "Messages", "Read", "" }), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := codeOf(c.g.Authorize(c.req)); got != c.code {
				t.Fatalf("code = %q (%v), want %q", got, c.g.Authorize(c.req), c.code)
			}
		})
	}
}

func TestValidatePermissionRecord(t *testing.T) {
	scoped := `{"dateExpires":"` + tExpires + `","scope":{"interface":"Records","method":"Read","protocol":"https://e.com/p"}}`
	tag := map[string]any{"protocol": "https://e.com/p"}
	g := &Grant{Scope: Scope{Interface: "Records", Method: "Read", Protocol: "https://e.com/p"}}
	cases := []struct {
		name, path, data string
		tags             map[string]any
		grant            *Grant
		code             string
	}{
		{"grant ok", "grant", scoped, tag, nil, ""},
		{"grant missing tag", "grant", scoped, nil, nil, CodePermissionsProtocolValidateScopeMissingProtocolTag},
		{"grant tag mismatch", "grant", scoped, map[string]any{"protocol": "https://e.com/q"}, nil, CodePermissionsProtocolValidateScopeProtocolMismatch},
		{"request ok", "request", `{"delegated":false,"scope":{"interface":"Messages","method":"Read"}}`, nil, nil, ""},
		{"request missing delegated", "request", `{"scope":{"interface":"Messages","method":"Read"}}`, nil, nil, CodeSchemaValidatorFailure},
		{"revocation ok", "grant/revocation", `{"description":"x"}`, tag, g, ""},
		{"revocation extra", "grant/revocation", `{"x":1}`, nil, nil, CodeSchemaValidatorAdditionalPropertyNotAllowed},
		{"revocation tag mismatch", "grant/revocation", `{}`, nil, g, CodePermissionsProtocolValidateRevocationProtocolTagMismatch},
		{"unexpected path", "other", `{}`, nil, nil, CodePermissionsProtocolValidateSchemaUnexpectedRecord},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := ValidatePermissionRecord(Record{ProtocolPath: c.path, Tags: c.tags}, []byte(c.data), c.grant)
			if got := codeOf(err); got != c.code {
				t.Fatalf("code = %q (%v), want %q", got, err, c.code)
			}
		})
	}
}

func TestPermissionsDefinition(t *testing.T) {
	d := PermissionsDefinition()
	if d.Protocol != PermissionsProtocol || !d.Published {
		t.Fatal(d.Protocol)
	}
	for _, p := range []string{"request", "grant", "grant/revocation"} {
		rs, ok := d.RuleSet(p)
		if !ok || rs.Size == nil || *rs.Size.Max != 10000 {
			t.Fatalf("%s: %+v", p, rs)
		}
		if err := d.CheckWrite(Record{ProtocolPath: p, ParentID: map[bool]string{true: "g"}[p == "grant/revocation"], DataFormat: "application/json", DataSize: 10000}); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if codeOf(d.CheckWrite(Record{ProtocolPath: "grant", DataFormat: "application/json", DataSize: 10001})) != CodeProtocolAuthorizationMaxSizeInvalid {
		t.Fatal("size")
	}
	grantRec := Record{ProtocolPath: "grant", Author: "did:alice", Recipient: "did:bob"}
	if err := d.Authorize(Request{Action: ActionRead, Author: "did:bob", Target: &grantRec}); err != nil {
		t.Fatal(err)
	}
	if codeOf(d.Authorize(Request{Action: ActionRead, Author: "did:eve", Target: &grantRec})) != CodeProtocolAuthorizationActionNotAllowed {
		t.Fatal("stranger read grant")
	}
	if err := d.Authorize(Request{Action: ActionCreate, Author: "did:eve", Write: &Record{ProtocolPath: "request"}}); err != nil {
		t.Fatal(err)
	}
	if err := d.Authorize(Request{Action: ActionRead, Target: &Record{ProtocolPath: "grant/revocation"}}); err != nil {
		t.Fatal(err)
	}
	// Each call is a fresh copy.
	PermissionsDefinition().Structure["grant"].Actions = nil
	if PermissionsDefinition().Structure["grant"].Actions == nil {
		t.Fatal("shared state")
	}
}
