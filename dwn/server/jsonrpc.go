package server

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/anya-org/anya/dwn"
	"unicode/utf8"
)

// JSON-RPC error codes, as dwn-server 0.6.1's lib/json-rpc.ts defines them.
const (
	CodeInvalidRequest = -32600
	CodeMethodNotFound = -32601
	CodeInvalidParams  = -32602
	CodeInternalError  = -32603
	CodeParseError     = -32700
	// CodeBadRequest is the app code equivalent to HTTP 400.
	CodeBadRequest = -50400
	// CodeUnauthorized is the app code equivalent to HTTP 401.
	CodeUnauthorized = -50401
	// CodeForbidden is the app code equivalent to HTTP 403.
	CodeForbidden = -50403
)

// JSON-RPC methods dwn-server 0.6.1 routes.
const (
	MethodProcessMessage   = "dwn.processMessage"
	MethodSubscribeMessage = "rpc.subscribe.dwn.processMessage"
	MethodSubscribeClose   = "rpc.subscribe.close"
	subscribePrefix        = "rpc.subscribe."
)

// Request is one JSON-RPC 2.0 request as dwn-server reads it, with the
// subscription extension of its WebSocket API.
type Request struct {
	JSONRPC string `json:"jsonrpc"`
	// ID is the request's id (string, number or null), kept as raw JSON so
	// it is echoed back exactly; nil when absent.
	ID     json.RawMessage `json:"id,omitempty"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params,omitempty"`
	// Subscription names a subscription (open or close) by the client's id.
	Subscription *SubscriptionRef `json:"subscription,omitempty"`
}

// SubscriptionRef is a request's "subscription" object.
type SubscriptionRef struct {
	ID json.RawMessage `json:"id"`
}

// ProcessParams are the params of dwn.processMessage and
// rpc.subscribe.dwn.processMessage.
type ProcessParams struct {
	Target  string          `json:"target"`
	Message json.RawMessage `json:"message"`
}

// Response is one JSON-RPC 2.0 response: Result or Error is set.
type Response struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Result  any             `json:"result,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}

// Error is a JSON-RPC error object.
type Error struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

// Error makes *Error an error.
func (e *Error) Error() string { return fmt.Sprintf("json-rpc error %d: %s", e.Code, e.Message) }

func rpcErr(code int, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ParseRequest parses a dwn-request header value or a WebSocket frame. Any
// error is a *Error with CodeBadRequest, the code dwn-server gives when
// JSON.parse fails; it also covers valid JSON that is not a request object
// (the reference accepts those and then never answers).
func ParseRequest(b []byte) (*Request, error) {
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, rpcErr(CodeBadRequest, "request payload required.")
	}
	var req Request
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, rpcErr(CodeBadRequest, "%s", err.Error())
	}
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil, rpcErr(CodeBadRequest, "request is null, not a JSON-RPC object")
	}
	if err := checkID(req.ID); err != nil {
		return nil, rpcErr(CodeBadRequest, "id: %s", err)
	}
	if req.Subscription != nil {
		if err := checkID(req.Subscription.ID); err != nil {
			return nil, rpcErr(CodeBadRequest, "subscription.id: %s", err)
		}
	}
	return &req, nil
}

// checkID admits a JSON-RPC id: a string, a number or null (or absent).
func checkID(id json.RawMessage) error {
	if len(id) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(id, &v); err != nil {
		return err
	}
	switch v.(type) {
	case nil, string, float64:
		return nil
	}
	return errors.New("must be a string, a number or null")
}

// responseID is the id to answer req with: its own, or a fresh UUID when it
// has none or null, as the reference does (`id ?? uuidv4()`).
func responseID(req *Request) json.RawMessage {
	if req != nil && len(req.ID) > 0 && !bytes.Equal(req.ID, []byte("null")) {
		return req.ID
	}
	return newUUID()
}

// newUUID gives a random (version 4) UUID as a JSON string.
func newUUID() json.RawMessage {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return json.RawMessage(`"` + h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] + `"`)
}

// subKey is the map key of a subscription id: its JSON re-encoded, so that
// "a" and "\u0061" are one id while "1" and 1 stay two, as in a JS Map.
func subKey(id json.RawMessage) string {
	var v any
	if err := json.Unmarshal(id, &v); err != nil {
		return string(id)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func success(id json.RawMessage, result any) *Response {
	return &Response{JSONRPC: "2.0", ID: id, Result: result}
}

// replyResult is the result of a processed message: {"reply": …}.
type replyResult struct {
	Reply *dwn.Reply `json:"reply"`
}

func replied(id json.RawMessage, reply *dwn.Reply) *Response {
	return success(id, replyResult{Reply: reply})
}

// encodeResponse writes a response as json.Marshal would, but a DWN reply
// through dwn.Reply.AppendJSON, which does not parse stored messages again.
func encodeResponse(resp *Response) ([]byte, error) {
	rr, ok := resp.Result.(replyResult)
	if !ok || rr.Reply == nil || resp.Error != nil {
		return json.Marshal(resp)
	}
	id := resp.ID
	if len(id) == 0 {
		id = json.RawMessage("null")
	}
	b := append([]byte(`{"jsonrpc":"2.0","id":`), id...)
	b = append(b, `,"result":{"reply":`...)
	b, err := rr.Reply.AppendJSON(b)
	if err != nil {
		return nil, err
	}
	return append(b, "}}"...), nil
}

func failure(id json.RawMessage, e *Error) *Response {
	return &Response{JSONRPC: "2.0", ID: id, Error: e}
}

// descriptorOf reads the interface and method of a DWN message. A missing
// message or descriptor is -32603, the code the reference's handler gives
// when it throws on `message.descriptor.interface`.
func descriptorOf(message json.RawMessage) (iface, method string, e *Error) {
	if len(message) == 0 || bytes.Equal(message, []byte("null")) {
		return "", "", rpcErr(CodeInternalError, "params.message is required")
	}
	var m struct {
		Descriptor *struct {
			Interface string `json:"interface"`
			Method    string `json:"method"`
		} `json:"descriptor"`
	}
	if err := json.Unmarshal(message, &m); err != nil {
		return "", "", rpcErr(CodeInternalError, "params.message is not a JSON object: %s", err)
	}
	if m.Descriptor == nil {
		return "", "", rpcErr(CodeInternalError, "params.message has no descriptor")
	}
	return m.Descriptor.Interface, m.Descriptor.Method, nil
}

// parseProcessParams reads and checks dwn.processMessage params.
func parseProcessParams(raw json.RawMessage, maxMessage int64) (*ProcessParams, *Error) {
	var p ProcessParams
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, rpcErr(CodeInvalidParams, "params: %s", err)
		}
	}
	if _, _, e := descriptorOf(p.Message); e != nil {
		return nil, e
	}
	if maxMessage > 0 && int64(len(p.Message)) > maxMessage {
		return nil, errMessageTooLarge(len(p.Message), maxMessage)
	}
	if p.Target == "" {
		return nil, rpcErr(CodeInvalidParams, "params.target is required: the DID of the tenant")
	}
	return &p, nil
}

func errMessageTooLarge(n int, limit int64) *Error {
	return rpcErr(CodeBadRequest, "message is %d bytes, over the %d-byte limit (dwn.max_message_size)", n, limit)
}

// asciiJSON marshals v as JSON with every non-ASCII character escaped, so
// that it can travel in an HTTP header (dwn-response) byte for byte.
func asciiJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	ascii := true
	for _, c := range b {
		if c >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return b, nil
	}
	out := make([]byte, 0, len(b)+64)
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r < utf8.RuneSelf:
			out = append(out, byte(r))
		case r > 0xffff:
			r -= 0x10000
			out = fmt.Appendf(out, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			out = fmt.Appendf(out, `\u%04x`, r)
		}
	}
	return out, nil
}
