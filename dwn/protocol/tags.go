package protocol

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"unicode/utf8"
)

// TagSchema is the JSON-schema subset $tags allows for one tag (and, in
// Items and Contains, for array elements).
type TagSchema struct {
	Type             string // string|number|integer|boolean|array, or ""
	Enum             []any  // nil when absent
	HasEnum          bool
	Const            any
	HasConst         bool
	Minimum          *float64
	Maximum          *float64
	ExclusiveMinimum *float64
	ExclusiveMaximum *float64
	MinLength        *float64
	MaxLength        *float64
	Pattern          *regexp.Regexp
	MinItems         *float64
	MaxItems         *float64
	UniqueItems      bool
	MinContains      *float64
	MaxContains      *float64
	Items            *TagSchema
	Contains         *TagSchema

	raw     map[string]any
	unknown []string // keywords the reference accepts but its validator rejects at write time
}

var topTagKeywords = []string{"type", "items", "contains", "enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
	"minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "minContains", "maxContains"}

func decodeTagsRule(v any, p string) (*TagsRule, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, schemaErr(p, "must be object")
	}
	if len(obj) < 1 {
		return nil, schemaErr(p, "must NOT have fewer than 1 properties")
	}
	t := &TagsRule{Tags: map[string]*TagSchema{}}
	for _, k := range sortedKeys(obj) {
		kp := p + "/" + k
		switch k {
		case "$requiredTags":
			arr, ok := obj[k].([]any)
			if !ok {
				return nil, schemaErr(kp, "must be array")
			}
			t.RequiredTags = []string{}
			for i, e := range arr {
				s, ok := e.(string)
				if !ok {
					return nil, schemaErr(fmt.Sprintf("%s/%d", kp, i), "must be string")
				}
				t.RequiredTags = append(t.RequiredTags, s)
			}
		case "$allowUndefinedTags":
			if t.AllowUndefinedTags, ok = obj[k].(bool); !ok {
				return nil, schemaErr(kp, "must be boolean")
			}
		default:
			ts, err := decodeTagSchema(obj[k], kp, true)
			if err != nil {
				return nil, err
			}
			t.Tags[k] = ts
		}
	}
	return t, nil
}

func decodeTagSchema(v any, p string, top bool) (*TagSchema, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, schemaErr(p, "must be object")
	}
	ts := &TagSchema{raw: obj}
	for _, k := range sortedKeys(obj) {
		val := obj[k]
		kp := p + "/" + k
		switch k {
		case "type":
			s, _ := val.(string)
			allowed := []string{"string", "number", "integer"}
			if top {
				allowed = append(allowed, "boolean", "array")
			}
			if !slices.Contains(allowed, s) {
				return nil, schemaErr(kp, "must be equal to one of the allowed values")
			}
			ts.Type = s
		case "items", "contains":
			if !top {
				ts.unknown = append(ts.unknown, k)
				continue
			}
			sub, err := decodeTagSchema(val, kp, false)
			if err != nil {
				return nil, err
			}
			if k == "items" {
				ts.Items = sub
			} else {
				ts.Contains = sub
			}
		case "enum", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength":
			// values are checked against the meta-schema in metaCheck
		case "minItems", "maxItems", "uniqueItems", "minContains", "maxContains":
			if !top {
				ts.unknown = append(ts.unknown, k)
			}
		default:
			if top {
				return nil, additionalErr(p, k)
			}
			if k != "const" && k != "pattern" {
				ts.unknown = append(ts.unknown, k)
			}
		}
	}
	return ts, nil
}

// metaCheck applies what ajv.validateSchema checks for the keywords we
// know (ProtocolsConfigureInvalidTagSchema), and fills the typed fields.
func (ts *TagSchema) metaCheck(p string) error {
	bad := func(k, msg string) error {
		return errf(CodeProtocolsConfigureInvalidTagSchema, "tags schema validation error: %s/%s %s", p, k, msg)
	}
	num := func(k string, dst **float64, integer bool) error {
		v, ok := ts.raw[k]
		if !ok {
			return nil
		}
		f, isNum := v.(float64)
		if integer {
			if !isNum || !isInteger(f) {
				return bad(k, "must be integer")
			}
			if f < 0 {
				return bad(k, "must be >= 0")
			}
		} else if !isNum {
			return bad(k, "must be number")
		}
		*dst = &f
		return nil
	}
	for _, c := range []struct {
		k   string
		dst **float64
		int bool
	}{
		{"minimum", &ts.Minimum, false}, {"maximum", &ts.Maximum, false},
		{"exclusiveMinimum", &ts.ExclusiveMinimum, false}, {"exclusiveMaximum", &ts.ExclusiveMaximum, false},
		{"minLength", &ts.MinLength, true}, {"maxLength", &ts.MaxLength, true},
		{"minItems", &ts.MinItems, true}, {"maxItems", &ts.MaxItems, true},
		{"minContains", &ts.MinContains, true}, {"maxContains", &ts.MaxContains, true},
	} {
		if slices.Contains(ts.unknown, c.k) {
			continue
		}
		if err := num(c.k, c.dst, c.int); err != nil {
			return err
		}
	}
	if v, ok := ts.raw["enum"]; ok {
		arr, ok := v.([]any)
		if !ok {
			return bad("enum", "must be array")
		}
		ts.Enum, ts.HasEnum = arr, true
	}
	if v, ok := ts.raw["uniqueItems"]; ok && !slices.Contains(ts.unknown, "uniqueItems") {
		b, ok := v.(bool)
		if !ok {
			return bad("uniqueItems", "must be boolean")
		}
		ts.UniqueItems = b
	}
	if v, ok := ts.raw["const"]; ok {
		ts.Const, ts.HasConst = v, true
	}
	if v, ok := ts.raw["pattern"]; ok {
		s, ok := v.(string)
		if !ok {
			return bad("pattern", "must be string")
		}
		re, err := regexp.Compile(s)
		if err != nil {
			return bad("pattern", `must match format "regex"`)
		}
		ts.Pattern = re
	}
	for _, sub := range []struct {
		k string
		s *TagSchema
	}{{"items", ts.Items}, {"contains", ts.Contains}} {
		if sub.s != nil {
			if err := sub.s.metaCheck(p + "/" + sub.k); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckTags validates a record's tags against $tags, as the reference's
// ajv schema {type: object, properties, required: $requiredTags,
// additionalProperties: $allowUndefinedTags} does
// (ProtocolAuthorizationTagsInvalidSchema).
func (t *TagsRule) CheckTags(protocol, protocolPath string, tags map[string]any) error {
	prefix := protocol + "/" + protocolPath + "/$tags"
	fail := func(p, format string, args ...any) error {
		return errf(CodeProtocolAuthorizationTagsInvalidSchema, "tags schema validation error: %s %s", p, fmt.Sprintf(format, args...))
	}
	for _, r := range t.RequiredTags {
		if _, ok := tags[r]; !ok {
			return fail(prefix, "must have required property '%s'", r)
		}
	}
	if !t.AllowUndefinedTags {
		names := make([]string, 0, len(tags))
		for k := range tags {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			if _, ok := t.Tags[k]; !ok {
				return fail(prefix, "must NOT have additional properties")
			}
		}
	}
	for _, name := range sortedKeys(t.Tags) {
		v, ok := tags[name]
		if !ok {
			continue
		}
		if msg, where := t.Tags[name].check(normalizeJSON(v), prefix+"/"+name); msg != "" {
			return fail(where, "%s", msg)
		}
	}
	return nil
}

// normalizeJSON maps Go values to the shapes encoding/json produces into
// any (float64 numbers, []any arrays), so callers may pass ints and []string.
func normalizeJSON(v any) any {
	switch x := v.(type) {
	case nil, bool, string, float64, map[string]any:
		return v
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = normalizeJSON(e)
		}
		return out
	}
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var out any
	if json.Unmarshal(b, &out) != nil {
		return v
	}
	return out
}

// check returns "" if v satisfies ts, else ajv-like message and location.
func (ts *TagSchema) check(v any, p string) (string, string) {
	if len(ts.unknown) > 0 {
		return fmt.Sprintf("unsupported keyword %q", ts.unknown[0]), p
	}
	switch ts.Type {
	case "string":
		if _, ok := v.(string); !ok {
			return "must be string", p
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return "must be number", p
		}
	case "integer":
		if f, ok := v.(float64); !ok || !isInteger(f) {
			return "must be integer", p
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return "must be boolean", p
		}
	case "array":
		if _, ok := v.([]any); !ok {
			return "must be array", p
		}
	}
	switch x := v.(type) {
	case float64:
		if ts.Maximum != nil && x > *ts.Maximum {
			return fmt.Sprintf("must be <= %v", *ts.Maximum), p
		}
		if ts.Minimum != nil && x < *ts.Minimum {
			return fmt.Sprintf("must be >= %v", *ts.Minimum), p
		}
		if ts.ExclusiveMaximum != nil && x >= *ts.ExclusiveMaximum {
			return fmt.Sprintf("must be < %v", *ts.ExclusiveMaximum), p
		}
		if ts.ExclusiveMinimum != nil && x <= *ts.ExclusiveMinimum {
			return fmt.Sprintf("must be > %v", *ts.ExclusiveMinimum), p
		}
	case string:
		n := float64(utf8.RuneCountInString(x))
		if ts.MaxLength != nil && n > *ts.MaxLength {
			return fmt.Sprintf("must NOT have more than %v characters", *ts.MaxLength), p
		}
		if ts.MinLength != nil && n < *ts.MinLength {
			return fmt.Sprintf("must NOT have fewer than %v characters", *ts.MinLength), p
		}
		if ts.Pattern != nil && !ts.Pattern.MatchString(x) {
			return fmt.Sprintf(`must match pattern "%s"`, ts.Pattern), p
		}
	case []any:
		n := float64(len(x))
		if ts.MaxItems != nil && n > *ts.MaxItems {
			return fmt.Sprintf("must NOT have more than %v items", *ts.MaxItems), p
		}
		if ts.MinItems != nil && n < *ts.MinItems {
			return fmt.Sprintf("must NOT have fewer than %v items", *ts.MinItems), p
		}
		if ts.UniqueItems {
			for i := range x {
				for j := i + 1; j < len(x); j++ {
					if reflect.DeepEqual(x[i], x[j]) {
						return fmt.Sprintf("must NOT have duplicate items (items ## %d and %d are identical)", j, i), p
					}
				}
			}
		}
		if ts.Contains != nil {
			if ts.MinContains != nil && *ts.MinContains == 0 && ts.MaxContains == nil {
				return `strict mode: "minContains" == 0 without "maxContains": "contains" keyword ignored`, p
			}
			matches := 0
			for _, e := range x {
				if msg, _ := ts.Contains.check(e, p); msg == "" {
					matches++
				}
			}
			lo := 1.0
			if ts.MinContains != nil {
				lo = *ts.MinContains
			}
			if float64(matches) < lo {
				return fmt.Sprintf("must contain at least %v valid item(s)", lo), p
			}
			if ts.MaxContains != nil && float64(matches) > *ts.MaxContains {
				return fmt.Sprintf("must contain at most %v valid item(s)", *ts.MaxContains), p
			}
		}
		if ts.Items != nil {
			for i, e := range x {
				if msg, where := ts.Items.check(e, fmt.Sprintf("%s/%d", p, i)); msg != "" {
					return msg, where
				}
			}
		}
	}
	if ts.HasConst && !reflect.DeepEqual(ts.Const, v) {
		return "must be equal to constant", p
	}
	if ts.HasEnum && !slices.ContainsFunc(ts.Enum, func(e any) bool { return reflect.DeepEqual(e, v) }) {
		return "must be equal to one of the allowed values", p
	}
	return "", ""
}
