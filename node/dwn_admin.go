package node

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/anya-org/anya/dwn"
)

// The owner's DWN operations on the admin API. The node signs each message
// with its identity key (did:key, kid = DID#fragment) and processes it for
// its own DID, so the owner can use the DWN without a DWN client:
//
//	POST   /api/v0/dwn/records          body = data; ?dataFormat=&schema=&protocol=&protocolPath=
//	                                    &parentContextId=&recipient=&published=true&tag.<name>=<value>
//	POST   /api/v0/dwn/records/query    {filter, dateSort, limit, cursor}
//	GET    /api/v0/dwn/records/{id}     the data as the body, the reply in the dwn-response header
//	DELETE /api/v0/dwn/records/{id}     ?prune=true
//
// A DWN reply other than 2xx becomes an HTTP error of the same code whose
// body is {"error": "<detail>", "reply": <reply>}.

// DWNWriteRequest describes a record the node writes for its owner.
type DWNWriteRequest struct {
	// DataFormat defaults to the request's Content-Type, else
	// application/octet-stream.
	DataFormat      string
	Schema          string
	Protocol        string
	ProtocolPath    string
	ParentContextID string
	Recipient       string
	Published       bool
	// Tags: each value is a number or boolean when it reads as one in JSON
	// (3, 1.5, true), else a string; a name given more than once makes an
	// array.
	Tags map[string][]string
}

// DWNWriteResult is the body of POST /api/v0/dwn/records.
type DWNWriteResult struct {
	RecordID   string          `json:"recordId"`
	ContextID  string          `json:"contextId,omitempty"`
	MessageCID string          `json:"messageCid"`
	Reply      json.RawMessage `json:"reply"`
}

// DWNQueryRequest is the body of POST /api/v0/dwn/records/query: the
// RecordsQuery descriptor's filter, dateSort ("" = createdAscending) and
// pagination.
type DWNQueryRequest struct {
	Filter   map[string]any `json:"filter"`
	DateSort string         `json:"dateSort,omitempty"`
	Limit    int            `json:"limit,omitempty"`
	Cursor   *dwn.Cursor    `json:"cursor,omitempty"`
}

// DWNQueryResult is the RecordsQuery reply.
type DWNQueryResult struct {
	Status  dwn.Status        `json:"status"`
	Entries []json.RawMessage `json:"entries"`
	Cursor  *dwn.Cursor       `json:"cursor,omitempty"`
}

// dwnAdmin serves the routes; it needs only a processor and an author, so
// tests can run it over any dwn.Processor.
type dwnAdmin struct {
	proc   dwn.Processor
	author dwn.Author
	tenant string
	now    func() time.Time
	// remote reaches the DWN of another DID over libp2p (?peer=DID); nil
	// when the node has no p2p.
	remote func(ctx context.Context, did string) (dwn.Processor, error)
}

// dwnAdminRoutes registers the owner's DWN routes on the admin API.
func (n *Node) dwnAdminRoutes(handle func(pattern string, admin bool, h http.HandlerFunc)) {
	var proc dwn.Processor
	if n.dwn != nil {
		proc = n.dwn
	}
	(&dwnAdmin{proc: proc, author: dwn.KeyAuthor(n.did, n.identity), tenant: n.did, now: time.Now, remote: n.remoteDWN}).routes(handle)
}

func (d *dwnAdmin) routes(handle func(pattern string, admin bool, h http.HandlerFunc)) {
	handle("POST /api/v0/dwn/records", true, d.write)
	handle("POST /api/v0/dwn/records/query", true, d.query)
	handle("GET /api/v0/dwn/records/{id}", true, d.read)
	handle("DELETE /api/v0/dwn/records/{id}", true, d.delete)
}

// process runs msg and returns the reply, or writes an error and returns
// nil when building failed or the DWN is off.
func (d *dwnAdmin) process(w http.ResponseWriter, r *http.Request, msg json.RawMessage, err error, data io.Reader) *dwn.Reply {
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return nil
	}
	if d.proc == nil {
		writeError(w, http.StatusServiceUnavailable, "the DWN is not running")
		return nil
	}
	proc, tenant := d.proc, d.tenant
	if peerDID := r.URL.Query().Get("peer"); peerDID != "" {
		if d.remote == nil {
			writeError(w, http.StatusServiceUnavailable, "this node cannot reach peers")
			return nil
		}
		remote, err := d.remote(r.Context(), peerDID)
		if err != nil {
			writeError(w, http.StatusBadGateway, fmt.Sprintf("reach the DWN of %s: %v", peerDID, err))
			return nil
		}
		proc, tenant = remote, peerDID
	}
	reply := proc.ProcessMessage(r.Context(), tenant, msg, dwn.ProcessOptions{Data: data})
	if reply == nil {
		writeError(w, http.StatusInternalServerError, "the DWN gave no reply")
		return nil
	}
	return reply
}

// failed writes a non-2xx reply as an HTTP error and reports whether it did.
func failed(w http.ResponseWriter, reply *dwn.Reply) bool {
	if reply.Status.Code >= 200 && reply.Status.Code < 300 {
		return false
	}
	if reply.Data != nil {
		reply.Data.Close()
	}
	code := reply.Status.Code
	if code < 400 || code > 599 {
		code = http.StatusBadGateway
	}
	writeJSON(w, code, map[string]any{"error": fmt.Sprintf("DWN %d: %s", reply.Status.Code, reply.Status.Detail), "reply": reply})
	return true
}

func (d *dwnAdmin) write(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("record data over the API's limit of %d bytes (api.max_body_bytes); write larger records through the DWN endpoint", tooBig.Limit))
			return
		}
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	q := r.URL.Query()
	o := dwn.RecordsWriteOptions{
		Data:             data,
		DataFormat:       q.Get("dataFormat"),
		Schema:           q.Get("schema"),
		Protocol:         q.Get("protocol"),
		ProtocolPath:     q.Get("protocolPath"),
		ParentContextID:  q.Get("parentContextId"),
		Recipient:        q.Get("recipient"),
		MessageTimestamp: d.now(),
	}
	if o.DataFormat == "" {
		o.DataFormat = r.Header.Get("Content-Type")
	}
	if o.DataFormat == "" {
		o.DataFormat = "application/octet-stream"
	}
	if p := q.Get("published"); p != "" {
		if o.Published, err = strconv.ParseBool(p); err != nil {
			writeError(w, http.StatusBadRequest, "published: "+err.Error())
			return
		}
	}
	for k, vs := range q {
		name, ok := strings.CutPrefix(k, "tag.")
		if !ok {
			continue
		}
		if name == "" {
			writeError(w, http.StatusBadRequest, "tag with no name")
			return
		}
		if o.Tags == nil {
			o.Tags = map[string]any{}
		}
		o.Tags[name] = tagValue(vs)
	}
	msg, err := dwn.NewRecordsWrite(d.author, o)
	reply := d.process(w, r, msg, err, bytes.NewReader(data))
	if reply == nil || failed(w, reply) {
		return
	}
	m, err := dwn.ParseMessage(msg)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	c, err := m.CID()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	rb, _ := json.Marshal(reply)
	writeJSON(w, http.StatusOK, DWNWriteResult{RecordID: m.RecordID, ContextID: m.ContextID, MessageCID: c.String(), Reply: rb})
}

// ScalarFromText reads a value given as text, as tags are: a JSON number or
// boolean stays one, anything else is a string.
func ScalarFromText(s string) any {
	var v any
	d := json.NewDecoder(strings.NewReader(s))
	d.UseNumber()
	if d.Decode(&v) == nil && !d.More() {
		switch v.(type) {
		case json.Number, bool:
			return v
		}
	}
	return s
}

// tagValue types tag values given as text: a JSON number or boolean stays
// one, anything else is a string; several values make an array.
func tagValue(vs []string) any {
	one := ScalarFromText
	if len(vs) == 1 {
		return one(vs[0])
	}
	out := make([]any, len(vs))
	for i, s := range vs {
		out[i] = one(s)
	}
	return out
}

func (d *dwnAdmin) query(w http.ResponseWriter, r *http.Request) {
	var req DWNQueryRequest
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "request body is not a JSON object {filter, dateSort, limit, cursor}: "+err.Error())
		return
	}
	msg, err := dwn.NewRecordsQuery(&d.author, req.Filter, req.DateSort, req.Limit, req.Cursor, d.now())
	reply := d.process(w, r, msg, err, nil)
	if reply == nil || failed(w, reply) {
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

func (d *dwnAdmin) read(w http.ResponseWriter, r *http.Request) {
	msg, err := dwn.NewRecordsRead(&d.author, r.PathValue("id"), d.now())
	reply := d.process(w, r, msg, err, nil)
	if reply == nil || failed(w, reply) {
		return
	}
	data := reply.Data
	if data == nil {
		data = io.NopCloser(bytes.NewReader(nil))
	}
	defer data.Close()
	head, err := json.Marshal(reply)
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	var entry struct {
		RecordsWrite struct {
			Descriptor struct {
				DataFormat string `json:"dataFormat"`
				DataSize   *int64 `json:"dataSize"`
			} `json:"descriptor"`
		} `json:"recordsWrite"`
	}
	_ = json.Unmarshal(reply.Entry, &entry)
	ct := entry.RecordsWrite.Descriptor.DataFormat
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("dwn-response", string(head))
	if n := entry.RecordsWrite.Descriptor.DataSize; n != nil {
		w.Header().Set("Content-Length", strconv.FormatInt(*n, 10))
	}
	w.WriteHeader(http.StatusOK)
	_, _ = io.Copy(w, data)
}

func (d *dwnAdmin) delete(w http.ResponseWriter, r *http.Request) {
	prune := false
	if p := r.URL.Query().Get("prune"); p != "" {
		var err error
		if prune, err = strconv.ParseBool(p); err != nil {
			writeError(w, http.StatusBadRequest, "prune: "+err.Error())
			return
		}
	}
	msg, err := dwn.NewRecordsDelete(d.author, r.PathValue("id"), prune, d.now())
	reply := d.process(w, r, msg, err, nil)
	if reply == nil || failed(w, reply) {
		return
	}
	writeJSON(w, http.StatusOK, reply)
}

// DWNWrite writes a record through the node's admin API; data is the
// record's bytes.
func (c *Client) DWNWrite(ctx context.Context, req DWNWriteRequest, data io.Reader) (DWNWriteResult, error) {
	var res DWNWriteResult
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("dataFormat", req.DataFormat)
	set("schema", req.Schema)
	set("protocol", req.Protocol)
	set("protocolPath", req.ProtocolPath)
	set("parentContextId", req.ParentContextID)
	set("recipient", req.Recipient)
	if req.Published {
		q.Set("published", "true")
	}
	for k, vs := range req.Tags {
		for _, v := range vs {
			q.Add("tag."+k, v)
		}
	}
	path := "/api/v0/dwn/records"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	resp, err := c.do(ctx, "POST", path, "application/octet-stream", data)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	if err := decodeReply(resp, "POST", "/api/v0/dwn/records", &res); err != nil {
		return res, err
	}
	return res, nil
}

// DWNQuery queries the owner's records through the admin API.
func (c *Client) DWNQuery(ctx context.Context, req DWNQueryRequest) (DWNQueryResult, error) {
	var res DWNQueryResult
	err := c.Call(ctx, "POST", "/api/v0/dwn/records/query", req, &res)
	return res, err
}

// DWNRead reads a record through the admin API: the reply (without the
// data) and the data, which the caller must close.
func (c *Client) DWNRead(ctx context.Context, recordID string) (json.RawMessage, io.ReadCloser, error) {
	path := "/api/v0/dwn/records/" + url.PathEscape(recordID)
	resp, err := c.do(ctx, "GET", path, "", nil)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		return nil, nil, decodeReply(resp, "GET", path, nil)
	}
	return json.RawMessage(resp.Header.Get("dwn-response")), resp.Body, nil
}

// DWNDelete deletes a record through the admin API and returns the reply.
func (c *Client) DWNDelete(ctx context.Context, recordID string, prune bool) (json.RawMessage, error) {
	path := "/api/v0/dwn/records/" + url.PathEscape(recordID)
	if prune {
		path += "?prune=true"
	}
	var reply json.RawMessage
	err := c.Call(ctx, "DELETE", path, nil, &reply)
	return reply, err
}

// do sends a request with a raw body. Unlike Call it has no overall
// timeout, so that large bodies can stream; ctx bounds it.
func (c *Client) do(ctx context.Context, method, path, contentType string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.url(path), body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := *c.http
	client.Timeout = 0
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v", ErrNotRunning, c.base, err)
	}
	return resp, nil
}

// decodeReply decodes a 200 JSON reply into out, or turns another status
// into an error carrying the API's message, as Call does.
func decodeReply(resp *http.Response, method, path string, out any) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return fmt.Errorf("%s %s: %s", method, path, e.Error)
		}
		return fmt.Errorf("%s %s: HTTP %d", method, path, resp.StatusCode)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}
