package dwn

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
)

// Golden DAG-CBOR for JSON input, as @ipld/dag-cbor 9.0.3 encodes the value
// JSON.parse gives.
var dagCBORGolden = []struct {
	name, json, hex string
}{
	{"null", `null`, "f6"},
	{"true", `true`, "f5"},
	{"false", `false`, "f4"},
	{"zero", `0`, "00"},
	{"minus zero is the integer 0", `-0`, "00"},
	{"minus zero float is the integer 0", `-0.0`, "00"},
	{"23", `23`, "17"},
	{"24", `24`, "1818"},
	{"255", `255`, "18ff"},
	{"256", `256`, "190100"},
	{"65535", `65535`, "19ffff"},
	{"65536", `65536`, "1a00010000"},
	{"2^32", `4294967296`, "1b0000000100000000"},
	{"-1", `-1`, "20"},
	{"-7", `-7`, "26"},
	{"-24", `-24`, "37"},
	{"-25", `-25`, "3818"},
	{"-256", `-256`, "38ff"},
	{"-257", `-257`, "390100"},
	{"1.0 is an integer", `1.0`, "01"},
	{"1e2 is an integer", `1e2`, "1864"},
	{"1E+2 is an integer", `1E+2`, "1864"},
	{"2.50e1 is an integer", `2.50e1`, "1819"},
	{"max safe integer", `9007199254740991`, "1b001fffffffffffff"},
	{"min safe integer", `-9007199254740991`, "3b001ffffffffffffe"},
	{"2^53 is a float", `9007199254740992`, "fb4340000000000000"},
	{"2^53+1 rounds to the float 2^53", `9007199254740993`, "fb4340000000000000"},
	{"-2^53 is a float", `-9007199254740992`, "fbc340000000000000"},
	{"1e300 is a float", `1e300`, "fb7e37e43c8800759c"},
	{"1.5 is a 64-bit float", `1.5`, "fb3ff8000000000000"},
	{"0.1", `0.1`, "fb3fb999999999999a"},
	{"-1.5", `-1.5`, "fbbff8000000000000"},
	{"underflow is 0", `1e-400`, "00"},
	{"smallest subnormal", `5e-324`, "fb0000000000000001"},
	{"empty string", `""`, "60"},
	{"string", `"a"`, "6161"},
	{"unicode escape", `"\u00e9"`, "62c3a9"},
	{"lone surrogate becomes U+FFFD", `"\ud800"`, "63efbfbd"},
	{"empty array", `[]`, "80"},
	{"empty object", `{}`, "a0"},
	{"array", `[1,"a",true,null,1.5]`, "850161 61f5f6fb3ff8000000000000"},
	{"keys length-first then bytewise", `{"bb":1,"a":2,"c":3,"aa":4}`, "a4 6161 02 6163 03 626161 04 626262 01"},
	{"upper case sorts before lower", `{"b":1,"B":2}`, "a2 6142 02 6162 01"},
	{"byte length, not characters", `{"é":1,"zz":2,"y":3}`, "a3 6179 03 627a7a 02 62c3a9 01"},
	{"nested", `{"x":{"b":[{"d":1,"c":-2}],"a":{}}}`, "a1 6178 a2 6161 a0 6162 81 a2 6163 21 6164 01"},
	{"23-byte key", `{"abcdefghijklmnopqrstuvw":0}`, "a1 77 6162636465666768696a6b6c6d6e6f707172737475767700"},
	{"24-byte key", `{"abcdefghijklmnopqrstuvwx":0}`, "a1 7818 6162636465666768696a6b6c6d6e6f70717273747576777800"},
	// The tags of the RecordsWrite-ES256K vector (dwn.md §3.2).
	{"tags", `{"n":3,"score":1.5,"neg":-7,"list":[1,2,3],"words":["a","b"],"flag":true}`,
		"a6 616e 03 636e6567 26 64666c6167 f5 646c697374 83010203 6573636f7265 fb3ff8000000000000 65776f726473 82 6161 6162"},
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDagCBORFromJSONGolden(t *testing.T) {
	for _, tc := range dagCBORGolden {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DagCBORFromJSON([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			if want := unhex(t, tc.hex); string(got) != string(want) {
				t.Fatalf("%s\n got % x\nwant % x", tc.json, got, want)
			}
			// The same through EncodeDagCBOR of the parsed value, and of
			// json.RawMessage.
			v, err := ParseJSON([]byte(tc.json))
			if err != nil {
				t.Fatal(err)
			}
			for _, in := range []any{v, json.RawMessage(tc.json)} {
				got2, err := EncodeDagCBOR(in)
				if err != nil || string(got2) != string(got) {
					t.Fatalf("EncodeDagCBOR(%T) = % x, %v", in, got2, err)
				}
			}
		})
	}
}

// TestEncodeDagCBORGoValues checks the JS number rule for Go numbers and the
// json.Marshal fallback for other Go values.
func TestEncodeDagCBORGoValues(t *testing.T) {
	type tagged struct {
		B     string `json:"b"`
		A     int    `json:"a"`
		Empty string `json:"empty,omitempty"`
	}
	cases := []struct {
		v   any
		hex string
	}{
		{float64(3), "03"},
		{math.Copysign(0, -1), "00"},
		{2.5, "fb4004000000000000"},
		{int(-7), "26"},
		{int64(1 << 53), "fb4340000000000000"},
		{uint64(1<<53 - 1), "1b001fffffffffffff"},
		{int32(-1), "20"},
		{uint32(1 << 31), "1a80000000"},
		{float32(0.5), "fb3fe0000000000000"},
		{tagged{B: "x", A: 1}, "a2 6161 01 6162 6178"},
		{map[string]any{"k": tagged{A: 2}}, "a1 616b a2 6161 02 6162 60"},
		{map[string]string{"bb": "1", "a": "2"}, "a2 6161 6132 626262 6131"},
		{[]string{"a"}, "81 6161"},
	}
	for _, tc := range cases {
		got, err := EncodeDagCBOR(tc.v)
		if err != nil {
			t.Errorf("%#v: %v", tc.v, err)
			continue
		}
		if want := unhex(t, tc.hex); string(got) != string(want) {
			t.Errorf("%#v\n got % x\nwant % x", tc.v, got, want)
		}
	}
}

func TestEncodeDagCBORErrors(t *testing.T) {
	for _, v := range []any{
		math.NaN(),
		math.Inf(1),
		[]any{math.Inf(-1)},
		map[string]any{"a": math.NaN()},
		json.Number("1e400"),
		json.Number("nonsense"),
		make(chan int),
		json.RawMessage(`{"a":1,"a":2}`),
	} {
		if b, err := EncodeDagCBOR(v); err == nil {
			t.Errorf("%#v: encoded as % x", v, b)
		}
	}
	if _, err := EncodeDagCBOR(math.NaN()); !errors.Is(err, ErrNotEncodable) {
		t.Errorf("NaN: %v does not wrap ErrNotEncodable", err)
	}
	// A Go value nested deeper than MaxJSONDepth.
	var deep any = "x"
	for range MaxJSONDepth + 2 {
		deep = []any{deep}
	}
	if _, err := EncodeDagCBOR(deep); err == nil {
		t.Error("too deep a Go value encoded")
	}
}

func TestDagCBORFromJSONErrors(t *testing.T) {
	cases := []struct {
		name, json, want string
	}{
		{"duplicate key", `{"a":1,"b":2,"a":3}`, `a: duplicate key "a"`},
		{"nested duplicate key", `{"descriptor":{"tags":{"k":1,"k":1}}}`, `descriptor.tags.k: duplicate key "k"`},
		{"duplicate in array element", `[{"x":1},{"x":1,"x":2}]`, `x: duplicate key "x"`},
		{"overflow", `{"n":1e400}`, "n: number 1e400 out of range"},
		{"negative overflow", `[-1e309]`, "out of range"},
		{"trailing data", `{} {}`, "data after the top-level value"},
		{"trailing garbage", `1 x`, "invalid"},
		{"empty", ``, "invalid JSON"},
		{"truncated", `{"a":`, "invalid JSON"},
		{"NaN literal", `NaN`, "invalid"},
		{"Infinity literal", `[Infinity]`, "invalid"},
		{"leading zero", `01`, "invalid"},
		{"single quotes", `{'a':1}`, "invalid"},
		{"too deep", strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1), "nested deeper than 64 levels"},
		{"too deep objects", strings.Repeat(`{"a":`, MaxJSONDepth+1) + "1" + strings.Repeat("}", MaxJSONDepth+1), "nested deeper"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := DagCBORFromJSON([]byte(tc.json))
			if err == nil {
				t.Fatalf("accepted, gave % x", b)
			}
			if !errors.Is(err, ErrInvalidJSON) {
				t.Errorf("%v does not wrap ErrInvalidJSON", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
	// Exactly MaxJSONDepth levels are fine.
	ok := strings.Repeat("[", MaxJSONDepth) + strings.Repeat("]", MaxJSONDepth)
	if _, err := DagCBORFromJSON([]byte(ok)); err != nil {
		t.Errorf("%d levels: %v", MaxJSONDepth, err)
	}
}

func BenchmarkDagCBORFromJSON(b *testing.B) {
	raw := []byte(recordsWriteDescriptor)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DagCBORFromJSON(raw); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeDagCBOR(b *testing.B) {
	v, err := ParseJSON([]byte(recordsWriteDescriptor))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := EncodeDagCBOR(v); err != nil {
			b.Fatal(err)
		}
	}
}
