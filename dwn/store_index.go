package dwn

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
)

// Index keys are built from order-preserving encodings: for two values of
// one kind, bytes.Compare of the encodings orders them as the values are
// ordered, and an encoding is self-delimiting, so components can follow it.
const (
	tagNumber byte = 0x01
	tagString byte = 0x02
	tagFalse  byte = 0x03
	tagTrue   byte = 0x04
)

// normaliseValue turns any Go number into float64 (a JavaScript number) and
// rejects types that cannot be indexed.
func normaliseValue(v any) (any, error) {
	switch x := v.(type) {
	case string, bool, float64:
		return x, nil
	case int:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case float32:
		return float64(x), nil
	default:
		return nil, fmt.Errorf("cannot index a %T", v)
	}
}

// encodeValue appends the order-preserving encoding of a scalar value.
func encodeValue(dst []byte, v any) ([]byte, error) {
	v, err := normaliseValue(v)
	if err != nil {
		return nil, err
	}
	switch x := v.(type) {
	case string:
		return encodeString(dst, x), nil
	case bool:
		if x {
			return append(dst, tagTrue), nil
		}
		return append(dst, tagFalse), nil
	case float64:
		if math.IsNaN(x) {
			return nil, fmt.Errorf("cannot index NaN")
		}
		if x == 0 {
			x = 0 // -0 and 0 are one JavaScript key
		}
		bits := math.Float64bits(x)
		if bits&(1<<63) != 0 {
			bits = ^bits
		} else {
			bits |= 1 << 63
		}
		return binary.BigEndian.AppendUint64(append(dst, tagNumber), bits), nil
	}
	panic("unreachable")
}

// encodeString escapes 0x00 as 0x00 0xFF and ends with 0x00 0x01, which
// keeps byte order and lets another component follow.
func encodeString(dst []byte, s string) []byte {
	dst = append(dst, tagString)
	dst = appendEscaped(dst, s)
	return append(dst, 0x00, 0x01)
}

func appendEscaped(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			dst = append(dst, 0x00, 0xFF)
		} else {
			dst = append(dst, s[i])
		}
	}
	return dst
}

// sameKind reports whether two values are of one kind (strings, numbers or
// booleans); ranges only compare values of one kind.
func sameKind(a, b any) bool {
	a, errA := normaliseValue(a)
	b, errB := normaliseValue(b)
	if errA != nil || errB != nil {
		return false
	}
	switch a.(type) {
	case string:
		_, ok := b.(string)
		return ok
	case float64:
		_, ok := b.(float64)
		return ok
	case bool:
		_, ok := b.(bool)
		return ok
	}
	return false
}

// compareValues orders two scalar values by their index encodings.
func compareValues(a, b any) int {
	// Fast paths for values of one kind: the encodings order them as
	// their values, so compare the values directly.
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y)
		}
	case bool:
		if y, ok := b.(bool); ok {
			switch {
			case x == y:
				return 0
			case y:
				return -1
			}
			return 1
		}
	case float64:
		if y, ok := b.(float64); ok && !math.IsNaN(x) && !math.IsNaN(y) {
			switch {
			case x < y:
				return -1
			case x > y:
				return 1
			}
			return 0 // -0 == 0, as in the encoding
		}
	}
	ea, errA := encodeValue(nil, a)
	eb, errB := encodeValue(nil, b)
	if errA != nil || errB != nil {
		return 2 // unequal and unordered
	}
	return bytes.Compare(ea, eb)
}

// scalars lists a value's indexable scalars: itself, or an array's elements.
func scalars(v any) []any {
	if arr, ok := v.([]any); ok {
		return arr
	}
	return []any{v}
}

// successor returns the smallest key greater than every key that has k as
// a prefix (k followed by anything).
func successor(k []byte) []byte {
	out := append([]byte(nil), k...)
	for i := len(out) - 1; i >= 0; i-- {
		if out[i] < 0xFF {
			out[i]++
			return out[:i+1]
		}
	}
	return nil // k is all 0xFF: no upper bound
}
