package dwnsync

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/anya-org/anya/dwn"
)

// messagesQueryDescriptor is dwn's MessagesQuery descriptor plus Anya's
// "limit" extension, which dwn.NewMessagesQuery does not write. Property
// order does not change the CID (DAG-CBOR sorts keys).
type messagesQueryDescriptor struct {
	Interface        string           `json:"interface"`
	Method           string           `json:"method"`
	Filters          []map[string]any `json:"filters"`
	MessageTimestamp string           `json:"messageTimestamp"`
	Cursor           *dwn.Cursor      `json:"cursor,omitempty"`
	Limit            int              `json:"limit,omitempty"`
}

// NewMessagesQuery builds a signed MessagesQuery of every event after
// cursor (nil: from the start), at most limit of them (0: no limit).
func NewMessagesQuery(a dwn.Author, cursor *dwn.Cursor, limit int, now time.Time) (json.RawMessage, error) {
	if a.Signer == nil {
		return nil, fmt.Errorf("%w: author has no signer", dwn.ErrBuild)
	}
	if now.IsZero() {
		now = time.Now()
	}
	desc, err := marshal(messagesQueryDescriptor{
		Interface: "Messages", Method: "Query", Filters: []map[string]any{},
		MessageTimestamp: dwn.Timestamp(now), Cursor: cursor, Limit: max(limit, 0),
	})
	if err != nil {
		return nil, err
	}
	c, err := dwn.ComputeCID(desc)
	if err != nil {
		return nil, err
	}
	payload, err := marshal(struct {
		DescriptorCID string `json:"descriptorCid"`
	}{c.String()})
	if err != nil {
		return nil, err
	}
	jws, err := dwn.SignGeneralJWS(payload, a.KeyID, a.Signer)
	if err != nil {
		return nil, err
	}
	return marshal(struct {
		Descriptor    json.RawMessage `json:"descriptor"`
		Authorization struct {
			Signature *dwn.GeneralJWS `json:"signature"`
		} `json:"authorization"`
	}{Descriptor: desc, Authorization: struct {
		Signature *dwn.GeneralJWS `json:"signature"`
	}{jws}})
}

// marshal writes JSON as JSON.stringify does: no HTML escaping, no newline.
func marshal(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
