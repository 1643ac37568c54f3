package p2p

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

var frameGolden = []struct {
	name string
	body []byte
	wire string // hex
}{
	{"empty", nil, "00"},
	{"one byte", []byte{0x2a}, "012a"},
	{"text", []byte("anya"), "04616e7961"},
	{"127 bytes: one-byte prefix", bytes.Repeat([]byte{0xaa}, 127), "7f" + strings.Repeat("aa", 127)},
	{"128 bytes: two-byte prefix", bytes.Repeat([]byte{0xbb}, 128), "8001" + strings.Repeat("bb", 128)},
	{"300 bytes", bytes.Repeat([]byte{0x01}, 300), "ac02" + strings.Repeat("01", 300)},
}

func TestFrameGolden(t *testing.T) {
	for _, tc := range frameGolden {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteFrame(&buf, tc.body); err != nil {
				t.Fatal(err)
			}
			if got := hex.EncodeToString(buf.Bytes()); got != tc.wire {
				t.Fatalf("encode:\n got %s\nwant %s", got, tc.wire)
			}
			wire, _ := hex.DecodeString(tc.wire)
			// A plain io.Reader (not an io.ByteReader) delivering one byte per
			// Read, as a slow stream would.
			got, err := ReadFrame(iotest.OneByteReader(bytes.NewReader(wire)), 1024)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.body) {
				t.Fatalf("decode: got %x, want %x", got, tc.body)
			}
		})
	}
}

func TestReadFrameErrors(t *testing.T) {
	cases := []struct {
		name string
		wire string
		max  int
		want error
	}{
		{"empty stream is a clean EOF", "", 10, io.EOF},
		{"prefix cut short", "80", 10, io.ErrUnexpectedEOF},
		{"body cut short", "0461", 10, io.ErrUnexpectedEOF},
		{"oversize", "0b" + strings.Repeat("00", 11), 10, ErrFrameTooLarge},
		{"huge declared length is refused before reading", "ffffffffffffffff7f", 1 << 20, ErrFrameTooLarge},
		{"non-minimal prefix", "8100", 10, nil},
		{"prefix over 9 bytes", "ffffffffffffffffff01", 1 << 20, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			wire, _ := hex.DecodeString(tc.wire)
			_, err := ReadFrame(bytes.NewReader(wire), tc.max)
			if err == nil {
				t.Fatalf("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	_, err := ReadFrame(bytes.NewReader([]byte{0x0b}), 10)
	if err == nil || !strings.Contains(err.Error(), "limit of 10 bytes") {
		t.Fatalf("the oversize error must name the limit: %v", err)
	}
}

// TestReadFrameLeavesTheRest checks that a reader stops at the frame's end:
// the next frame is still there, and no read waits for end-of-stream.
func TestReadFrameLeavesTheRest(t *testing.T) {
	pr, pw := io.Pipe()
	go func() {
		WriteFrame(pw, []byte("first"))
		WriteFrame(pw, []byte("second"))
		// The writer keeps the pipe open: a reader waiting for EOF would hang.
	}()
	for _, want := range []string{"first", "second"} {
		got, err := ReadFrame(pr, 64)
		if err != nil || string(got) != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	pw.Close()
}

func FuzzReadFrame(f *testing.F) {
	for _, tc := range frameGolden {
		wire, _ := hex.DecodeString(tc.wire)
		f.Add(wire)
	}
	f.Add([]byte{0x80})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Fuzz(func(t *testing.T, wire []byte) {
		const max = 512
		r := bytes.NewReader(wire)
		b, err := ReadFrame(r, max)
		if err != nil {
			return
		}
		if len(b) > max {
			t.Fatalf("frame of %d bytes over the limit %d", len(b), max)
		}
		// Re-encoding gives back exactly the bytes consumed.
		var buf bytes.Buffer
		if err := WriteFrame(&buf, b); err != nil {
			t.Fatal(err)
		}
		consumed := len(wire) - r.Len()
		if !bytes.Equal(buf.Bytes(), wire[:consumed]) {
			t.Fatalf("round trip: consumed %x, re-encoded %x", wire[:consumed], buf.Bytes())
		}
	})
}
