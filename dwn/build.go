package dwn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/ipfs/go-cid"

	"github.com/anya-org/anya/dwn/protocol"
	"github.com/anya-org/anya/keystore"
)

// This file is the client side of the message model: builders that make
// signed messages as dwn-sdk-js 0.5.2's RecordsWrite.create,
// RecordsQuery.create, ... do. Given the same inputs, keys and timestamps
// they give the same JSON text, byte for byte (descriptor properties in the
// SDK's order, JSON.stringify escaping), hence the same CIDs and, Ed25519
// being deterministic, the same signatures. dwn/testdata/build holds the
// SDK's output they are tested against.
//
// Objects the caller hands in as Go maps (tags, filters) are written with
// their keys sorted, as encoding/json writes maps; the SDK writes them in
// the caller's insertion order. Key order never changes a CID.

// ErrBuild is wrapped by every builder error about its inputs.
var ErrBuild = errors.New("dwn: build message")

// Author signs messages: a DID, the kid of one of its keys (a DID URL such
// as did:key:z6Mk…#z6Mk…) and a signer over that key.
type Author struct {
	// DID is the logical author; empty means the kid's DID.
	DID string
	// KeyID is the kid written into the JWS protected header.
	KeyID  string
	Signer keystore.Signer
}

// KeyAuthor returns the Author of a did:key DID whose key s holds: the kid
// is did + "#" + the multibase key, the only verification method of a
// did:key document.
func KeyAuthor(did string, s keystore.Signer) Author {
	return Author{DID: did, KeyID: did + "#" + strings.TrimPrefix(did, "did:key:"), Signer: s}
}

// did returns the author's DID after checking the Author is usable: the
// SDK derives the author from the kid (Jws.extractDid), so a DID that
// disagrees with it would sign messages the verifier attributes to someone
// else.
func (a Author) did() (string, error) {
	if a.Signer == nil {
		return "", fmt.Errorf("%w: author has no signer", ErrBuild)
	}
	kidDID, frag, ok := strings.Cut(a.KeyID, "#")
	if !ok || frag == "" || !strings.HasPrefix(kidDID, "did:") {
		return "", fmt.Errorf("%w: key ID %q is not a DID URL with a fragment", ErrBuild, a.KeyID)
	}
	if a.DID != "" && a.DID != kidDID {
		return "", fmt.Errorf("%w: author DID %s differs from the DID of key ID %s", ErrBuild, a.DID, a.KeyID)
	}
	return kidDID, nil
}

// RecordsWriteOptions are the inputs of NewRecordsWrite, named as in the
// SDK's RecordsWriteOptions.
type RecordsWriteOptions struct {
	// Data is the record data; its dataCid and size go into the
	// descriptor, the bytes themselves travel beside the message. Nil is
	// empty data, unless DataCID is set.
	Data []byte
	// DataCID and DataSize describe data that is not at hand (a data-less
	// write referring to data already stored); used when DataCID is set,
	// and then Data must be nil.
	DataCID  string
	DataSize int64

	DataFormat string // required, e.g. "application/json"
	Schema     string // normalized as the SDK does ("example.com/x/" → "http://example.com/x")
	// Protocol and ProtocolPath go together; Protocol is normalized.
	Protocol     string
	ProtocolPath string
	// ParentContextID is the contextId of the parent record, for a
	// non-root protocol record; parentId is its last segment.
	ParentContextID string
	Recipient       string
	// Tags: strings, numbers, booleans, or slices of strings or numbers.
	Tags      map[string]any
	Published bool
	// DatePublished is written when Published is set; zero means
	// MessageTimestamp.
	DatePublished time.Time
	// MessageTimestamp is zero for now. DateCreated is zero for
	// MessageTimestamp, as for an initial write; an update must give the
	// initial write's.
	DateCreated      time.Time
	MessageTimestamp time.Time
	// RecordID is empty for an initial write (the recordId is then the
	// entryId) and the record's id for an update.
	RecordID string
}

// builtRecordsWriteDescriptor lists the properties in the order RecordsWrite.create
// assigns them.
type builtRecordsWriteDescriptor struct {
	Interface        string         `json:"interface"`
	Method           string         `json:"method"`
	Protocol         string         `json:"protocol,omitempty"`
	ProtocolPath     string         `json:"protocolPath,omitempty"`
	Recipient        string         `json:"recipient,omitempty"`
	Schema           string         `json:"schema,omitempty"`
	Tags             map[string]any `json:"tags,omitempty"`
	ParentID         string         `json:"parentId,omitempty"`
	DataCID          string         `json:"dataCid"`
	DataSize         int64          `json:"dataSize"`
	DateCreated      string         `json:"dateCreated"`
	MessageTimestamp string         `json:"messageTimestamp"`
	Published        *bool          `json:"published,omitempty"`
	DatePublished    string         `json:"datePublished,omitempty"`
	DataFormat       string         `json:"dataFormat"`
}

// builtMessage is a message in the order the SDK's objects hold their
// properties: recordId, descriptor, contextId, authorization.
type builtMessage struct {
	RecordID      string              `json:"recordId,omitempty"`
	Descriptor    json.RawMessage     `json:"descriptor"`
	ContextID     string              `json:"contextId,omitempty"`
	Authorization *builtAuthorization `json:"authorization,omitempty"`
}

type builtAuthorization struct {
	Signature *GeneralJWS `json:"signature"`
}

// builtWritePayload is RecordsWriteSignaturePayload in the SDK's order.
type builtWritePayload struct {
	RecordID      string `json:"recordId"`
	DescriptorCID string `json:"descriptorCid"`
	ContextID     string `json:"contextId,omitempty"`
}

// builtGenericPayload is GenericSignaturePayload.
type builtGenericPayload struct {
	DescriptorCID string `json:"descriptorCid"`
}

// NewRecordsWrite builds a signed RecordsWrite: descriptor, recordId (the
// entryId for an initial write), contextId for a protocol record, and
// authorization over {recordId, descriptorCid[, contextId]}. The data is not
// included (no encodedData): send o.Data beside the message.
func NewRecordsWrite(a Author, o RecordsWriteOptions) (json.RawMessage, error) {
	author, err := a.did()
	if err != nil {
		return nil, err
	}
	if (o.Protocol == "") != (o.ProtocolPath == "") {
		return nil, fmt.Errorf("%w: protocol and protocolPath go together", ErrBuild)
	}
	if o.ParentContextID != "" && o.Protocol == "" {
		return nil, fmt.Errorf("%w: a parent context needs a protocol", ErrBuild)
	}
	if o.DataFormat == "" {
		return nil, fmt.Errorf("%w: dataFormat is required", ErrBuild)
	}
	d := builtRecordsWriteDescriptor{
		Interface:    "Records",
		Method:       "Write",
		ProtocolPath: o.ProtocolPath,
		Recipient:    o.Recipient,
		Tags:         o.Tags,
		DataFormat:   o.DataFormat,
	}
	if o.Protocol != "" {
		if d.Protocol, err = buildURL("protocol", o.Protocol); err != nil {
			return nil, err
		}
	}
	if o.Schema != "" {
		if d.Schema, err = buildURL("schema", o.Schema); err != nil {
			return nil, err
		}
	}
	d.ParentID = buildLastSegment(o.ParentContextID)
	if o.DataCID != "" {
		if o.Data != nil {
			return nil, fmt.Errorf("%w: data and dataCid are mutually exclusive", ErrBuild)
		}
		if _, err := cid.Decode(o.DataCID); err != nil {
			return nil, fmt.Errorf("%w: dataCid: %v", ErrBuild, err)
		}
		if o.DataSize < 0 {
			return nil, fmt.Errorf("%w: negative dataSize", ErrBuild)
		}
		d.DataCID, d.DataSize = o.DataCID, o.DataSize
	} else {
		d.DataCID, d.DataSize = DataCIDFromBytes(o.Data).String(), int64(len(o.Data))
	}
	now := o.MessageTimestamp
	if now.IsZero() {
		now = time.Now()
	}
	d.MessageTimestamp = Timestamp(now)
	switch {
	case !o.DateCreated.IsZero():
		d.DateCreated = Timestamp(o.DateCreated)
	case o.RecordID != "":
		return nil, fmt.Errorf("%w: an update must carry the initial write's dateCreated", ErrBuild)
	default:
		d.DateCreated = d.MessageTimestamp
	}
	if o.Published {
		t := true
		d.Published = &t
		d.DatePublished = d.MessageTimestamp
		if !o.DatePublished.IsZero() {
			d.DatePublished = Timestamp(o.DatePublished)
		}
	}

	desc, err := buildJSON(d)
	if err != nil {
		return nil, err
	}
	descCID, err := ComputeCID(desc)
	if err != nil {
		return nil, err
	}
	m := builtMessage{RecordID: o.RecordID, Descriptor: desc}
	if m.RecordID == "" {
		id, err := EntryID(desc, author)
		if err != nil {
			return nil, err
		}
		m.RecordID = id.String()
	}
	if d.Protocol != "" {
		m.ContextID = m.RecordID
		if o.ParentContextID != "" {
			m.ContextID = o.ParentContextID + "/" + m.RecordID
		}
	}
	if m.Authorization, err = buildSign(a, builtWritePayload{RecordID: m.RecordID, DescriptorCID: descCID.String(), ContextID: m.ContextID}); err != nil {
		return nil, err
	}
	return buildJSON(m)
}

// buildLastSegment is RecordsWrite.getRecordIdFromContextId: the last non-empty
// segment of a contextId.
func buildLastSegment(contextID string) string {
	parts := strings.Split(contextID, "/")
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i] != "" {
			return parts[i]
		}
	}
	return ""
}

type builtRecordsQueryDescriptor struct {
	Interface        string           `json:"interface"`
	Method           string           `json:"method"`
	MessageTimestamp string           `json:"messageTimestamp"`
	Filter           map[string]any   `json:"filter"`
	DateSort         string           `json:"dateSort,omitempty"`
	Pagination       *builtPagination `json:"pagination,omitempty"`
}

type builtPagination struct {
	Limit  int     `json:"limit,omitempty"`
	Cursor *Cursor `json:"cursor,omitempty"`
}

// NewRecordsQuery builds a RecordsQuery; a nil author makes it anonymous
// (no authorization). The filter needs at least one property; its protocol
// and schema are normalized. dateSort "" and limit 0 leave those out (the
// server's defaults: createdAscending, no limit). A zero now is the
// current time.
func NewRecordsQuery(a *Author, filter map[string]any, dateSort string, limit int, cursor *Cursor, now time.Time) (json.RawMessage, error) {
	f, err := buildRecordsFilter(filter)
	if err != nil {
		return nil, err
	}
	switch dateSort {
	case "", "createdAscending", "createdDescending":
	case "publishedAscending", "publishedDescending":
		if p, ok := f["published"].(bool); ok && !p {
			return nil, fmt.Errorf("%w: queries must not filter for published:false and sort by %s", ErrBuild, dateSort)
		}
	default:
		return nil, fmt.Errorf("%w: unknown dateSort %q", ErrBuild, dateSort)
	}
	if limit < 0 {
		return nil, fmt.Errorf("%w: negative limit", ErrBuild)
	}
	d := builtRecordsQueryDescriptor{Interface: "Records", Method: "Query", MessageTimestamp: buildStamp(now), Filter: f, DateSort: dateSort}
	if limit > 0 || cursor != nil {
		d.Pagination = &builtPagination{Limit: limit, Cursor: cursor}
	}
	return buildGeneric(a, d)
}

// buildRecordsFilter is Records.normalizeFilter on a copy: protocol and
// schema normalized.
func buildRecordsFilter(filter map[string]any) (map[string]any, error) {
	if len(filter) == 0 {
		return nil, fmt.Errorf("%w: the filter needs at least one property", ErrBuild)
	}
	f := maps.Clone(filter)
	for _, k := range []string{"protocol", "schema"} {
		if s, ok := f[k].(string); ok {
			n, err := buildURL("filter."+k, s)
			if err != nil {
				return nil, err
			}
			f[k] = n
		}
	}
	return f, nil
}

type builtRecordsReadDescriptor struct {
	Interface        string         `json:"interface"`
	Method           string         `json:"method"`
	Filter           map[string]any `json:"filter"`
	MessageTimestamp string         `json:"messageTimestamp"`
}

// NewRecordsRead builds a RecordsRead of one record by id; a nil author
// makes it anonymous.
func NewRecordsRead(a *Author, recordID string, now time.Time) (json.RawMessage, error) {
	if recordID == "" {
		return nil, fmt.Errorf("%w: no recordId", ErrBuild)
	}
	return buildGeneric(a, builtRecordsReadDescriptor{
		Interface: "Records", Method: "Read",
		Filter:           map[string]any{"recordId": recordID},
		MessageTimestamp: buildStamp(now),
	})
}

type builtRecordsDeleteDescriptor struct {
	Interface        string `json:"interface"`
	Method           string `json:"method"`
	MessageTimestamp string `json:"messageTimestamp"`
	RecordID         string `json:"recordId"`
	Prune            bool   `json:"prune"`
}

// NewRecordsDelete builds a signed RecordsDelete; prune also deletes the
// record's descendants.
func NewRecordsDelete(a Author, recordID string, prune bool, now time.Time) (json.RawMessage, error) {
	if recordID == "" {
		return nil, fmt.Errorf("%w: no recordId", ErrBuild)
	}
	return buildGeneric(&a, builtRecordsDeleteDescriptor{
		Interface: "Records", Method: "Delete",
		MessageTimestamp: buildStamp(now), RecordID: recordID, Prune: prune,
	})
}

type builtProtocolsConfigureDescriptor struct {
	Interface        string          `json:"interface"`
	Method           string          `json:"method"`
	MessageTimestamp string          `json:"messageTimestamp"`
	Definition       json.RawMessage `json:"definition"`
}

// NewProtocolsConfigure builds a signed ProtocolsConfigure. The protocol
// and every type's schema are normalized; a definition that needs no
// normalizing keeps its key order, one that does is rewritten with sorted
// keys. The definition's rules are the server's to check.
func NewProtocolsConfigure(a Author, definition json.RawMessage, now time.Time) (json.RawMessage, error) {
	def, err := buildDefinition(definition)
	if err != nil {
		return nil, err
	}
	return buildGeneric(&a, builtProtocolsConfigureDescriptor{
		Interface: "Protocols", Method: "Configure", MessageTimestamp: buildStamp(now), Definition: def,
	})
}

// buildDefinition is ProtocolsConfigure.buildDefinition.
func buildDefinition(raw json.RawMessage) (json.RawMessage, error) {
	v, err := ParseJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: definition: %w", ErrBuild, err)
	}
	def, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: definition is %s, not an object", ErrBuild, jsonKind(v))
	}
	p, ok := def["protocol"].(string)
	if !ok {
		return nil, fmt.Errorf("%w: definition.protocol is missing or not a string", ErrBuild)
	}
	changed := false
	set := func(m map[string]any, key, path, s string) error {
		n, err := buildURL(path, s)
		if err != nil {
			return err
		}
		if n != s {
			m[key], changed = n, true
		}
		return nil
	}
	if err := set(def, "protocol", "definition.protocol", p); err != nil {
		return nil, err
	}
	types, _ := def["types"].(map[string]any)
	for name, t := range types {
		if tm, ok := t.(map[string]any); ok {
			if s, ok := tm["schema"].(string); ok {
				if err := set(tm, "schema", "definition.types."+name+".schema", s); err != nil {
					return nil, err
				}
			}
		}
	}
	if changed {
		return buildJSON(def)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, fmt.Errorf("%w: definition: %w", ErrBuild, err)
	}
	return b.Bytes(), nil
}

type builtProtocolsQueryDescriptor struct {
	Interface        string               `json:"interface"`
	Method           string               `json:"method"`
	MessageTimestamp string               `json:"messageTimestamp"`
	Filter           *builtProtocolFilter `json:"filter,omitempty"`
}

type builtProtocolFilter struct {
	Protocol string `json:"protocol"`
}

// NewProtocolsQuery builds a ProtocolsQuery for one protocol, or for all
// when protocolURI is empty; a nil author makes it anonymous (published
// definitions only).
func NewProtocolsQuery(a *Author, protocolURI string, now time.Time) (json.RawMessage, error) {
	d := builtProtocolsQueryDescriptor{Interface: "Protocols", Method: "Query", MessageTimestamp: buildStamp(now)}
	if protocolURI != "" {
		p, err := buildURL("filter.protocol", protocolURI)
		if err != nil {
			return nil, err
		}
		d.Filter = &builtProtocolFilter{Protocol: p}
	}
	return buildGeneric(a, d)
}

type builtMessagesQueryDescriptor struct {
	Interface        string           `json:"interface"`
	Method           string           `json:"method"`
	Filters          []map[string]any `json:"filters"`
	MessageTimestamp string           `json:"messageTimestamp"`
	Cursor           *Cursor          `json:"cursor,omitempty"`
}

// NewMessagesQuery builds a signed MessagesQuery: the messageCids of the
// event log after cursor (nil: from the start) matching any of filters
// (none: all). Empty filters are dropped and protocols normalized, as the
// SDK does.
func NewMessagesQuery(a Author, filters []map[string]any, cursor *Cursor, now time.Time) (json.RawMessage, error) {
	fs := make([]map[string]any, 0, len(filters))
	for _, f := range filters {
		if len(f) == 0 {
			continue
		}
		f = maps.Clone(f)
		if s, ok := f["protocol"].(string); ok {
			n, err := buildURL("filters.protocol", s)
			if err != nil {
				return nil, err
			}
			f["protocol"] = n
		}
		fs = append(fs, f)
	}
	return buildGeneric(&a, builtMessagesQueryDescriptor{
		Interface: "Messages", Method: "Query", Filters: fs, MessageTimestamp: buildStamp(now), Cursor: cursor,
	})
}

type builtMessagesReadDescriptor struct {
	Interface        string `json:"interface"`
	Method           string `json:"method"`
	MessageCID       string `json:"messageCid"`
	MessageTimestamp string `json:"messageTimestamp"`
}

// NewMessagesRead builds a signed MessagesRead of one message by its CID.
func NewMessagesRead(a Author, messageCID string, now time.Time) (json.RawMessage, error) {
	if _, err := cid.Decode(messageCID); err != nil {
		return nil, fmt.Errorf("%w: %s is not a valid CID", ErrBuild, messageCID)
	}
	return buildGeneric(&a, builtMessagesReadDescriptor{
		Interface: "Messages", Method: "Read", MessageCID: messageCID, MessageTimestamp: buildStamp(now),
	})
}

// buildGeneric encodes desc and, when a is not nil, signs {descriptorCid}
// (Message.createAuthorization).
func buildGeneric(a *Author, desc any) (json.RawMessage, error) {
	raw, err := buildJSON(desc)
	if err != nil {
		return nil, err
	}
	m := builtMessage{Descriptor: raw}
	if a != nil {
		if _, err := a.did(); err != nil {
			return nil, err
		}
		c, err := ComputeCID(raw)
		if err != nil {
			return nil, err
		}
		if m.Authorization, err = buildSign(*a, builtGenericPayload{DescriptorCID: c.String()}); err != nil {
			return nil, err
		}
	}
	return buildJSON(m)
}

// sign encodes payload as JSON.stringify would and signs it.
func buildSign(a Author, payload any) (*builtAuthorization, error) {
	p, err := buildJSON(payload)
	if err != nil {
		return nil, err
	}
	jws, err := SignGeneralJWS(p, a.KeyID, a.Signer)
	if err != nil {
		return nil, err
	}
	return &builtAuthorization{Signature: jws}, nil
}

// buildJSON marshals v as JSON.stringify writes the same value: no HTML
// escaping, no trailing newline. (Go still escapes U+2028 and U+2029, which
// JSON.stringify writes raw; both parse to the same string.)
func buildJSON(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBuild, err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// normalizeURL normalizes a protocol or schema URI as the SDK's
// normalizeProtocolUrl/normalizeSchemaUrl, naming what in errors.
func buildURL(what, s string) (string, error) {
	n, err := protocol.NormalizeURL(s)
	if err != nil {
		return "", fmt.Errorf("%w: %s %q: %w", ErrBuild, what, s, err)
	}
	return n, nil
}

// stamp is Timestamp(now), the current time when now is zero.
func buildStamp(now time.Time) string {
	if now.IsZero() {
		now = time.Now()
	}
	return Timestamp(now)
}
