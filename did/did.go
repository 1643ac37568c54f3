package did

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// ResolutionContext is the JSON-LD context of every Resolution.
const ResolutionContext = "https://w3id.org/did-resolution/v1"

// Context URLs used in DID documents.
const (
	ContextDIDv1   = "https://www.w3.org/ns/did/v1"
	ContextJWS2020 = "https://w3id.org/security/suites/jws-2020/v1"
)

// Verification method types.
const (
	TypeJsonWebKey2020 = "JsonWebKey2020"
	TypeJsonWebKey     = "JsonWebKey"
)

// W3C DID resolution error codes (didResolutionMetadata.error).
const (
	CodeInvalidDID         = "invalidDid"
	CodeNotFound           = "notFound"
	CodeMethodNotSupported = "methodNotSupported"
	CodeInvalidDIDDocument = "invalidDidDocument"
	CodeInternalError      = "internalError"
)

// Sentinels for errors.Is against the error of Resolution.Err; they match any
// *Error with the same Code.
var (
	ErrInvalidDID         = &Error{Code: CodeInvalidDID}
	ErrNotFound           = &Error{Code: CodeNotFound}
	ErrMethodNotSupported = &Error{Code: CodeMethodNotSupported}
	ErrInvalidDIDDocument = &Error{Code: CodeInvalidDIDDocument}
	ErrInternalError      = &Error{Code: CodeInternalError}
)

// MaxDIDLength bounds the length of a DID accepted for resolution.
const MaxDIDLength = 4096

// Error is a failed resolution: a W3C error code and a readable message.
type Error struct {
	Code    string
	Message string
}

// Error returns "code: message".
func (e *Error) Error() string {
	if e.Message == "" {
		return e.Code
	}
	return e.Code + ": " + e.Message
}

// Is reports whether target is an *Error with the same code and either no
// message (a sentinel such as ErrNotFound) or the same message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	if !ok {
		return false
	}
	return t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Document is a W3C DID Core document. Members this package does not model
// are dropped when a did:web document is decoded.
type Document struct {
	Context              Contexts             `json:"@context,omitempty"`
	ID                   string               `json:"id"`
	AlsoKnownAs          []string             `json:"alsoKnownAs,omitempty"`
	Controller           any                  `json:"controller,omitempty"`
	VerificationMethod   []VerificationMethod `json:"verificationMethod,omitempty"`
	Authentication       []Reference          `json:"authentication,omitempty"`
	AssertionMethod      []Reference          `json:"assertionMethod,omitempty"`
	CapabilityInvocation []Reference          `json:"capabilityInvocation,omitempty"`
	CapabilityDelegation []Reference          `json:"capabilityDelegation,omitempty"`
	KeyAgreement         []Reference          `json:"keyAgreement,omitempty"`
	Service              []Service            `json:"service,omitempty"`
}

// Contexts is a JSON-LD @context: a list of URLs (strings) or context
// objects. A single string decodes as a one-element list.
type Contexts []any

// UnmarshalJSON accepts a string or an array.
func (c *Contexts) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = Contexts{s}
		return nil
	}
	var list []any
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("@context must be a string or an array: %w", err)
	}
	*c = list
	return nil
}

// VerificationMethod is a DID document verification method. PublicKeyJwk
// holds the JWK exactly as published (member order preserved).
type VerificationMethod struct {
	ID                 string          `json:"id"`
	Type               string          `json:"type"`
	Controller         string          `json:"controller"`
	PublicKeyJwk       json.RawMessage `json:"publicKeyJwk,omitempty"`
	PublicKeyMultibase string          `json:"publicKeyMultibase,omitempty"`
}

// Reference is an entry of a verification relationship (authentication,
// assertionMethod, ...): either the id of a verification method or an
// embedded one.
type Reference struct {
	ID       string
	Embedded *VerificationMethod
}

// MarshalJSON writes the id as a string, or the embedded method.
func (r Reference) MarshalJSON() ([]byte, error) {
	if r.Embedded != nil {
		return json.Marshal(r.Embedded)
	}
	return json.Marshal(r.ID)
}

// UnmarshalJSON reads a string id or an embedded method.
func (r *Reference) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*r = Reference{ID: s}
		return nil
	}
	var vm VerificationMethod
	if err := json.Unmarshal(b, &vm); err != nil {
		return fmt.Errorf("verification relationship entry must be a string or a verification method: %w", err)
	}
	*r = Reference{ID: vm.ID, Embedded: &vm}
	return nil
}

// Service is a DID document service entry.
type Service struct {
	ID              string `json:"id"`
	Type            any    `json:"type"`
	ServiceEndpoint any    `json:"serviceEndpoint"`
}

// Resolution is a W3C DID resolution result.
type Resolution struct {
	Context            string             `json:"@context"`
	ResolutionMetadata ResolutionMetadata `json:"didResolutionMetadata"`
	Document           *Document          `json:"didDocument"`
	DocumentMetadata   DocumentMetadata   `json:"didDocumentMetadata"`
}

// ResolutionMetadata is didResolutionMetadata. It is empty on success, as
// @web5/dids produces it.
type ResolutionMetadata struct {
	ContentType  string `json:"contentType,omitempty"`
	Error        string `json:"error,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
}

// DocumentMetadata is didDocumentMetadata. It is empty for did:key, did:jwk
// and did:web.
type DocumentMetadata struct {
	Created     string `json:"created,omitempty"`
	Updated     string `json:"updated,omitempty"`
	Deactivated bool   `json:"deactivated,omitempty"`
	VersionID   string `json:"versionId,omitempty"`
}

// Err returns nil for a successful resolution, else an *Error with the code
// and message from the resolution metadata.
func (r *Resolution) Err() error {
	if r == nil {
		return &Error{Code: CodeInternalError, Message: "nil resolution"}
	}
	if r.ResolutionMetadata.Error != "" {
		return &Error{Code: r.ResolutionMetadata.Error, Message: r.ResolutionMetadata.ErrorMessage}
	}
	if r.Document == nil {
		return &Error{Code: CodeInternalError, Message: "resolution has neither a document nor an error"}
	}
	return nil
}

// Success wraps doc in a successful Resolution.
func Success(doc *Document) *Resolution {
	return &Resolution{Context: ResolutionContext, Document: doc}
}

// Failure returns a failed Resolution with code and a message.
func Failure(code, format string, args ...any) *Resolution {
	return &Resolution{
		Context: ResolutionContext,
		ResolutionMetadata: ResolutionMetadata{
			Error:        code,
			ErrorMessage: fmt.Sprintf(format, args...),
		},
	}
}

// failureFrom turns err into a failed Resolution, keeping the code of an
// *Error and using internalError otherwise.
func failureFrom(err error) *Resolution {
	var e *Error
	if errors.As(err, &e) {
		return &Resolution{Context: ResolutionContext, ResolutionMetadata: ResolutionMetadata{Error: e.Code, ErrorMessage: e.Message}}
	}
	return Failure(CodeInternalError, "%v", err)
}

// FindMethod returns the first verification method whose id is a suffix of
// kid, the rule the DWN reference uses (GeneralJwsVerifier.getPublicKey), so
// that both "did:key:z6Mk…#z6Mk…" and a relative "#0" match.
func (d *Document) FindMethod(kid string) (*VerificationMethod, error) {
	for i := range d.VerificationMethod {
		vm := &d.VerificationMethod[i]
		if vm.ID != "" && strings.HasSuffix(kid, vm.ID) {
			return vm, nil
		}
	}
	return nil, fmt.Errorf("no verification method in %s matches kid %q", d.ID, kid)
}

// quote formats a possibly long, untrusted input for an error message.
func quote(s string) string {
	const limit = 120
	if len(s) > limit {
		return fmt.Sprintf("%q…", s[:limit])
	}
	return fmt.Sprintf("%q", s)
}
