package dwn

import (
	"context"
	"encoding/json"
	"io"
)

// Status is a DWN reply status: an HTTP-like code and a detail that, for
// errors, reads "<DwnErrorCode>: <text>" as the reference's does.
type Status struct {
	Code   int    `json:"code"`
	Detail string `json:"detail"`
}

// Reply is what processing one message gives, in the reference's JSON shape.
type Reply struct {
	Status Status `json:"status"`
	// Entries of a query: messages (RecordsQuery, ProtocolsQuery) or
	// message CIDs (MessagesQuery).
	Entries []json.RawMessage `json:"entries,omitzero"`
	// Entry of a read, without its data (see Data).
	Entry json.RawMessage `json:"entry,omitempty"`
	// Cursor of the next page of a query, when one exists.
	Cursor *Cursor `json:"cursor,omitempty"`
	// Subscription of a *Subscribe message.
	Subscription *Subscription `json:"subscription,omitempty"`
	// Data is a read's record data, streamed rather than put in Entry: the
	// HTTP transport sends it as the body. The receiver must close it.
	Data io.ReadCloser `json:"-"`
}

// Subscription is a live subscription a *Subscribe message opened.
type Subscription struct {
	// ID is the messageCid of the subscribe message.
	ID string `json:"id"`
	// Close ends the subscription; it is safe to call more than once.
	Close func() error `json:"-"`
}

// ProcessOptions carries what a message needs besides its JSON.
type ProcessOptions struct {
	// Data is the record data sent with a RecordsWrite; nil when none was.
	Data io.Reader
	// Events receives each event of a subscription a *Subscribe message
	// opens, as the JSON {"message": …, "initialWrite"?: …}. Nil means the
	// caller cannot take events; *Subscribe messages then get 501.
	Events func(event json.RawMessage)
}

// Processor processes DWN messages for tenants: the DWN itself, as the
// transports (HTTP JSON-RPC, WebSocket, libp2p streams) see it.
type Processor interface {
	ProcessMessage(ctx context.Context, tenant string, message json.RawMessage, opts ProcessOptions) *Reply
}

// AppendJSON appends the reply's JSON, as json.Marshal writes it, to dst,
// copying Entries and Entry as they are. They hold messages the DWN
// validated before it stored them, and json.Marshal would parse every one
// of them again: on a query that is a large part of the cost of answering.
func (r *Reply) AppendJSON(dst []byte) ([]byte, error) {
	status, err := json.Marshal(r.Status)
	if err != nil {
		return dst, err
	}
	dst = append(append(dst, `{"status":`...), status...)
	if r.Entries != nil {
		dst = append(dst, `,"entries":[`...)
		for i, e := range r.Entries {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, e...)
		}
		dst = append(dst, ']')
	}
	if len(r.Entry) > 0 {
		dst = append(append(dst, `,"entry":`...), r.Entry...)
	}
	for _, f := range []struct {
		name string
		v    any
		set  bool
	}{{"cursor", r.Cursor, r.Cursor != nil}, {"subscription", r.Subscription, r.Subscription != nil}} {
		if !f.set {
			continue
		}
		b, err := json.Marshal(f.v)
		if err != nil {
			return dst, err
		}
		dst = append(append(append(append(dst, `,"`...), f.name...), `":`...), b...)
	}
	return append(dst, '}'), nil
}
