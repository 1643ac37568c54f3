package protocol

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
)

// Actors and actions of $actions rules (types/protocols-types.ts).
const (
	ActorAnyone    = "anyone"
	ActorAuthor    = "author"
	ActorRecipient = "recipient"

	ActionCreate    = "create"
	ActionUpdate    = "update"
	ActionDelete    = "delete"
	ActionPrune     = "prune"
	ActionCoUpdate  = "co-update"
	ActionCoDelete  = "co-delete"
	ActionCoPrune   = "co-prune"
	ActionRead      = "read"
	ActionQuery     = "query"
	ActionSubscribe = "subscribe"
)

// MaxNestingDepth is the deepest protocol path a definition may declare.
const MaxNestingDepth = 10

var whoActions = []string{ActionCoDelete, ActionCoPrune, ActionCoUpdate, ActionCreate, ActionDelete, ActionPrune, ActionRead, ActionUpdate}
var roleActions = []string{ActionCoDelete, ActionCoUpdate, ActionCreate, ActionDelete, ActionQuery, ActionSubscribe, ActionRead, ActionUpdate}

// Definition is a validated protocol definition.
type Definition struct {
	Protocol  string
	Published bool
	Types     map[string]Type
	Structure map[string]*RuleSet
	// Raw is the definition as received.
	Raw json.RawMessage
}

// Type is a declared record type.
type Type struct {
	Schema      string   // "" when any schema is allowed
	DataFormats []string // nil when any data format is allowed

	hasSchema bool // schema was present (possibly "")
}

// ActionRule is one entry of $actions: either an actor rule (Who, optional
// Of) or a role rule (Role). A role rule may carry a stray Who, which the
// reference then honours, so both are kept.
type ActionRule struct {
	Who   string
	Of    string
	HasOf bool // Of was present (Of may be "")
	Role  string
	Can   []string
}

// Allows reports whether the rule lists action.
func (a ActionRule) Allows(action string) bool { return slices.Contains(a.Can, action) }

// SizeRule is $size, in bytes; Min defaults to 0 and Max nil means no limit.
type SizeRule struct {
	Min float64
	Max *float64
}

// TagsRule is $tags.
type TagsRule struct {
	RequiredTags       []string
	AllowUndefinedTags bool
	Tags               map[string]*TagSchema
}

// EncryptionRule is $encryption.
type EncryptionRule struct {
	RootKeyID    string
	PublicKeyJwk json.RawMessage
}

// RuleSet is the rules at one protocol path.
type RuleSet struct {
	Path       string
	Actions    []ActionRule // nil when $actions is absent
	Role       bool
	Size       *SizeRule
	Tags       *TagsRule
	Encryption *EncryptionRule
	Children   map[string]*RuleSet
}

// RuleSet returns the rule set at protocolPath ("a/b/c").
func (d *Definition) RuleSet(protocolPath string) (*RuleSet, bool) {
	level := d.Structure
	var rs *RuleSet
	for seg := range strings.SplitSeq(protocolPath, "/") {
		rs = level[seg]
		if rs == nil {
			return nil, false
		}
		level = rs.Children
	}
	return rs, rs != nil
}

// RolePaths returns the protocol paths of all role record types, the only
// paths a role rule or an invoked protocolRole may name.
func (d *Definition) RolePaths() []string {
	var out []string
	var walk func(prefix string, m map[string]*RuleSet)
	walk = func(prefix string, m map[string]*RuleSet) {
		for _, k := range sortedKeys(m) {
			p := join(prefix, k)
			if m[k].Role {
				out = append(out, p)
			} else {
				walk(p, m[k].Children)
			}
		}
	}
	walk("", d.Structure)
	return out
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "/" + name
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ParseDefinition validates a protocol definition as ProtocolsConfigure.parse
// does: the JSON schema (protocol-definition.json, protocol-rule-set.json)
// first, then the protocol and schema URLs (they must already be
// normalized), the nesting depth, and the rules of every rule set.
func ParseDefinition(raw json.RawMessage) (*Definition, error) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, errf(CodeSchemaValidatorFailure, "ProtocolDefinition: %v", err)
	}
	d, err := decodeDefinition(v)
	if err != nil {
		return nil, err
	}
	d.Raw = append(json.RawMessage(nil), raw...)
	if err := d.validate(); err != nil {
		return nil, err
	}
	return d, nil
}

// schema errors, worded like ajv's first error.
func schemaErr(path, msg string, args ...any) *Error {
	return errf(CodeSchemaValidatorFailure, "%s: %s", path, fmt.Sprintf(msg, args...))
}

func additionalErr(path, key string) *Error {
	return errf(CodeSchemaValidatorAdditionalPropertyNotAllowed, "must NOT have additional properties: %s: %s", path, key)
}

func decodeDefinition(v any) (*Definition, error) {
	const root = "ProtocolDefinition"
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, schemaErr(root, "must be object")
	}
	for _, k := range []string{"protocol", "published", "types", "structure"} {
		if _, ok := obj[k]; !ok {
			return nil, schemaErr(root, "must have required property '%s'", k)
		}
	}
	for _, k := range sortedKeys(obj) {
		switch k {
		case "protocol", "published", "types", "structure":
		default:
			return nil, additionalErr(root, k)
		}
	}
	d := &Definition{Types: map[string]Type{}, Structure: map[string]*RuleSet{}}
	if d.Protocol, ok = obj["protocol"].(string); !ok {
		return nil, schemaErr("/protocol", "must be string")
	}
	if d.Published, ok = obj["published"].(bool); !ok {
		return nil, schemaErr("/published", "must be boolean")
	}
	types, ok := obj["types"].(map[string]any)
	if !ok {
		return nil, schemaErr("/types", "must be object")
	}
	for _, name := range sortedKeys(types) {
		p := "/types/" + name
		t, ok := types[name].(map[string]any)
		if !ok {
			return nil, schemaErr(p, "must be object")
		}
		var typ Type
		for _, k := range sortedKeys(t) {
			switch k {
			case "schema":
				if typ.Schema, ok = t[k].(string); !ok {
					return nil, schemaErr(p+"/schema", "must be string")
				}
				typ.hasSchema = true
			case "dataFormats":
				arr, ok := t[k].([]any)
				if !ok {
					return nil, schemaErr(p+"/dataFormats", "must be array")
				}
				if len(arr) < 1 {
					return nil, schemaErr(p+"/dataFormats", "must NOT have fewer than 1 items")
				}
				typ.DataFormats = []string{}
				for i, e := range arr {
					s, ok := e.(string)
					if !ok {
						return nil, schemaErr(fmt.Sprintf("%s/dataFormats/%d", p, i), "must be string")
					}
					typ.DataFormats = append(typ.DataFormats, s)
				}
			default:
				return nil, additionalErr(p, k)
			}
		}
		d.Types[name] = typ
	}
	structure, ok := obj["structure"].(map[string]any)
	if !ok {
		return nil, schemaErr("/structure", "must be object")
	}
	for _, name := range sortedKeys(structure) {
		rs, err := decodeRuleSet(structure[name], "/structure/"+name, name)
		if err != nil {
			return nil, err
		}
		// Top-level "$" keys are schema-checked but ignored by the reference.
		if !strings.HasPrefix(name, "$") {
			d.Structure[name] = rs
		}
	}
	return d, nil
}

func decodeRuleSet(v any, p, protocolPath string) (*RuleSet, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, schemaErr(p, "must be object")
	}
	rs := &RuleSet{Path: protocolPath}
	for _, k := range sortedKeys(obj) {
		val := obj[k]
		kp := p + "/" + k
		var err error
		switch k {
		case "$encryption":
			rs.Encryption, err = decodeEncryption(val, kp)
		case "$actions":
			rs.Actions, err = decodeActions(val, kp)
		case "$role":
			if rs.Role, ok = val.(bool); !ok {
				err = schemaErr(kp, "must be boolean")
			}
		case "$size":
			rs.Size, err = decodeSize(val, kp)
		case "$tags":
			rs.Tags, err = decodeTagsRule(val, kp)
		default:
			if strings.HasPrefix(k, "$") {
				return nil, additionalErr(p, k)
			}
			var child *RuleSet
			if child, err = decodeRuleSet(val, kp, join(protocolPath, k)); err == nil {
				if rs.Children == nil {
					rs.Children = map[string]*RuleSet{}
				}
				rs.Children[k] = child
			}
		}
		if err != nil {
			return nil, err
		}
	}
	return rs, nil
}

func decodeEncryption(v any, p string) (*EncryptionRule, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, schemaErr(p, "must be object")
	}
	for _, k := range []string{"rootKeyId", "publicKeyJwk"} {
		if _, ok := obj[k]; !ok {
			return nil, schemaErr(p, "must have required property '%s'", k)
		}
	}
	for _, k := range sortedKeys(obj) {
		if k != "rootKeyId" && k != "publicKeyJwk" {
			return nil, additionalErr(p, k)
		}
	}
	e := &EncryptionRule{}
	if e.RootKeyID, ok = obj["rootKeyId"].(string); !ok {
		return nil, schemaErr(p+"/rootKeyId", "must be string")
	}
	if err := checkPublicJwk(obj["publicKeyJwk"], p+"/publicKeyJwk"); err != nil {
		return nil, err
	}
	e.PublicKeyJwk, _ = json.Marshal(obj["publicKeyJwk"])
	return e, nil
}

// checkPublicJwk applies the essentials of public-jwk.json: an object with a
// known kty, the members its key type needs, and no private members.
func checkPublicJwk(v any, p string) error {
	jwk, ok := v.(map[string]any)
	if !ok {
		return schemaErr(p, "must be object")
	}
	kty, _ := jwk["kty"].(string)
	var need []string
	switch kty {
	case "EC":
		need = []string{"crv", "x"}
	case "OKP":
		need = []string{"crv", "x"}
	case "RSA":
		need = []string{"n", "e"}
	case "oct":
		need = []string{"k"}
	default:
		if _, ok := jwk["kty"]; !ok {
			return schemaErr(p, "must have required property 'kty'")
		}
		return schemaErr(p, "must have required property 'crv'")
	}
	for _, k := range need {
		if _, ok := jwk[k]; !ok {
			return schemaErr(p, "must have required property '%s'", k)
		}
	}
	for _, k := range []string{"alg", "kid", "crv", "use", "key_ops", "x5u", "x5c", "x5t", "x5t#S256", "x", "y", "n", "e"} {
		if val, ok := jwk[k]; ok {
			if _, ok := val.(string); !ok {
				return schemaErr(p+"/"+k, "must be string")
			}
		}
	}
	private := []string{"d"}
	if kty == "RSA" {
		private = []string{"d", "p", "q", "dp", "dq", "qi", "oth"}
	}
	if kty != "oct" {
		for _, k := range private {
			if _, ok := jwk[k]; ok {
				return schemaErr(p, "must NOT be valid")
			}
		}
	}
	return nil
}

func decodeActions(v any, p string) ([]ActionRule, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, schemaErr(p, "must be array")
	}
	if len(arr) < 1 {
		return nil, schemaErr(p, "must NOT have fewer than 1 items")
	}
	rules := make([]ActionRule, 0, len(arr))
	for i, item := range arr {
		ip := fmt.Sprintf("%s/%d", p, i)
		obj, ok := item.(map[string]any)
		if !ok {
			return nil, schemaErr(ip, "must be object")
		}
		// oneOf [actor rule, role rule]: exactly one can match, because the
		// actor rule forbids "role". When both fail, ajv reports the actor
		// branch's first error.
		actor, actorErr := decodeActorRule(obj, ip)
		if actorErr == nil {
			rules = append(rules, actor)
			continue
		}
		if _, hasRole := obj["role"]; !hasRole {
			return nil, actorErr
		}
		role, ok := decodeRoleRule(obj)
		if !ok {
			if _, hasWho := obj["who"]; !hasWho {
				return nil, schemaErr(ip, "must have required property 'who'")
			}
			return nil, actorErr
		}
		rules = append(rules, role)
	}
	return rules, nil
}

func decodeActorRule(obj map[string]any, p string) (ActionRule, error) {
	var r ActionRule
	for _, k := range []string{"who", "can"} {
		if _, ok := obj[k]; !ok {
			return r, schemaErr(p, "must have required property '%s'", k)
		}
	}
	for _, k := range sortedKeys(obj) {
		if k != "who" && k != "of" && k != "can" {
			return r, additionalErr(p, k)
		}
	}
	who, ok := obj["who"].(string)
	if !ok {
		return r, schemaErr(p+"/who", "must be string")
	}
	if who != ActorAnyone && who != ActorAuthor && who != ActorRecipient {
		return r, schemaErr(p+"/who", "must be equal to one of the allowed values")
	}
	r.Who = who
	if of, present := obj["of"]; present {
		if r.Of, ok = of.(string); !ok {
			return r, schemaErr(p+"/of", "must be string")
		}
		r.HasOf = true
	}
	can, err := decodeCan(obj["can"], p+"/can", whoActions)
	if err != nil {
		return r, err
	}
	r.Can = can
	return r, nil
}

func decodeRoleRule(obj map[string]any) (ActionRule, bool) {
	var r ActionRule
	role, ok := obj["role"].(string)
	if !ok {
		return r, false
	}
	can, err := decodeCan(obj["can"], "", roleActions)
	if err != nil {
		return r, false
	}
	r.Role, r.Can = role, can
	// Extra properties are allowed in a role rule; "who" and "of" then
	// still take part in the reference's checks.
	if who, ok := obj["who"].(string); ok {
		r.Who = who
	}
	if of, ok := obj["of"].(string); ok {
		r.Of, r.HasOf = of, true
	}
	return r, true
}

func decodeCan(v any, p string, allowed []string) ([]string, error) {
	arr, ok := v.([]any)
	if !ok {
		return nil, schemaErr(p, "must be array")
	}
	if len(arr) < 1 {
		return nil, schemaErr(p, "must NOT have fewer than 1 items")
	}
	out := make([]string, 0, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, schemaErr(fmt.Sprintf("%s/%d", p, i), "must be string")
		}
		if !slices.Contains(allowed, s) {
			return nil, schemaErr(fmt.Sprintf("%s/%d", p, i), "must be equal to one of the allowed values")
		}
		out = append(out, s)
	}
	return out, nil
}

func decodeSize(v any, p string) (*SizeRule, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, schemaErr(p, "must be object")
	}
	s := &SizeRule{}
	for _, k := range sortedKeys(obj) {
		if k != "min" && k != "max" {
			return nil, additionalErr(p, k)
		}
		n, ok := obj[k].(float64)
		if !ok {
			return nil, schemaErr(p+"/"+k, "must be number")
		}
		if n < 0 {
			return nil, schemaErr(p+"/"+k, "must be >= 0")
		}
		if k == "min" {
			s.Min = n
		} else {
			s.Max = &n
		}
	}
	return s, nil
}

// validate applies ProtocolsConfigure.validateProtocolDefinition.
func (d *Definition) validate() error {
	if err := CheckProtocolURL(d.Protocol); err != nil {
		return err
	}
	for _, name := range sortedKeys(d.Types) {
		if t := d.Types[name]; t.hasSchema || t.Schema != "" {
			if err := CheckSchemaURL(t.Schema); err != nil {
				return err
			}
		}
	}
	roles, err := collectRoles("", d.Structure, nil)
	if err != nil {
		return err
	}
	return d.validateChildren("", d.Structure, roles)
}

// collectRoles mirrors fetchAllRolePathsRecursively, including its depth
// limit and its not descending into role record types.
func collectRoles(p string, m map[string]*RuleSet, roles []string) ([]string, error) {
	if len(strings.Split(p, "/")) > MaxNestingDepth {
		return nil, errf(CodeProtocolsConfigureRecordNestingDepthExceeded, "Record nesting depth exceeded %d levels.", MaxNestingDepth)
	}
	for _, k := range sortedKeys(m) {
		cp := join(p, k)
		if m[k].Role {
			roles = append(roles, cp)
			continue
		}
		var err error
		if roles, err = collectRoles(cp, m[k].Children, roles); err != nil {
			return nil, err
		}
	}
	return roles, nil
}

func (d *Definition) validateChildren(p string, m map[string]*RuleSet, roles []string) error {
	for _, k := range sortedKeys(m) {
		if _, ok := d.Types[k]; !ok {
			return errf(CodeProtocolsConfigureInvalidRuleSetRecordType, "Rule set %s is not declared as an allowed type in the protocol definition.", k)
		}
		if err := d.validateRuleSet(m[k], join(p, k), roles); err != nil {
			return err
		}
	}
	return nil
}

func (r ActionRule) String() string {
	b, _ := json.Marshal(r.jsonObject())
	return string(b)
}

func (r ActionRule) jsonObject() map[string]any {
	o := map[string]any{"can": r.Can}
	if r.Who != "" {
		o["who"] = r.Who
	}
	if r.HasOf {
		o["of"] = r.Of
	}
	if r.Role != "" {
		o["role"] = r.Role
	}
	return o
}

func (d *Definition) validateRuleSet(rs *RuleSet, p string, roles []string) error {
	if rs.Size != nil && rs.Size.Max != nil && *rs.Size.Max < rs.Size.Min {
		return errf(CodeProtocolsConfigureInvalidSize, "Invalid size range found: max limit %v less than min limit %v at protocol path '%s'", *rs.Size.Max, rs.Size.Min, p)
	}
	if rs.Tags != nil {
		for _, name := range sortedKeys(rs.Tags.Tags) {
			if err := rs.Tags.Tags[name].metaCheck(p + "/$tags/" + name); err != nil {
				return err
			}
		}
	}
	readActions := []string{ActionRead, ActionQuery, ActionSubscribe}
	for i, r := range rs.Actions {
		if r.Role != "" {
			if !slices.Contains(roles, r.Role) {
				return errf(CodeProtocolsConfigureRoleDoesNotExistAtGivenPath, "Role in action %s for rule set %s does not exist.", r, p)
			}
			some := slices.ContainsFunc(readActions, r.Allows)
			all := !slices.ContainsFunc(readActions, func(a string) bool { return !r.Allows(a) })
			if some && !all {
				return errf(CodeProtocolsConfigureRoleReadActionMissing, "Role in action %s for rule set %s must contain all read actions (read, query, subscribe).", r, p)
			}
		}
		if r.Who == ActorAnyone && r.Of != "" {
			return errf(CodeProtocolsConfigureInvalidActionOfNotAllowed, "'of' is not allowed at rule set protocol path (%s)", p)
		}
		if r.Who == ActorRecipient && !r.HasOf {
			for _, a := range r.Can {
				if a != ActionCoUpdate && a != ActionCoDelete && a != ActionCoPrune {
					return errf(CodeProtocolsConfigureInvalidRecipientOfAction, "Rules for `recipient` without `of` property must have `can` containing only `co-update`, `co-delete`, and `co-prune`.")
				}
			}
		}
		if r.Who == ActorAuthor && r.Of == "" {
			return errf(CodeProtocolsConfigureInvalidActionMissingOf, "'of' is required when 'author' is specified as 'who'")
		}
		if r.Allows(ActionUpdate) && !r.Allows(ActionCreate) {
			return errf(CodeProtocolsConfigureInvalidActionUpdateWithoutCreate, "Action rule %s contains 'update' action but missing the required 'create' action.", r)
		}
		if r.Allows(ActionDelete) && !r.Allows(ActionCreate) {
			return errf(CodeProtocolsConfigureInvalidActionDeleteWithoutCreate, "Action rule %s contains 'delete' action but missing the required 'create' action.", r)
		}
		for _, o := range rs.Actions[i+1:] {
			if r.Who != "" {
				if r.Who == o.Who && r.HasOf == o.HasOf && r.Of == o.Of {
					return errf(CodeProtocolsConfigureDuplicateActorInRuleSet, "More than one action rule per actor %s of %s not allowed within a rule set: %s", r.Who, r.Of, r)
				}
			} else if r.Role == o.Role {
				return errf(CodeProtocolsConfigureDuplicateRoleInRuleSet, "More than one action rule per role %s not allowed within a rule set: %s", r.Role, r)
			}
		}
	}
	return d.validateChildren(p, rs.Children, roles)
}

func isInteger(f float64) bool { return f == math.Trunc(f) && !math.IsInf(f, 0) }
