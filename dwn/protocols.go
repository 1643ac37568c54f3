package dwn

import (
	"context"
	"encoding/json"

	"github.com/anya-org/anya/dwn/protocol"
)

func (d *DWN) protocolsConfigure(ctx context.Context, tenant string, m *Message) *Reply {
	def, _ := descriptorTree(m)["definition"].(map[string]any)
	if err := validateDefinition(m.Tree()["descriptor"].(map[string]any)["definition"], def); err != nil {
		return errReply(400, err)
	}
	var rawDef struct {
		Definition json.RawMessage `json:"definition"`
	}
	if err := json.Unmarshal(m.Descriptor, &rawDef); err != nil {
		return errReply(400, newErr(codeSchemaValidatorFailure, "descriptor: %v", err))
	}
	if _, err := protocol.ParseDefinition(rawDef.Definition); err != nil {
		return errReply(400, toDwnErr(err))
	}
	a, err := parseAuth(m, false)
	if err == nil {
		err = validateTimestamp(m.Desc.MessageTimestamp)
	}
	if err != nil {
		return errReply(400, err)
	}
	if err := d.authenticate(ctx, a); err != nil {
		return errReply(401, err)
	}
	if a.delegated {
		if err := d.authorizeDelegate(ctx, tenant, m, a, nil); err != nil {
			return errReply(401, err)
		}
	}
	switch {
	case a.author == tenant:
	case a.payload.PermissionGrantID != "":
		if err := d.authorizeByGrant(ctx, tenant, m, a, nil); err != nil {
			return errReply(401, err)
		}
	default:
		return errReply(401, newErr("ProtocolsConfigureAuthorizationFailed", "message failed authorization"))
	}
	c, err := m.CID()
	if err != nil {
		return errReply(400, newErr(codeSchemaValidatorFailure, "message: %v", err))
	}
	cid := c.String()
	protocol, _ := def["protocol"].(string)

	unlock := d.lockTenant(tenant)
	defer unlock()
	existing, _, err := d.loadAll(ctx, tenant, []Filter{{
		"interface": {Equal: "Protocols"}, "method": {Equal: "Configure"}, "protocol": {Equal: protocol},
	}}, Sort{Property: "messageTimestamp"}, Page{})
	if err != nil {
		return d.internal("query protocols", err)
	}
	n := newest(existing)
	newestTS, newestCID := "", ""
	var reply *Reply
	if n == nil || newer(m.Desc.MessageTimestamp, cid, n.m.Desc.MessageTimestamp, n.cid) {
		ix := protocolsConfigureIndexes(m, a.author)
		var ch change
		ch.putNew(&StoredMessage{CID: cid, Message: m.Raw(), Indexes: ix})
		ch.appendEvent(cid, ix)
		if err := d.apply(ctx, tenant, &ch); err != nil {
			return d.internal("put message", err)
		}
		d.stream.emit(tenant, recordEvent(m.Raw(), nil), ix)
		newestTS, newestCID = m.Desc.MessageTimestamp, cid
		reply = statusReply(202, detailAccepted)
	} else {
		newestTS, newestCID = n.m.Desc.MessageTimestamp, n.cid
		reply = statusReply(409, detailConflict)
	}
	var deleted []string
	var ch change
	for _, s := range existing {
		if newer(newestTS, newestCID, s.m.Desc.MessageTimestamp, s.cid) {
			ch.del(s.cid)
			deleted = append(deleted, s.cid)
		}
	}
	ch.deleteEvents(deleted...)
	if err := d.apply(ctx, tenant, &ch); err != nil {
		return d.internal("delete messages", err)
	}
	return reply
}

func (d *DWN) protocolsQuery(ctx context.Context, tenant string, m *Message) *Reply {
	a, err := parseAuth(m, false)
	if err != nil {
		return errReply(400, err)
	}
	desc := descriptorTree(m)
	filter, hasFilter := desc["filter"].(map[string]any)
	if hasFilter {
		p, _ := filter["protocol"].(string)
		if _, ok := filter["protocol"]; !ok {
			p = "undefined" // the reference normalizes undefined, which never matches
		}
		if err := validateProtocolURL(p); err != nil {
			return errReply(400, err)
		}
	}
	if err := validateTimestamp(m.Desc.MessageTimestamp); err != nil {
		return errReply(400, err)
	}
	published := false
	if a == nil {
		published = true
	} else if err := d.authenticate(ctx, a); err != nil {
		return errReply(401, err)
	} else if a.author != tenant {
		if a.payload.PermissionGrantID == "" {
			published = true
		} else if err := d.authorizeByGrant(ctx, tenant, m, a, nil); err != nil {
			if e, ok := err.(*Error); ok && e.Code == "ProtocolsGrantAuthorizationQueryProtocolScopeMismatch" {
				published = true
			} else {
				return errReply(401, err)
			}
		}
	}
	f := Filter{"interface": {Equal: "Protocols"}, "method": {Equal: "Configure"}}
	for k, v := range filter {
		if s, ok := v.(string); ok {
			f[k] = Condition{Equal: s}
		}
	}
	if published {
		f["published"] = Condition{Equal: true}
	}
	results, _, err := d.loadAll(ctx, tenant, []Filter{f}, Sort{Property: "messageTimestamp"}, Page{})
	if err != nil {
		return d.internal("query protocols", err)
	}
	entries := make([]json.RawMessage, 0, len(results))
	for _, r := range results {
		entries = append(entries, r.sm.Message)
	}
	return &Reply{Status: Status{Code: 200, Detail: detailOK}, Entries: entries}
}

// validateDefinition checks a protocol definition's outline (the
// protocol-definition.json schema's top level and the normalized protocol
// URL). The rule sets are package protocol's to check once wired in.
func validateDefinition(raw any, def map[string]any) error {
	v := &validator{schema: "ProtocolsConfigure"}
	c := v.obj(objSpec{
		mode:     noAdditional,
		required: []string{"protocol", "published", "types", "structure"},
		props: map[string]check{
			"protocol":  v.str(),
			"published": v.boolean(),
			"types":     v.obj(objSpec{}),
			"structure": v.obj(objSpec{}),
		},
	})
	if err := c(raw, "/descriptor/definition"); err != nil {
		return err
	}
	p, _ := def["protocol"].(string)
	return validateProtocolURL(p)
}
