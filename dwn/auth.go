package dwn

import (
	"context"
	"encoding/json"
	"errors"
)

// Error codes of authentication and authorization (dwn-sdk-js dwn-error.ts).
const (
	codeJwsMissing              = "AuthenticateJwsMissing"
	codeDescriptorCidMismatch   = "AuthenticateDescriptorCidMismatch"
	codeMoreThanOneSignature    = "AuthenticationMoreThanOneSignatureNotSupported"
	codeProtocolNotFound        = "ProtocolAuthorizationProtocolNotFound"
	codeProtocolActionNotAllow  = "ProtocolAuthorizationActionNotAllowed"
	codeGrantMissing            = "GrantAuthorizationGrantMissing"
	codeDelegateNotSupported    = "RecordsAuthorDelegatedGrantNotADelegatedGrant"
	codeOwnerTenantMismatch     = "RecordsWriteOwnerAndTenantMismatch"
	codeRecordsWriteAuthFailed  = "RecordsWriteAuthorizationFailed"
	codeRecordsReadAuthFailed   = "RecordsReadAuthorizationFailed"
	codeRecordsDeleteAuthFailed = "RecordsDeleteAuthorizationFailed"
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

// The seams to package dwn/protocol (protocol-rule authorization and
// permission grants). Until it is wired in, these refuse as the reference
// refuses a message that no rule allows.

// errProtocolUnavailable is returned where a protocol rule or a permission
// grant would be needed.
var errProtocolUnavailable = errors.New("protocol rules are not evaluated by this build")

// authorizeByGrant evaluates a permissionGrantId for a message (grant
// authorization of Records, Protocols or Messages).
func (d *DWN) authorizeByGrant(ctx context.Context, tenant string, m *Message, a *auth, target *Message) error {
	return newErr(codeGrantMissing, "Could not find permission grant with record ID %s.", a.payload.PermissionGrantID)
}

// authorizeDelegate checks an author-delegated grant.
func (d *DWN) authorizeDelegate(ctx context.Context, tenant string, m *Message, a *auth) error {
	return newErr(codeDelegateNotSupported, "author-delegated grants are not supported yet")
}

// authorizeByProtocol evaluates the protocol rules for an action on a
// record (write, read, delete, query/subscribe).
func (d *DWN) authorizeByProtocol(ctx context.Context, tenant, action string, m *Message, a *auth, record *Message) error {
	return newErr(codeProtocolActionNotAllow, "inbound message action %s not allowed by protocol rules", action)
}

// checkProtocolWrite is the reference's
// ProtocolAuthorization.validateReferentialIntegrity for a write into a
// protocol: the protocol must be configured (its type, path, size and tag
// rules are checked by package protocol once wired in).
func (d *DWN) checkProtocolWrite(ctx context.Context, tenant string, m *Message) error {
	if m.Desc.Protocol == PermissionsProtocolURI {
		return nil
	}
	defs, _, err := d.messages.Query(ctx, tenant, []Filter{{
		"interface": {Equal: "Protocols"}, "method": {Equal: "Configure"}, "protocol": {Equal: m.Desc.Protocol},
	}}, Sort{Property: "messageTimestamp"}, Page{Limit: 1})
	if err != nil {
		return err
	}
	if len(defs) == 0 {
		return newErr(codeProtocolNotFound, "unable to find protocol definition for %s", m.Desc.Protocol)
	}
	return nil
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
