package dwn

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

const chatProtocol = "https://example.com/chat"

// chatDefinition: anyone creates a thread, the thread's recipient replies,
// "member" is a role whose holders may query and read threads, "big"
// records have no action rules and at most 3 bytes.
func chatDefinition() map[string]any {
	var def map[string]any
	if err := json.Unmarshal([]byte(`{"protocol":"`+chatProtocol+`","published":true,
		"types":{"thread":{},"reply":{},"member":{},"big":{}},
		"structure":{
			"member":{"$role":true},
			"thread":{"$actions":[{"who":"anyone","can":["create"]},{"role":"member","can":["query","read","subscribe"]}],
				"reply":{"$actions":[{"who":"recipient","of":"thread","can":["create"]}]}},
			"big":{"$size":{"max":3}}}}`), &def); err != nil {
		panic(err)
	}
	return def
}

// pwOpts shapes a RecordsWrite into a protocol.
type pwOpts struct {
	data                []byte
	protocol, path      string
	parentID, parentCtx string
	recipient           string
	tags                map[string]any
	published           bool
	payload             map[string]any // extra signature payload (protocolRole, permissionGrantId)
	author              string         // logical author when p is a delegate
	authExtra           map[string]any // extra authorization properties (authorDelegatedGrant)
}

// pwrite builds a signed initial RecordsWrite into a protocol; it returns
// the message, its recordId and its contextId.
func (d *testDWN) pwrite(p persona, o pwOpts) (msg []byte, recordID, contextID string) {
	d.t.Helper()
	ts := d.ts()
	desc := map[string]any{
		"interface": "Records", "method": "Write", "protocol": o.protocol, "protocolPath": o.path,
		"dataCid": DataCIDFromBytes(o.data).String(), "dataSize": len(o.data),
		"dateCreated": ts, "messageTimestamp": ts, "dataFormat": "application/json",
	}
	if o.parentID != "" {
		desc["parentId"] = o.parentID
	}
	if o.recipient != "" {
		desc["recipient"] = o.recipient
	}
	if o.tags != nil {
		desc["tags"] = o.tags
	}
	if o.published {
		desc["published"], desc["datePublished"] = true, ts
	}
	dt := tree(desc)
	author := p.did
	if o.author != "" {
		author = o.author
	}
	e, err := EntryID(dt, author)
	if err != nil {
		d.t.Fatal(err)
	}
	recordID, contextID = e.String(), e.String()
	if o.parentCtx != "" {
		contextID = o.parentCtx + "/" + recordID
	}
	extra := map[string]any{"recordId": recordID, "contextId": contextID}
	for k, v := range o.payload {
		extra[k] = v
	}
	authz := sign(d.t, p, dt, extra)
	for k, v := range o.authExtra {
		authz[k] = v
	}
	m := map[string]any{"recordId": recordID, "contextId": contextID, "descriptor": desc, "authorization": authz}
	msg, _ = json.Marshal(m)
	return msg, recordID, contextID
}

// signedMsg is msg with extra signature payload keys.
func (d *testDWN) signedMsg(p persona, iface, method string, fields, payload map[string]any) []byte {
	d.t.Helper()
	desc := map[string]any{"interface": iface, "method": method, "messageTimestamp": d.ts()}
	for k, v := range fields {
		desc[k] = v
	}
	b, _ := json.Marshal(map[string]any{"descriptor": desc, "authorization": sign(d.t, p, tree(desc), payload)})
	return b
}

func TestProtocolsConfigureValidatesDefinition(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	def := chatDefinition()
	def["structure"].(map[string]any)["thread"].(map[string]any)["$actions"] = []any{map[string]any{"who": "author", "can": []any{"create"}}}
	wantStatus(t, d.process(o.did, d.msg(&o, "Protocols", "Configure", map[string]any{"definition": def}), nil),
		400, "ProtocolsConfigureInvalidActionMissingOf: ")
	wantStatus(t, d.process(o.did, d.msg(&o, "Protocols", "Configure", map[string]any{"definition": chatDefinition()}), nil), 202, "Accepted")
}

func TestProtocolWriteRules(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	alice, bob := d.newPersona(), d.newPersona()
	data := []byte(`{}`)

	msg, _, _ := d.pwrite(alice, pwOpts{data: data, protocol: chatProtocol, path: "thread"})
	wantStatus(t, d.process(o.did, msg, data), 400, "ProtocolAuthorizationProtocolNotFound: ")
	wantStatus(t, d.process(o.did, d.msg(&o, "Protocols", "Configure", map[string]any{"definition": chatDefinition()}), nil), 202, "")

	// Per-record checks (400).
	msg, _, _ = d.pwrite(alice, pwOpts{data: data, protocol: chatProtocol, path: "nope"})
	wantStatus(t, d.process(o.did, msg, data), 400, "ProtocolAuthorizationInvalidType: ")
	msg, _, _ = d.pwrite(alice, pwOpts{data: data, protocol: chatProtocol, path: "thread/reply"})
	wantStatus(t, d.process(o.did, msg, data), 400, "ProtocolAuthorizationParentlessIncorrectProtocolPath: ")
	big := []byte(`{"a":1}`)
	msg, _, _ = d.pwrite(o, pwOpts{data: big, protocol: chatProtocol, path: "big"})
	wantStatus(t, d.process(o.did, msg, big), 400, "ProtocolAuthorizationMaxSizeInvalid: ")
	msg, _, _ = d.pwrite(o, pwOpts{data: data, protocol: chatProtocol, path: "member"})
	wantStatus(t, d.process(o.did, msg, data), 400, "ProtocolAuthorizationRoleMissingRecipient: ")

	// Anyone creates a thread for bob.
	msg, thread, threadCtx := d.pwrite(alice, pwOpts{data: data, protocol: chatProtocol, path: "thread", recipient: bob.did})
	wantStatus(t, d.process(o.did, msg, data), 202, "Accepted")

	// A reply must name the thread as parent with the right context.
	msg, _, _ = d.pwrite(bob, pwOpts{data: data, protocol: chatProtocol, path: "thread/reply", parentID: thread, parentCtx: "wrong"})
	wantStatus(t, d.process(o.did, msg, data), 400, "ProtocolAuthorizationIncorrectContextId: ")
	msg, _, _ = d.pwrite(bob, pwOpts{data: data, protocol: chatProtocol, path: "thread/reply", parentID: "bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24", parentCtx: threadCtx})
	wantStatus(t, d.process(o.did, msg, data), 400, "ProtocolAuthorizationIncorrectProtocolPath: ")

	// Only the thread's recipient may reply.
	msg, _, _ = d.pwrite(alice, pwOpts{data: data, protocol: chatProtocol, path: "thread/reply", parentID: thread, parentCtx: threadCtx})
	wantStatus(t, d.process(o.did, msg, data), 401, "ProtocolAuthorizationActionNotAllowed: ")
	msg, _, _ = d.pwrite(bob, pwOpts{data: data, protocol: chatProtocol, path: "thread/reply", parentID: thread, parentCtx: threadCtx})
	wantStatus(t, d.process(o.did, msg, data), 202, "Accepted")

	// No $actions at "big": a stranger is refused.
	small := []byte(`1`)
	msg, _, _ = d.pwrite(alice, pwOpts{data: small, protocol: chatProtocol, path: "big"})
	wantStatus(t, d.process(o.did, msg, small), 401, "ProtocolAuthorizationActionRulesNotFound: ")

	// Roles: one member record per recipient.
	msg, _, _ = d.pwrite(o, pwOpts{data: data, protocol: chatProtocol, path: "member", recipient: alice.did})
	wantStatus(t, d.process(o.did, msg, data), 202, "Accepted")
	msg, _, _ = d.pwrite(o, pwOpts{data: data, protocol: chatProtocol, path: "member", recipient: alice.did})
	wantStatus(t, d.process(o.did, msg, data), 400, "ProtocolAuthorizationDuplicateRoleRecipient: ")

	roleQuery := func(p persona, role string) *Reply {
		return d.process(o.did, d.signedMsg(p, "Records", "Query", map[string]any{
			"filter": map[string]any{"protocol": chatProtocol, "protocolPath": "thread"},
		}, map[string]any{"protocolRole": role}), nil)
	}
	wantStatus(t, roleQuery(bob, "member"), 401, "ProtocolAuthorizationMatchingRoleRecordNotFound: ")
	wantStatus(t, roleQuery(alice, "thread"), 401, "ProtocolAuthorizationNotARole: ")
	r := roleQuery(alice, "member")
	wantStatus(t, r, 200, "OK")
	if len(r.Entries) != 1 {
		t.Fatalf("member sees %d threads, want 1", len(r.Entries))
	}
}

func TestPermissionGrants(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	bob := d.newPersona()
	wantStatus(t, d.process(o.did, d.msg(&o, "Protocols", "Configure", map[string]any{"definition": chatDefinition()}), nil), 202, "")

	grantData := []byte(`{"dateExpires":"2099-01-01T00:00:00.000000Z","scope":{"interface":"Records","method":"Write","protocol":"` + chatProtocol + `"}}`)
	// A grant must carry its scope's protocol as tag.
	msg, _, _ := d.pwrite(o, pwOpts{data: grantData, protocol: PermissionsProtocolURI, path: "grant", recipient: bob.did})
	wantStatus(t, d.process(o.did, msg, grantData), 400, "PermissionsProtocolValidateScopeMissingProtocolTag: ")
	msg, grant, grantCtx := d.pwrite(o, pwOpts{data: grantData, protocol: PermissionsProtocolURI, path: "grant", recipient: bob.did, tags: map[string]any{"protocol": chatProtocol}})
	wantStatus(t, d.process(o.did, msg, grantData), 202, "Accepted")

	small := []byte(`1`)
	msg, _, _ = d.pwrite(bob, pwOpts{data: small, protocol: chatProtocol, path: "big", payload: map[string]any{"permissionGrantId": "bafyreigpaqqdc6rxsqxv6oi27dn6i6fnmgrn7ft33s3ykjrrqsiamisp24"}})
	wantStatus(t, d.process(o.did, msg, small), 401, "GrantAuthorizationGrantMissing: ")
	msg, _, _ = d.pwrite(bob, pwOpts{data: small, protocol: chatProtocol, path: "big", payload: map[string]any{"permissionGrantId": grant}})
	wantStatus(t, d.process(o.did, msg, small), 202, "Accepted")
	// The grant is for writes only.
	r := d.process(o.did, d.signedMsg(bob, "Protocols", "Configure", map[string]any{"definition": chatDefinition()}, map[string]any{"permissionGrantId": grant}), nil)
	wantStatus(t, r, 401, "GrantAuthorizationInterfaceMismatch: ")

	// Revocation: its protocol tag must match the grant's scope.
	rev := []byte(`{}`)
	msg, _, _ = d.pwrite(o, pwOpts{data: rev, protocol: PermissionsProtocolURI, path: "grant/revocation", parentID: grant, parentCtx: grantCtx, tags: map[string]any{"protocol": "https://example.com/other"}})
	wantStatus(t, d.process(o.did, msg, rev), 400, "PermissionsProtocolValidateRevocationProtocolTagMismatch: ")
	msg, _, _ = d.pwrite(o, pwOpts{data: rev, protocol: PermissionsProtocolURI, path: "grant/revocation", parentID: grant, parentCtx: grantCtx, tags: map[string]any{"protocol": chatProtocol}})
	wantStatus(t, d.process(o.did, msg, rev), 202, "Accepted")
	msg, _, _ = d.pwrite(bob, pwOpts{data: small, protocol: chatProtocol, path: "big", payload: map[string]any{"permissionGrantId": grant}})
	wantStatus(t, d.process(o.did, msg, small), 401, "GrantAuthorizationGrantRevoked: ")
}

func TestDelegatedGrants(t *testing.T) {
	d := newTestDWN(t)
	o := d.owner
	alice, bob := d.newPersona(), d.newPersona()
	wantStatus(t, d.process(o.did, d.msg(&o, "Protocols", "Configure", map[string]any{"definition": chatDefinition()}), nil), 202, "")

	// delegate returns alice's grant to bob, with its data inline, and its CID.
	delegate := func(delegated bool) (map[string]any, string) {
		data := []byte(`{"dateExpires":"2099-01-01T00:00:00.000000Z","delegated":` + map[bool]string{true: "true", false: "false"}[delegated] +
			`,"scope":{"interface":"Records","method":"Write","protocol":"` + chatProtocol + `"}}`)
		msg, _, _ := d.pwrite(alice, pwOpts{data: data, protocol: PermissionsProtocolURI, path: "grant", recipient: bob.did, tags: map[string]any{"protocol": chatProtocol}})
		var g map[string]any
		json.Unmarshal(msg, &g)
		g["encodedData"] = base64URL(data)
		b, _ := json.Marshal(g)
		gm, err := ParseMessage(b)
		if err != nil {
			t.Fatal(err)
		}
		c, _ := gm.CID()
		return tree(g), c.String()
	}
	data := []byte(`{}`)
	g, gid := delegate(false)
	msg, _, _ := d.pwrite(bob, pwOpts{data: data, protocol: chatProtocol, path: "thread", author: alice.did,
		payload: map[string]any{"delegatedGrantId": gid}, authExtra: map[string]any{"authorDelegatedGrant": g}})
	wantStatus(t, d.process(o.did, msg, data), 400, "RecordsAuthorDelegatedGrantNotADelegatedGrant: ")

	g, gid = delegate(true)
	msg, _, _ = d.pwrite(bob, pwOpts{data: data, protocol: chatProtocol, path: "thread", author: alice.did,
		payload: map[string]any{"delegatedGrantId": gid}, authExtra: map[string]any{"authorDelegatedGrant": g}})
	wantStatus(t, d.process(o.did, msg, data), 202, "Accepted")
	// The delegate may only write where the grant's scope allows.
	msg, _, _ = d.pwrite(bob, pwOpts{data: data, protocol: PermissionsProtocolURI, path: "request", author: alice.did,
		payload: map[string]any{"delegatedGrantId": gid}, authExtra: map[string]any{"authorDelegatedGrant": g}})
	wantStatus(t, d.process(o.did, msg, data), 401, "RecordsGrantAuthorizationScopeProtocolMismatch: ")
}

func base64URL(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
