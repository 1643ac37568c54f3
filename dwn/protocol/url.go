package protocol

import (
	"net/url"
	"path"
	"regexp"
	"strings"
)

var hasSchemeRE = regexp.MustCompile(`^[^:]+:(//)?[^/]`)

var specialSchemes = map[string]string{"http": "80", "https": "443", "ws": "80", "wss": "443", "ftp": "21", "file": ""}

// NormalizeURL normalizes a protocol or schema URI the way dwn-sdk-js
// utils/url.ts does: "http://" is prepended when there is no scheme, the
// query and fragment are dropped and a trailing slash is removed. For the
// special (web) schemes the scheme and host are lowercased, a default port
// is dropped and dot segments are resolved, as the WHATWG URL parser does.
// Non-ASCII hosts are not IDNA-encoded; such input reports an error.
func NormalizeURL(s string) (string, error) {
	full := s
	if !hasSchemeRE.MatchString(s) {
		full = "http://" + s
	}
	if i := strings.IndexAny(full, "?#"); i >= 0 {
		full = full[:i]
	}
	colon := strings.IndexByte(full, ':')
	if colon <= 0 || strings.ContainsAny(full, " \t\r\n") && !strings.Contains(full[colon:], "//") {
		return "", errf(CodeURLProtocolNotNormalizable, "Could not normalize protocol URI")
	}
	scheme := strings.ToLower(full[:colon])
	for i, c := range scheme {
		if !(c >= 'a' && c <= 'z' || i > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return "", errf(CodeURLProtocolNotNormalizable, "Could not normalize protocol URI")
		}
	}
	rest := full[colon+1:]
	defPort, special := specialSchemes[scheme]
	if !special {
		return strings.TrimSuffix(scheme+":"+rest, "/"), nil
	}
	rest = strings.TrimLeft(rest, "/")
	host, p := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		host, p = rest[:i], rest[i:]
	}
	u, err := url.Parse(scheme + "://" + host)
	if err != nil || u.Host == "" || strings.ContainsAny(host, " %") {
		return "", errf(CodeURLProtocolNotNormalizable, "Could not normalize protocol URI")
	}
	for _, c := range u.Host {
		if c >= 0x80 {
			return "", errf(CodeURLProtocolNotNormalizable, "non-ASCII host is not supported")
		}
	}
	h := strings.ToLower(u.Hostname())
	if strings.Contains(h, ":") {
		h = "[" + h + "]"
	}
	if port := u.Port(); port != "" && port != defPort {
		h += ":" + port
	}
	if u.User != nil {
		h = u.User.String() + "@" + h
	}
	if p == "" {
		p = "/"
	}
	trailing := strings.HasSuffix(p, "/") || strings.HasSuffix(p, "/.") || strings.HasSuffix(p, "/..")
	if !strings.Contains(p, "//") {
		p = path.Clean(p)
		if trailing && p != "/" {
			p += "/"
		}
	}
	p = escapePath(p)
	return strings.TrimSuffix(scheme+"://"+h+p, "/"), nil
}

func escapePath(p string) string {
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '`' || c == '{' || c == '}' {
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// CheckProtocolURL reports UrlProtocolNotNormalized unless s is already
// normalized (validateProtocolUrlNormalized).
func CheckProtocolURL(s string) error {
	if n, err := NormalizeURL(s); err != nil || n != s {
		return errf(CodeURLProtocolNotNormalized, "Protocol URI %s must be normalized.", s)
	}
	return nil
}

// CheckSchemaURL reports UrlSchemaNotNormalized unless s is already
// normalized (validateSchemaUrlNormalized).
func CheckSchemaURL(s string) error {
	if n, err := NormalizeURL(s); err != nil || n != s {
		return errf(CodeURLSchemaNotNormalized, "Schema URI %s must be normalized.", s)
	}
	return nil
}
