package dwn

import (
	"context"
	"encoding/json"
	"math"
	"slices"
)

// recordsFilterOf returns the descriptor's filter and the parsed
// signature, after the checks RecordsQuery.parse and RecordsSubscribe.parse
// share.
func parseRecordsFilterMessage(m *Message, missingPathCode string) (map[string]any, *auth, error) {
	d := descriptorTree(m)
	filter, _ := d["filter"].(map[string]any)
	a, err := parseAuth(m, false)
	if err != nil {
		return nil, nil, err
	}
	if err := checkDelegatedGrantIntegrity(m, a); err != nil {
		return nil, nil, err
	}
	if a != nil && a.payload.ProtocolRole != "" {
		if _, ok := filter["protocolPath"]; !ok {
			what := "queries"
			if missingPathCode == "RecordsSubscribeFilterMissingRequiredProperties" {
				what = "subscriptions"
			}
			return nil, nil, newErr(missingPathCode, "Role-authorized %s must include `protocolPath` in the filter", what)
		}
	}
	if p, ok := filter["protocol"].(string); ok {
		if err := validateProtocolURL(p); err != nil {
			return nil, nil, err
		}
	}
	if s, ok := filter["schema"].(string); ok {
		if err := validateSchemaURL(s); err != nil {
			return nil, nil, err
		}
	}
	if err := validateTimestamp(m.Desc.MessageTimestamp); err != nil {
		return nil, nil, err
	}
	return filter, a, nil
}

func filterIncludesPublished(f map[string]any) bool {
	_, dp := f["datePublished"]
	return dp || f["published"] != false
}

func filterIncludesUnpublished(f map[string]any) bool {
	_, dp := f["datePublished"]
	_, p := f["published"]
	if !dp && !p {
		return true
	}
	return f["published"] == false
}

// filterAdmits is Records.shouldBuildUnpublished{Author,Recipient}Filter.
func filterAdmits(v any, did string) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == did
	case []any:
		return len(x) == 0 || slices.Contains(x, any(did))
	}
	return false
}

func with(f Filter, extra Filter) Filter {
	out := make(Filter, len(f)+len(extra))
	for k, v := range f {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// recordsVisibilityFilters builds the store filters of a records query or
// subscription (RecordsQueryHandler / RecordsSubscribeHandler): base plus
// what the caller may see. methods is the method condition.
func recordsVisibilityFilters(tenant string, filter map[string]any, base Filter, a *auth, latestOnly bool) []Filter {
	common := Filter{"interface": {Equal: "Records"}}
	for k, v := range base {
		common[k] = v
	}
	if latestOnly {
		common["isLatestBaseState"] = Condition{Equal: true}
	}
	if a == nil && filterIncludesPublished(filter) {
		return []Filter{with(common, Filter{"published": {Equal: true}})}
	}
	if a != nil && a.author == tenant {
		return []Filter{common}
	}
	var fs []Filter
	if filterIncludesPublished(filter) {
		fs = append(fs, with(common, Filter{"published": {Equal: true}}))
	}
	if filterIncludesUnpublished(filter) && a != nil {
		if filterAdmits(filter["author"], a.author) {
			fs = append(fs, with(common, Filter{"author": {Equal: a.author}, "published": {Equal: false}}))
		}
		if a.payload.ProtocolRole != "" {
			fs = append(fs, with(common, Filter{"published": {Equal: false}}))
		}
		if filterAdmits(filter["recipient"], a.author) {
			fs = append(fs, with(common, Filter{"recipient": {Equal: a.author}, "published": {Equal: false}}))
		}
	}
	return fs
}

// authorizeFilterAccess checks a RecordsQuery or RecordsSubscribe: an
// anonymous filter for published records needs nothing; otherwise the
// author must sign, a delegate must hold its grant, and an invoked
// protocol role must allow the action.
func (d *DWN) authorizeFilterAccess(ctx context.Context, tenant string, m *Message, filter map[string]any, a *auth, action string) error {
	if filterIncludesPublished(filter) && a == nil {
		return nil
	}
	if err := d.authenticate(ctx, a); err != nil {
		return err
	}
	if a.delegated {
		if err := d.authorizeDelegate(ctx, tenant, m, a, nil); err != nil {
			return err
		}
	}
	if a.payload.ProtocolRole != "" {
		return d.authorizeByProtocol(ctx, tenant, action, m, a, nil)
	}
	return nil
}

func (d *DWN) recordsQuery(ctx context.Context, tenant string, m *Message) *Reply {
	desc := descriptorTree(m)
	dateSort, _ := desc["dateSort"].(string)
	if filter, _ := desc["filter"].(map[string]any); filter["published"] == false && (dateSort == "publishedAscending" || dateSort == "publishedDescending") {
		return errReply(400, newErr("RecordsQueryParseFilterPublishedSortInvalid", "queries must not filter for `published:false` and sort by %s", dateSort))
	}
	filter, a, err := parseRecordsFilterMessage(m, "RecordsQueryFilterMissingRequiredProperties")
	if err != nil {
		return errReply(400, err)
	}
	if err := d.authorizeFilterAccess(ctx, tenant, m, filter, a, "query"); err != nil {
		return errReply(401, err)
	}
	base := convertRecordsFilter(filter, dateSort)
	base["method"] = Condition{Equal: "Write"}
	filters := recordsVisibilityFilters(tenant, filter, base, a, true)
	sort := Sort{Property: "dateCreated"}
	switch dateSort {
	case "createdDescending":
		sort.Descending = true
	case "publishedAscending":
		sort.Property = "datePublished"
	case "publishedDescending":
		sort = Sort{Property: "datePublished", Descending: true}
	}
	page := Page{}
	if p, ok := desc["pagination"].(map[string]any); ok {
		if n, ok := p["limit"].(json.Number); ok {
			f, _ := n.Float64()
			page.Limit = int(math.Min(math.Ceil(f), math.MaxInt32))
		}
		if c, ok := p["cursor"].(map[string]any); ok {
			cid, _ := c["messageCid"].(string)
			v, _ := indexValue(c["value"])
			page.Cursor = &Cursor{MessageCID: cid, Value: v}
		}
	}
	if len(filters) == 0 {
		return &Reply{Status: Status{Code: 200, Detail: detailOK}, Entries: []json.RawMessage{}}
	}
	// The results are RecordsWrites (the filters say method Write): what the
	// reply needs of each is in its indexes, so the stored messages are not
	// parsed again.
	results, cursor, err := d.messages.Query(ctx, tenant, filters, sort, page)
	if err != nil {
		return d.internal("query records", err)
	}
	entries := make([]json.RawMessage, 0, len(results))
	for _, r := range results {
		e := r.Message
		latest, _ := r.Indexes["isLatestBaseState"].(bool)
		size, hasSize := r.Indexes["dataSize"].(float64)
		if r.EncodedData != "" || latest && hasSize && size <= MaxEncodedDataSize {
			e = withField(e, "encodedData", jsonString(r.EncodedData))
		}
		recordID, _ := r.Indexes["recordId"].(string)
		if entryID, _ := r.Indexes["entryId"].(string); entryID == "" || entryID != recordID {
			iw, err := d.initialWrite(ctx, tenant, recordID)
			if err != nil {
				return d.internal("query initial write", err)
			}
			if iw != nil {
				e = withField(e, "initialWrite", iw.sm.Message)
			}
		}
		entries = append(entries, e)
	}
	return &Reply{Status: Status{Code: 200, Detail: detailOK}, Entries: entries, Cursor: cursor}
}

// withData is the stored message with its inline data as encodedData, as
// events carry an initial write.
func (s *stored) withData() []byte {
	if s.sm.EncodedData == "" {
		return s.sm.Message
	}
	return withField(s.sm.Message, "encodedData", jsonString(s.sm.EncodedData))
}

// jsonString is json.Marshal of a string, with a fast path for strings
// that need no escaping (base64url data).
func jsonString(s string) []byte {
	plain := true
	for i := 0; i < len(s) && plain; i++ {
		c := s[i]
		plain = c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	if !plain {
		q, _ := json.Marshal(s)
		return q
	}
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
