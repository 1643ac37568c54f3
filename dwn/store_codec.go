package dwn

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// The embedded stores keep a StoredMessage (and an event's indexes) in a
// compact binary form rather than JSON: decoding it is a few length-prefixed
// copies instead of a JSON parse with base64 for the message bytes, and it is
// on the path of every query candidate. Values written before this encoding
// are JSON objects, so a leading '{' still decodes as JSON.
//
//	0x01 (version)
//	uvarint len ‖ cid
//	uvarint len ‖ message
//	uvarint len ‖ encodedData
//	indexes: uvarint count, then per index uvarint len ‖ name, value
//	value: 's' uvarint len ‖ bytes | 'n' float64 bits (8 bytes, big-endian)
//	       | 't' | 'f' | 'a' uvarint count then that many scalar values
const codecVersion byte = 0x01

func appendBytes(dst []byte, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

func appendStr(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendIndexValue(dst []byte, v any, nested bool) ([]byte, error) {
	switch x := v.(type) {
	case string:
		return appendStr(append(dst, 's'), x), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(dst, 'n'), math.Float64bits(x)), nil
	case bool:
		if x {
			return append(dst, 't'), nil
		}
		return append(dst, 'f'), nil
	case []any:
		if nested {
			return nil, errors.New("nested array")
		}
		dst = binary.AppendUvarint(append(dst, 'a'), uint64(len(x)))
		for _, e := range x {
			var err error
			if dst, err = appendIndexValue(dst, e, true); err != nil {
				return nil, err
			}
		}
		return dst, nil
	}
	return nil, fmt.Errorf("cannot encode a %T", v)
}

func appendIndexes(dst []byte, ix Indexes) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(len(ix)))
	for k, v := range ix {
		dst = appendStr(dst, k)
		var err error
		if dst, err = appendIndexValue(dst, v, false); err != nil {
			return nil, fmt.Errorf("index %s: %w", k, err)
		}
	}
	return dst, nil
}

// encodeStoredMessage encodes a message whose index values are normalised
// (string, float64, bool, []any of those).
func encodeStoredMessage(m *StoredMessage) ([]byte, error) {
	n := 16 + len(m.CID) + len(m.Message) + len(m.EncodedData) + 48*len(m.Indexes)
	b := make([]byte, 0, n)
	b = append(b, codecVersion)
	b = appendStr(b, m.CID)
	b = appendBytes(b, m.Message)
	b = appendStr(b, m.EncodedData)
	return appendIndexes(b, m.Indexes)
}

type codecReader struct {
	b   []byte
	err error
	// share: b is a private copy that is never modified, so strings may
	// point into it.
	share bool
}

// str reads a length-prefixed string.
func (r *codecReader) str() string {
	b := r.bytes()
	if r.share && len(b) > 0 {
		return unsafe.String(&b[0], len(b))
	}
	return string(b)
}

var errCorrupt = errors.New("truncated or corrupt value")

func (r *codecReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *codecReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if uint64(len(r.b)) < n {
		r.err = errCorrupt
		return nil
	}
	out := r.b[:n:n]
	r.b = r.b[n:]
	return out
}

func (r *codecReader) byte1() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = errCorrupt
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *codecReader) value(nested bool) any {
	switch t := r.byte1(); t {
	case 's':
		return r.str()
	case 'n':
		if len(r.b) < 8 {
			r.err = errCorrupt
			return nil
		}
		f := math.Float64frombits(binary.BigEndian.Uint64(r.b))
		r.b = r.b[8:]
		return f
	case 't':
		return true
	case 'f':
		return false
	case 'a':
		if nested {
			r.err = errCorrupt
			return nil
		}
		n := r.uvarint()
		if r.err != nil || n > uint64(len(r.b)) {
			r.err = errCorrupt
			return nil
		}
		out := make([]any, 0, n)
		for i := uint64(0); i < n && r.err == nil; i++ {
			out = append(out, r.value(true))
		}
		return out
	default:
		if r.err == nil {
			r.err = errCorrupt
		}
		return nil
	}
}

func (r *codecReader) indexes() Indexes {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errCorrupt
		return nil
	}
	ix := make(Indexes, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		k := r.str()
		ix[k] = r.value(false)
	}
	return ix
}

// decodeStoredMessage decodes a value of the message store: the binary
// form, or the JSON of older versions. It copies what it keeps, so v may be
// reused by its owner afterwards.
func decodeStoredMessage(v []byte) (*StoredMessage, error) {
	if len(v) > 0 && v[0] == '{' {
		var m StoredMessage
		if err := json.Unmarshal(v, &m); err != nil {
			return nil, err
		}
		return &m, nil
	}
	if len(v) == 0 || v[0] != codecVersion {
		return nil, errCorrupt
	}
	// One copy of the value backs every string and the message bytes of
	// the result (none of which is ever modified), instead of an allocation
	// per string.
	buf := append([]byte(nil), v[1:]...)
	r := codecReader{b: buf, share: true}
	m := &StoredMessage{}
	m.CID = r.str()
	m.Message = r.bytes()
	m.EncodedData = r.str()
	m.Indexes = r.indexes()
	if r.err != nil {
		return nil, r.err
	}
	if len(r.b) != 0 {
		return nil, errCorrupt
	}
	return m, nil
}

// encodeEvent and decodeEvent are the same for an event: cid and indexes.
func encodeEvent(cid string, ix Indexes) ([]byte, error) {
	b := make([]byte, 0, 16+len(cid)+48*len(ix))
	b = append(b, codecVersion)
	b = appendStr(b, cid)
	return appendIndexes(b, ix)
}

func decodeEvent(v []byte) (storedEvent, error) {
	var ev storedEvent
	if len(v) > 0 && v[0] == '{' {
		err := json.Unmarshal(v, &ev)
		return ev, err
	}
	if len(v) == 0 || v[0] != codecVersion {
		return ev, errCorrupt
	}
	r := codecReader{b: v[1:]}
	ev.CID = string(r.bytes())
	ev.Indexes = r.indexes()
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorrupt
	}
	return ev, r.err
}
