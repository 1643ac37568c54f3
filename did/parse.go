package did

import (
	"fmt"
	"strings"
)

// Parsed is a syntactically valid DID split into its method and
// method-specific identifier.
type Parsed struct {
	DID    string // the whole DID, "did:<method>:<id>"
	Method string
	ID     string
}

// Parse checks did against the W3C DID syntax (the grammar @web5/dids uses:
// method [a-z0-9]+, identifier of [A-Za-z0-9._-], percent-encodings and
// colons, not ending in a colon). A DID URL, with a path, query or fragment,
// is rejected: resolve the DID alone. The error is an *Error with code
// invalidDid and a message naming what is wrong.
func Parse(did string) (Parsed, error) {
	bad := func(format string, args ...any) (Parsed, error) {
		return Parsed{}, &Error{Code: CodeInvalidDID, Message: fmt.Sprintf("invalid DID %s: ", quote(did)) + fmt.Sprintf(format, args...)}
	}
	if did == "" {
		return Parsed{}, &Error{Code: CodeInvalidDID, Message: "empty DID"}
	}
	if len(did) > MaxDIDLength {
		return bad("longer than %d bytes", MaxDIDLength)
	}
	rest, ok := strings.CutPrefix(did, "did:")
	if !ok {
		return bad(`does not start with "did:"`)
	}
	method, id, ok := strings.Cut(rest, ":")
	if !ok {
		return bad(`no ":" after the method name`)
	}
	if method == "" {
		return bad("empty method name")
	}
	for i := 0; i < len(method); i++ {
		if c := method[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return bad("method name %s may hold only lowercase letters and digits", quote(method))
		}
	}
	if id == "" {
		return bad("empty method-specific identifier")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-', c == ':':
		case c == '%':
			if i+2 >= len(id) || !isHex(id[i+1]) || !isHex(id[i+2]) {
				return bad("bad percent-encoding at offset %d of the identifier", i)
			}
			i += 2
		case c == '/' || c == '?' || c == '#':
			return bad("DID URL with a path, query or fragment (%q at offset %d of the identifier); resolve the DID alone", c, i)
		default:
			return bad("character %q at offset %d of the identifier is not allowed", c, i)
		}
	}
	if id[len(id)-1] == ':' {
		return bad(`identifier ends with ":"`)
	}
	return Parsed{DID: did, Method: method, ID: id}, nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
