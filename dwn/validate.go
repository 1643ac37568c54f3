package dwn

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Error codes of schema validation (dwn-sdk-js schema-validator.ts).
const (
	codeSchemaValidatorFailure   = "SchemaValidatorFailure"
	codeAdditionalPropertyDenied = "SchemaValidatorAdditionalPropertyNotAllowed"
	codeUnevaluatedPropertyDeny  = "SchemaValidatorUnevaluatedPropertyNotAllowed"
	codeTimestampInvalid         = "TimestampInvalid"
	codeURLProtocolNotNormalized = "UrlProtocolNotNormalized"
	codeURLSchemaNotNormalized   = "UrlSchemaNotNormalized"
)

// The validation below is a hand-written equivalent of the JSON schemas of
// dwn-sdk-js 0.5.2 (json-schemas/interface-methods/*.json) as Ajv applies
// them: the first failure is reported, with Ajv's wording, under the
// instance path ("/descriptor/filter") or, at the top, the schema name.

type check func(v any, path string) error

type propMode int

const (
	allowExtra propMode = iota
	noAdditional
	noUnevaluated
)

type objSpec struct {
	props    map[string]check
	required []string
	mode     propMode
	minProps int
	maxProps int
	// extraProps checks properties not in props when mode is allowExtra
	// and extraProps is set (JSON schema additionalProperties: {schema}).
	extraProps check
	// deps maps a property to the properties it requires.
	deps map[string][]string
	// after runs last (anyOf, allOf, not, dependencies with schemas).
	after func(m map[string]any, path string) error
}

type validator struct{ schema string }

func (v *validator) fail(path, format string, args ...any) error {
	if path == "" {
		path = v.schema
	}
	return newErr(codeSchemaValidatorFailure, "%s: %s", path, fmt.Sprintf(format, args...))
}

func (v *validator) obj(spec objSpec) check {
	return func(x any, path string) error {
		m, ok := x.(map[string]any)
		if !ok {
			return v.fail(path, "must be object")
		}
		if spec.maxProps > 0 && len(m) > spec.maxProps {
			return v.fail(path, "must NOT have more than %d properties", spec.maxProps)
		}
		if len(m) < spec.minProps {
			return v.fail(path, "must NOT have fewer than %d properties", spec.minProps)
		}
		for _, r := range spec.required {
			if _, ok := m[r]; !ok {
				return v.fail(path, "must have required property '%s'", r)
			}
		}
		for _, k := range sortedKeys(spec.deps) {
			if _, ok := m[k]; !ok {
				continue
			}
			for _, r := range spec.deps[k] {
				if _, ok := m[r]; !ok {
					return v.fail(path, "must have property %s when property %s is present", r, k)
				}
			}
		}
		keys := sortedKeys(m)
		if spec.mode == noAdditional {
			for _, k := range keys {
				if _, ok := spec.props[k]; !ok {
					p := path
					if p == "" {
						p = v.schema
					}
					return newErr(codeAdditionalPropertyDenied, "must NOT have additional properties: %s: %s", p, k)
				}
			}
		}
		for _, k := range keys {
			c, ok := spec.props[k]
			if !ok {
				c = spec.extraProps
			}
			if c == nil {
				continue
			}
			if err := c(m[k], path+"/"+k); err != nil {
				return err
			}
		}
		if spec.after != nil {
			if err := spec.after(m, path); err != nil {
				return err
			}
		}
		if spec.mode == noUnevaluated {
			for _, k := range keys {
				if _, ok := spec.props[k]; !ok {
					p := path
					if p == "" {
						p = v.schema
					}
					return newErr(codeUnevaluatedPropertyDeny, "must NOT have unevaluated properties: %s: %s", p, k)
				}
			}
		}
		return nil
	}
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func (v *validator) str() check {
	return func(x any, path string) error {
		if _, ok := x.(string); !ok {
			return v.fail(path, "must be string")
		}
		return nil
	}
}

func (v *validator) pattern(re *regexp.Regexp) check {
	return func(x any, path string) error {
		s, ok := x.(string)
		if !ok {
			return v.fail(path, "must be string")
		}
		if !re.MatchString(s) {
			return v.fail(path, "must match pattern \"%s\"", re.String())
		}
		return nil
	}
}

func (v *validator) dateTime() check {
	return func(x any, path string) error {
		s, ok := x.(string)
		if !ok {
			return v.fail(path, "must be string")
		}
		if !ValidTimestamp(s) {
			return v.fail(path, "must match pattern \"%s\"", timestampPattern)
		}
		return nil
	}
}

func (v *validator) num() check {
	return func(x any, path string) error {
		if _, ok := x.(json.Number); !ok {
			return v.fail(path, "must be number")
		}
		return nil
	}
}

func (v *validator) boolean() check {
	return func(x any, path string) error {
		if _, ok := x.(bool); !ok {
			return v.fail(path, "must be boolean")
		}
		return nil
	}
}

func (v *validator) enum(vals ...string) check {
	return func(x any, path string) error {
		s, ok := x.(string)
		if !ok {
			return v.fail(path, "must be string")
		}
		if !slices.Contains(vals, s) {
			return v.fail(path, "must be equal to one of the allowed values")
		}
		return nil
	}
}

func (v *validator) array(min, max int, item check) check {
	return func(x any, path string) error {
		a, ok := x.([]any)
		if !ok {
			return v.fail(path, "must be array")
		}
		if len(a) < min {
			return v.fail(path, "must NOT have fewer than %d items", min)
		}
		if max > 0 && len(a) > max {
			return v.fail(path, "must NOT have more than %d items", max)
		}
		for i, e := range a {
			if err := item(e, fmt.Sprintf("%s/%d", path, i)); err != nil {
				return err
			}
		}
		return nil
	}
}

// oneOf passes when exactly one of the checks passes.
func (v *validator) oneOf(cs ...check) check {
	return func(x any, path string) error {
		n := 0
		for _, c := range cs {
			if c(x, path) == nil {
				n++
			}
		}
		if n != 1 {
			return v.fail(path, "must match exactly one schema in oneOf")
		}
		return nil
	}
}

const timestampPattern = `^\d{4}-[0-1]\d-[0-3]\dT(?:[0-2]\d:[0-5]\d:[0-5]\d|23:59:60)\.\d{6}Z$`

var (
	reBase64URL    = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	reDID          = regexp.MustCompile(`^did:([a-z0-9]+):((?:(?:[a-zA-Z0-9._-]|(?:%[0-9a-fA-F]{2}))*:)*((?:[a-zA-Z0-9._-]|(?:%[0-9a-fA-F]{2}))+))((;[a-zA-Z0-9_.:%-]+=[a-zA-Z0-9_.:%-]*)*)(/[^#?]*)?([?][^#]*)?(#.*)?$`)
	reProtocolPath = regexp.MustCompile(`^[a-zA-Z]+(/[a-zA-Z]+)*$`)
	reContextID    = regexp.MustCompile(`^[a-zA-Z0-9]+(/[a-zA-Z0-9]+)*$`)
)

func (v *validator) generalJWS() check {
	b64 := v.pattern(reBase64URL)
	return v.obj(objSpec{mode: noAdditional, props: map[string]check{
		"payload": b64,
		"signatures": v.array(1, 0, v.obj(objSpec{props: map[string]check{
			"protected": b64, "signature": b64,
		}})),
	}})
}

// authorization: "plain" (signature), "delegated" (+authorDelegatedGrant),
// "owner" (+ownerSignature, ownerDelegatedGrant).
func (v *validator) authorization(kind string, depth int) check {
	props := map[string]check{"signature": v.generalJWS()}
	if kind != "plain" {
		props["authorDelegatedGrant"] = v.recordsWriteMessage(true, depth+1)
	}
	var deps map[string][]string
	if kind == "owner" {
		props["ownerSignature"] = v.generalJWS()
		props["ownerDelegatedGrant"] = v.recordsWriteMessage(true, depth+1)
		deps = map[string][]string{"ownerSignature": {"signature"}}
	}
	return v.obj(objSpec{mode: noAdditional, props: props, deps: deps})
}

func (v *validator) recordsWriteDescriptor() check {
	s := v.str()
	tagValue := v.oneOf(s, v.num(), v.boolean(), v.array(1, 10, s), v.array(1, 10, v.num()))
	return v.obj(objSpec{
		mode:     noAdditional,
		required: []string{"interface", "method", "dataCid", "dataSize", "dateCreated", "messageTimestamp", "dataFormat"},
		deps:     map[string][]string{"parentId": {"protocol"}},
		props: map[string]check{
			"interface":        v.enum("Records"),
			"method":           v.enum("Write"),
			"recipient":        v.pattern(reDID),
			"protocol":         s,
			"protocolPath":     v.pattern(reProtocolPath),
			"schema":           s,
			"tags":             v.obj(objSpec{minProps: 1, maxProps: 10, extraProps: tagValue}),
			"parentId":         s,
			"dataCid":          s,
			"dataSize":         v.num(),
			"dateCreated":      v.dateTime(),
			"messageTimestamp": v.dateTime(),
			"published":        v.boolean(),
			"datePublished":    v.dateTime(),
			"dataFormat":       s,
		},
		after: func(m map[string]any, path string) error {
			pub, hasPub := m["published"]
			_, hasDate := m["datePublished"]
			switch {
			case hasPub && pub == true && hasDate:
			case hasPub && pub == false && !hasDate:
			case !hasPub && !hasDate:
			default:
				return v.fail(path, "must match a schema in anyOf")
			}
			return nil
		},
	})
}

// recordsWriteMessage is records-write.json, or with encoded
// records-write-data-encoded.json (which also requires encodedData).
func (v *validator) recordsWriteMessage(encoded bool, depth int) check {
	if depth > 3 { // a grant in a grant in a grant: deeper nesting is refused
		return func(_ any, path string) error { return v.fail(path, "nesting too deep") }
	}
	props := map[string]check{
		"recordId":      v.str(),
		"contextId":     v.pattern(reContextID),
		"attestation":   v.generalJWS(),
		"encryption":    v.encryption(),
		"descriptor":    v.recordsWriteDescriptor(),
		"authorization": v.authorization("owner", depth),
	}
	required := []string{"descriptor", "recordId", "authorization"}
	if encoded {
		props["encodedData"] = v.str()
		required = append(required, "encodedData")
	}
	spec := objSpec{
		mode:     noUnevaluated,
		required: required,
		props:    props,
		after: func(m map[string]any, path string) error {
			d, _ := m["descriptor"].(map[string]any)
			_, hasCtx := m["contextId"]
			_, hasProto := d["protocol"]
			_, hasPath := d["protocolPath"]
			if hasCtx && hasProto && hasPath || !hasCtx && !hasProto && !hasPath {
				return nil
			}
			return v.fail(path, "must match a schema in anyOf")
		},
	}
	return v.obj(spec)
}

func (v *validator) encryption() check {
	b64 := v.pattern(reBase64URL)
	jwk := v.obj(objSpec{})
	return v.obj(objSpec{
		mode:     noAdditional,
		required: []string{"algorithm", "initializationVector", "keyEncryption"},
		props: map[string]check{
			"algorithm":            v.enum("A256CTR"),
			"initializationVector": b64,
			"keyEncryption": v.array(1, 0, v.obj(objSpec{
				mode:     noAdditional,
				required: []string{"rootKeyId", "derivationScheme", "algorithm", "encryptedKey", "initializationVector", "ephemeralPublicKey", "messageAuthenticationCode"},
				props: map[string]check{
					"rootKeyId":                 v.str(),
					"derivationScheme":          v.enum("dataFormats", "protocolContext", "protocolPath", "schemas"),
					"derivedPublicKey":          jwk,
					"algorithm":                 v.enum("ECIES-ES256K"),
					"encryptedKey":              b64,
					"initializationVector":      b64,
					"ephemeralPublicKey":        jwk,
					"messageAuthenticationCode": b64,
				},
			})),
		},
	})
}

func (v *validator) rangeFilter(elem check) check {
	return v.obj(objSpec{
		mode: noAdditional, minProps: 1,
		props: map[string]check{"gt": elem, "gte": elem, "lt": elem, "lte": elem},
		after: func(m map[string]any, path string) error {
			for _, p := range [][2]string{{"gt", "gte"}, {"lt", "lte"}} {
				_, a := m[p[0]]
				_, b := m[p[1]]
				if a && b {
					return v.fail(path, "must NOT be valid")
				}
			}
			return nil
		},
	})
}

func (v *validator) dateRange() check {
	return v.obj(objSpec{mode: noAdditional, minProps: 1, props: map[string]check{"from": v.dateTime(), "to": v.dateTime()}})
}

func (v *validator) recordsFilter() check {
	s := v.str()
	didc := v.pattern(reDID)
	didOrList := v.oneOf(didc, v.array(0, 0, didc))
	tagFilter := v.oneOf(s, v.num(), v.boolean(),
		v.obj(objSpec{mode: noAdditional, minProps: 1, props: map[string]check{"startsWith": s}}),
		v.rangeFilter(s), v.rangeFilter(v.num()))
	return v.obj(objSpec{
		mode: noAdditional, minProps: 1,
		props: map[string]check{
			"protocol": s, "protocolPath": s, "author": didOrList, "attester": didc,
			"recipient": didOrList, "contextId": s, "schema": s,
			"tags":     v.obj(objSpec{minProps: 1, extraProps: tagFilter}),
			"recordId": s, "parentId": s, "published": v.boolean(), "dataFormat": s,
			"dataSize": v.rangeFilter(v.num()), "dataCid": s,
			"dateCreated": v.dateRange(), "datePublished": v.dateRange(), "dateUpdated": v.dateRange(),
		},
		after: func(m map[string]any, path string) error {
			if _, ok := m["datePublished"]; ok {
				if p, ok := m["published"]; ok && p != true {
					return v.fail(path, "must match exactly one schema in oneOf")
				}
			}
			return nil
		},
	})
}

func (v *validator) cursor() check {
	return v.obj(objSpec{
		mode: noAdditional, minProps: 1, required: []string{"messageCid", "value"},
		props: map[string]check{
			"messageCid": v.str(),
			"value": func(x any, path string) error {
				switch x.(type) {
				case string, json.Number:
					return nil
				}
				return v.fail(path, "must be string,number")
			},
		},
	})
}

func (v *validator) messagesFilter() check {
	return v.obj(objSpec{
		mode: noAdditional, minProps: 1,
		props: map[string]check{
			"interface":        v.enum("Protocols", "Records"),
			"method":           v.enum("Configure", "Delete", "Write"),
			"protocol":         v.str(),
			"messageTimestamp": v.dateRange(),
		},
	})
}

func (v *validator) descriptor(iface, method string, required []string, props map[string]check) check {
	props["interface"] = v.enum(iface)
	props["method"] = v.enum(method)
	if _, ok := props["messageTimestamp"]; !ok {
		props["messageTimestamp"] = v.dateTime()
	}
	return v.obj(objSpec{mode: noAdditional, required: append([]string{"interface", "method", "messageTimestamp"}, required...), props: props})
}

// messageSchema returns the check of a whole message of the given
// interface and method, or nil if there is none.
func messageSchema(iface, method string) check {
	v := &validator{schema: iface + method}
	top := func(auth string, authRequired bool, desc check) check {
		req := []string{"descriptor"}
		if authRequired {
			req = []string{"authorization", "descriptor"}
		}
		return v.obj(objSpec{mode: noAdditional, required: req, props: map[string]check{
			"authorization": v.authorization(auth, 0),
			"descriptor":    desc,
		}})
	}
	switch iface + method {
	case "RecordsWrite":
		return v.recordsWriteMessage(false, 0)
	case "RecordsQuery":
		return top("delegated", false, v.descriptor("Records", "Query", []string{"filter"}, map[string]check{
			"filter": v.recordsFilter(),
			"pagination": v.obj(objSpec{mode: noAdditional, props: map[string]check{
				"limit": func(x any, path string) error {
					n, ok := x.(json.Number)
					if !ok {
						return v.fail(path, "must be number")
					}
					if f, err := n.Float64(); err != nil || f < 1 {
						return v.fail(path, "must be >= 1")
					}
					return nil
				},
				"cursor": v.cursor(),
			}}),
			"dateSort": v.enum("createdAscending", "createdDescending", "publishedAscending", "publishedDescending"),
		}))
	case "RecordsRead":
		return top("delegated", false, v.descriptor("Records", "Read", []string{"filter"}, map[string]check{"filter": v.recordsFilter()}))
	case "RecordsSubscribe":
		return top("delegated", false, v.descriptor("Records", "Subscribe", []string{"filter"}, map[string]check{"filter": v.recordsFilter()}))
	case "RecordsDelete":
		return top("delegated", true, v.descriptor("Records", "Delete", []string{"recordId", "prune"}, map[string]check{
			"recordId": v.str(), "prune": v.boolean(),
		}))
	case "ProtocolsConfigure":
		return top("delegated", true, v.descriptor("Protocols", "Configure", []string{"definition"}, map[string]check{
			"definition": v.obj(objSpec{}), // the definition is checked by protocol.ParseDefinition
		}))
	case "ProtocolsQuery":
		return top("plain", false, v.descriptor("Protocols", "Query", nil, map[string]check{
			"filter": v.obj(objSpec{mode: noAdditional, minProps: 1, props: map[string]check{
				"protocol": v.str(), "recipient": v.pattern(reDID),
			}}),
		}))
	case "MessagesQuery":
		return top("plain", true, v.descriptor("Messages", "Query", []string{"filters"}, map[string]check{
			"filters": v.array(0, 0, v.messagesFilter()),
			"cursor":  v.cursor(),
			// Anya extension: a page size, so that sync can page.
			"limit": func(x any, path string) error {
				n, ok := x.(json.Number)
				if !ok {
					return v.fail(path, "must be number")
				}
				if i, err := n.Int64(); err != nil || i < 1 {
					return v.fail(path, "must be >= 1")
				}
				return nil
			},
		}))
	case "MessagesRead":
		return top("plain", true, v.descriptor("Messages", "Read", nil, map[string]check{"messageCid": v.str()}))
	case "MessagesSubscribe":
		return top("plain", true, v.descriptor("Messages", "Subscribe", []string{"filters"}, map[string]check{
			"messageTimestamp": v.str(),
			"filters":          v.array(0, 0, v.messagesFilter()),
		}))
	}
	return nil
}

var schemaCache = func() map[string]check {
	m := map[string]check{}
	for _, im := range [][2]string{
		{"Records", "Write"}, {"Records", "Query"}, {"Records", "Read"}, {"Records", "Subscribe"}, {"Records", "Delete"},
		{"Protocols", "Configure"}, {"Protocols", "Query"},
		{"Messages", "Query"}, {"Messages", "Read"}, {"Messages", "Subscribe"},
	} {
		m[im[0]+im[1]] = messageSchema(im[0], im[1])
	}
	return m
}()

// validateSchema checks m against the JSON schema of its interface and
// method.
func validateSchema(m *Message) error {
	c := schemaCache[m.Desc.Interface+m.Desc.Method]
	if c == nil {
		return newErr("SchemaValidatorSchemaNotFound", "schema for %s%s not found.", m.Desc.Interface, m.Desc.Method)
	}
	return c(m.Tree(), "")
}

// validateTimestamp is the reference's Time.validateTimestamp
// (Temporal.Instant.from): the timestamp must name a real instant.
func validateTimestamp(ts string) error {
	if _, err := time.Parse(TimestampLayout, ts); err != nil {
		// Temporal accepts a leap second and clamps it.
		if len(ts) == len(TimestampLayout) && ts[17:19] == "60" {
			if _, err := time.Parse(TimestampLayout, ts[:17]+"59"+ts[19:]); err == nil {
				return nil
			}
		}
		return newErr(codeTimestampInvalid, "Invalid timestamp: %s", ts)
	}
	return nil
}

// normalizeURL is the reference's normalizeUrl (utils/url.ts): add http://
// when there is no scheme, drop the query and the fragment, drop a trailing
// slash, in the WHATWG URL serialization.
func normalizeURL(s string) (string, bool) {
	full := s
	if !reHasScheme.MatchString(s) {
		full = "http://" + s
	}
	u, err := url.Parse(full)
	if err != nil || u.Scheme == "" {
		return "", false
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	special := map[string]bool{"http": true, "https": true, "ws": true, "wss": true, "ftp": true, "file": true}[u.Scheme]
	if special {
		if u.Host == "" && u.Scheme != "file" {
			return "", false
		}
		u.Host = strings.ToLower(u.Host)
		switch {
		case u.Scheme == "http" && u.Port() == "80", u.Scheme == "https" && u.Port() == "443":
			u.Host = u.Hostname()
		}
		if u.Path == "" {
			u.Path = "/"
		}
	}
	out := u.String()
	return strings.TrimSuffix(out, "/"), true
}

var reHasScheme = regexp.MustCompile(`^[^:]+:(/{2})?[^/].*`)

func validateProtocolURL(s string) error {
	if n, ok := normalizeURL(s); !ok || n != s {
		return newErr(codeURLProtocolNotNormalized, "Protocol URI %s must be normalized.", s)
	}
	return nil
}

func validateSchemaURL(s string) error {
	if n, ok := normalizeURL(s); !ok || n != s {
		return newErr(codeURLSchemaNotNormalized, "Schema URI %s must be normalized.", s)
	}
	return nil
}
