package dwn

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxJSONDepth is the deepest nesting of objects and arrays that
// DagCBORFromJSON, ParseMessage and the CID helpers accept. A protocol
// definition nests its rule sets at most 10 levels deep, three JSON levels
// each, so 64 leaves room without letting a hostile message recurse without
// bound.
const MaxJSONDepth = 64

// maxSafeInteger is Number.MAX_SAFE_INTEGER, 2^53-1: the largest integer a
// JS number holds exactly, and the largest that @ipld/dag-cbor encodes as a
// CBOR integer.
const maxSafeInteger = 1<<53 - 1

// ErrInvalidJSON is wrapped by every error about JSON input that the DAG-CBOR
// layer refuses: malformed syntax, duplicate object keys, nesting deeper than
// MaxJSONDepth, trailing data, and numbers that overflow a float64.
var ErrInvalidJSON = errors.New("dwn: invalid JSON")

// ErrNotEncodable is wrapped when a Go value has no DAG-CBOR form under the
// JS rules: NaN, ±Inf, or a value that JSON cannot represent.
var ErrNotEncodable = errors.New("dwn: value not encodable as DAG-CBOR")

// DagCBORFromJSON parses one JSON value and returns its canonical DAG-CBOR
// encoding as @ipld/dag-cbor 9.0.3 produces it for the same value after
// JSON.parse. Duplicate object keys, nesting deeper than MaxJSONDepth and
// trailing data are errors. The caller bounds the input size.
func DagCBORFromJSON(raw []byte) ([]byte, error) {
	v, err := ParseJSON(raw)
	if err != nil {
		return nil, err
	}
	return EncodeDagCBOR(v)
}

// ParseJSON decodes one JSON value into the JSON data model that
// EncodeDagCBOR takes: map[string]any, []any, string, bool, json.Number and
// nil. Unlike encoding/json it rejects duplicate object keys (JSON.parse would
// keep the last one silently, so two nodes could disagree on a message),
// nesting deeper than MaxJSONDepth, numbers that overflow a float64, and
// anything after the value.
func ParseJSON(raw []byte) (any, error) {
	v, _, err := parseJSON(raw, false)
	return v, err
}

// parseJSON is ParseJSON; with spans it also returns the exact bytes of each
// member of a top-level object.
func parseJSON(raw []byte, spans bool) (any, map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, nil, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	end := int(dec.InputOffset())
	if len(bytes.TrimLeft(raw[end:], " \t\r\n")) > 0 {
		return nil, nil, fmt.Errorf("%w: data after the top-level value", ErrInvalidJSON)
	}
	// encoding/json has checked the syntax; the scanner adds the checks it
	// lacks.
	sc := scanner{b: raw[:end]}
	if spans {
		sc.spans = make(map[string]json.RawMessage)
	}
	if err := sc.value(0); err != nil {
		return nil, nil, err
	}
	return v, sc.spans, nil
}

// scanner walks JSON that encoding/json has already accepted, looking for
// duplicate keys (after unescaping, as the decoded map sees them), nesting
// deeper than MaxJSONDepth and numbers out of float64 range.
type scanner struct {
	b     []byte
	i     int
	path  []string                   // keys from the root, for errors
	spans map[string]json.RawMessage // top-level members, when wanted
}

func (s *scanner) errorf(format string, args ...any) error {
	p := strings.Join(s.path, ".")
	return fmt.Errorf("%w: %s: %s", ErrInvalidJSON, pathOrRoot(p), fmt.Sprintf(format, args...))
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// str skips a string starting at s.i and returns its contents, raw.
func (s *scanner) str() (raw []byte, escaped bool) {
	s.i++ // opening quote
	start := s.i
	for s.b[s.i] != '"' {
		if s.b[s.i] == '\\' {
			escaped = true
			s.i++
		}
		s.i++
	}
	s.i++
	return s.b[start : s.i-1], escaped
}

func (s *scanner) value(depth int) error {
	s.ws()
	switch c := s.b[s.i]; c {
	case '{', '[':
		if depth >= MaxJSONDepth {
			return s.errorf("nested deeper than %d levels", MaxJSONDepth)
		}
		s.i++
		s.ws()
		if c == '[' {
			if s.b[s.i] == ']' {
				s.i++
				return nil
			}
			for {
				if err := s.value(depth + 1); err != nil {
					return err
				}
				s.ws()
				s.i++ // ',' or ']'
				if s.b[s.i-1] == ']' {
					return nil
				}
			}
		}
		if s.b[s.i] == '}' {
			s.i++
			return nil
		}
		var seen []string // objects are small; a map only pays off beyond ~16 keys
		var seenMap map[string]struct{}
		for {
			s.ws()
			kb, escaped := s.str()
			key := string(kb)
			if escaped || !utf8.Valid(kb) {
				// Unescape and replace bad UTF-8 exactly as the decoder did.
				if err := json.Unmarshal(s.b[s.i-len(kb)-2:s.i], &key); err != nil {
					return s.errorf("%v", err)
				}
			}
			s.path = append(s.path, key)
			if seenMap == nil && len(seen) >= 16 {
				seenMap = make(map[string]struct{}, 2*len(seen))
				for _, k := range seen {
					seenMap[k] = struct{}{}
				}
			}
			var dup bool
			if seenMap != nil {
				_, dup = seenMap[key]
				seenMap[key] = struct{}{}
			} else {
				dup = slices.Contains(seen, key)
				seen = append(seen, key)
			}
			if dup {
				return s.errorf("duplicate key %q", key)
			}
			s.ws()
			s.i++ // ':'
			s.ws()
			start := s.i
			if err := s.value(depth + 1); err != nil {
				return err
			}
			if depth == 0 && s.spans != nil {
				s.spans[key] = json.RawMessage(s.b[start:s.i])
			}
			s.path = s.path[:len(s.path)-1]
			s.ws()
			s.i++ // ',' or '}'
			if s.b[s.i-1] == '}' {
				return nil
			}
		}
	case '"':
		s.str()
	case 't', 'n':
		s.i += 4
	case 'f':
		s.i += 5
	default:
		start := s.i
		for s.i < len(s.b) && strings.IndexByte("0123456789+-.eE", s.b[s.i]) >= 0 {
			s.i++
		}
		if _, _, _, err := jsNumber(json.Number(s.b[start:s.i])); err != nil {
			return s.errorf("%v", err)
		}
	}
	return nil
}

func pathOrRoot(p string) string {
	if p == "" {
		return "(root)"
	}
	return p
}

// jsNumber converts a JSON number the way JSON.parse and @ipld/dag-cbor do:
// the text becomes the nearest float64; if that is an integer within
// ±(2^53-1) it is encoded as a CBOR integer (isInt true), otherwise as a
// 64-bit float. So 1.0, 1e2 and -0 are integers, 2^53 is a float, and a
// number that overflows to ±Infinity is an error.
func jsNumber(n json.Number) (i int64, f float64, isInt bool, err error) {
	f, err = strconv.ParseFloat(string(n), 64)
	if err != nil {
		var ne *strconv.NumError
		if !errors.As(err, &ne) || ne.Err != strconv.ErrRange || math.IsInf(f, 0) {
			return 0, 0, false, fmt.Errorf("number %s out of range", truncate(string(n), 40))
		}
		// Underflow: JSON.parse gives 0 (or the nearest subnormal) too.
	}
	if isSafeInteger(f) {
		return int64(f), f, true, nil
	}
	return 0, f, false, nil
}

func isSafeInteger(f float64) bool {
	return f == math.Trunc(f) && f >= -maxSafeInteger && f <= maxSafeInteger
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// EncodeDagCBOR returns the canonical DAG-CBOR encoding of v under the rules
// of @ipld/dag-cbor 9.0.3 applied to a JS value: map keys sorted by encoded
// length, then bytewise; definite lengths; a number that is an integer within
// ±(2^53-1) as the shortest CBOR integer, any other number as a 64-bit float;
// NaN and ±Inf rejected.
//
// v is normally the JSON data model that ParseJSON returns (map[string]any,
// []any, string, bool, json.Number, nil). float64 and the Go integer types
// follow the same number rule; json.RawMessage is parsed as JSON first; any
// other value (a struct, map[string]string, ...) goes through json.Marshal,
// so `omitempty` plays the part of the SDK's stripping of undefined
// properties.
func EncodeDagCBOR(v any) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, 256)}
	if err := e.encode(v, 0); err != nil {
		return nil, err
	}
	return e.buf, nil
}

type encoder struct {
	buf  []byte
	keys []string // scratch for sorting, reused across maps
}

// CBOR major types, shifted into the high three bits.
const (
	majorUint   = 0 << 5
	majorNegint = 1 << 5
	majorText   = 3 << 5
	majorArray  = 4 << 5
	majorMap    = 5 << 5
)

func (e *encoder) head(major byte, n uint64) {
	switch {
	case n < 24:
		e.buf = append(e.buf, major|byte(n))
	case n <= math.MaxUint8:
		e.buf = append(e.buf, major|24, byte(n))
	case n <= math.MaxUint16:
		e.buf = append(e.buf, major|25)
		e.buf = binary.BigEndian.AppendUint16(e.buf, uint16(n))
	case n <= math.MaxUint32:
		e.buf = append(e.buf, major|26)
		e.buf = binary.BigEndian.AppendUint32(e.buf, uint32(n))
	default:
		e.buf = append(e.buf, major|27)
		e.buf = binary.BigEndian.AppendUint64(e.buf, n)
	}
}

func (e *encoder) int(i int64) {
	if i >= 0 {
		e.head(majorUint, uint64(i))
	} else {
		e.head(majorNegint, uint64(-1-i))
	}
}

func (e *encoder) float(f float64) error {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("%w: %v", ErrNotEncodable, f)
	}
	if isSafeInteger(f) {
		e.int(int64(f))
		return nil
	}
	e.buf = append(e.buf, 0xfb)
	e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(f))
	return nil
}

func (e *encoder) text(s string) {
	e.head(majorText, uint64(len(s)))
	e.buf = append(e.buf, s...)
}

// lengthFirst orders map keys as RFC 7049 canonical CBOR and DAG-CBOR do:
// shorter encoded key first, then bytewise.
func lengthFirst(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

func (e *encoder) encode(v any, depth int) error {
	if depth > MaxJSONDepth {
		return fmt.Errorf("%w: nested deeper than %d levels", ErrNotEncodable, MaxJSONDepth)
	}
	switch t := v.(type) {
	case nil:
		e.buf = append(e.buf, 0xf6)
	case bool:
		if t {
			e.buf = append(e.buf, 0xf5)
		} else {
			e.buf = append(e.buf, 0xf4)
		}
	case string:
		e.text(t)
	case json.Number:
		i, f, isInt, err := jsNumber(t)
		switch {
		case err != nil:
			return fmt.Errorf("%w: %v", ErrNotEncodable, err)
		case isInt:
			e.int(i)
		default:
			return e.float(f)
		}
	case float64:
		return e.float(t)
	case float32:
		return e.float(float64(t))
	case int:
		return e.float(float64(t)) // beyond 2^53 JS holds only a float
	case int64:
		return e.float(float64(t))
	case int32:
		e.int(int64(t))
	case uint32:
		e.int(int64(t))
	case uint64:
		return e.float(float64(t))
	case map[string]any:
		start := len(e.keys)
		for k := range t {
			e.keys = append(e.keys, k)
		}
		keys := e.keys[start:]
		slices.SortFunc(keys, lengthFirst)
		e.head(majorMap, uint64(len(keys)))
		for _, k := range keys {
			e.text(k)
			if err := e.encode(t[k], depth+1); err != nil {
				return err
			}
		}
		clear(e.keys[start:])
		e.keys = e.keys[:start]
	case []any:
		e.head(majorArray, uint64(len(t)))
		for _, x := range t {
			if err := e.encode(x, depth+1); err != nil {
				return err
			}
		}
	case json.RawMessage:
		m, err := ParseJSON(t)
		if err != nil {
			return err
		}
		return e.encode(m, depth)
	default:
		m, err := toModel(v)
		if err != nil {
			return err
		}
		return e.encode(m, depth)
	}
	return nil
}

// toModel turns any Go value into the JSON data model: model values pass
// through, json.RawMessage is parsed, anything else is marshalled to JSON
// and parsed back.
func toModel(v any) (any, error) {
	switch t := v.(type) {
	case nil, bool, string, json.Number, map[string]any, []any:
		return v, nil
	case json.RawMessage:
		return ParseJSON(t)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: %T: %v", ErrNotEncodable, v, err)
	}
	return ParseJSON(raw)
}

// jsonPath joins an object path for error messages: "descriptor.tags".
func jsonPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}
