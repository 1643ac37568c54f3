package did

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults for did:web fetches.
const (
	DefaultWebTimeout  = 10 * time.Second
	DefaultWebMaxBytes = 64 << 10
)

// WebResolver resolves did:web over HTTPS.
type WebResolver struct {
	// Client performs the GET; nil means a client with Timeout. Redirects
	// are followed as the client does, but the final URL must be https.
	Client *http.Client
	// Timeout bounds one resolution; zero means DefaultWebTimeout.
	Timeout time.Duration
	// MaxBytes bounds the document size; zero means DefaultWebMaxBytes.
	MaxBytes int64
}

// WebURL returns the HTTPS URL of a did:web document:
// did:web:example.com → https://example.com/.well-known/did.json,
// did:web:example.com%3A8443:u:alice → https://example.com:8443/u/alice/did.json.
func WebURL(did string) (string, error) {
	p, err := Parse(did)
	if err != nil {
		return "", err
	}
	if p.Method != "web" {
		return "", &Error{Code: CodeMethodNotSupported, Message: fmt.Sprintf("not a did:web: %s", quote(did))}
	}
	return webURL(p)
}

func webURL(p Parsed) (string, error) {
	bad := func(format string, args ...any) (string, error) {
		return "", &Error{Code: CodeInvalidDID, Message: fmt.Sprintf("invalid did:web %s: ", quote(p.DID)) + fmt.Sprintf(format, args...)}
	}
	segs := strings.Split(p.ID, ":")
	host, err := url.PathUnescape(segs[0])
	if err != nil {
		return bad("host: %v", err)
	}
	if host == "" {
		return bad("empty host")
	}
	if strings.ContainsAny(host, "/?#@\\ ") {
		return bad("host %s contains a character not allowed in a host", quote(host))
	}
	path := "/.well-known"
	if len(segs) > 1 {
		var b strings.Builder
		for i, s := range segs[1:] {
			seg, err := url.PathUnescape(s)
			if err != nil {
				return bad("path segment %d: %v", i+1, err)
			}
			if seg == "" || seg == "." || seg == ".." || strings.ContainsAny(seg, "/?#\\") {
				return bad("path segment %d %s is empty, a dot segment, or holds a URL delimiter", i+1, quote(seg))
			}
			b.WriteByte('/')
			b.WriteString(url.PathEscape(seg))
		}
		path = b.String()
	}
	u, err := url.Parse("https://" + host + path + "/did.json")
	if err != nil {
		return bad("does not form a URL: %v", err)
	}
	if u.Host != host || u.User != nil || u.Hostname() == "" {
		return bad("host %s is not a valid URL host", quote(host))
	}
	return u.String(), nil
}

// Resolve implements Resolver for did:web.
func (w WebResolver) Resolve(ctx context.Context, did string) *Resolution {
	p, err := Parse(did)
	if err != nil {
		return failureFrom(err)
	}
	if p.Method != "web" {
		return Failure(CodeMethodNotSupported, "did:web resolver cannot resolve method %s", quote(p.Method))
	}
	u, err := webURL(p)
	if err != nil {
		return failureFrom(err)
	}
	doc, err := w.fetch(ctx, p.DID, u)
	if err != nil {
		return failureFrom(err)
	}
	return Success(doc)
}

func (w WebResolver) fetch(ctx context.Context, did, u string) (*Document, error) {
	timeout := w.Timeout
	if timeout <= 0 {
		timeout = DefaultWebTimeout
	}
	limit := w.MaxBytes
	if limit <= 0 {
		limit = DefaultWebMaxBytes
	}
	client := w.Client
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &Error{Code: CodeInternalError, Message: fmt.Sprintf("did:web request for %s: %v", u, err)}
	}
	req.Header.Set("Accept", "application/did+json, application/json")
	resp, err := client.Do(req)
	if err != nil {
		msg := fmt.Sprintf("fetching %s: %v", u, err)
		if errors.Is(err, context.DeadlineExceeded) {
			msg = fmt.Sprintf("fetching %s: no answer within %v", u, timeout)
		}
		return nil, &Error{Code: CodeInternalError, Message: msg}
	}
	defer resp.Body.Close()
	if resp.Request != nil && resp.Request.URL.Scheme != "https" {
		return nil, &Error{Code: CodeInternalError, Message: fmt.Sprintf("fetching %s: redirected to non-HTTPS %s", u, resp.Request.URL.Redacted())}
	}
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("%s answered %s", u, resp.Status)}
	case resp.StatusCode != http.StatusOK:
		return nil, &Error{Code: CodeInternalError, Message: fmt.Sprintf("%s answered %s", u, resp.Status)}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, &Error{Code: CodeInternalError, Message: fmt.Sprintf("reading %s: %v", u, err)}
	}
	if int64(len(body)) > limit {
		return nil, &Error{Code: CodeInvalidDIDDocument, Message: fmt.Sprintf("DID document at %s exceeds the %d-byte limit", u, limit)}
	}
	var doc Document
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, &Error{Code: CodeInvalidDIDDocument, Message: fmt.Sprintf("DID document at %s is not a valid DID document: %v", u, err)}
	}
	if doc.ID != did {
		return nil, &Error{Code: CodeInvalidDIDDocument, Message: fmt.Sprintf("DID document at %s has id %s, want %s", u, quote(doc.ID), quote(did))}
	}
	return &doc, nil
}
