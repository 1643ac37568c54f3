package dwn

import (
	"context"
	"encoding/json"
)

func (d *DWN) recordsSubscribe(ctx context.Context, tenant string, m *Message, events func(json.RawMessage)) *Reply {
	if events == nil {
		return errReply(501, newErr("RecordsSubscribeEventStreamUnimplemented", "Subscriptions are not supported"))
	}
	filter, a, err := parseRecordsFilterMessage(m, "RecordsSubscribeFilterMissingRequiredProperties")
	if err != nil {
		return errReply(400, err)
	}
	if err := d.authorizeFilterAccess(ctx, tenant, m, filter, a, "subscribe"); err != nil {
		return errReply(401, err)
	}
	base := convertRecordsFilter(filter, "")
	base["method"] = Condition{OneOf: []any{"Write", "Delete"}}
	filters := recordsVisibilityFilters(tenant, filter, base, a, false)
	if len(filters) == 0 {
		// Nothing is visible: a subscription that matches no event.
		filters = []Filter{{"interface": {Equal: "none"}}}
	}
	return d.subscribe(tenant, m, filters, events)
}

func (d *DWN) messagesSubscribe(ctx context.Context, tenant string, m *Message, events func(json.RawMessage)) *Reply {
	if events == nil {
		return errReply(501, newErr("MessagesSubscribeEventStreamUnimplemented", "Subscriptions are not supported"))
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
	if err := d.authorizeMessages(ctx, tenant, m, a, nil, "MessagesSubscribeAuthorizationFailed", "message failed authorization"); err != nil {
		return errReply(401, err)
	}
	filters, _ := descriptorTree(m)["filters"].([]any)
	return d.subscribe(tenant, m, convertMessagesFilters(filters), events)
}

func (d *DWN) subscribe(tenant string, m *Message, filters []Filter, events func(json.RawMessage)) *Reply {
	c, err := m.CID()
	if err != nil {
		return errReply(400, newErr(codeSchemaValidatorFailure, "message: %v", err))
	}
	closeFn := d.stream.subscribe(tenant, filters, events)
	if closeFn == nil {
		return errReply(501, newErr("EventEmitterStreamNotOpenError", "a message stream is not open"))
	}
	return &Reply{Status: Status{Code: 200, Detail: detailOK}, Subscription: &Subscription{ID: c.String(), Close: closeFn}}
}
