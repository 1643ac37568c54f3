// Package dwnsync replicates one tenant's DWN messages between DWNs of the
// same owner, as web5-js's SyncEngineLevel does: for each (peer,
// direction) a persisted MessagesQuery cursor, then one MessagesRead per
// message, each applied to the other side in event-log order. It pages
// with Anya's MessagesQuery "limit" extension; a reference server, which
// ignores it, answers with everything after the cursor in one page.
//
// Replies 202 and 204 mean the message was applied, 409 that the receiver
// already had it (or something newer), and so does 404 to a RecordsDelete
// (the record is already deleted there); a MessagesRead answered with 404
// names a message superseded (deleted) since the query, and is skipped.
package dwnsync

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ipfs/go-datastore"

	"github.com/anya-org/anya/dwn"
)

// DefaultPageSize is the MessagesQuery limit when Options.PageSize is 0.
const DefaultPageSize = 100

// Options are what New needs.
type Options struct {
	// Tenant is the DID whose messages are synced.
	Tenant string
	// Author signs the MessagesQuery and MessagesRead messages: the
	// tenant's own key, since the Messages interface is owner-only
	// (or grant-holder).
	Author dwn.Author
	// Local is this node's DWN.
	Local dwn.Processor
	// Cursors persists a cursor per (tenant, peer, direction). It must be
	// safe for concurrent use (wrap a MapDatastore in sync.MutexWrap).
	Cursors datastore.Datastore
	// PageSize is the MessagesQuery limit; 0 means DefaultPageSize.
	PageSize int
	// Now is the clock of the messages' timestamps; nil means time.Now.
	Now func() time.Time
	// Logger receives debug lines; nil discards them.
	Logger *slog.Logger
}

// Engine pulls and pushes one tenant's messages. It is safe for
// concurrent use; runs of the same (peer, direction) are serialized.
type Engine struct {
	opts Options

	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// New returns an Engine.
func New(opts Options) *Engine {
	if opts.PageSize <= 0 {
		opts.PageSize = DefaultPageSize
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{opts: opts, locks: make(map[string]*sync.Mutex)}
}

// Direction names a cursor: pull reads the peer's event log, push the
// local one.
const (
	dirPull = "pull"
	dirPush = "push"
)

// Pull copies the messages the peer's DWN logged after the persisted pull
// cursor into the local DWN and returns how many were applied (202 or 204;
// a 409 is counted as already present, not applied).
func (e *Engine) Pull(ctx context.Context, peer string, remote dwn.Processor) (int, error) {
	return e.run(ctx, peer, dirPull, remote, e.opts.Local)
}

// Push copies the messages the local DWN logged after the persisted push
// cursor into the peer's DWN and returns how many it applied.
func (e *Engine) Push(ctx context.Context, peer string, remote dwn.Processor) (int, error) {
	return e.run(ctx, peer, dirPush, e.opts.Local, remote)
}

// Sync pulls then pushes. A failed pull does not keep the push from
// running; the errors of both are joined.
func (e *Engine) Sync(ctx context.Context, peer string, remote dwn.Processor) (pulled, pushed int, err error) {
	pulled, perr := e.Pull(ctx, peer, remote)
	if ctx.Err() != nil {
		return pulled, 0, errors.Join(perr, ctx.Err())
	}
	pushed, serr := e.Push(ctx, peer, remote)
	return pulled, pushed, errors.Join(perr, serr)
}

// ResetCursor forgets the cursor of one (peer, direction): the next run
// starts from the beginning of the event log (re-sends are answered 409).
func (e *Engine) ResetCursor(ctx context.Context, peer string, push bool) error {
	dir := dirPull
	if push {
		dir = dirPush
	}
	err := e.opts.Cursors.Delete(ctx, e.key(peer, dir))
	if errors.Is(err, datastore.ErrNotFound) {
		return nil
	}
	return err
}

// key is the datastore key of a cursor: /dwnsync/<tenant>/<peer>/<dir>,
// path-escaped so that a peer URL cannot change its depth.
func (e *Engine) key(peer, dir string) datastore.Key {
	return datastore.KeyWithNamespaces([]string{"dwnsync", url.PathEscape(e.opts.Tenant), url.PathEscape(peer), dir})
}

func (e *Engine) lock(k string) func() {
	e.mu.Lock()
	l, ok := e.locks[k]
	if !ok {
		l = new(sync.Mutex)
		e.locks[k] = l
	}
	e.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// run copies src's events after the (peer, dir) cursor into dst, a page at
// a time; the cursor is saved after each page whose every message was
// applied, so an error or a crash re-does at most one page.
func (e *Engine) run(ctx context.Context, peer, dir string, src, dst dwn.Processor) (int, error) {
	if src == nil || dst == nil {
		return 0, fmt.Errorf("dwnsync: %s %s: no processor", dir, peer)
	}
	key := e.key(peer, dir)
	defer e.lock(key.String())()
	cursor, err := e.loadCursor(ctx, key)
	if err != nil {
		return 0, err
	}
	log := e.opts.Logger.With("tenant", e.opts.Tenant, "peer", peer, "dir", dir)
	n := 0
	for {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		cids, next, err := e.query(ctx, src, cursor)
		if err != nil {
			return n, fmt.Errorf("dwnsync: %s %s: %w", dir, peer, err)
		}
		for _, c := range cids {
			applied, err := e.copy(ctx, src, dst, c)
			if err != nil {
				return n, fmt.Errorf("dwnsync: %s %s: %w", dir, peer, err)
			}
			if applied {
				n++
			}
		}
		if len(cids) == 0 {
			return n, nil
		}
		if next == nil {
			// Nothing to continue from: the whole log was in this page,
			// but without a cursor the next run re-does it (409s).
			log.Warn("dwnsync: MessagesQuery reply has entries but no cursor", "entries", len(cids))
			return n, nil
		}
		if err := e.saveCursor(ctx, key, next); err != nil {
			return n, err
		}
		cursor = next
		log.Debug("dwnsync: page done", "entries", len(cids), "applied", n)
		if len(cids) < e.opts.PageSize {
			return n, nil
		}
	}
}

func (e *Engine) loadCursor(ctx context.Context, key datastore.Key) (*dwn.Cursor, error) {
	b, err := e.opts.Cursors.Get(ctx, key)
	if errors.Is(err, datastore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dwnsync: load cursor %s: %w", key, err)
	}
	var c dwn.Cursor
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("dwnsync: corrupt cursor %s: %w", key, err)
	}
	return &c, nil
}

func (e *Engine) saveCursor(ctx context.Context, key datastore.Key, c *dwn.Cursor) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := e.opts.Cursors.Put(ctx, key, b); err != nil {
		return fmt.Errorf("dwnsync: save cursor %s: %w", key, err)
	}
	return nil
}

// query sends one MessagesQuery page to src.
func (e *Engine) query(ctx context.Context, src dwn.Processor, cursor *dwn.Cursor) ([]string, *dwn.Cursor, error) {
	msg, err := NewMessagesQuery(e.opts.Author, cursor, e.opts.PageSize, e.opts.Now())
	if err != nil {
		return nil, nil, err
	}
	r := src.ProcessMessage(ctx, e.opts.Tenant, msg, dwn.ProcessOptions{})
	closeData(r)
	if r.Status.Code != 200 {
		return nil, nil, fmt.Errorf("MessagesQuery: %d %s", r.Status.Code, r.Status.Detail)
	}
	cids := make([]string, 0, len(r.Entries))
	for _, raw := range r.Entries {
		var c string
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, nil, fmt.Errorf("MessagesQuery: entry %s is not a message CID", raw)
		}
		cids = append(cids, c)
	}
	return cids, r.Cursor, nil
}

// copy reads one message from src and processes it at dst. It reports
// whether dst applied it (202, 204) rather than already had it (409) or
// src no longer had it (404).
func (e *Engine) copy(ctx context.Context, src, dst dwn.Processor, messageCID string) (bool, error) {
	msg, err := dwn.NewMessagesRead(e.opts.Author, messageCID, e.opts.Now())
	if err != nil {
		return false, err
	}
	r := src.ProcessMessage(ctx, e.opts.Tenant, msg, dwn.ProcessOptions{})
	defer closeData(r)
	switch r.Status.Code {
	case 200:
	case 404:
		// Superseded (or deleted) since the query: the newer message is
		// later in the log.
		return false, nil
	default:
		return false, fmt.Errorf("MessagesRead %s: %d %s", messageCID, r.Status.Code, r.Status.Detail)
	}
	var entry struct {
		MessageCID string          `json:"messageCid"`
		Message    json.RawMessage `json:"message"`
	}
	if err := json.Unmarshal(r.Entry, &entry); err != nil || len(entry.Message) == 0 {
		return false, fmt.Errorf("MessagesRead %s: reply has no entry.message", messageCID)
	}
	message, data, err := splitEncodedData(entry.Message)
	if err != nil {
		return false, fmt.Errorf("MessagesRead %s: %w", messageCID, err)
	}
	var opts dwn.ProcessOptions
	switch {
	case r.Data != nil:
		opts.Data = r.Data
	case data != nil:
		opts.Data = strings.NewReader(string(data))
	}
	a := dst.ProcessMessage(ctx, e.opts.Tenant, message, opts)
	closeData(a)
	switch a.Status.Code {
	case 202, 204:
		return true, nil
	case 409:
		return false, nil
	case 404:
		// A RecordsDelete of a record the receiver has already deleted
		// (or no longer has) is answered 404, not 409: it has it.
		var m struct {
			Descriptor struct{ Interface, Method string } `json:"descriptor"`
		}
		if json.Unmarshal(message, &m) == nil && m.Descriptor.Interface == "Records" && m.Descriptor.Method == "Delete" {
			return false, nil
		}
	}
	return false, fmt.Errorf("process %s: %d %s", messageCID, a.Status.Code, a.Status.Detail)
}

// splitEncodedData takes an inline "encodedData" (base64url) out of a
// RecordsWrite, for a server that returns it in the message rather than as
// the entry's data; dwn.ProcessMessage wants the data beside the message.
func splitEncodedData(message json.RawMessage) (json.RawMessage, []byte, error) {
	if !strings.Contains(string(message), `"encodedData"`) {
		return message, nil, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(message, &m); err != nil {
		return nil, nil, err
	}
	raw, ok := m["encodedData"]
	if !ok {
		return message, nil, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, nil, fmt.Errorf("encodedData is not a string")
	}
	data, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, nil, fmt.Errorf("encodedData: %w", err)
	}
	delete(m, "encodedData")
	out, err := json.Marshal(m)
	if err != nil {
		return nil, nil, err
	}
	return out, data, nil
}

func closeData(r *dwn.Reply) {
	if r != nil && r.Data != nil {
		r.Data.Close()
	}
}
