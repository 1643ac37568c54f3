package dwn

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"sync"

	"github.com/ipfs/go-cid"
)

// MaxMessageSize is the largest message, in bytes of JSON, that
// ParseMessage accepts. dwn-sdk-js has no limit of its own (dwn-server caps
// the dwn-request header at 16 KiB); 1 MiB leaves room for an
// authorDelegatedGrant with its encodedData and a 30,000-byte encodedData.
const MaxMessageSize = 1 << 20

// ErrInvalidMessage is wrapped by every ParseMessage error about the
// message's content; the text after it names the property at fault, such as
// "descriptor.interface: missing".
var ErrInvalidMessage = errors.New("dwn: invalid message")

// ErrMessageTooLarge is wrapped when a message is longer than
// MaxMessageSize.
var ErrMessageTooLarge = errors.New("dwn: message too large")

// Message is a DWN message as received: its exact JSON, the top-level
// properties every handler needs, and the descriptor properties parsed into
// Desc. It is read-only after ParseMessage: CID, DescriptorCID and Raw
// reflect the parsed bytes, not later changes to the fields.
//
// Descriptor, Authorization, Attestation and Encryption hold the exact bytes
// of those properties (nil when absent), so that signature checks and
// re-sending never change a byte.
type Message struct {
	Descriptor    json.RawMessage
	Authorization json.RawMessage // nil for an anonymous message
	Attestation   json.RawMessage // RecordsWrite only
	Encryption    json.RawMessage // RecordsWrite only
	RecordID      string          // RecordsWrite: the record's id
	ContextID     string          // RecordsWrite in a protocol
	// EncodedData is the base64url record data carried inline, the empty
	// string when absent; HasEncodedData tells the two apart.
	EncodedData    string
	HasEncodedData bool

	// Desc holds the descriptor properties, parsed.
	Desc Descriptor

	raw  []byte
	tree map[string]any // the whole message in the JSON data model

	cidOnce  sync.Once
	cid      cid.Cid
	cidErr   error
	descOnce sync.Once
	descCID  cid.Cid
	descErr  error
}

// Descriptor is the parsed form of the descriptor properties that routing,
// storage and authorization need. Properties a message does not carry are
// zero: "" for strings, nil for pointers and maps. Properties that are not
// listed here (filter, definition, pagination, ...) stay in
// Message.Descriptor.
type Descriptor struct {
	Interface        string // "Records", "Protocols", "Messages"
	Method           string // "Write", "Query", ...
	MessageTimestamp string

	// RecordsWrite.
	Protocol      string
	ProtocolPath  string
	Schema        string
	ParentID      string
	Recipient     string
	DataFormat    string
	DataCID       string
	DataSize      *int64
	DateCreated   string
	DatePublished string
	Published     *bool
	// Tags maps a tag name to a string, bool, json.Number or []any of
	// strings or json.Numbers, as in the JSON.
	Tags map[string]any

	// RecordsDelete.
	RecordID string // the record to delete
	Prune    *bool
}

// Is reports whether the descriptor is of the given interface and method:
// d.Is("Records", "Write").
func (d *Descriptor) Is(iface, method string) bool {
	return d.Interface == iface && d.Method == method
}

// IsPublished reports whether published is present and true.
func (d *Descriptor) IsPublished() bool {
	return d.Published != nil && *d.Published
}

// ParseMessage parses a DWN message from its JSON. It checks the envelope,
// not the schema of each message type: the message is a JSON object of at
// most MaxMessageSize bytes with no duplicate keys and at most MaxJSONDepth
// levels; descriptor is an object with string interface and method and a
// valid messageTimestamp; authorization, attestation and encryption, when
// present, are objects; recordId, contextId and encodedData are strings; the
// descriptor properties of Descriptor have the right JSON types and the
// dates valid timestamps. Unknown top-level properties are kept (and hashed
// into the messageCid, as the reference does); schema validation rejects
// them later.
//
// raw is copied; the Message does not alias it.
func ParseMessage(raw []byte) (*Message, error) {
	if len(raw) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrMessageTooLarge, len(raw), MaxMessageSize)
	}
	raw = append([]byte(nil), raw...)
	// parts holds the exact bytes of each top-level property.
	v, parts, err := parseJSON(raw, true)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidMessage, err)
	}
	tree, ok := v.(map[string]any)
	if !ok {
		return nil, invalid("message", "is %s, not an object", jsonKind(v))
	}
	m := &Message{raw: raw, tree: tree}

	desc, ok := tree["descriptor"]
	if !ok {
		return nil, invalid("descriptor", "missing")
	}
	d, ok := desc.(map[string]any)
	if !ok {
		return nil, invalid("descriptor", "is %s, not an object", jsonKind(desc))
	}
	m.Descriptor = parts["descriptor"]
	if err := m.Desc.parse(d); err != nil {
		return nil, err
	}
	for _, p := range []struct {
		name string
		dst  *json.RawMessage
	}{
		{"authorization", &m.Authorization},
		{"attestation", &m.Attestation},
		{"encryption", &m.Encryption},
	} {
		if x, ok := tree[p.name]; ok {
			if _, isObj := x.(map[string]any); !isObj {
				return nil, invalid(p.name, "is %s, not an object", jsonKind(x))
			}
			*p.dst = parts[p.name]
		}
	}
	if m.RecordID, _, err = optString(tree, "", "recordId"); err != nil {
		return nil, err
	}
	if m.ContextID, _, err = optString(tree, "", "contextId"); err != nil {
		return nil, err
	}
	if m.EncodedData, m.HasEncodedData, err = optString(tree, "", "encodedData"); err != nil {
		return nil, err
	}
	return m, nil
}

func (d *Descriptor) parse(m map[string]any) error {
	const p = "descriptor"
	var err error
	req := func(key string, dst *string) {
		if err != nil {
			return
		}
		var ok bool
		if *dst, ok, err = optString(m, p, key); err == nil && !ok {
			err = invalid(jsonPath(p, key), "missing")
		}
	}
	opt := func(key string, dst *string) {
		if err == nil {
			*dst, _, err = optString(m, p, key)
		}
	}
	req("interface", &d.Interface)
	req("method", &d.Method)
	req("messageTimestamp", &d.MessageTimestamp)
	opt("protocol", &d.Protocol)
	opt("protocolPath", &d.ProtocolPath)
	opt("schema", &d.Schema)
	opt("parentId", &d.ParentID)
	opt("recipient", &d.Recipient)
	opt("dataFormat", &d.DataFormat)
	opt("dataCid", &d.DataCID)
	opt("recordId", &d.RecordID)
	ts := func(key string, dst *string, required bool) {
		if err != nil {
			return
		}
		var ok bool
		if *dst, ok, err = optString(m, p, key); err != nil || (!ok && !required) {
			return
		}
		if !ValidTimestamp(*dst) {
			err = invalid(jsonPath(p, key), "%q is not a timestamp of the form 2006-01-02T15:04:05.000000Z", truncate(*dst, 64))
		}
	}
	ts("messageTimestamp", &d.MessageTimestamp, true)
	ts("dateCreated", &d.DateCreated, false)
	ts("datePublished", &d.DatePublished, false)
	if err != nil {
		return err
	}
	if d.Published, err = optBool(m, p, "published"); err != nil {
		return err
	}
	if d.Prune, err = optBool(m, p, "prune"); err != nil {
		return err
	}
	if x, ok := m["dataSize"]; ok {
		n, isNum := x.(json.Number)
		if !isNum {
			return invalid(p+".dataSize", "is %s, not a number", jsonKind(x))
		}
		i, _, isInt, err := jsNumber(n)
		// A negative size passes, as the reference's schema lets it: such a
		// message fails later, on its data or its record ID.
		if err != nil || !isInt {
			return invalid(p+".dataSize", "%s is not an integer", truncate(string(n), 40))
		}
		d.DataSize = &i
	}
	if x, ok := m["tags"]; ok {
		tags, isObj := x.(map[string]any)
		if !isObj {
			return invalid(p+".tags", "is %s, not an object", jsonKind(x))
		}
		d.Tags = tags
	}
	return nil
}

func invalid(path, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidMessage, path, fmt.Sprintf(format, args...))
}

// optString returns m[key] when it is a string, ok false when it is absent,
// and an error naming parent.key when it is not a string.
func optString(m map[string]any, parent, key string) (s string, ok bool, err error) {
	x, ok := m[key]
	if !ok {
		return "", false, nil
	}
	s, isStr := x.(string)
	if !isStr {
		return "", false, invalid(jsonPath(parent, key), "is %s, not a string", jsonKind(x))
	}
	return s, true, nil
}

func optBool(m map[string]any, parent, key string) (*bool, error) {
	x, ok := m[key]
	if !ok {
		return nil, nil
	}
	b, isBool := x.(bool)
	if !isBool {
		return nil, invalid(jsonPath(parent, key), "is %s, not a boolean", jsonKind(x))
	}
	return &b, nil
}

// Raw returns the message's JSON exactly as parsed. The caller must not
// modify it.
func (m *Message) Raw() []byte { return m.raw }

// MarshalJSON returns the message's JSON exactly as parsed.
func (m *Message) MarshalJSON() ([]byte, error) { return m.raw, nil }

// UnmarshalJSON parses data with ParseMessage, so a *Message can sit in a
// JSON-RPC request struct.
func (m *Message) UnmarshalJSON(data []byte) error {
	p, err := ParseMessage(data)
	if err != nil {
		return err
	}
	*m = Message{
		Descriptor:     p.Descriptor,
		Authorization:  p.Authorization,
		Attestation:    p.Attestation,
		Encryption:     p.Encryption,
		RecordID:       p.RecordID,
		ContextID:      p.ContextID,
		EncodedData:    p.EncodedData,
		HasEncodedData: p.HasEncodedData,
		Desc:           p.Desc,
		raw:            p.raw,
		tree:           p.tree,
	}
	return nil
}

// Tree returns the whole message in the JSON data model (see ParseJSON).
// The caller must not modify it.
func (m *Message) Tree() map[string]any { return m.tree }

// CID returns the messageCid: the CID of the message without encodedData
// (dwn-sdk-js Message.getCid). It is computed once.
func (m *Message) CID() (cid.Cid, error) {
	m.cidOnce.Do(func() {
		t := m.tree
		if _, ok := t["encodedData"]; ok {
			t = maps.Clone(t)
			delete(t, "encodedData")
		}
		m.cid, m.cidErr = ComputeCID(t)
	})
	return m.cid, m.cidErr
}

// DescriptorCID returns the CID of the descriptor, which the authorization
// payload must name. It is computed once.
func (m *Message) DescriptorCID() (cid.Cid, error) {
	m.descOnce.Do(func() {
		m.descCID, m.descErr = ComputeCID(m.tree["descriptor"])
	})
	return m.descCID, m.descErr
}

// EntryID returns the entryId of the message for the given logical author:
// the CID of the descriptor plus author. For an initial RecordsWrite it
// equals the recordId.
func (m *Message) EntryID(author string) (cid.Cid, error) {
	return EntryID(m.tree["descriptor"], author)
}
