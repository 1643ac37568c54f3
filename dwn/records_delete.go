package dwn

import (
	"context"
)

func (d *DWN) recordsDelete(ctx context.Context, tenant string, m *Message) *Reply {
	a, err := parseAuth(m, false)
	if err == nil {
		err = checkDelegatedGrantIntegrity(m, a)
	}
	if err == nil {
		err = validateTimestamp(m.Desc.MessageTimestamp)
	}
	if err != nil {
		return errReply(400, err)
	}
	if err := d.authenticate(ctx, a); err != nil {
		return errReply(401, err)
	}
	c, err := m.CID()
	if err != nil {
		return errReply(400, newErr(codeSchemaValidatorFailure, "message: %v", err))
	}
	cid := c.String()

	unlock := d.lockTenant(tenant)
	defer unlock()

	existing, err := d.recordMessages(ctx, tenant, m.Desc.RecordID)
	if err != nil {
		return d.internal("query record", err)
	}
	n := newest(existing)
	if !canDelete(m, n) {
		return statusReply(404, detailNotFound)
	}
	if !newer(m.Desc.MessageTimestamp, cid, n.m.Desc.MessageTimestamp, n.cid) {
		return statusReply(409, detailConflict)
	}
	initial := initialWriteOf(existing)
	if initial == nil {
		// The reference dereferences the missing initial write and fails.
		return errReply(401, newErr(codeRecordsDeleteAuthFailed, "initial write of record %s not found", m.Desc.RecordID))
	}
	if err := d.authorizeRecordsDelete(ctx, tenant, m, a, initial); err != nil {
		return errReply(401, err)
	}

	ix := recordsDeleteIndexes(m, a.author, initial.m)
	if err := d.messages.Put(ctx, tenant, &StoredMessage{CID: cid, Message: m.Raw(), Indexes: ix}); err != nil {
		return d.internal("put message", err)
	}
	if _, err := d.events.Append(ctx, tenant, cid, ix); err != nil {
		return d.internal("append event", err)
	}
	d.stream.emit(tenant, recordEvent(m.Raw(), initial.sm.Message), ix)
	if m.Desc.Prune != nil && *m.Desc.Prune {
		if err := d.purgeDescendants(ctx, tenant, m.Desc.RecordID, 0); err != nil {
			return d.internal("prune descendants", err)
		}
	}
	if err := d.deleteOlder(ctx, tenant, existing, m.Desc.MessageTimestamp, cid, m); err != nil {
		return d.internal("delete older messages", err)
	}
	return statusReply(202, detailAccepted)
}

// canDelete is Records.canPerformDeleteAgainstRecord.
func canDelete(m *Message, n *stored) bool {
	if n == nil {
		return false
	}
	if n.m.Desc.Method == "Delete" {
		prune := m.Desc.Prune != nil && *m.Desc.Prune
		if !prune {
			return false
		}
		if n.m.Desc.Prune != nil && *n.m.Desc.Prune {
			return false
		}
	}
	return true
}

// authorizeRecordsDelete is RecordsDeleteHandler.authorizeRecordsDelete.
func (d *DWN) authorizeRecordsDelete(ctx context.Context, tenant string, m *Message, a *auth, initial *stored) error {
	if a.delegated {
		if err := d.authorizeDelegate(ctx, tenant, m, a, initial.m); err != nil {
			return err
		}
	}
	if a.author == tenant {
		return nil
	}
	if initial.m.Desc.Protocol != "" {
		return d.authorizeByProtocol(ctx, tenant, "delete", m, a, initial.m)
	}
	return newErr(codeRecordsDeleteAuthFailed, "RecordsDelete message failed authorization")
}

// purgeDescendants is StorageController.purgeRecordDescendants: every
// message of every descendant record, with its data and events, deepest
// first.
func (d *DWN) purgeDescendants(ctx context.Context, tenant, recordID string, depth int) error {
	if depth > 64 {
		return nil
	}
	children, _, err := d.loadAll(ctx, tenant, []Filter{{"interface": {Equal: "Records"}, "parentId": {Equal: recordID}}}, Sort{Property: "messageTimestamp"}, Page{})
	if err != nil {
		return err
	}
	byRecord := map[string][]*stored{}
	var order []string
	for _, c := range children {
		id := c.m.RecordID
		if !c.isWrite() {
			id = c.m.Desc.RecordID
		}
		if _, ok := byRecord[id]; !ok {
			order = append(order, id)
		}
		byRecord[id] = append(byRecord[id], c)
	}
	for _, id := range order {
		if err := d.purgeDescendants(ctx, tenant, id, depth+1); err != nil {
			return err
		}
	}
	for _, id := range order {
		msgs := byRecord[id]
		var writes []*stored
		for _, s := range msgs {
			if s.isWrite() {
				writes = append(writes, s)
			}
		}
		if nw := newest(writes); nw != nil {
			if err := d.data.Delete(ctx, tenant, nw.m.RecordID, nw.m.Desc.DataCID); err != nil {
				return err
			}
		}
		cids := make([]string, len(msgs))
		for i, s := range msgs {
			cids[i] = s.cid
		}
		if err := d.events.Delete(ctx, tenant, cids...); err != nil {
			return err
		}
		for _, c := range cids {
			if err := d.messages.Delete(ctx, tenant, c); err != nil {
				return err
			}
		}
	}
	return nil
}
