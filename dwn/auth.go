package dwn

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/anya-org/anya/dwn/protocol"
)

// Error codes of authentication and authorization (dwn-sdk-js dwn-error.ts).
const (
	codeJwsMissing                 = "AuthenticateJwsMissing"
	codeDescriptorCidMismatch      = "AuthenticateDescriptorCidMismatch"
	codeMoreThanOneSignature       = "AuthenticationMoreThanOneSignatureNotSupported"
	codeProtocolNotFound           = "ProtocolAuthorizationProtocolNotFound"
	codeProtocolActionNotAllow     = "ProtocolAuthorizationActionNotAllowed"
	codeGrantMissing               = "GrantAuthorizationGrantMissing"
	codeDelegateNotADelegatedGrant = "RecordsAuthorDelegatedGrantNotADelegatedGrant"
	codeOwnerTenantMismatch        = "RecordsWriteOwnerAndTenantMismatch"
	codeRecordsWriteAuthFailed     = "RecordsWriteAuthorizationFailed"
	codeRecordsReadAuthFailed      = "RecordsReadAuthorizationFailed"
	codeRecordsDeleteAuthFailed    = "RecordsDeleteAuthorizationFailed"
)

// sigPayload is a decoded, schema-checked authorization signature payload.
type sigPayload struct {
	DescriptorCID     string
	RecordID          string
	ContextID         string
	HasContextID      bool
	AttestationCID    string
	EncryptionCID     string
	DelegatedGrantID  string
	PermissionGrantID string
	ProtocolRole      string
}

// auth is what a message's authorization gives once its structure is
// checked: the JWS, the payload and the (unverified) signer.
type auth struct {
	raw       map[string]json.RawMessage
	jws       *GeneralJWS
	payload   sigPayload
	signer    string
	author    string // the logical author: the signer, or the signer of authorDelegatedGrant
	owner     string // RecordsWrite: the signer of ownerSignature, if any
	ownerJWS  *GeneralJWS
	delegated bool
}

// parseAuth is the reference's Message.validateSignatureStructure for the
// message's authorization.signature: one signature, a JSON object payload
// of the allowed keys, and a descriptorCid naming the descriptor. It
// returns nil, nil for a message without authorization.
func parseAuth(m *Message, recordsWrite bool) (*auth, error) {
	if m.Authorization == nil {
		return nil, nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(m.Authorization, &raw); err != nil {
		return nil, newErr(codeSchemaValidatorFailure, "authorization: %v", err)
	}
	sigRaw, ok := raw["signature"]
	if !ok {
		return nil, newErr(codeJwsMissing, "Missing JWS.")
	}
	j, p, err := parseSignature(m, sigRaw, recordsWrite)
	if err != nil {
		return nil, err
	}
	a := &auth{raw: raw, jws: j, payload: p}
	if a.signer, err = j.SignerDID(); err != nil {
		return nil, err
	}
	a.author = a.signer
	if g, ok := raw["authorDelegatedGrant"]; ok {
		a.delegated = true
		gm, err := ParseMessage(g)
		if err != nil {
			return nil, newErr(codeSchemaValidatorFailure, "authorDelegatedGrant: %s", parseErrText(err))
		}
		ga, err := parseAuth(gm, true)
		if err != nil {
			return nil, err
		}
		if ga == nil {
			return nil, newErr(codeJwsMissing, "Missing JWS.")
		}
		a.author = ga.signer
	}
	if recordsWrite {
		if o, ok := raw["ownerSignature"]; ok {
			oj, _, err := parseSignature(m, o, false)
			if err != nil {
				return nil, err
			}
			a.ownerJWS = oj
			if a.owner, err = oj.SignerDID(); err != nil {
				return nil, err
			}
		}
		if g, ok := raw["ownerDelegatedGrant"]; ok {
			gm, err := ParseMessage(g)
			if err != nil {
				return nil, newErr(codeSchemaValidatorFailure, "ownerDelegatedGrant: %s", parseErrText(err))
			}
			ga, err := parseAuth(gm, true)
			if err != nil {
				return nil, err
			}
			if ga != nil {
				a.owner = ga.signer
			}
		}
	}
	return a, nil
}

func parseSignature(m *Message, raw json.RawMessage, recordsWrite bool) (*GeneralJWS, sigPayload, error) {
	var p sigPayload
	// Count signatures first: the reference reports more than one before
	// anything else.
	var shape struct {
		Signatures []json.RawMessage `json:"signatures"`
	}
	if err := json.Unmarshal(raw, &shape); err == nil && len(shape.Signatures) > 1 {
		return nil, p, newErr(codeMoreThanOneSignature, "expected no more than 1 signature for authorization purpose")
	}
	j, err := ParseGeneralJWS(raw)
	if err != nil {
		return nil, p, err
	}
	obj, err := j.DecodedPayloadObject()
	if err != nil {
		return nil, p, err
	}
	schema := "GenericSignaturePayload"
	allowed := map[string]*string{
		"descriptorCid":     &p.DescriptorCID,
		"delegatedGrantId":  &p.DelegatedGrantID,
		"permissionGrantId": &p.PermissionGrantID,
		"protocolRole":      &p.ProtocolRole,
	}
	required := []string{"descriptorCid"}
	if recordsWrite {
		schema = "RecordsWriteSignaturePayload"
		allowed["recordId"] = &p.RecordID
		allowed["contextId"] = &p.ContextID
		allowed["attestationCid"] = &p.AttestationCID
		allowed["encryptionCid"] = &p.EncryptionCID
		required = []string{"descriptorCid", "recordId"}
	}
	for _, r := range required {
		if _, ok := obj[r]; !ok {
			return nil, p, newErr(codeSchemaValidatorFailure, "%s: must have required property '%s'", schema, r)
		}
	}
	for _, k := range sortedKeys(obj) {
		dst, ok := allowed[k]
		if !ok {
			return nil, p, newErr(codeAdditionalPropertyDenied, "must NOT have additional properties: %s: %s", schema, k)
		}
		if err := json.Unmarshal(obj[k], dst); err != nil {
			return nil, p, newErr(codeSchemaValidatorFailure, "/%s: must be string", k)
		}
	}
	_, p.HasContextID = obj["contextId"]
	dc, err := m.DescriptorCID()
	if err != nil {
		return nil, p, newErr(codeSchemaValidatorFailure, "descriptor: %v", err)
	}
	if p.DescriptorCID != dc.String() {
		return nil, p, newErr(codeDescriptorCidMismatch, "provided descriptorCid %s does not match expected CID %s", p.DescriptorCID, dc)
	}
	return j, p, nil
}

// authenticate is the reference's authenticate(): it verifies the
// signature, the owner signature and the signatures of delegated grants.
func (d *DWN) authenticate(ctx context.Context, a *auth) error {
	if a == nil {
		return newErr(codeJwsMissing, "Missing JWS.")
	}
	if _, err := d.verifier.Verify(ctx, a.jws); err != nil {
		return err
	}
	if a.ownerJWS != nil {
		if _, err := d.verifier.Verify(ctx, a.ownerJWS); err != nil {
			return err
		}
	}
	for _, k := range []string{"authorDelegatedGrant", "ownerDelegatedGrant"} {
		g, ok := a.raw[k]
		if !ok {
			continue
		}
		gm, err := ParseMessage(g)
		if err != nil {
			return newErr(codeSchemaValidatorFailure, "%s: %s", k, parseErrText(err))
		}
		ga, err := parseAuth(gm, true)
		if err != nil {
			return err
		}
		if _, err := d.verifier.Verify(ctx, ga.jws); err != nil {
			return err
		}
	}
	return nil
}

// The seams to package dwn/protocol: protocol-rule authorization, the
// per-record checks of a protocol write, and permission grants. Package
// protocol holds the rules; here the store supplies the definition, the
// record chain, role records, grants and revocations.

// toDwnErr converts a rule violation of package protocol into an *Error
// (same code and text).
func toDwnErr(err error) error {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return &Error{Code: pe.Code, Message: pe.Message}
	}
	return err
}

func errCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// permissionsDefinition is the built-in permissions protocol; the rules
// never modify a Definition, so one copy is shared.
var permissionsDefinition = protocol.PermissionsDefinition()

// fetchDefinition is ProtocolAuthorization.fetchProtocolDefinition.
func (d *DWN) fetchDefinition(ctx context.Context, tenant, uri string) (*protocol.Definition, error) {
	if uri == PermissionsProtocolURI {
		return permissionsDefinition, nil
	}
	defs, _, err := d.loadAll(ctx, tenant, []Filter{{
		"interface": {Equal: "Protocols"}, "method": {Equal: "Configure"}, "protocol": {Equal: uri},
	}}, Sort{Property: "messageTimestamp"}, Page{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(defs) == 0 {
		if uri == "" {
			uri = "undefined"
		}
		return nil, newErr(codeProtocolNotFound, "unable to find protocol definition for %s", uri)
	}
	if def, ok := definitions.get(defs[0].cid); ok {
		return def, nil
	}
	var desc struct {
		Definition json.RawMessage `json:"definition"`
	}
	if err := json.Unmarshal(defs[0].m.Descriptor, &desc); err != nil {
		return nil, fmt.Errorf("stored protocol definition %s: %w", defs[0].cid, err)
	}
	def, err := protocol.ParseDefinition(desc.Definition)
	if err != nil {
		return nil, fmt.Errorf("stored protocol definition %s: %w", defs[0].cid, err)
	}
	definitions.put(defs[0].cid, def)
	return def, nil
}

// definitionCache keeps parsed definitions by the messageCid of their
// ProtocolsConfigure (content-addressed, so shared by all tenants and never
// stale). It is emptied when full.
type definitionCache struct {
	mu sync.Mutex
	m  map[string]*protocol.Definition
}

const definitionCacheSize = 256

var definitions definitionCache

func (c *definitionCache) get(cid string) (*protocol.Definition, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	def, ok := c.m[cid]
	return def, ok
}

func (c *definitionCache) put(cid string, def *protocol.Definition) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= definitionCacheSize {
		c.m = make(map[string]*protocol.Definition)
	}
	c.m[cid] = def
}

// protoRecord is what package protocol needs to know of a RecordsWrite.
func protoRecord(m *Message, author string) protocol.Record {
	r := protocol.Record{
		RecordID: m.RecordID, ContextID: m.ContextID, ProtocolPath: m.Desc.ProtocolPath, ParentID: m.Desc.ParentID,
		Author: author, Recipient: m.Desc.Recipient, Schema: m.Desc.Schema, DataFormat: m.Desc.DataFormat,
		Published: m.Desc.IsPublished(), DateCreated: m.Desc.DateCreated, Protocol: m.Desc.Protocol,
	}
	if m.Desc.DataSize != nil {
		r.DataSize = *m.Desc.DataSize
	}
	if m.Desc.Tags != nil {
		// Package protocol takes tags in the encoding/json data model
		// (numbers as float64).
		var t struct {
			Tags map[string]any `json:"tags"`
		}
		_ = json.Unmarshal(m.Descriptor, &t)
		r.Tags = t.Tags
	}
	return r
}

// fetchInitialWrite is ProtocolAuthorization.fetchInitialWrite: the kept
// initial RecordsWrite of a record, or nil.
func (d *DWN) fetchInitialWrite(ctx context.Context, tenant, recordID string) (*stored, error) {
	ms, _, err := d.loadAll(ctx, tenant, []Filter{{
		"interface": {Equal: "Records"}, "method": {Equal: "Write"}, "recordId": {Equal: recordID},
	}}, Sort{Property: "messageTimestamp"}, Page{})
	if err != nil {
		return nil, err
	}
	return initialWriteOf(ms), nil
}

// recordChain is ProtocolAuthorization.constructRecordChain: the initial
// writes from the root record down to recordID (empty for "").
func (d *DWN) recordChain(ctx context.Context, tenant, recordID string) ([]protocol.Record, error) {
	var chain []protocol.Record
	for id := recordID; id != ""; {
		if len(chain) > 2*protocol.MaxNestingDepth {
			return nil, newErr("ProtocolAuthorizationParentNotFoundConstructingRecordChain", "record chain of %s is too deep", recordID)
		}
		iw, err := d.fetchInitialWrite(ctx, tenant, id)
		if err != nil {
			return nil, err
		}
		if iw == nil {
			return nil, newErr("ProtocolAuthorizationParentNotFoundConstructingRecordChain",
				"Unexpected error that should never trigger: no parent found with ID %s when constructing record chain.", id)
		}
		chain = append(chain, protoRecord(iw.m, iw.author()))
		id = iw.m.Desc.ParentID
	}
	slices.Reverse(chain)
	return chain, nil
}

// roleLookup backs protocol.Request.HasRole: a live role record at
// rolePath for recipient (verifyInvokedRole's query).
func (d *DWN) roleLookup(ctx context.Context, tenant, uri string) func(rolePath, prefix, recipient string) (bool, error) {
	return func(rolePath, prefix, recipient string) (bool, error) {
		f := Filter{
			"interface": {Equal: "Records"}, "method": {Equal: "Write"}, "protocol": {Equal: uri},
			"protocolPath": {Equal: rolePath}, "recipient": {Equal: recipient}, "isLatestBaseState": {Equal: true},
		}
		if prefix != "" {
			f["contextId"] = prefixCond(prefix)
		}
		ms, _, err := d.messages.Query(ctx, tenant, []Filter{f}, Sort{Property: "messageTimestamp"}, Page{Limit: 1})
		return len(ms) > 0, err
	}
}

// authorizeByProtocol evaluates the protocol rules for an action on a
// record: "write" (m is the RecordsWrite), "read" (record is the newest
// RecordsWrite read), "delete" (record is the initial write of the record
// deleted), "query" and "subscribe" (the filter names protocol, path and
// context).
func (d *DWN) authorizeByProtocol(ctx context.Context, tenant, action string, m *Message, a *auth, record *Message) error {
	req := protocol.Request{Tenant: tenant}
	if a != nil {
		req.Author, req.ProtocolRole = a.author, a.payload.ProtocolRole
	}
	var uri string
	// target splits a chain that ends with the record acted on.
	target := func(chain []protocol.Record) {
		if len(chain) > 0 {
			t := chain[len(chain)-1]
			req.Target, req.Ancestors = &t, chain[:len(chain)-1]
		}
	}
	switch action {
	case "write":
		uri = m.Desc.Protocol
		w := protoRecord(m, req.Author)
		req.Write = &w
		initial := false
		if eid, err := m.EntryID(req.Author); err == nil {
			initial = eid.String() == m.RecordID
		}
		req.Action = protocol.ActionUpdate
		if initial {
			req.Action = protocol.ActionCreate
		}
		iw, err := d.fetchInitialWrite(ctx, tenant, m.RecordID)
		if err != nil {
			return err
		}
		if iw == nil {
			if req.Ancestors, err = d.recordChain(ctx, tenant, m.Desc.ParentID); err != nil {
				return err
			}
		} else {
			chain, err := d.recordChain(ctx, tenant, m.RecordID)
			if err != nil {
				return err
			}
			if initial {
				// The reference seeks "create" against the chain that
				// already holds the record itself.
				req.Ancestors = chain
			} else {
				target(chain)
			}
		}
	case "read", "delete":
		uri = record.Desc.Protocol
		id := record.RecordID
		req.Action = protocol.ActionRead
		if action == "delete" {
			id = m.Desc.RecordID
			req.Action = protocol.ActionDelete
			if m.Desc.Prune != nil && *m.Desc.Prune {
				req.Action = protocol.ActionPrune
			}
		}
		chain, err := d.recordChain(ctx, tenant, id)
		if err != nil {
			return err
		}
		target(chain)
		if req.Target != nil {
			// The rule set and context are the record's (they never
			// change after the initial write).
			req.ProtocolPath, req.ContextID = record.Desc.ProtocolPath, record.ContextID
		}
	case "query", "subscribe":
		filter, _ := descriptorTree(m)["filter"].(map[string]any)
		uri, _ = filter["protocol"].(string)
		req.ProtocolPath, _ = filter["protocolPath"].(string)
		req.ContextID, _ = filter["contextId"].(string)
		req.Action = action
	default:
		return fmt.Errorf("dwn: unknown protocol action %q", action)
	}
	def, err := d.fetchDefinition(ctx, tenant, uri)
	if err != nil {
		return err
	}
	req.HasRole = d.roleLookup(ctx, tenant, uri)
	return toDwnErr(def.Authorize(req))
}

// checkProtocolWrite is ProtocolAuthorization.validateReferentialIntegrity
// for a RecordsWrite into a protocol, in the reference's order: the type,
// the protocol path and contextId against the parent, the rule set, a role
// record's recipient and uniqueness, $size and $tags.
func (d *DWN) checkProtocolWrite(ctx context.Context, tenant string, m *Message) error {
	def, err := d.fetchDefinition(ctx, tenant, m.Desc.Protocol)
	if err != nil {
		return err
	}
	w := protoRecord(m, "")
	werr := toDwnErr(def.CheckWrite(w))
	code := errCode(werr)
	if werr != nil && code == "" {
		return werr
	}
	switch code {
	case protocol.CodeProtocolAuthorizationInvalidType, protocol.CodeProtocolAuthorizationInvalidSchema,
		protocol.CodeProtocolAuthorizationIncorrectDataFormat, protocol.CodeProtocolAuthorizationParentlessIncorrectProtoPath,
		protocol.CodeProtocolAuthorizationIncorrectProtocolPath:
		return werr
	}
	if m.Desc.ParentID != "" {
		ps, _, err := d.loadAll(ctx, tenant, []Filter{{
			"isLatestBaseState": {Equal: true}, "interface": {Equal: "Records"}, "method": {Equal: "Write"},
			"protocol": {Equal: m.Desc.Protocol}, "recordId": {Equal: m.Desc.ParentID},
		}}, Sort{Property: "messageTimestamp"}, Page{Limit: 1})
		if err != nil {
			return err
		}
		var parent *protocol.Record
		if len(ps) > 0 {
			p := protoRecord(ps[0].m, ps[0].author())
			parent = &p
		}
		if err := protocol.CheckParent(w, parent); err != nil {
			return toDwnErr(err)
		}
	}
	if code == protocol.CodeProtocolAuthorizationMissingRuleSet || code == protocol.CodeProtocolAuthorizationRoleMissingRecipient {
		return werr
	}
	if rs, ok := def.RuleSet(m.Desc.ProtocolPath); ok && rs.Role {
		f := Filter{
			"interface": {Equal: "Records"}, "method": {Equal: "Write"}, "isLatestBaseState": {Equal: true},
			"protocol": {Equal: m.Desc.Protocol}, "protocolPath": {Equal: m.Desc.ProtocolPath}, "recipient": {Equal: m.Desc.Recipient},
		}
		parentCtx := protocol.RoleContextPrefix(m.ContextID)
		if parentCtx != "" {
			f["contextId"] = prefixCond(parentCtx)
		}
		ms, _, err := d.loadAll(ctx, tenant, []Filter{f}, Sort{Property: "messageTimestamp"}, Page{})
		if err != nil {
			return err
		}
		for _, s := range ms {
			if s.m.RecordID != m.RecordID {
				return newErr(protocol.CodeProtocolAuthorizationDuplicateRoleRecipient,
					"DID '%s' is already recipient of a role record at protocol path '%s under the parent context %s.", m.Desc.Recipient, m.Desc.ProtocolPath, parentCtx)
			}
		}
	}
	return werr
}

// grantFromMessage is PermissionGrant.parse of a grant RecordsWrite whose
// data is given.
func grantFromMessage(gm *Message, data []byte) (*protocol.Grant, error) {
	ga, err := parseAuth(gm, true)
	if err != nil {
		return nil, err
	}
	signer := ""
	if ga != nil {
		signer = ga.signer
	}
	g, err := protocol.ParseGrant(gm.RecordID, signer, gm.Desc.Recipient, gm.Desc.DateCreated, data)
	if err != nil {
		return nil, toDwnErr(err)
	}
	return g, nil
}

// delegatedGrant parses the grant carried in authorization[key]
// (authorDelegatedGrant, ownerDelegatedGrant).
func delegatedGrant(a *auth, key string) (*protocol.Grant, error) {
	gm, err := ParseMessage(a.raw[key])
	if err != nil {
		return nil, newErr(codeSchemaValidatorFailure, "%s: %s", key, parseErrText(err))
	}
	data, err := base64.RawURLEncoding.DecodeString(gm.EncodedData)
	if err != nil {
		return nil, newErr(codeSchemaValidatorFailure, "%s: encodedData: %v", key, err)
	}
	return grantFromMessage(gm, data)
}

// fetchGrant is PermissionsProtocol.fetchGrant.
func (d *DWN) fetchGrant(ctx context.Context, tenant, id string) (*protocol.Grant, error) {
	ms, _, err := d.loadAll(ctx, tenant, []Filter{{
		"recordId": {Equal: id}, "isLatestBaseState": {Equal: true},
	}}, Sort{Property: "messageTimestamp"}, Page{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 || !ms[0].m.Desc.Is("Records", "Write") || ms[0].m.Desc.ProtocolPath != protocol.PermissionGrantPath {
		return nil, newErr(codeGrantMissing, "Could not find permission grant with record ID %s.", id)
	}
	data, err := base64.RawURLEncoding.DecodeString(ms[0].sm.EncodedData)
	if err != nil {
		return nil, fmt.Errorf("grant %s data: %w", id, err)
	}
	return grantFromMessage(ms[0].m, data)
}

// grantRevokedAt is the messageTimestamp of the oldest revocation of a
// grant in grantedFor's DWN, or "".
func (d *DWN) grantRevokedAt(ctx context.Context, grantedFor, grantID string) (string, error) {
	ms, _, err := d.loadAll(ctx, grantedFor, []Filter{{
		"parentId": {Equal: grantID}, "protocolPath": {Equal: protocol.PermissionRevocationPath}, "isLatestBaseState": {Equal: true},
	}}, Sort{Property: "messageTimestamp"}, Page{})
	if err != nil || len(ms) == 0 {
		return "", err
	}
	oldest := ms[0]
	for _, s := range ms[1:] {
		if newer(oldest.m.Desc.MessageTimestamp, oldest.cid, s.m.Desc.MessageTimestamp, s.cid) {
			oldest = s
		}
	}
	return oldest.m.Desc.MessageTimestamp, nil
}

// grantRequest describes message m (and target, the message it acts on)
// for Grant.Authorize.
func (d *DWN) grantRequest(ctx context.Context, tenant string, m *Message, target *Message) (protocol.GrantRequest, error) {
	req := protocol.GrantRequest{Interface: m.Desc.Interface, Method: m.Desc.Method, MessageTimestamp: m.Desc.MessageTimestamp}
	desc := descriptorTree(m)
	switch m.Desc.Interface + m.Desc.Method {
	case "RecordsWrite":
		req.Protocol, req.ContextID, req.ProtocolPath, req.Published = m.Desc.Protocol, m.ContextID, m.Desc.ProtocolPath, m.Desc.IsPublished()
	case "RecordsRead":
		if target != nil {
			req.Protocol, req.ContextID, req.ProtocolPath = target.Desc.Protocol, target.ContextID, target.Desc.ProtocolPath
		}
	case "RecordsDelete":
		if target != nil {
			req.Protocol = target.Desc.Protocol
		}
	case "RecordsQuery", "RecordsSubscribe", "ProtocolsQuery":
		filter, _ := desc["filter"].(map[string]any)
		req.Protocol, _ = filter["protocol"].(string)
	case "ProtocolsConfigure":
		def, _ := desc["definition"].(map[string]any)
		req.Protocol, _ = def["protocol"].(string)
	case "MessagesQuery", "MessagesSubscribe":
		filters, _ := desc["filters"].([]any)
		for _, f := range filters {
			p, ok := f.(map[string]any)["protocol"].(string)
			if !ok {
				p = "undefined"
			}
			req.FilterProtocols = append(req.FilterProtocols, p)
		}
	case "MessagesRead":
		if target == nil {
			break
		}
		switch target.Desc.Interface {
		case "Records":
			w := target
			var data []byte
			if !target.Desc.Is("Records", "Write") {
				ms, _, err := d.loadAll(ctx, tenant, []Filter{{
					"interface": {Equal: "Records"}, "method": {Equal: "Write"}, "recordId": {Equal: target.Desc.RecordID},
				}}, Sort{Property: "messageTimestamp"}, Page{})
				if err != nil {
					return req, err
				}
				n := newest(ms)
				if n == nil {
					return req, newErr("MessagesReadVerifyScopeFailed", "record message failed scope authorization")
				}
				w = n.m
				data, _ = base64.RawURLEncoding.DecodeString(n.sm.EncodedData)
			} else if c, err := target.CID(); err == nil {
				if sm, err := d.messages.Get(ctx, tenant, c.String()); err == nil {
					data, _ = base64.RawURLEncoding.DecodeString(sm.EncodedData)
				}
			}
			req.Protocol = w.Desc.Protocol
			if w.Desc.Protocol == PermissionsProtocolURI {
				switch w.Desc.ProtocolPath {
				case protocol.PermissionRevocationPath:
					g, err := d.fetchGrant(ctx, tenant, w.Desc.ParentID)
					if err != nil {
						return req, err
					}
					req.ScopeProtocol = g.Scope.Protocol
				default:
					var pd struct {
						Scope struct {
							Protocol string `json:"protocol"`
						} `json:"scope"`
					}
					_ = json.Unmarshal(data, &pd)
					req.ScopeProtocol = pd.Scope.Protocol
				}
			}
		case "Protocols":
			def, _ := descriptorTree(target)["definition"].(map[string]any)
			req.Protocol, _ = def["protocol"].(string)
		}
	}
	return req, nil
}

// authorizeByGrant evaluates the permissionGrantId of a message (grant
// authorization of Records, Protocols or Messages). target is the message
// acted on: the RecordsWrite read, the record deleted, the message read.
func (d *DWN) authorizeByGrant(ctx context.Context, tenant string, m *Message, a *auth, target *Message) error {
	g, err := d.fetchGrant(ctx, tenant, a.payload.PermissionGrantID)
	if err != nil {
		return err
	}
	return d.checkGrant(ctx, g, tenant, a.author, tenant, m, target)
}

func (d *DWN) checkGrant(ctx context.Context, g *protocol.Grant, tenant, grantee, grantor string, m *Message, target *Message) error {
	req, err := d.grantRequest(ctx, tenant, m, target)
	if err != nil {
		return err
	}
	req.Author, req.Tenant = grantee, grantor
	if req.RevokedAt, err = d.grantRevokedAt(ctx, grantor, g.ID); err != nil {
		return err
	}
	return toDwnErr(g.Authorize(req))
}

// authorizeDelegate checks the author-delegated grant of a message: granted
// by the logical author to the signer, for this message (target as for
// authorizeByGrant).
func (d *DWN) authorizeDelegate(ctx context.Context, tenant string, m *Message, a *auth, target *Message) error {
	g, err := delegatedGrant(a, "authorDelegatedGrant")
	if err != nil {
		return err
	}
	return d.checkGrant(ctx, g, tenant, a.signer, a.author, m, target)
}

// authorizeOwnerDelegate checks the owner-delegated grant of a RecordsWrite:
// granted by the owner to the signer of the owner signature.
func (d *DWN) authorizeOwnerDelegate(ctx context.Context, tenant string, m *Message, a *auth) error {
	g, err := delegatedGrant(a, "ownerDelegatedGrant")
	if err != nil {
		return err
	}
	signer := ""
	if a.ownerJWS != nil {
		signer, _ = a.ownerJWS.SignerDID()
	}
	return d.checkGrant(ctx, g, tenant, signer, a.owner, m, nil)
}

// PermissionsProtocolURI is the built-in Permissions protocol.
const PermissionsProtocolURI = "https://tbd.website/dwn/permissions"

// asProtocolError renders an error of package protocol as a detail.
func asProtocolError(err error) (string, bool) {
	var de interface{ DwnCode() string }
	if errors.As(err, &de) {
		return de.DwnCode() + ": " + err.Error(), true
	}
	return "", false
}
