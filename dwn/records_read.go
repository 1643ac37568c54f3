package dwn

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
)

func (d *DWN) recordsRead(ctx context.Context, tenant string, m *Message) *Reply {
	a, err := parseRecordsAuth(m)
	if err != nil {
		return errReply(400, err)
	}
	if a != nil {
		if err := d.authenticate(ctx, a); err != nil {
			return errReply(401, err)
		}
	}
	filter, _ := descriptorTree(m)["filter"].(map[string]any)
	f := convertRecordsFilter(filter, "")
	f["interface"] = Condition{Equal: "Records"}
	f["isLatestBaseState"] = Condition{Equal: true}
	matches, _, err := d.loadAll(ctx, tenant, []Filter{f}, Sort{Property: "messageTimestamp"}, Page{Limit: 2})
	if err != nil {
		return d.internal("query records", err)
	}
	switch {
	case len(matches) == 0:
		return statusReply(404, detailNotFound)
	case len(matches) > 1:
		return errReply(400, newErr("RecordsReadReturnedMultiple", "Multiple records exist for the RecordsRead filter"))
	}
	match := matches[0]
	if match.m.Desc.Method == "Delete" {
		all, err := d.recordMessages(ctx, tenant, match.m.Desc.RecordID)
		if err != nil {
			return d.internal("query record", err)
		}
		initial := initialWriteOf(all)
		if initial == nil {
			return errReply(400, newErr("RecordsReadInitialWriteNotFound", "Initial write for deleted record not found"))
		}
		if err := d.authorizeRecordsRead(ctx, tenant, m, a, initial); err != nil {
			return errReply(401, err)
		}
		entry := withField([]byte(`{}`), "recordsDelete", match.sm.Message)
		entry = withField(entry, "initialWrite", initial.sm.Message)
		return &Reply{Status: Status{Code: 404, Detail: detailNotFound}, Entry: entry}
	}
	if err := d.authorizeRecordsRead(ctx, tenant, m, a, match); err != nil {
		return errReply(401, err)
	}
	var data io.ReadCloser
	if match.sm.EncodedData != "" || (match.m.Desc.DataSize != nil && *match.m.Desc.DataSize <= MaxEncodedDataSize) {
		b, err := base64.RawURLEncoding.DecodeString(match.sm.EncodedData)
		if err != nil {
			return d.internal("decode data", err)
		}
		data = io.NopCloser(bytes.NewReader(b))
	} else {
		rc, _, err := d.data.Get(ctx, tenant, match.m.RecordID, match.m.Desc.DataCID)
		if errors.Is(err, ErrNotFound) {
			return statusReply(404, detailNotFound)
		}
		if err != nil {
			return d.internal("get data", err)
		}
		data = rc
	}
	entry := withField([]byte(`{}`), "recordsWrite", match.sm.Message)
	if !match.isInitialWrite() {
		iw, err := d.initialWrite(ctx, tenant, match.m.RecordID)
		if err != nil {
			data.Close()
			return d.internal("query initial write", err)
		}
		if iw != nil {
			entry = withField(entry, "initialWrite", iw.sm.Message)
		}
	}
	return &Reply{Status: Status{Code: 200, Detail: detailOK}, Entry: entry, Data: data}
}

// initialWrite returns the kept initial write of a record whose latest
// state is a later message.
func (d *DWN) initialWrite(ctx context.Context, tenant, recordID string) (*stored, error) {
	ms, _, err := d.loadAll(ctx, tenant, []Filter{{
		"recordId": {Equal: recordID}, "isLatestBaseState": {Equal: false}, "method": {Equal: "Write"},
	}}, Sort{Property: "messageTimestamp"}, Page{Limit: 1})
	if err != nil || len(ms) == 0 {
		return nil, err
	}
	return ms[0], nil
}

// authorizeRecordsRead is RecordsReadHandler.authorizeRecordsRead.
func (d *DWN) authorizeRecordsRead(ctx context.Context, tenant string, m *Message, a *auth, record *stored) error {
	if a != nil && a.delegated {
		if err := d.authorizeDelegate(ctx, tenant, m, a, record.m); err != nil {
			return err
		}
	}
	author := ""
	if a != nil {
		author = a.author
	}
	switch {
	case author != "" && author == tenant:
		return nil
	case record.m.Desc.IsPublished():
		return nil
	case author != "" && (author == record.m.Desc.Recipient || author == record.author()):
		return nil
	case author != "" && a.payload.PermissionGrantID != "":
		return d.authorizeByGrant(ctx, tenant, m, a, record.m)
	case record.m.Desc.Protocol != "":
		return d.authorizeByProtocol(ctx, tenant, "read", m, a, record.m)
	}
	return newErr(codeRecordsReadAuthFailed, "message failed authorization")
}
