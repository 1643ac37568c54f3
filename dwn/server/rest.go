package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/anya-org/anya/dwn"
)

// routes registers dwn-server's anonymous REST routes. Each builds an
// unsigned message, as the reference's RecordsRead.create and friends do
// without a signer, so it sees published records only.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /{did}/records/{id}", s.handleRecordsRead)
	s.mux.HandleFunc("GET /{did}/read/records/{id}", s.handleRecordsRead)
	s.mux.HandleFunc("GET /{did}/query", s.handleRecordsQuery)
	s.mux.HandleFunc("GET /{did}/query/protocols", s.handleProtocolsQuery)
	s.mux.HandleFunc("GET /{did}/read/protocols/{protocol}", s.handleReadProtocol)
	s.mux.HandleFunc("GET /{did}/read/protocols/{protocol}/{path...}", s.handleReadProtocolPath)
}

// anonymous builds an unsigned message of interface and method whose
// descriptor holds fields besides interface, method and messageTimestamp.
func (s *Server) anonymous(iface, method string, fields map[string]any) json.RawMessage {
	d := map[string]any{
		"interface":        iface,
		"method":           method,
		"messageTimestamp": dwn.Timestamp(s.opts.Now()),
	}
	for k, v := range fields {
		d[k] = v
	}
	b, _ := json.Marshal(map[string]any{"descriptor": d}) // maps of strings, numbers, booleans
	return b
}

// process runs an anonymous message; a nil reply becomes a 500 reply.
func (s *Server) process(r *http.Request, message json.RawMessage) *dwn.Reply {
	reply := s.p.ProcessMessage(r.Context(), r.PathValue("did"), message, dwn.ProcessOptions{})
	if reply == nil {
		return &dwn.Reply{Status: dwn.Status{Code: http.StatusInternalServerError, Detail: "the DWN gave no reply"}}
	}
	return reply
}

// handleRecordsRead serves GET /{did}/records/{id} and /{did}/read/records/{id}.
func (s *Server) handleRecordsRead(w http.ResponseWriter, r *http.Request) {
	msg := s.anonymous("Records", "Read", map[string]any{"filter": map[string]any{"recordId": r.PathValue("id")}})
	s.writeRead(w, s.process(r, msg))
}

// writeRead answers with a RecordsRead reply as the reference's
// readReplyHandler: the data as the body, typed by the record's dataFormat,
// the bare reply in dwn-response; 401 becomes 404; a 200 without data 400.
func (s *Server) writeRead(w http.ResponseWriter, reply *dwn.Reply) {
	if reply.Data != nil {
		defer reply.Data.Close()
	}
	switch {
	case reply.Status.Code == http.StatusUnauthorized:
		sendStatus(w, http.StatusNotFound)
		return
	case reply.Status.Code != http.StatusOK:
		writeJSON(w, httpStatus(reply.Status.Code), reply)
		return
	case reply.Data == nil:
		sendStatus(w, http.StatusBadRequest)
		return
	}
	head, err := asciiJSON(reply)
	if err != nil {
		sendStatus(w, http.StatusInternalServerError)
		return
	}
	var entry struct {
		RecordsWrite struct {
			Descriptor struct {
				DataFormat string `json:"dataFormat"`
			} `json:"descriptor"`
		} `json:"recordsWrite"`
	}
	_ = json.Unmarshal(reply.Entry, &entry)
	format := entry.RecordsWrite.Descriptor.DataFormat
	if format == "" {
		format = "application/octet-stream"
	}
	w.Header().Set("Content-Type", format)
	w.Header().Set("dwn-response", string(head))
	w.WriteHeader(http.StatusOK)
	s.stream(w, reply.Data)
}

// handleRecordsQuery serves GET /{did}/query?filter.x=…&pagination.limit=…&dateSort=…
// with the bare reply, whatever its code, as the reference.
func (s *Server) handleRecordsQuery(w http.ResponseWriter, r *http.Request) {
	opts := dotParams(r.URL.Query())
	filter, _ := opts["filter"].(map[string]any)
	if len(filter) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "a query needs at least one filter.<property> parameter"})
		return
	}
	if err := normalizeFilter(filter); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	fields := map[string]any{"filter": filter}
	if p, ok := opts["pagination"].(map[string]any); ok {
		if n, err := strconv.Atoi(str(p["limit"])); err == nil {
			p["limit"] = n
		}
		fields["pagination"] = p
	}
	if ds, ok := opts["dateSort"].(string); ok {
		fields["dateSort"] = ds
	}
	reply := s.process(r, s.anonymous("Records", "Query", fields))
	if reply.Data != nil {
		_ = reply.Data.Close()
	}
	writeJSON(w, http.StatusOK, reply)
}

// handleProtocolsQuery serves GET /{did}/query/protocols: the array of
// published ProtocolsConfigure messages.
func (s *Server) handleProtocolsQuery(w http.ResponseWriter, r *http.Request) {
	reply := s.process(r, s.anonymous("Protocols", "Query", nil))
	if reply.Data != nil {
		_ = reply.Data.Close()
	}
	switch reply.Status.Code {
	case http.StatusOK:
		entries := reply.Entries
		if entries == nil {
			entries = []json.RawMessage{}
		}
		writeJSON(w, http.StatusOK, entries)
	case http.StatusUnauthorized:
		sendStatus(w, http.StatusNotFound)
	default:
		sendStatus(w, httpStatus(reply.Status.Code))
	}
}

// handleReadProtocol serves GET /{did}/read/protocols/{b64url protocol}:
// the protocol's ProtocolsConfigure message.
func (s *Server) handleReadProtocol(w http.ResponseWriter, r *http.Request) {
	protocol, err := protocolParam(r)
	if err != nil {
		sendStatus(w, http.StatusBadRequest)
		return
	}
	reply := s.process(r, s.anonymous("Protocols", "Query", map[string]any{"filter": map[string]any{"protocol": protocol}}))
	if reply.Data != nil {
		_ = reply.Data.Close()
	}
	switch {
	case reply.Status.Code == http.StatusOK && len(reply.Entries) > 0:
		writeJSON(w, http.StatusOK, reply.Entries[0])
	case reply.Status.Code == http.StatusOK, reply.Status.Code == http.StatusUnauthorized:
		sendStatus(w, http.StatusNotFound)
	default:
		sendStatus(w, httpStatus(reply.Status.Code))
	}
}

// handleReadProtocolPath serves GET /{did}/read/protocols/{b64url protocol}/{path...}:
// the data of the newest published record at that protocol path; the query
// string may add filter.* properties.
func (s *Server) handleReadProtocolPath(w http.ResponseWriter, r *http.Request) {
	path := strings.Trim(r.PathValue("path"), "/")
	if path == "" {
		http.Error(w, "protocol path is required", http.StatusBadRequest)
		return
	}
	protocol, err := protocolParam(r)
	if err != nil {
		sendStatus(w, http.StatusBadRequest)
		return
	}
	filter, _ := dotParams(r.URL.Query())["filter"].(map[string]any)
	if filter == nil {
		filter = map[string]any{}
	}
	if err := normalizeFilter(filter); err != nil {
		sendStatus(w, http.StatusBadRequest)
		return
	}
	filter["protocol"] = protocol
	filter["protocolPath"] = path
	query := s.anonymous("Records", "Query", map[string]any{
		"filter":     filter,
		"pagination": map[string]any{"limit": 1},
		"dateSort":   "publishedDescending",
	})
	reply := s.process(r, query)
	if reply.Data != nil {
		_ = reply.Data.Close()
	}
	switch {
	case reply.Status.Code == http.StatusOK && len(reply.Entries) > 0:
	case reply.Status.Code == http.StatusOK, reply.Status.Code == http.StatusUnauthorized:
		sendStatus(w, http.StatusNotFound)
		return
	default:
		sendStatus(w, httpStatus(reply.Status.Code))
		return
	}
	var entry struct {
		RecordID string `json:"recordId"`
	}
	if err := json.Unmarshal(reply.Entries[0], &entry); err != nil || entry.RecordID == "" {
		sendStatus(w, http.StatusNotFound)
		return
	}
	read := s.anonymous("Records", "Read", map[string]any{"filter": map[string]any{"recordId": entry.RecordID}})
	s.writeRead(w, s.process(r, read))
}

// protocolParam decodes the base64url {protocol} segment and normalizes it.
func protocolParam(r *http.Request) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(r.PathValue("protocol"), "="))
	if err != nil {
		return "", err
	}
	return normalizeURL(string(raw))
}

// dotParams turns query parameters with dot-separated names into nested
// objects ("filter.protocol=x" gives {"filter":{"protocol":"x"}}); a
// repeated parameter gives an array, as Express's qs parser does. Where a
// name is both a value and a parent, the first in sorted order wins.
func dotParams(q url.Values) map[string]any {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := map[string]any{}
	for _, k := range keys {
		var v any = q[k][0]
		if len(q[k]) > 1 {
			v = append([]string(nil), q[k]...)
		}
		parts := strings.Split(k, ".")
		obj := out
		for _, p := range parts[:len(parts)-1] {
			next, ok := obj[p].(map[string]any)
			if !ok {
				if _, taken := obj[p]; taken {
					obj = nil
					break
				}
				next = map[string]any{}
				obj[p] = next
			}
			obj = next
		}
		if obj != nil {
			if _, taken := obj[parts[len(parts)-1]]; !taken {
				obj[parts[len(parts)-1]] = v
			}
		}
	}
	return out
}

// normalizeFilter types the filter properties the RecordsQuery schema wants
// as booleans or numbers (query strings are all strings; the reference
// passes them on as strings, which its schema then rejects) and normalizes
// protocol and schema URLs as Records.normalizeFilter does.
func normalizeFilter(f map[string]any) error {
	if b, err := strconv.ParseBool(str(f["published"])); err == nil {
		f["published"] = b
	}
	if size, ok := f["dataSize"].(map[string]any); ok {
		for _, k := range []string{"gt", "gte", "lt", "lte"} {
			if n, err := strconv.ParseInt(str(size[k]), 10, 64); err == nil {
				size[k] = n
			}
		}
	}
	for _, k := range []string{"protocol", "schema"} {
		if v, ok := f[k].(string); ok {
			n, err := normalizeURL(v)
			if err != nil {
				return err
			}
			f[k] = n
		}
	}
	return nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

var hasScheme = regexp.MustCompile(`^[^:]+:(//)?[^/]`)

// normalizeURL is dwn-sdk-js's normalizeUrl: add "http://" when there is no
// scheme, drop the query and fragment and a trailing slash.
func normalizeURL(s string) (string, error) {
	full := s
	if !hasScheme.MatchString(s) {
		full = "http://" + s
	}
	u, err := url.Parse(full)
	if err != nil || u.Scheme == "" {
		return "", errors.New("could not normalize protocol URI")
	}
	u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = "", false, "", ""
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	return strings.TrimSuffix(u.String(), "/"), nil
}

// httpStatus maps a DWN code to an HTTP status; codes outside HTTP's range
// become 500.
func httpStatus(code int) int {
	if code < 100 || code > 599 {
		return http.StatusInternalServerError
	}
	return code
}

// sendStatus answers like Express's res.sendStatus: the status text as body.
func sendStatus(w http.ResponseWriter, code int) {
	http.Error(w, http.StatusText(code), code)
}
