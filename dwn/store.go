package dwn

import (
	"context"
	"errors"
	"fmt"
)

// ErrNotFound is returned by stores for a key they do not hold.
var ErrNotFound = errors.New("dwn: not found")

// Indexes are the values a message is found by: descriptor fields plus
// derived ones (author, recordId, isLatestBaseState, tag.<name>, …). A value
// is a string, a float64 (DWN numbers are JavaScript numbers), a bool, or a
// []any of strings and float64s, each element indexed on its own.
type Indexes map[string]any

// StoredMessage is what the message store keeps for one message.
type StoredMessage struct {
	// CID is the messageCid.
	CID string `json:"cid"`
	// Message is the message's JSON without encodedData, byte for byte as
	// received.
	Message []byte `json:"message"`
	// EncodedData is record data kept inline (at most 30,000 bytes, as the
	// reference does), base64url; empty otherwise.
	EncodedData string `json:"encodedData,omitempty"`
	// Indexes are the values the message is indexed by.
	Indexes Indexes `json:"indexes"`
}

// Condition is one property's test in a Filter. Exactly one form is used:
// Equal; OneOf; a range of GT/GTE and LT/LTE; or StartsWith.
type Condition struct {
	Equal      any    `json:"equal,omitempty"`
	OneOf      []any  `json:"oneOf,omitempty"`
	GT         any    `json:"gt,omitempty"`
	GTE        any    `json:"gte,omitempty"`
	LT         any    `json:"lt,omitempty"`
	LTE        any    `json:"lte,omitempty"`
	StartsWith string `json:"startsWith,omitempty"`
}

// Filter holds conditions on properties, all of which must hold.
type Filter map[string]Condition

// Sort orders query results by one indexed property; ties are broken by
// messageCid in the same direction.
type Sort struct {
	Property   string
	Descending bool
}

// Cursor marks where a page ended: the last message's CID and its sort value.
type Cursor struct {
	MessageCID string `json:"messageCid"`
	Value      any    `json:"value"`
}

// Page bounds a query: at most Limit results (0 means no limit) after Cursor.
type Page struct {
	Limit  int
	Cursor *Cursor
}

// SortProperties are the properties a query can sort by; every message is
// indexed in the order of each of these it has.
var SortProperties = []string{"messageTimestamp", "dateCreated", "datePublished"}

// MessageStore keeps messages per tenant and finds them by their indexes.
// Queries filter, sort and page inside the index: they read about as many
// entries as they return, not every match.
type MessageStore interface {
	// Put stores a message with its indexes, durably, replacing a message
	// with the same CID.
	Put(ctx context.Context, tenant string, m *StoredMessage) error
	// Get returns a message by CID, or ErrNotFound.
	Get(ctx context.Context, tenant, cid string) (*StoredMessage, error)
	// Query returns messages matching any of the filters, in sort order, at
	// most page.Limit of them after page.Cursor, and the cursor of the next
	// page when more remain.
	Query(ctx context.Context, tenant string, filters []Filter, sort Sort, page Page) ([]*StoredMessage, *Cursor, error)
	// Delete removes a message and its index entries; deleting a missing
	// message is not an error.
	Delete(ctx context.Context, tenant, cid string) error
}

// ValidateQuery checks a query's shape; every MessageStore calls it before it reads.
func ValidateQuery(filters []Filter, sort Sort, page Page) error {
	if len(filters) == 0 {
		return errors.New("query has no filter")
	}
	for i, f := range filters {
		if len(f) == 0 {
			return fmt.Errorf("filter %d has no property", i)
		}
		for prop, c := range f {
			if err := c.Validate(); err != nil {
				return fmt.Errorf("filter %d, %s: %w", i, prop, err)
			}
		}
	}
	known := false
	for _, p := range SortProperties {
		known = known || p == sort.Property
	}
	if !known {
		return fmt.Errorf("cannot sort by %q (want one of %v)", sort.Property, SortProperties)
	}
	if page.Limit < 0 {
		return errors.New("page limit is negative")
	}
	if page.Cursor != nil && page.Cursor.MessageCID == "" {
		return errors.New("cursor has no messageCid")
	}
	return nil
}

func (c Condition) Validate() error {
	forms := 0
	if c.Equal != nil {
		forms++
	}
	if c.OneOf != nil {
		forms++
		if len(c.OneOf) == 0 {
			return errors.New("oneOf is empty")
		}
	}
	if c.GT != nil || c.GTE != nil || c.LT != nil || c.LTE != nil {
		forms++
		if c.GT != nil && c.GTE != nil || c.LT != nil && c.LTE != nil {
			return errors.New("range has both an exclusive and an inclusive bound on one side")
		}
	}
	if c.StartsWith != "" {
		forms++
	}
	if forms != 1 {
		return fmt.Errorf("condition must use exactly one of equal, oneOf, a range or startsWith (uses %d)", forms)
	}
	for _, v := range append([]any{c.Equal, c.GT, c.GTE, c.LT, c.LTE}, c.OneOf...) {
		if v == nil {
			continue
		}
		if _, err := encodeValue(nil, v); err != nil {
			return err
		}
	}
	return nil
}

// matches reports whether the message's indexes satisfy every condition.
func (f Filter) matches(ix Indexes) bool {
	for prop, c := range f {
		if !c.matches(ix[prop]) {
			return false
		}
	}
	return true
}

// matches reports whether an indexed value (or any element of an array
// value) satisfies the condition.
func (c Condition) matches(v any) bool {
	if v == nil {
		return false
	}
	if arr, ok := v.([]any); ok {
		for _, e := range arr {
			if c.matches(e) {
				return true
			}
		}
		return false
	}
	switch {
	case c.Equal != nil:
		return compareValues(v, c.Equal) == 0
	case c.OneOf != nil:
		for _, o := range c.OneOf {
			if compareValues(v, o) == 0 {
				return true
			}
		}
		return false
	case c.StartsWith != "":
		s, ok := v.(string)
		return ok && len(s) >= len(c.StartsWith) && s[:len(c.StartsWith)] == c.StartsWith
	}
	if c.GT != nil && !(sameKind(v, c.GT) && compareValues(v, c.GT) > 0) {
		return false
	}
	if c.GTE != nil && !(sameKind(v, c.GTE) && compareValues(v, c.GTE) >= 0) {
		return false
	}
	if c.LT != nil && !(sameKind(v, c.LT) && compareValues(v, c.LT) < 0) {
		return false
	}
	if c.LTE != nil && !(sameKind(v, c.LTE) && compareValues(v, c.LTE) <= 0) {
		return false
	}
	return true
}
