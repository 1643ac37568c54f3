package dwn

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/anya-org/anya/dwn/protocol"
)

// stored is a message read back from the message store.
type stored struct {
	sm  *StoredMessage
	m   *Message
	cid string
}

func (s *stored) author() string {
	a, _ := s.sm.Indexes["author"].(string)
	return a
}

func (s *stored) isWrite() bool { return s.m.Desc.Is("Records", "Write") }

// isInitialWrite reports whether s is the initial write of its record.
func (s *stored) isInitialWrite() bool {
	if !s.isWrite() {
		return false
	}
	e, _ := s.sm.Indexes["entryId"].(string)
	return e != "" && e == s.m.RecordID
}

// newer reports whether a is newer than b: a later messageTimestamp, or on
// a tie the larger messageCid (Message.compareMessageTimestamp).
func newer(aTS, aCID, bTS, bCID string) bool {
	if aTS != bTS {
		return aTS > bTS
	}
	return aCID > bCID
}

func (d *DWN) loadAll(ctx context.Context, tenant string, filters []Filter, sort Sort, page Page) ([]*stored, *Cursor, error) {
	sms, cur, err := d.messages.Query(ctx, tenant, filters, sort, page)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*stored, 0, len(sms))
	for _, sm := range sms {
		m, err := ParseMessage(sm.Message)
		if err != nil {
			return nil, nil, fmt.Errorf("stored message %s: %w", sm.CID, err)
		}
		out = append(out, &stored{sm: sm, m: m, cid: sm.CID})
	}
	return out, cur, nil
}

// recordMessages returns every stored message of a record (writes and
// deletes).
func (d *DWN) recordMessages(ctx context.Context, tenant, recordID string) ([]*stored, error) {
	ms, _, err := d.loadAll(ctx, tenant, []Filter{{"interface": {Equal: "Records"}, "recordId": {Equal: recordID}}}, Sort{Property: "messageTimestamp"}, Page{})
	return ms, err
}

func newest(ms []*stored) *stored {
	var n *stored
	for _, s := range ms {
		if n == nil || newer(s.m.Desc.MessageTimestamp, s.cid, n.m.Desc.MessageTimestamp, n.cid) {
			n = s
		}
	}
	return n
}

func initialWriteOf(ms []*stored) *stored {
	for _, s := range ms {
		if s.isInitialWrite() {
			return s
		}
	}
	return nil
}

// writeInfo is a parsed, integrity-checked RecordsWrite.
type writeInfo struct {
	m        *Message
	a        *auth
	cid      string
	initial  bool
	attester string
}

// parseRecordsWrite is the reference's RecordsWrite.parse: signature
// structure, attestation, and validateIntegrity. Errors are 400s.
func parseRecordsWrite(m *Message) (*writeInfo, error) {
	a, err := parseAuth(m, true)
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, newErr(codeJwsMissing, "Missing JWS.")
	}
	w := &writeInfo{m: m, a: a}
	c, err := m.CID()
	if err != nil {
		return nil, newErr(codeSchemaValidatorFailure, "message: %v", err)
	}
	w.cid = c.String()
	dc, _ := m.DescriptorCID()
	if m.Attestation != nil {
		var shape struct {
			Signatures []any `json:"signatures"`
		}
		_ = jsonUnmarshal(m.Attestation, &shape)
		if len(shape.Signatures) != 1 {
			return nil, newErr("RecordsWriteAttestationIntegrityMoreThanOneSignature", "Currently implementation only supports 1 attester, but got %d", len(shape.Signatures))
		}
		j, err := ParseGeneralJWS(m.Attestation)
		if err != nil {
			return nil, err
		}
		obj, err := j.DecodedPayloadObject()
		if err != nil {
			return nil, err
		}
		var got string
		_ = jsonUnmarshal(obj["descriptorCid"], &got)
		if got != dc.String() {
			return nil, newErr("RecordsWriteAttestationIntegrityDescriptorCidMismatch", "descriptorCid %s does not match expected descriptorCid %s", got, dc)
		}
		if len(obj) > 1 {
			return nil, newErr("RecordsWriteAttestationIntegrityInvalidPayloadProperty", "Only 'descriptorCid' is allowed in attestation payload, but got %d properties.", len(obj))
		}
		w.attester, _ = j.SignerDID()
	}
	eid, err := m.EntryID(a.author)
	if err != nil {
		return nil, newErr(codeSchemaValidatorFailure, "descriptor: %v", err)
	}
	w.initial = eid.String() == m.RecordID
	if w.initial {
		if m.Desc.MessageTimestamp != m.Desc.DateCreated {
			return nil, newErr("RecordsWriteValidateIntegrityDateCreatedMismatch", "messageTimestamp %s must match dateCreated %s for the initial write", m.Desc.MessageTimestamp, m.Desc.DateCreated)
		}
		if m.Desc.Protocol != "" && m.Desc.ParentID == "" && m.ContextID != eid.String() {
			return nil, newErr("RecordsWriteValidateIntegrityContextIdMismatch", "contextId in message: %s does not match deterministic contextId: %s", m.ContextID, eid)
		}
	}
	if m.RecordID != a.payload.RecordID {
		return nil, newErr("RecordsWriteValidateIntegrityRecordIdUnauthorized", "recordId in message %s does not match recordId in authorization: %s", m.RecordID, a.payload.RecordID)
	}
	_, hasCtx := m.Tree()["contextId"]
	if hasCtx != a.payload.HasContextID || m.ContextID != a.payload.ContextID {
		return nil, newErr("RecordsWriteValidateIntegrityContextIdNotInSignerSignaturePayload", "contextId in message %s does not match contextId in authorization: %s", m.ContextID, a.payload.ContextID)
	}
	if err := checkDelegatedGrantIntegrity(m, a); err != nil {
		return nil, err
	}
	if a.payload.AttestationCID != "" {
		c, err := ComputeCID(m.Tree()["attestation"])
		if err != nil || c.String() != a.payload.AttestationCID {
			return nil, newErr("RecordsWriteValidateIntegrityAttestationMismatch", "CID %s of attestation property in message does not match attestationCid in authorization: %s", c, a.payload.AttestationCID)
		}
	}
	if a.payload.EncryptionCID != "" {
		c, err := ComputeCID(m.Tree()["encryption"])
		if err != nil || c.String() != a.payload.EncryptionCID {
			return nil, newErr("RecordsWriteValidateIntegrityEncryptionCidMismatch", "CID %s of encryption property in message does not match encryptionCid in authorization: %s", c, a.payload.EncryptionCID)
		}
	}
	if _, ok := descriptorTree(m)["protocol"]; ok {
		if err := validateProtocolURL(m.Desc.Protocol); err != nil {
			return nil, err
		}
	}
	if _, ok := descriptorTree(m)["schema"]; ok {
		if err := validateSchemaURL(m.Desc.Schema); err != nil {
			return nil, err
		}
	}
	for _, ts := range []string{m.Desc.MessageTimestamp, m.Desc.DateCreated, m.Desc.DatePublished} {
		if ts != "" {
			if err := validateTimestamp(ts); err != nil {
				return nil, err
			}
		}
	}
	return w, nil
}

// checkDelegatedGrantIntegrity is Records.validateDelegatedGrantReferentialIntegrity
// for the author signature: delegatedGrantId and authorDelegatedGrant come
// together and the id is the grant's CID.
// parseRecordsAuth reads the authorization of a RecordsRead or
// RecordsDelete: the signature structure, the delegated grant's integrity,
// then the timestamp, in the reference's order.
func parseRecordsAuth(m *Message) (*auth, error) {
	a, err := parseAuth(m, false)
	if err == nil {
		err = checkDelegatedGrantIntegrity(m, a)
	}
	if err == nil {
		err = validateTimestamp(m.Desc.MessageTimestamp)
	}
	return a, err
}

func checkDelegatedGrantIntegrity(m *Message, a *auth) error {
	if a == nil {
		return nil
	}
	g, has := a.raw["authorDelegatedGrant"]
	if (a.payload.DelegatedGrantID != "") != has {
		return newErr("RecordsAuthorDelegatedGrantAndIdExistenceMismatch", "delegatedGrantId in message (author) signature and authorDelegatedGrant must both exist or be undefined.")
	}
	if !has {
		return nil
	}
	gm, err := ParseMessage(g)
	if err != nil {
		return newErr(codeSchemaValidatorFailure, "authorDelegatedGrant: %s", parseErrText(err))
	}
	grant, err := delegatedGrant(a, "authorDelegatedGrant")
	if err != nil {
		return err
	}
	if !grant.Delegated {
		return newErr(codeDelegateNotADelegatedGrant, "The owner delegated grant given is not a delegated grant.")
	}
	if gm.Desc.Recipient != a.signer {
		return newErr("RecordsAuthorDelegatedGrantGrantedToAndOwnerSignatureMismatch", "grantedTo %s in author delegated grant must be the same as the signer %s of the message signature.", gm.Desc.Recipient, a.signer)
	}
	c, err := gm.CID()
	if err != nil || c.String() != a.payload.DelegatedGrantID {
		return newErr("RecordsAuthorDelegatedGrantCidMismatch", "CID of the author delegated grant %s must be the same as the delegatedGrantId %s in the message signature.", c, a.payload.DelegatedGrantID)
	}
	return nil
}

func (d *DWN) recordsWrite(ctx context.Context, tenant string, m *Message, data io.Reader) *Reply {
	w, err := parseRecordsWrite(m)
	if err != nil {
		return errReply(400, err)
	}
	if m.Desc.Protocol != "" {
		if err := d.checkProtocolWrite(ctx, tenant, m); err != nil {
			if _, ok := err.(*Error); ok {
				return errReply(400, err)
			}
			return d.internal("protocol lookup", err)
		}
	}
	if err := d.authenticate(ctx, w.a); err != nil {
		return errReply(401, err)
	}
	if err := d.authorizeRecordsWrite(ctx, tenant, w); err != nil {
		return errReply(401, err)
	}

	// A write outside any protocol reads and writes only its own record's
	// messages and data (its authorization, done above, only reads), so
	// writes of different records run concurrently; a protocol write may
	// depend on other records (parents, roles, grants) and excludes every
	// other mutating handler of the tenant.
	var unlock func()
	if m.Desc.Protocol == "" {
		unlock = d.lockRecord(tenant, m.RecordID)
	} else {
		unlock = d.lockTenant(tenant)
	}
	defer unlock()

	existing, err := d.recordMessages(ctx, tenant, m.RecordID)
	if err != nil {
		return d.internal("query record", err)
	}
	var initial *stored
	if !w.initial {
		if initial = initialWriteOf(existing); initial == nil {
			return errReply(400, newErr("RecordsWriteGetInitialWriteNotFound", "Initial write is not found."))
		}
		if err := immutableUnchanged(initial.m, m); err != nil {
			return errReply(400, err)
		}
	}
	newestExisting := newest(existing)
	if newestExisting != nil && !newer(m.Desc.MessageTimestamp, w.cid, newestExisting.m.Desc.MessageTimestamp, newestExisting.cid) {
		return statusReply(409, detailConflict)
	}
	if newestExisting != nil && newestExisting.m.Desc.Method == "Delete" {
		return errReply(400, newErr("RecordsWriteNotAllowedAfterDelete", "RecordsWrite is not allowed after a RecordsDelete."))
	}

	if err := d.preProcessCoreWrite(ctx, tenant, m); err != nil {
		if _, ok := err.(*Error); ok {
			return errReply(400, err)
		}
		return d.internal("permission revocation", err)
	}

	sm := &StoredMessage{CID: w.cid, Message: m.Raw()}
	isLatest := false
	dataSize := int64(0)
	if m.Desc.DataSize != nil {
		dataSize = *m.Desc.DataSize
	}
	if data != nil {
		enc, err := d.storeData(ctx, tenant, m, dataSize, data)
		if err != nil {
			var de *Error
			if errors.As(err, &de) {
				return errReply(400, err)
			}
			return d.internal("store data", err)
		}
		if m.Desc.Protocol == PermissionsProtocolURI && dataSize <= MaxEncodedDataSize {
			// RecordsWriteHandler.validateSchemaForCoreRecordsWrite.
			b, _ := base64.RawURLEncoding.DecodeString(enc)
			if err := protocol.ValidatePermissionRecord(protoRecord(m, w.a.author), b, nil); err != nil {
				return errReply(400, toDwnErr(err))
			}
		}
		sm.EncodedData = enc
		isLatest = true
	} else if !w.initial {
		prev := newestExisting
		if m.Desc.DataCID != prev.m.Desc.DataCID {
			return errReply(400, newErr("RecordsWriteDataCidMismatch", "actual data CID %s does not match dataCid in descriptor: %s", prev.m.Desc.DataCID, m.Desc.DataCID))
		}
		if prev.m.Desc.DataSize == nil || *prev.m.Desc.DataSize != dataSize {
			ps := int64(-1)
			if prev.m.Desc.DataSize != nil {
				ps = *prev.m.Desc.DataSize
			}
			return errReply(400, newErr("RecordsWriteDataSizeMismatch", "actual data size %d bytes does not match dataSize in descriptor: %d", ps, dataSize))
		}
		if dataSize <= MaxEncodedDataSize {
			// A stored write holds data iff it is a latest base state: only a
			// data-less initial write is not.
			if !prev.isLatestBaseState() {
				return errReply(400, newErr("RecordsWriteMissingEncodedDataInPrevious", "No dataStream was provided and unable to get data from previous message"))
			}
			sm.EncodedData = prev.sm.EncodedData
		} else {
			rc, _, err := d.data.Get(ctx, tenant, prev.m.RecordID, m.Desc.DataCID)
			if err != nil {
				if errors.Is(err, ErrNotFound) {
					return errReply(400, newErr("RecordsWriteMissingDataInPrevious", "No dataStream was provided and unable to get data from previous message"))
				}
				return d.internal("get data", err)
			}
			rc.Close()
		}
		isLatest = true
	}
	ix, err := recordsWriteIndexes(m, w.a.author, w.attester, isLatest)
	if err != nil {
		return d.internal("indexes", err)
	}
	sm.Indexes = ix
	var c change
	c.putNew(sm) // existing holds every message of the record: none has w.cid
	// The reference appends every stored write to the event log, a data-less
	// initial write too (it is not queryable, but sync sees it).
	c.appendEvent(w.cid, ix)
	dataGone, err := d.deleteOlder(&c, existing, m.Desc.MessageTimestamp, w.cid, m)
	if err != nil {
		return d.internal("delete older messages", err)
	}
	if err := d.apply(ctx, tenant, &c); err != nil {
		return d.internal("put message", err)
	}
	if err := d.deleteData(ctx, tenant, dataGone); err != nil {
		return d.internal("delete older messages", err)
	}
	if isLatest {
		var iw []byte
		if initial != nil {
			iw = initial.withData()
		}
		d.stream.emit(tenant, recordEvent(m.Raw(), iw), ix)
	}
	reply := statusReply(202, detailAccepted)
	if w.initial && data == nil {
		reply = statusReply(204, detailNoContent)
	}
	return reply
}

// dataRef names data in the DataStore.
type dataRef struct{ recordID, dataCID string }

// deleteData deletes data the messages referring to it no longer need; it
// runs after the change that removed those messages is durable, so a crash
// leaves unreferenced data rather than a message without its data.
func (d *DWN) deleteData(ctx context.Context, tenant string, refs []dataRef) error {
	for _, r := range refs {
		if err := d.data.Delete(ctx, tenant, r.recordID, r.dataCID); err != nil {
			return err
		}
	}
	return nil
}

func (s *stored) isLatestBaseState() bool {
	b, _ := s.sm.Indexes["isLatestBaseState"].(bool)
	return b
}

// immutableUnchanged is RecordsWrite.verifyEqualityOfImmutableProperties.
func immutableUnchanged(initial, m *Message) error {
	mutable := map[string]bool{"dataCid": true, "dataSize": true, "dataFormat": true, "datePublished": true, "published": true, "messageTimestamp": true, "tags": true}
	a, b := descriptorTree(initial), descriptorTree(m)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	for _, k := range sortedKeys(keys) {
		if mutable[k] {
			continue
		}
		va, vb := a[k], b[k]
		if fmt.Sprint(va) != fmt.Sprint(vb) || (va == nil) != (vb == nil) {
			return newErr("RecordsWriteImmutablePropertyChanged", "%s is an immutable property: cannot change '%s' to '%s'", k, jsString(va), jsString(vb))
		}
	}
	return nil
}

func jsString(v any) string {
	if v == nil {
		return "undefined"
	}
	return fmt.Sprint(v)
}

// storeData reads the record data, checks it against dataCid and
// dataSize, and keeps it: inline (returned base64url) when the descriptor's
// dataSize is at most MaxEncodedDataSize, else in the DataStore.
func (d *DWN) storeData(ctx context.Context, tenant string, m *Message, dataSize int64, r io.Reader) (string, error) {
	limit := d.cfg.MaxDataSize
	if dataSize <= MaxEncodedDataSize {
		b, err := io.ReadAll(io.LimitReader(r, limit+1))
		if err != nil {
			return "", fmt.Errorf("read data: %w", err)
		}
		if int64(len(b)) > limit {
			return "", newErr("RecordsWriteDataSizeMismatch", "data is larger than the limit of %d bytes; dataSize in descriptor: %d", limit, dataSize)
		}
		got := DataCIDFromBytes(b).String()
		if err := checkData(m.Desc.DataCID, dataSize, got, int64(len(b))); err != nil {
			return "", err
		}
		return base64.RawURLEncoding.EncodeToString(b), nil
	}
	if dataSize > limit {
		return "", newErr("RecordsWriteDataSizeMismatch", "dataSize %d in descriptor is larger than the limit of %d bytes", dataSize, limit)
	}
	pr, pw := io.Pipe()
	type result struct {
		cid  string
		size int64
		err  error
	}
	done := make(chan result, 1)
	go func() {
		c, n, err := DataCIDLimit(pr, limit)
		pr.CloseWithError(err) // unblock the writer if hashing stopped early
		done <- result{c.String(), n, err}
	}()
	n, putErr := d.data.Put(ctx, tenant, m.RecordID, m.Desc.DataCID, io.TeeReader(r, pw), limit)
	pw.CloseWithError(putErr)
	res := <-done
	fail := func(err error) (string, error) {
		if derr := d.data.Delete(context.WithoutCancel(ctx), tenant, m.RecordID, m.Desc.DataCID); derr != nil {
			d.log.Warn("dwn: delete data after failed write", "err", derr)
		}
		return "", err
	}
	if errors.Is(putErr, ErrDataTooLarge) || errors.Is(res.err, ErrDataTooLarge) {
		return fail(newErr("RecordsWriteDataSizeMismatch", "data is larger than the limit of %d bytes; dataSize in descriptor: %d", limit, dataSize))
	}
	if putErr != nil {
		return fail(putErr)
	}
	if res.err != nil {
		return fail(res.err)
	}
	if err := checkData(m.Desc.DataCID, dataSize, res.cid, n); err != nil {
		return fail(err)
	}
	return "", nil
}

func checkData(wantCID string, wantSize int64, gotCID string, gotSize int64) error {
	if wantCID != gotCID {
		return newErr("RecordsWriteDataCidMismatch", "actual data CID %s does not match dataCid in descriptor: %s", gotCID, wantCID)
	}
	if wantSize != gotSize {
		return newErr("RecordsWriteDataSizeMismatch", "actual data size %d bytes does not match dataSize in descriptor: %d", gotSize, wantSize)
	}
	return nil
}

// deleteOlder is StorageController.deleteAllOlderMessagesButKeepInitialWrite:
// every message older than the newest is deleted with its data and event,
// except the initial write, which is kept without data and marked as no
// longer the latest base state. It adds the message and event changes to c
// and returns the data to delete once c is applied.
func (d *DWN) deleteOlder(c *change, existing []*stored, newestTS, newestCID string, newestMsg *Message) ([]dataRef, error) {
	var deleted []string
	var data []dataRef
	for _, s := range existing {
		if !newer(newestTS, newestCID, s.m.Desc.MessageTimestamp, s.cid) {
			continue
		}
		if s.isWrite() && s.m.Desc.DataSize != nil && *s.m.Desc.DataSize > MaxEncodedDataSize &&
			!(newestMsg.Desc.Is("Records", "Write") && s.m.Desc.DataCID == newestMsg.Desc.DataCID) {
			data = append(data, dataRef{s.m.RecordID, s.m.Desc.DataCID})
		}
		c.del(s.cid)
		if s.isInitialWrite() {
			ix, err := recordsWriteIndexes(s.m, s.author(), attesterOf(s), false)
			if err != nil {
				return nil, err
			}
			c.put(&StoredMessage{CID: s.cid, Message: s.sm.Message, Indexes: ix})
		} else {
			deleted = append(deleted, s.cid)
		}
	}
	c.deleteEvents(deleted...)
	return data, nil
}

func attesterOf(s *stored) string {
	a, _ := s.sm.Indexes["attester"].(string)
	return a
}

// authorizeRecordsWrite is RecordsWriteHandler.authorizeRecordsWrite.
func (d *DWN) authorizeRecordsWrite(ctx context.Context, tenant string, w *writeInfo) error {
	a := w.a
	if a.owner != "" && a.owner != tenant {
		return newErr(codeOwnerTenantMismatch, "Owner %s must be the same as tenant %s when specified.", a.owner, tenant)
	}
	if a.delegated {
		if err := d.authorizeDelegate(ctx, tenant, w.m, a, nil); err != nil {
			return err
		}
	}
	if _, ok := a.raw["ownerDelegatedGrant"]; ok {
		if err := d.authorizeOwnerDelegate(ctx, tenant, w.m, a); err != nil {
			return err
		}
	}
	switch {
	case a.owner != "":
		return nil
	case a.author == tenant:
		return nil
	case a.payload.PermissionGrantID != "":
		return d.authorizeByGrant(ctx, tenant, w.m, a, nil)
	case w.m.Desc.Protocol != "":
		return d.authorizeByProtocol(ctx, tenant, "write", w.m, a, nil)
	}
	return newErr(codeRecordsWriteAuthFailed, "message failed authorization")
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// preProcessCoreWrite is RecordsWriteHandler.preProcessingForCoreRecordsWrite:
// a permission revocation's "protocol" tag must be the revoked grant's
// scope protocol (both absent, or equal).
func (d *DWN) preProcessCoreWrite(ctx context.Context, tenant string, m *Message) error {
	if m.Desc.Protocol != PermissionsProtocolURI || m.Desc.ProtocolPath != protocol.PermissionRevocationPath {
		return nil
	}
	g, err := d.fetchGrant(ctx, tenant, m.Desc.ParentID)
	if err != nil {
		return err
	}
	tag, hasTag := m.Desc.Tags["protocol"]
	tagStr, isStr := tag.(string)
	grantProtocol := g.Scope.Protocol
	if hasTag != (grantProtocol != "") || (hasTag && (!isStr || tagStr != grantProtocol)) {
		return newErr(protocol.CodePermissionsProtocolValidateRevocationProtocolTagMismatch,
			"Revocation protocol %s does not match grant protocol %s", jsString(tag), orUndefined(grantProtocol))
	}
	return nil
}

func orUndefined(s string) string {
	if s == "" {
		return "undefined"
	}
	return s
}
