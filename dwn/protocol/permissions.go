package protocol

import (
	"encoding/json"
	"regexp"
	"slices"
	"time"
)

// PermissionsProtocol is the URI of the built-in permissions protocol.
const PermissionsProtocol = "https://tbd.website/dwn/permissions"

// Paths of the permissions protocol.
const (
	PermissionRequestPath    = "request"
	PermissionGrantPath      = "grant"
	PermissionRevocationPath = "grant/revocation"
)

// Publication conditions of a grant.
const (
	PublicationRequired   = "Required"
	PublicationProhibited = "Prohibited"
)

const permissionsDefinitionJSON = `{"published":true,"protocol":"https://tbd.website/dwn/permissions",` +
	`"types":{"request":{"dataFormats":["application/json"]},"grant":{"dataFormats":["application/json"]},"revocation":{"dataFormats":["application/json"]}},` +
	`"structure":{"request":{"$size":{"max":10000},"$actions":[{"who":"anyone","can":["create"]}]},` +
	`"grant":{"$size":{"max":10000},"$actions":[{"who":"recipient","of":"grant","can":["read","query"]}],` +
	`"revocation":{"$size":{"max":10000},"$actions":[{"who":"anyone","can":["read"]}]}}}}`

// PermissionsDefinition returns the built-in permissions protocol
// definition (src/protocols/permissions.ts). It is built directly: the
// reference never validates it, and its grant rule ("recipient of grant can
// query") would not pass ParseDefinition. Each call returns a fresh copy.
func PermissionsDefinition() *Definition {
	size := func() *SizeRule { m := 10000.0; return &SizeRule{Max: &m} }
	jsonType := func() Type { return Type{DataFormats: []string{"application/json"}} }
	return &Definition{
		Protocol:  PermissionsProtocol,
		Published: true,
		Types:     map[string]Type{"request": jsonType(), "grant": jsonType(), "revocation": jsonType()},
		Structure: map[string]*RuleSet{
			"request": {Path: PermissionRequestPath, Size: size(), Actions: []ActionRule{{Who: ActorAnyone, Can: []string{ActionCreate}}}},
			"grant": {Path: PermissionGrantPath, Size: size(),
				Actions: []ActionRule{{Who: ActorRecipient, Of: "grant", HasOf: true, Can: []string{ActionRead, ActionQuery}}},
				Children: map[string]*RuleSet{"revocation": {Path: PermissionRevocationPath, Size: size(),
					Actions: []ActionRule{{Who: ActorAnyone, Can: []string{ActionRead}}}}},
			},
		},
		Raw: json.RawMessage(permissionsDefinitionJSON),
	}
}

// Scope is a permission scope. Interface is Records, Protocols or Messages;
// Method is Write, Read, Query, Subscribe, Delete, Configure.
type Scope struct {
	Interface, Method, Protocol, ContextID, ProtocolPath string
}

// Grant is a parsed permission grant.
type Grant struct {
	ID          string // the grant record's recordId
	Grantor     string // the grant record's signer
	Grantee     string // the grant record's recipient
	DateGranted string // the grant record's dateCreated
	DateExpires string
	RequestID   string
	Description string
	Delegated   bool
	Scope       Scope
	Publication string // PublicationRequired, PublicationProhibited or ""
}

var dateTimeRE = regexp.MustCompile(`^\d{4}-[0-1]\d-[0-3]\dT(?:[0-2]\d:[0-5]\d:[0-5]\d|23:59:60)\.\d{6}Z$`)

var scopeMethods = map[string][]string{
	"Messages":  {"Query", "Read", "Subscribe"},
	"Protocols": {"Configure", "Query"},
	"Records":   {"Read", "Delete", "Write", "Query", "Subscribe"},
}

func decodeScope(v any, p string) (Scope, error) {
	var s Scope
	obj, ok := v.(map[string]any)
	if !ok {
		return s, schemaErr(p, "must be object")
	}
	for _, k := range []string{"interface", "method"} {
		if _, ok := obj[k]; !ok {
			return s, schemaErr(p, "must have required property '%s'", k)
		}
	}
	s.Interface, _ = obj["interface"].(string)
	s.Method, _ = obj["method"].(string)
	if !slices.Contains(scopeMethods[s.Interface], s.Method) {
		return s, schemaErr(p, "must match exactly one schema in oneOf")
	}
	allowed := []string{"interface", "method", "protocol"}
	if s.Interface == "Records" {
		allowed = append(allowed, "contextId", "protocolPath")
	}
	for _, k := range sortedKeys(obj) {
		if !slices.Contains(allowed, k) {
			return s, schemaErr(p, "must match exactly one schema in oneOf")
		}
	}
	for _, f := range []struct {
		k   string
		dst *string
	}{{"protocol", &s.Protocol}, {"contextId", &s.ContextID}, {"protocolPath", &s.ProtocolPath}} {
		if val, ok := obj[f.k]; ok {
			if *f.dst, ok = val.(string); !ok {
				return s, schemaErr(p, "must match exactly one schema in oneOf")
			}
		}
	}
	return s, nil
}

func decodeConditions(v any, p string) (string, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return "", schemaErr(p, "must be object")
	}
	for _, k := range sortedKeys(obj) {
		if k != "publication" {
			return "", additionalErr(p, k)
		}
	}
	pub, present := obj["publication"]
	if !present {
		return "", nil
	}
	s, _ := pub.(string)
	if s != PublicationRequired && s != PublicationProhibited {
		return "", schemaErr(p+"/publication", "must be equal to one of the allowed values")
	}
	return s, nil
}

type permissionData struct {
	description, requestID, dateExpires string
	delegated, hasDelegated             bool
	scope                               Scope
	publication                         string
}

// decodePermissionData validates request ("PermissionRequestData"), grant
// ("PermissionGrantData") or revocation data against its JSON schema.
func decodePermissionData(data []byte, kind string) (*permissionData, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, schemaErr(kind, "%v", err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, schemaErr(kind, "must be object")
	}
	var required, allowed []string
	switch kind {
	case "PermissionGrantData":
		required = []string{"dateExpires", "scope"}
		allowed = []string{"description", "dateExpires", "requestId", "delegated", "scope", "conditions"}
	case "PermissionRequestData":
		required = []string{"delegated", "scope"}
		allowed = []string{"description", "delegated", "scope", "conditions"}
	default:
		allowed = []string{"description"}
	}
	for _, k := range required {
		if _, ok := obj[k]; !ok {
			return nil, schemaErr(kind, "must have required property '%s'", k)
		}
	}
	for _, k := range sortedKeys(obj) {
		if !slices.Contains(allowed, k) {
			return nil, additionalErr(kind, k)
		}
	}
	pd := &permissionData{}
	for _, f := range []struct {
		k   string
		dst *string
	}{{"description", &pd.description}, {"requestId", &pd.requestID}, {"dateExpires", &pd.dateExpires}} {
		if val, ok := obj[f.k]; ok {
			if *f.dst, ok = val.(string); !ok {
				return nil, schemaErr("/"+f.k, "must be string")
			}
		}
	}
	if _, ok := obj["dateExpires"]; ok && !dateTimeRE.MatchString(pd.dateExpires) {
		return nil, schemaErr("/dateExpires", `must match pattern "%s"`, dateTimeRE)
	}
	if val, ok := obj["delegated"]; ok {
		if pd.delegated, ok = val.(bool); !ok {
			return nil, schemaErr("/delegated", "must be boolean")
		}
		pd.hasDelegated = true
	}
	var err error
	if val, ok := obj["scope"]; ok {
		if pd.scope, err = decodeScope(val, "/scope"); err != nil {
			return nil, err
		}
	}
	if val, ok := obj["conditions"]; ok {
		if pd.publication, err = decodeConditions(val, "/conditions"); err != nil {
			return nil, err
		}
	}
	return pd, nil
}

// validateScope is PermissionsProtocol.validateScopeAndTags.
func validateScope(s Scope, tags map[string]any) error {
	if s.Protocol != "" {
		if err := CheckProtocolURL(s.Protocol); err != nil {
			return err
		}
		tagged, ok := tags["protocol"]
		if !ok {
			return errf(CodePermissionsProtocolValidateScopeMissingProtocolTag, "Permission grants must have a `tags` property that contains a protocol tag")
		}
		if str, _ := tagged.(string); str != s.Protocol {
			return errf(CodePermissionsProtocolValidateScopeProtocolMismatch, "Permission grants must have a scope with a protocol that matches the tagged protocol: %v", tagged)
		}
	}
	if s.Interface == "Records" && s.ContextID != "" && s.ProtocolPath != "" {
		return errf(CodePermissionsProtocolValidateScopeContextIDProhibitedProperties, "Permission grants cannot have both `contextId` and `protocolPath` present")
	}
	return nil
}

func validateTimestamp(s string) error {
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		return errf(CodeTimestampInvalid, "Invalid timestamp: %s", s)
	}
	return nil
}

// ParseGrant parses permission grant data (the grant record's data) and
// validates it against the PermissionGrantData schema, the normalized
// scope protocol and the mutually exclusive contextId and protocolPath,
// and dateExpires as a timestamp. recordID, grantor (signer), grantee
// (recipient) and dateGranted (dateCreated) come from the grant record.
// Tags are not checked here; ValidatePermissionRecord does that on write.
func ParseGrant(recordID, grantor, grantee, dateGranted string, data []byte) (*Grant, error) {
	pd, err := decodePermissionData(data, "PermissionGrantData")
	if err != nil {
		return nil, err
	}
	if pd.scope.Protocol != "" {
		if err := CheckProtocolURL(pd.scope.Protocol); err != nil {
			return nil, err
		}
	}
	if pd.scope.Interface == "Records" && pd.scope.ContextID != "" && pd.scope.ProtocolPath != "" {
		return nil, errf(CodePermissionsProtocolValidateScopeContextIDProhibitedProperties, "Permission grants cannot have both `contextId` and `protocolPath` present")
	}
	if err := validateTimestamp(pd.dateExpires); err != nil {
		return nil, err
	}
	return &Grant{
		ID: recordID, Grantor: grantor, Grantee: grantee, DateGranted: dateGranted,
		DateExpires: pd.dateExpires, RequestID: pd.requestID, Description: pd.description,
		Delegated: pd.delegated, Scope: pd.scope, Publication: pd.publication,
	}, nil
}

// ValidatePermissionRecord is PermissionsProtocol.validateSchema: it checks
// the data of a permissions-protocol RecordsWrite at w.ProtocolPath
// (request, grant, grant/revocation) against its schema, and for requests
// and grants the scope: a protocol-scoped one must be normalized and carry
// the same protocol in tag "protocol". For a revocation, when grant is not
// nil and is protocol-scoped, the revocation's "protocol" tag must match it
// (PermissionsProtocolValidateRevocationProtocolTagMismatch).
func ValidatePermissionRecord(w Record, data []byte, grant *Grant) error {
	switch w.ProtocolPath {
	case PermissionRequestPath:
		pd, err := decodePermissionData(data, "PermissionRequestData")
		if err != nil {
			return err
		}
		return validateScope(pd.scope, w.Tags)
	case PermissionGrantPath:
		pd, err := decodePermissionData(data, "PermissionGrantData")
		if err != nil {
			return err
		}
		if err := validateScope(pd.scope, w.Tags); err != nil {
			return err
		}
		return validateTimestamp(pd.dateExpires)
	case PermissionRevocationPath:
		if _, err := decodePermissionData(data, "PermissionRevocationData"); err != nil {
			return err
		}
		if grant != nil && grant.Scope.Protocol != "" {
			if tagged, _ := w.Tags["protocol"].(string); tagged != grant.Scope.Protocol {
				return errf(CodePermissionsProtocolValidateRevocationProtocolTagMismatch, "Revocation protocol %s does not match grant protocol %s", tagged, grant.Scope.Protocol)
			}
		}
		return nil
	}
	return errf(CodePermissionsProtocolValidateSchemaUnexpectedRecord, "Unexpected permission record: %s", w.ProtocolPath)
}

// GrantRequest is the message a grant is invoked for.
type GrantRequest struct {
	// Interface and Method of the incoming message ("Records", "Write").
	Interface, Method string
	// Protocol, ContextID and ProtocolPath: for RecordsWrite/Read the
	// record written or read; for RecordsDelete the protocol of the record
	// deleted; for Records/ProtocolsQuery and RecordsSubscribe the filter's
	// protocol; for ProtocolsConfigure the definition's protocol; for
	// MessagesRead the protocol of the message read.
	Protocol, ContextID, ProtocolPath string
	// MessageTimestamp of the incoming message.
	MessageTimestamp string
	// Published: the RecordsWrite's published flag (publication condition).
	Published bool
	// Author is the expected grantee (the signer; for a delegated grant the
	// delegate) and Tenant the expected grantor (the DWN owner; for a
	// delegated grant the logical author).
	Author, Tenant string
	// RevokedAt is the messageTimestamp of the oldest revocation of the
	// grant, or "" if it has none.
	RevokedAt string
	// FilterProtocols are the protocol of each filter of a MessagesQuery or
	// MessagesSubscribe ("" for a filter without one).
	FilterProtocols []string
	// ScopeProtocol is, for a MessagesRead of a permissions-protocol record,
	// the protocol of that request's, grant's or revocation's scope.
	ScopeProtocol string
}

// Authorize checks the grant for req (GrantAuthorization.performBaseValidation
// and the Records/Protocols/Messages grant authorizations): grantee and
// grantor, active at the message's timestamp and not revoked at or before
// it, interface and method, then the scope and conditions.
func (g *Grant) Authorize(req GrantRequest) error {
	if req.Author != g.Grantee {
		return errf(CodeGrantAuthorizationNotGrantedToAuthor, "Permission grant is granted to %s, but need to be granted to %s", g.Grantee, req.Author)
	}
	if req.Tenant != g.Grantor {
		return errf(CodeGrantAuthorizationNotGrantedForTenant, "Permission grant is granted by %s, but need to be granted by %s", g.Grantor, req.Tenant)
	}
	t := req.MessageTimestamp
	if t < g.DateGranted {
		return errf(CodeGrantAuthorizationGrantNotYetActive, "The message has a timestamp before the associated permission grant becomes active")
	}
	if t >= g.DateExpires {
		return errf(CodeGrantAuthorizationGrantExpired, "The message has timestamp after the expiry of the associated permission grant")
	}
	if req.RevokedAt != "" && req.RevokedAt <= t {
		return errf(CodeGrantAuthorizationGrantRevoked, "Permission grant with CID %s has been revoked", g.ID)
	}
	if req.Interface != g.Scope.Interface {
		return errf(CodeGrantAuthorizationInterfaceMismatch, "DWN Interface of incoming message is outside the scope of permission grant with ID %s", g.ID)
	}
	if req.Method != g.Scope.Method {
		return errf(CodeGrantAuthorizationMethodMismatch, "DWN Method of incoming message is outside the scope of permission grant with ID %s", g.ID)
	}
	s := g.Scope
	switch req.Interface + req.Method {
	case "RecordsWrite":
		if err := g.verifyRecordScope(req); err != nil {
			return err
		}
		if g.Publication == PublicationRequired && !req.Published {
			return errf(CodeRecordsGrantAuthorizationConditionPublicationRequired, "Permission grant requires message to be published")
		}
		if g.Publication == PublicationProhibited && req.Published {
			return errf(CodeRecordsGrantAuthorizationConditionPublicationProhibited, "Permission grant prohibits message from being published")
		}
	case "RecordsRead":
		return g.verifyRecordScope(req)
	case "RecordsQuery", "RecordsSubscribe":
		if s.Protocol != "" && req.Protocol != s.Protocol {
			return errf(CodeRecordsGrantAuthorizationQueryOrSubscribeProtocolScopeMismatch, "Grant protocol scope %s does not match protocol in message %s", s.Protocol, req.Protocol)
		}
	case "RecordsDelete":
		if s.Protocol != "" && req.Protocol != s.Protocol {
			return errf(CodeRecordsGrantAuthorizationDeleteProtocolScopeMismatch, "Grant protocol scope %s does not match protocol in record to delete %s", s.Protocol, req.Protocol)
		}
	case "ProtocolsConfigure":
		if s.Protocol != "" && req.Protocol != s.Protocol {
			return errf(CodeProtocolsGrantAuthorizationScopeProtocolMismatch, "Grant scope specifies different protocol than what appears in the configure message.")
		}
	case "ProtocolsQuery":
		if s.Protocol != "" && req.Protocol != s.Protocol {
			return errf(CodeProtocolsGrantAuthorizationQueryProtocolScopeMismatch, "Grant protocol scope %s does not match protocol in message %s", s.Protocol, req.Protocol)
		}
	case "MessagesQuery", "MessagesSubscribe":
		if s.Protocol != "" {
			for _, fp := range req.FilterProtocols {
				if fp != s.Protocol {
					return errf(CodeMessagesGrantAuthorizationMismatchedProtocol, "The protocol %s does not match the scoped protocol %s", fp, s.Protocol)
				}
			}
		}
	case "MessagesRead":
		if s.Protocol != "" && req.Protocol != s.Protocol && !(req.Protocol == PermissionsProtocol && req.ScopeProtocol == s.Protocol) {
			return errf(CodeMessagesReadVerifyScopeFailed, "record message failed scope authorization")
		}
	}
	return nil
}

func (g *Grant) verifyRecordScope(req GrantRequest) error {
	s := g.Scope
	if s.Protocol != req.Protocol {
		return errf(CodeRecordsGrantAuthorizationScopeProtocolMismatch, "Grant scope specifies different protocol than what appears in the record")
	}
	if s.ContextID != "" && (req.ContextID == "" || !hasPrefix(req.ContextID, s.ContextID)) {
		return errf(CodeRecordsGrantAuthorizationScopeContextIDMismatch, "Grant scope specifies different contextId than what appears in the record")
	}
	if s.ProtocolPath != "" && s.ProtocolPath != req.ProtocolPath {
		return errf(CodeRecordsGrantAuthorizationScopeProtocolPathMismatch, "Grant scope specifies different protocolPath than what appears in the record")
	}
	return nil
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }
