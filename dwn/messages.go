package dwn

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"

	"github.com/ipfs/go-cid"
)

// parseMessagesMessage does the checks MessagesQuery/Read/Subscribe.parse
// share: the signature structure and normalized protocol filters.
func parseMessagesMessage(m *Message) (*auth, error) {
	a, err := parseAuth(m, false)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, newErr(codeJwsMissing, "Missing JWS.")
	}
	filters, _ := descriptorTree(m)["filters"].([]any)
	for _, f := range filters {
		if p, ok := f.(map[string]any)["protocol"].(string); ok {
			if err := validateProtocolURL(p); err != nil {
				return nil, err
			}
		}
	}
	return a, nil
}

// authorizeMessages is the owner-or-grant rule of the Messages interface.
func (d *DWN) authorizeMessages(ctx context.Context, tenant string, m *Message, a *auth, target *Message, failCode, failText string) error {
	if a.author == tenant {
		return nil
	}
	if a.payload.PermissionGrantID != "" {
		return d.authorizeByGrant(ctx, tenant, m, a, target)
	}
	return newErr(failCode, "%s", failText)
}

// messagesQuery reads the tenant's event log. Anya extension: the
// descriptor may carry "limit" (an integer ≥ 1); the reply then holds at
// most that many entries and, when it is full, the cursor to continue
// from. Without limit every event after the cursor is returned, as the
// reference does.
func (d *DWN) messagesQuery(ctx context.Context, tenant string, m *Message) *Reply {
	a, err := parseMessagesMessage(m)
	if err != nil {
		return errReply(400, err)
	}
	if err := d.authenticate(ctx, a); err != nil {
		return errReply(401, err)
	}
	if err := d.authorizeMessages(ctx, tenant, m, a, nil, "MessagesQueryAuthorizationFailed", "message failed authorization"); err != nil {
		return errReply(401, err)
	}
	desc := descriptorTree(m)
	filters, _ := desc["filters"].([]any)
	var after *Cursor
	if c, ok := desc["cursor"].(map[string]any); ok {
		mc, _ := c["messageCid"].(string)
		v, _ := indexValue(c["value"])
		after = &Cursor{MessageCID: mc, Value: v}
	}
	limit := 0
	if n, ok := desc["limit"].(json.Number); ok {
		l, _ := n.Int64()
		limit = int(min(l, 1<<20))
	}
	cids, cursor, err := d.events.Query(ctx, tenant, convertMessagesFilters(filters), after, limit)
	if err != nil {
		return d.internal("query events", err)
	}
	entries := make([]json.RawMessage, 0, len(cids))
	for _, c := range cids {
		q, _ := json.Marshal(c)
		entries = append(entries, q)
	}
	return &Reply{Status: Status{Code: 200, Detail: detailOK}, Entries: entries, Cursor: cursor}
}

func (d *DWN) messagesRead(ctx context.Context, tenant string, m *Message) *Reply {
	desc := descriptorTree(m)
	mc, _ := desc["messageCid"].(string)
	if _, err := cid.Decode(mc); err != nil {
		return errReply(400, newErr("MessagesReadInvalidCid", "%s is not a valid CID", jsString(desc["messageCid"])))
	}
	a, err := parseMessagesMessage(m)
	if err == nil {
		err = validateTimestamp(m.Desc.MessageTimestamp)
	}
	if err != nil {
		return errReply(400, err)
	}
	if err := d.authenticate(ctx, a); err != nil {
		return errReply(401, err)
	}
	sm, err := d.messages.Get(ctx, tenant, mc)
	if errors.Is(err, ErrNotFound) {
		return statusReply(404, detailNotFound)
	}
	if err != nil {
		return d.internal("get message", err)
	}
	target, err := ParseMessage(sm.Message)
	if err != nil {
		return d.internal("parse stored message", err)
	}
	if err := d.authorizeMessages(ctx, tenant, m, a, target, "MessagesReadAuthorizationFailed", "protocol message failed authorization"); err != nil {
		return errReply(401, err)
	}
	q, _ := json.Marshal(mc)
	entry := withField([]byte(`{}`), "messageCid", q)
	entry = withField(entry, "message", sm.Message)
	reply := &Reply{Status: Status{Code: 200, Detail: detailOK}, Entry: entry}
	if target.Desc.Is("Records", "Write") {
		if sm.EncodedData != "" || isLatest(sm) && target.Desc.DataSize != nil && *target.Desc.DataSize <= MaxEncodedDataSize {
			b, err := base64.RawURLEncoding.DecodeString(sm.EncodedData)
			if err != nil {
				return d.internal("decode data", err)
			}
			reply.Data = io.NopCloser(bytes.NewReader(b))
		} else if rc, _, err := d.data.Get(ctx, tenant, target.RecordID, target.Desc.DataCID); err == nil {
			reply.Data = rc
		} else if !errors.Is(err, ErrNotFound) {
			return d.internal("get data", err)
		}
	}
	return reply
}

func isLatest(sm *StoredMessage) bool {
	b, _ := sm.Indexes["isLatestBaseState"].(bool)
	return b
}
