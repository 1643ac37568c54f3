package dwn

import (
	"context"
)

func (d *DWN) recordsDelete(ctx context.Context, tenant string, m *Message) *Reply {
	a, err := parseRecordsAuth(m)
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
	var ch change
	ch.putNew(&StoredMessage{CID: cid, Message: m.Raw(), Indexes: ix})
	ch.appendEvent(cid, ix)
	if err := d.apply(ctx, tenant, &ch); err != nil {
		return d.internal("put message", err)
	}
	d.stream.emit(tenant, recordEvent(m.Raw(), initial.withData()), ix)
	if m.Desc.Prune != nil && *m.Desc.Prune {
		if err := d.purgeDescendants(ctx, tenant, m.Desc.RecordID, 0); err != nil {
			return d.internal("prune descendants", err)
		}
	}
	ch = change{}
	dataGone, err := d.deleteOlder(&ch, existing, m.Desc.MessageTimestamp, cid, m)
	if err == nil {
		err = d.apply(ctx, tenant, &ch)
	}
	if err == nil {
		err = d.deleteData(ctx, tenant, dataGone)
	}
	if err != nil {
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
		var ch change
		for i, s := range msgs {
			cids[i] = s.cid
		}
		ch.deleteEvents(cids...)
		for _, cid := range cids {
			ch.del(cid)
		}
		if err := d.apply(ctx, tenant, &ch); err != nil {
			return err
		}
	}
	return nil
}
