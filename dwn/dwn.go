package dwn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/anya-org/anya/did"
)

// MaxEncodedDataSize is the largest record data kept inline in the message
// store as base64url encodedData (dwn-sdk-js
// DwnConstant.maxDataSizeAllowedToBeEncoded); larger data goes to the
// DataStore.
const MaxEncodedDataSize = 30000

// Options are what New needs.
type Options struct {
	Messages MessageStore
	Events   EventLog
	Data     DataStore
	// Resolver resolves the DIDs of signers.
	Resolver did.Resolver
	// Owner is the node's DID: always a tenant.
	Owner string
	// Config holds the tenant list and size limits.
	Config Config
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
}

// DWN is the message processor: it validates, authorizes and applies DWN
// messages with the semantics of dwn-sdk-js 0.5.2. It is safe for
// concurrent use.
type DWN struct {
	messages MessageStore
	events   EventLog
	data     DataStore
	verifier *Verifier
	owner    string
	cfg      Config
	now      func() time.Time
	log      *slog.Logger
	stream   *eventStream

	// batcher applies a handler's change in one batch; nil when the
	// stores are not the embedded ones on one database.
	batcher *pebbleBatcher

	// locks makes the read-compare-write of "newest message wins" atomic.
	// A handler whose reads and writes stay within one record (a RecordsWrite
	// outside any protocol) holds its tenant's lock shared and the record's
	// lock; every other mutating handler holds its tenant's lock exclusively.
	locksMu sync.Mutex
	locks   map[string]*tenantLock
}

type tenantLock struct {
	rw      sync.RWMutex
	refs    int
	records map[string]*recordLock
}

type recordLock struct {
	mu   sync.Mutex
	refs int
}

// New returns a DWN over the given stores.
func New(opts Options) (*DWN, error) {
	if opts.Messages == nil || opts.Events == nil || opts.Data == nil {
		return nil, errors.New("dwn: New: Messages, Events and Data stores are required")
	}
	if opts.Resolver == nil {
		return nil, errors.New("dwn: New: no DID resolver")
	}
	d := &DWN{
		messages: opts.Messages,
		events:   opts.Events,
		data:     opts.Data,
		owner:    opts.Owner,
		cfg:      opts.Config,
		now:      opts.Now,
		log:      opts.Logger,
		stream:   newEventStream(),
		locks:    make(map[string]*tenantLock),
		batcher:  newPebbleBatcher(opts.Messages, opts.Events),
	}
	if d.now == nil {
		d.now = time.Now
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	if d.cfg.MaxMessageSize <= 0 || d.cfg.MaxMessageSize > MaxMessageSize {
		d.cfg.MaxMessageSize = MaxMessageSize
	}
	if d.cfg.MaxDataSize <= 0 {
		d.cfg.MaxDataSize = DefaultConfig().MaxDataSize
	}
	d.verifier = NewVerifier(opts.Resolver, VerifierOptions{Now: d.now})
	return d, nil
}

// Close ends every live subscription. The stores are the caller's to close.
func (d *DWN) Close() error {
	d.stream.close()
	return nil
}

var _ Processor = (*DWN)(nil)

// ProcessMessage processes one message for tenant and returns its reply,
// never nil. The order of checks is the reference's: the tenant gate, the
// message's shape (ParseMessage and the JSON schema of its interface and
// method), then the handler of the interface and method.
func (d *DWN) ProcessMessage(ctx context.Context, tenant string, message json.RawMessage, opts ProcessOptions) *Reply {
	if !d.cfg.Serves(d.owner, tenant) {
		return &Reply{Status: Status{Code: 401, Detail: fmt.Sprintf("DID %s is not an active tenant.", tenant)}}
	}
	if int64(len(message)) > d.cfg.MaxMessageSize {
		return errReply(400, newErr(codeSchemaValidatorFailure, "message is %d bytes, more than the limit %d", len(message), d.cfg.MaxMessageSize))
	}
	m, err := ParseMessage(message)
	if err != nil {
		return errReply(400, newErr(codeSchemaValidatorFailure, "%s", parseErrText(err)))
	}
	if err := validateSchema(m); err != nil {
		return errReply(400, err)
	}
	var r *Reply
	switch m.Desc.Interface + m.Desc.Method {
	case "RecordsWrite":
		r = d.recordsWrite(ctx, tenant, m, opts.Data)
	case "RecordsRead":
		r = d.recordsRead(ctx, tenant, m)
	case "RecordsQuery":
		r = d.recordsQuery(ctx, tenant, m)
	case "RecordsDelete":
		r = d.recordsDelete(ctx, tenant, m)
	case "RecordsSubscribe":
		r = d.recordsSubscribe(ctx, tenant, m, opts.Events)
	case "ProtocolsConfigure":
		r = d.protocolsConfigure(ctx, tenant, m)
	case "ProtocolsQuery":
		r = d.protocolsQuery(ctx, tenant, m)
	case "MessagesQuery":
		r = d.messagesQuery(ctx, tenant, m)
	case "MessagesRead":
		r = d.messagesRead(ctx, tenant, m)
	case "MessagesSubscribe":
		r = d.messagesSubscribe(ctx, tenant, m, opts.Events)
	default: // validateSchema refuses anything else
		r = errReply(400, newErr("SchemaValidatorSchemaNotFound", "schema for %s%s not found.", m.Desc.Interface, m.Desc.Method))
	}
	if r == nil {
		r = &Reply{Status: Status{Code: 500, Detail: "internal error"}}
	}
	return r
}

// parseErrText strips the Go error prefix of a ParseMessage error.
func parseErrText(err error) string {
	s := err.Error()
	for _, p := range []string{ErrInvalidMessage.Error() + ": ", ErrMessageTooLarge.Error() + ": "} {
		if len(s) > len(p) && s[:len(p)] == p {
			return s[len(p):]
		}
	}
	return s
}

// lockTenant serialises the mutating handlers of a tenant; call the result
// to unlock.
func (d *DWN) lockTenant(tenant string) func() {
	d.locksMu.Lock()
	l := d.tenantLockRef(tenant)
	d.locksMu.Unlock()
	l.rw.Lock()
	return func() {
		l.rw.Unlock()
		d.locksMu.Lock()
		d.tenantLockUnref(tenant, l)
		d.locksMu.Unlock()
	}
}

// lockRecord serialises the handlers of one record of a tenant, and
// excludes the handlers that hold the tenant's lock; call the result to
// unlock. Only a handler that reads and writes nothing but the record's own
// messages (and data) may use it instead of lockTenant.
func (d *DWN) lockRecord(tenant, recordID string) func() {
	d.locksMu.Lock()
	l := d.tenantLockRef(tenant)
	if l.records == nil {
		l.records = make(map[string]*recordLock)
	}
	r := l.records[recordID]
	if r == nil {
		r = &recordLock{}
		l.records[recordID] = r
	}
	r.refs++
	d.locksMu.Unlock()
	l.rw.RLock()
	r.mu.Lock()
	return func() {
		r.mu.Unlock()
		l.rw.RUnlock()
		d.locksMu.Lock()
		r.refs--
		if r.refs == 0 {
			delete(l.records, recordID)
		}
		d.tenantLockUnref(tenant, l)
		d.locksMu.Unlock()
	}
}

// tenantLockRef returns the tenant's lock and counts a user; locksMu is held.
func (d *DWN) tenantLockRef(tenant string) *tenantLock {
	l := d.locks[tenant]
	if l == nil {
		l = &tenantLock{}
		d.locks[tenant] = l
	}
	l.refs++
	return l
}

// tenantLockUnref drops a user of the tenant's lock; locksMu is held.
func (d *DWN) tenantLockUnref(tenant string, l *tenantLock) {
	l.refs--
	if l.refs == 0 {
		delete(d.locks, tenant)
	}
}

// Reply details of success, as the reference writes them.
const (
	detailOK        = "OK"
	detailAccepted  = "Accepted"
	detailNoContent = "No Content"
	detailNotFound  = "Not Found"
	detailConflict  = "Conflict"
)

func statusReply(code int, detail string) *Reply {
	return &Reply{Status: Status{Code: code, Detail: detail}}
}

// Error is a DWN error with a dwn-sdk-js DwnErrorCode; its text,
// "<Code>: <Message>", is a reply's detail.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func newErr(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// errReply makes an error reply. A *JWSError or *Error keeps its text; a
// store failure becomes a 500 whose detail does not leak internals.
func errReply(code int, err error) *Reply {
	var de *Error
	var je *JWSError
	switch {
	case errors.As(err, &de):
		return statusReply(code, de.Error())
	case errors.As(err, &je):
		return statusReply(code, je.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return statusReply(500, "Error: "+err.Error())
	}
	if code >= 400 && code < 500 {
		if pe, ok := asProtocolError(err); ok {
			return statusReply(code, pe)
		}
		return statusReply(code, err.Error())
	}
	return statusReply(code, err.Error())
}

// internal makes the reply of an unexpected (store) failure.
func (d *DWN) internal(what string, err error) *Reply {
	d.log.Warn("dwn: store failure", "op", what, "err", err)
	return statusReply(500, fmt.Sprintf("Error: %s: %v", what, err))
}
