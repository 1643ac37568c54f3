package dwn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// refEnc is fxamacker/cbor configured for DAG-CBOR as dwn.md §3.2 gives it;
// refDec decodes strictly (canonical-independent, no duplicates, no
// indefinite lengths).
var (
	refEnc, _ = cbor.EncOptions{
		Sort:          cbor.SortLengthFirst,
		ShortestFloat: cbor.ShortestFloatNone,
		IndefLength:   cbor.IndefLengthForbidden,
	}.EncMode()
	refDec, _ = cbor.DecOptions{
		DupMapKey:       cbor.DupMapKeyEnforcedAPF,
		IndefLength:     cbor.IndefLengthForbidden,
		IntDec:          cbor.IntDecConvertSignedOrFail,
		DefaultMapType:  reflect.TypeOf(map[string]any{}),
		MaxNestedLevels: MaxJSONDepth + 2,
	}.DecMode()
)

// jsValue maps the JSON data model to what the CBOR should decode to:
// json.Number becomes int64 when JS would encode an integer, else float64.
func jsValue(t *testing.T, v any) any {
	switch x := v.(type) {
	case json.Number:
		i, f, isInt, err := jsNumber(x)
		if err != nil {
			t.Fatalf("ParseJSON kept an unencodable number %s", x)
		}
		if isInt {
			return i
		}
		return f
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = jsValue(t, e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = jsValue(t, e)
		}
		return a
	default:
		return v
	}
}

func FuzzDagCBORFromJSON(f *testing.F) {
	for _, tc := range dagCBORGolden {
		f.Add([]byte(tc.json))
	}
	for _, s := range []string{
		recordsWriteDescriptor, recordsWriteMessage,
		`{"a":1,"a":2}`, `[1e400]`, `{"x":[{"y":-9007199254740993.5}]}`, `"\ud83d\ude00"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		enc, err := DagCBORFromJSON(data)
		if err != nil {
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
		v, err := ParseJSON(data)
		if err != nil {
			t.Fatalf("ParseJSON fails where DagCBORFromJSON succeeded: %v", err)
		}
		want := jsValue(t, v)
		var back any
		if err := refDec.Unmarshal(enc, &back); err != nil {
			t.Fatalf("fxamacker cannot decode % x: %v", enc, err)
		}
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("round trip of %q:\n got %#v\nwant %#v", data, back, want)
		}
		// Differential: fxamacker's canonical encoding of the same value.
		ref, err := refEnc.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ref, enc) {
			t.Fatalf("%q:\n got % x\nfxamacker % x", data, enc, ref)
		}
	})
}

func FuzzParseMessage(f *testing.F) {
	f.Add([]byte(recordsWriteMessage))
	f.Add([]byte(`{"descriptor":{"interface":"Records","method":"Delete","messageTimestamp":"2026-11-25T22:19:42.837182Z","recordId":"x","prune":false},"encodedData":"AA"}`))
	f.Add([]byte(`{"descriptor":{"interface":"Records","method":"Write","messageTimestamp":"2026-11-25T22:19:42.837182Z","dataSize":1.0,"tags":{"a":[1,2.5]},"published":true}}`))
	f.Add([]byte(`{"descriptor":{}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseMessage(data)
		if err != nil {
			return
		}
		if !bytes.Equal(m.Raw(), data) {
			t.Fatal("Raw differs from the input")
		}
		if m.Desc.Interface == "" && m.Desc.Method == "" {
			if _, ok := m.Tree()["descriptor"].(map[string]any)["interface"]; !ok {
				t.Fatal("accepted a descriptor without interface")
			}
		}
		c, err := m.CID()
		if err != nil {
			t.Fatalf("CID: %v", err)
		}
		if c2, err := MessageCID(json.RawMessage(data)); err != nil || !c2.Equals(c) {
			t.Fatalf("MessageCID(raw) = %s, %v; CID() = %s", c2, err, c)
		}
		dc, err := m.DescriptorCID()
		if err != nil {
			t.Fatalf("DescriptorCID: %v", err)
		}
		if dc2, err := DescriptorCID(m.Descriptor); err != nil || !dc2.Equals(dc) {
			t.Fatalf("DescriptorCID(m.Descriptor) = %s, %v; want %s", dc2, err, dc)
		}
		if m.Desc.DataSize != nil && *m.Desc.DataSize < 0 {
			t.Fatal("negative dataSize")
		}
		if !ValidTimestamp(m.Desc.MessageTimestamp) {
			t.Fatal("invalid messageTimestamp accepted")
		}
	})
}

// tokenParseJSON is a second, independent JSON reader built on the
// encoding/json token API; FuzzParseJSONAgrees holds ParseJSON to it.
func tokenParseJSON(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := tokenParseValue(dec, 0, "")
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the top-level value", ErrInvalidJSON)
	}
	return v, nil
}

func tokenParseValue(dec *json.Decoder, depth int, path string) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
	}
	switch t := tok.(type) {
	case json.Delim:
		if depth >= MaxJSONDepth {
			return nil, fmt.Errorf("%w: %s: nested deeper than %d levels", ErrInvalidJSON, pathOrRoot(path), MaxJSONDepth)
		}
		switch t {
		case '{':
			m := make(map[string]any)
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
				}
				k, ok := kt.(string)
				if !ok { // encoding/json reports this itself; kept for safety
					return nil, fmt.Errorf("%w: %s: object key is not a string", ErrInvalidJSON, pathOrRoot(path))
				}
				kp := jsonPath(path, k)
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("%w: %s: duplicate key %q", ErrInvalidJSON, kp, k)
				}
				v, err := tokenParseValue(dec, depth+1, kp)
				if err != nil {
					return nil, err
				}
				m[k] = v
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
			}
			return m, nil
		case '[':
			a := []any{}
			for i := 0; dec.More(); i++ {
				v, err := tokenParseValue(dec, depth+1, path+"["+strconv.Itoa(i)+"]")
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, fmt.Errorf("%w: %v", ErrInvalidJSON, err)
			}
			return a, nil
		default:
			return nil, fmt.Errorf("%w: unexpected %q", ErrInvalidJSON, t)
		}
	case json.Number:
		if _, _, _, err := jsNumber(t); err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidJSON, pathOrRoot(path), err)
		}
		return t, nil
	default: // string, bool, nil
		return t, nil
	}
}

func FuzzParseJSONAgrees(f *testing.F) {
	for _, tc := range dagCBORGolden {
		f.Add([]byte(tc.json))
	}
	for _, s := range []string{
		recordsWriteMessage, `{"a":1,"\u0061":2}`, `{"\xff":1,"\xfe":2}`, `{"a":[{"b":1,"b":2}]}`,
		`[1e400]`, `{"k":"v"} x`, `{"k":"v"}  `, `[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err1 := ParseJSON(data)
		want, err2 := tokenParseJSON(data)
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("%q: ParseJSON error %v, token reader error %v", data, err1, err2)
		}
		if err1 == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %#v\nwant %#v", data, got, want)
		}
		if err1 != nil && !errors.Is(err1, ErrInvalidJSON) {
			t.Fatalf("%v does not wrap ErrInvalidJSON", err1)
		}
	})
}
