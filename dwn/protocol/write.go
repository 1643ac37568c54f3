package protocol

import (
	"slices"
	"strings"
)

// Record is what the rules need to know about one RecordsWrite (for an
// existing record: its initial write, except Tags, DataSize, DataFormat and
// Published, which are the incoming or newest write's).
type Record struct {
	RecordID     string
	ContextID    string
	ProtocolPath string
	ParentID     string
	Author       string
	Recipient    string
	Schema       string
	DataFormat   string
	DataSize     int64
	Tags         map[string]any
	Published    bool
	DateCreated  string
	Protocol     string // used only in error texts; may be empty
}

func typeName(protocolPath string) string {
	return protocolPath[strings.LastIndexByte(protocolPath, '/')+1:]
}

// CheckWrite applies the per-record rules of
// ProtocolAuthorization.validateReferentialIntegrity that need no store, in
// the reference's order: the type (declared, schema, dataFormat), the
// protocol path of a parentless record, the rule set's existence, a role
// record's recipient, $size and $tags.
//
// The caller must also, for a record with a parent, call CheckParent with
// the parent's newest RecordsWrite (or nil if none exists), and for a role
// record (RuleSet.Role) look for another role record at the same path for
// the same recipient whose contextId starts with RoleContextPrefix(w) and
// whose recordId differs (ProtocolAuthorizationDuplicateRoleRecipient).
func (d *Definition) CheckWrite(w Record) error {
	name := typeName(w.ProtocolPath)
	t, ok := d.Types[name]
	if !ok {
		return errf(CodeProtocolAuthorizationInvalidType, "record with type %s not allowed in protocol", name)
	}
	if (t.hasSchema || t.Schema != "") && t.Schema != w.Schema {
		return errf(CodeProtocolAuthorizationInvalidSchema, "type '%s' must have schema '%s', instead has '%s'", name, t.Schema, w.Schema)
	}
	if t.DataFormats != nil && !slices.Contains(t.DataFormats, w.DataFormat) {
		return errf(CodeProtocolAuthorizationIncorrectDataFormat, "type '%s' must have data format in (%s), instead has '%s'", name, strings.Join(t.DataFormats, ","), w.DataFormat)
	}
	if w.ParentID == "" && w.ProtocolPath != name {
		return errf(CodeProtocolAuthorizationParentlessIncorrectProtoPath, "Declared protocol path '%s' is not valid for records with no parent'.", w.ProtocolPath)
	}
	if w.ParentID != "" && w.ProtocolPath == name {
		return errf(CodeProtocolAuthorizationIncorrectProtocolPath, "Could not find matching parent record to verify declared protocol path '%s'.", w.ProtocolPath)
	}
	rs, ok := d.RuleSet(w.ProtocolPath)
	if !ok {
		return errf(CodeProtocolAuthorizationMissingRuleSet, "No rule set defined for protocolPath %s", w.ProtocolPath)
	}
	if rs.Role && w.Recipient == "" {
		return errf(CodeProtocolAuthorizationRoleMissingRecipient, "Role records must have a recipient")
	}
	if err := rs.CheckSize(w.DataSize); err != nil {
		return err
	}
	if rs.Tags != nil {
		protocol := w.Protocol
		if protocol == "" {
			protocol = d.Protocol
		}
		return rs.Tags.CheckTags(protocol, w.ProtocolPath, w.Tags)
	}
	return nil
}

// CheckSize applies $size (ProtocolAuthorizationMinSizeInvalid,
// ProtocolAuthorizationMaxSizeInvalid).
func (rs *RuleSet) CheckSize(dataSize int64) error {
	if rs.Size == nil {
		return nil
	}
	if float64(dataSize) < rs.Size.Min {
		return errf(CodeProtocolAuthorizationMinSizeInvalid, "data size %d is less than allowed %v", dataSize, rs.Size.Min)
	}
	if rs.Size.Max != nil && float64(dataSize) > *rs.Size.Max {
		return errf(CodeProtocolAuthorizationMaxSizeInvalid, "data size %d is more than allowed %v", dataSize, *rs.Size.Max)
	}
	return nil
}

// CheckParent verifies a child record against its parent's newest
// RecordsWrite (nil when no live parent with that recordId exists in the
// protocol): the protocol path must extend the parent's by the type name
// and the contextId must be the parent's contextId plus "/" + recordId
// (verifyProtocolPathAndContextId). Records without a parent pass.
func CheckParent(w Record, parent *Record) error {
	if w.ParentID == "" {
		return nil
	}
	parentPath := "undefined"
	if parent != nil {
		parentPath = parent.ProtocolPath
	}
	if parentPath+"/"+typeName(w.ProtocolPath) != w.ProtocolPath {
		return errf(CodeProtocolAuthorizationIncorrectProtocolPath, "Could not find matching parent record to verify declared protocol path '%s'.", w.ProtocolPath)
	}
	if want := parent.ContextID + "/" + w.RecordID; w.ContextID != want {
		return errf(CodeProtocolAuthorizationIncorrectContextID, "Declared contextId '%s' is not the same as expected: '%s'.", w.ContextID, want)
	}
	return nil
}

// RoleContextPrefix is the contextId prefix within which a role record must
// be unique per recipient: the contextId without its last segment ("" for a
// root record, meaning the whole protocol).
func RoleContextPrefix(contextID string) string {
	i := strings.LastIndexByte(contextID, '/')
	if i < 0 {
		return ""
	}
	return contextID[:i]
}
