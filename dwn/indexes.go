package dwn

import (
	"encoding/json"
	"slices"
)

// indexValue converts a JSON data-model value to an index value: numbers
// become float64 (DWN numbers are JavaScript numbers), arrays []any of
// scalars.
func indexValue(v any) (any, bool) {
	switch x := v.(type) {
	case string, bool:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	case []any:
		out := make([]any, 0, len(x))
		for _, e := range x {
			iv, ok := indexValue(e)
			if !ok {
				return nil, false
			}
			out = append(out, iv)
		}
		return out, true
	}
	return nil, false
}

func descriptorTree(m *Message) map[string]any {
	d, _ := m.Tree()["descriptor"].(map[string]any)
	return d
}

// recordsWriteIndexes are the indexes of a RecordsWrite (RecordsWrite
// constructIndexes): every descriptor property but tags and published,
// isLatestBaseState, published (default false), author, recordId, entryId,
// attester, contextId, and tag.<name> for the latest base state.
func recordsWriteIndexes(m *Message, author, attester string, isLatest bool) (Indexes, error) {
	ix := Indexes{}
	for k, v := range descriptorTree(m) {
		if k == "tags" || k == "published" {
			continue
		}
		if iv, ok := indexValue(v); ok {
			ix[k] = iv
		}
	}
	ix["isLatestBaseState"] = isLatest
	ix["published"] = m.Desc.IsPublished()
	ix["author"] = author
	ix["recordId"] = m.RecordID
	eid, err := m.EntryID(author)
	if err != nil {
		return nil, err
	}
	ix["entryId"] = eid.String()
	if isLatest {
		for k, v := range m.Desc.Tags {
			if iv, ok := indexValue(v); ok {
				ix["tag."+k] = iv
			}
		}
	}
	if attester != "" {
		ix["attester"] = attester
	}
	if _, ok := m.Tree()["contextId"]; ok {
		ix["contextId"] = m.ContextID
	}
	return ix, nil
}

// recordsDeleteIndexes are the indexes of a RecordsDelete: its descriptor,
// the immutable properties of the initial write, and the author.
func recordsDeleteIndexes(m *Message, author string, initial *Message) Indexes {
	ix := Indexes{"isLatestBaseState": true}
	if initial != nil {
		id := descriptorTree(initial)
		for _, k := range []string{"protocol", "protocolPath", "recipient", "schema", "parentId", "dateCreated"} {
			if v, ok := id[k].(string); ok {
				ix[k] = v
			}
		}
		if _, ok := initial.Tree()["contextId"]; ok {
			ix["contextId"] = initial.ContextID
		}
	}
	ix["author"] = author
	for k, v := range descriptorTree(m) {
		if iv, ok := indexValue(v); ok {
			ix[k] = iv
		}
	}
	return ix
}

// protocolsConfigureIndexes: the descriptor without definition, author,
// and the definition's protocol and published.
func protocolsConfigureIndexes(m *Message, author string) Indexes {
	ix := Indexes{}
	d := descriptorTree(m)
	for k, v := range d {
		if k == "definition" {
			continue
		}
		if iv, ok := indexValue(v); ok {
			ix[k] = iv
		}
	}
	ix["author"] = author
	if def, ok := d["definition"].(map[string]any); ok {
		if p, ok := def["protocol"].(string); ok {
			ix["protocol"] = p
		}
		if p, ok := def["published"].(bool); ok {
			ix["published"] = p
		}
	}
	return ix
}

// rangeCond converts a {gt,gte,lt,lte} object.
func rangeCond(m map[string]any) Condition {
	var c Condition
	for k, v := range m {
		iv, _ := indexValue(v)
		switch k {
		case "gt":
			c.GT = iv
		case "gte":
			c.GTE = iv
		case "lt":
			c.LT = iv
		case "lte":
			c.LTE = iv
		}
	}
	return c
}

// dateRangeCond converts {from, to}: from is inclusive, to exclusive
// (FilterUtility.convertRangeCriterion).
func dateRangeCond(m map[string]any) Condition {
	var c Condition
	if f, ok := m["from"].(string); ok {
		c.GTE = f
	}
	if t, ok := m["to"].(string); ok {
		c.LT = t
	}
	return c
}

func prefixCond(p string) Condition {
	if p == "" {
		return Condition{GTE: ""}
	}
	return Condition{StartsWith: p}
}

// convertRecordsFilter is Records.convertFilter: a RecordsQuery/Read/
// Subscribe filter as a store Filter.
func convertRecordsFilter(f map[string]any, dateSort string) Filter {
	out := Filter{}
	for k, v := range f {
		switch k {
		case "tags":
			tags, _ := v.(map[string]any)
			for name, tv := range tags {
				if obj, ok := tv.(map[string]any); ok {
					if sw, ok := obj["startsWith"].(string); ok {
						out["tag."+name] = prefixCond(sw)
					} else {
						out["tag."+name] = rangeCond(obj)
					}
				} else if iv, ok := indexValue(tv); ok {
					out["tag."+name] = Condition{Equal: iv}
				}
			}
		case "dateCreated":
			out["dateCreated"] = dateRangeCond(v.(map[string]any))
		case "datePublished":
			out["datePublished"] = dateRangeCond(v.(map[string]any))
			out["published"] = Condition{Equal: true}
		case "dateUpdated":
			out["messageTimestamp"] = dateRangeCond(v.(map[string]any))
		case "dataSize":
			out["dataSize"] = rangeCond(v.(map[string]any))
		case "contextId":
			s, _ := v.(string)
			if s == "" {
				out["contextId"] = Condition{Equal: ""}
			} else {
				out["contextId"] = prefixCond(s)
			}
		case "author", "recipient":
			if arr, ok := v.([]any); ok {
				if len(arr) > 0 {
					out[k] = Condition{OneOf: slices.Clone(arr)}
				}
				continue
			}
			out[k] = Condition{Equal: v}
		default:
			if _, done := out[k]; done && k == "published" {
				continue // datePublished already forced published:true
			}
			if iv, ok := indexValue(v); ok {
				out[k] = Condition{Equal: iv}
			}
		}
	}
	if _, hasDP := f["datePublished"]; hasDP {
		out["published"] = Condition{Equal: true}
	}
	if c, ok := out["published"]; !(ok && c.Equal == true) && (dateSort == "publishedAscending" || dateSort == "publishedDescending") {
		out["published"] = Condition{Equal: true}
	}
	return out
}

// convertMessagesFilters is Messages.convertFilters: each filter, plus, for
// a filter with a protocol, the permission records tagged with it.
func convertMessagesFilters(filters []any) []Filter {
	var out []Filter
	for _, x := range filters {
		f, _ := x.(map[string]any)
		if p, ok := f["protocol"].(string); ok {
			pf := Filter{"protocol": {Equal: PermissionsProtocolURI}, "tag.protocol": {Equal: p}}
			if ts, ok := f["messageTimestamp"].(map[string]any); ok {
				pf["messageTimestamp"] = dateRangeCond(ts)
			}
			out = append(out, pf)
		}
		cf := Filter{}
		for k, v := range f {
			if k == "messageTimestamp" {
				cf[k] = dateRangeCond(v.(map[string]any))
				continue
			}
			if iv, ok := indexValue(v); ok {
				cf[k] = Condition{Equal: iv}
			}
		}
		out = append(out, cf)
	}
	return out
}

// withField returns the JSON object obj with "key": value appended.
func withField(obj []byte, key string, value []byte) []byte {
	i := len(obj) - 1
	for i >= 0 && obj[i] != '}' {
		i--
	}
	if i < 0 {
		return obj
	}
	out := make([]byte, 0, len(obj)+len(key)+len(value)+4)
	out = append(out, obj[:i]...)
	j := i - 1
	for j >= 0 && (obj[j] == ' ' || obj[j] == '\n' || obj[j] == '\t' || obj[j] == '\r') {
		j--
	}
	if j >= 0 && obj[j] != '{' {
		out = append(out, ',')
	}
	k, _ := json.Marshal(key)
	out = append(out, k...)
	out = append(out, ':')
	out = append(out, value...)
	out = append(out, '}')
	return out
}
