package dwn

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"

	"github.com/ipfs/go-cid"
)

// patternReader yields size bytes of byte[i] = (i*31+7) & 0xff, the data of
// the dwn-sdk-js 0.5.2 dataCid vectors, without holding them.
type patternReader struct{ i, size int64 }

func (p *patternReader) Read(b []byte) (int, error) {
	if p.i >= p.size {
		return 0, io.EOF
	}
	n := min(int64(len(b)), p.size-p.i)
	for j := range n {
		b[j] = byte((p.i+j)*31 + 7)
	}
	p.i += n
	return int(n), nil
}

func pattern(size int64) []byte {
	b, _ := io.ReadAll(&patternReader{size: size})
	return b
}

// Reference values from dwn-sdk-js 0.5.2 (conformance/dwn/testdata has the
// whole vector file); these are the ones cheap enough for a unit test.
var dataCIDCases = []struct {
	size int64
	want string
}{
	{0, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
	{1, "bafkreigkgwdvr5wspzwpiutssn4xpj2i7wedshnwphhnu7ohx4pqaxxipe"},
	{100, "bafkreigcfzeq3ksel6zpxjccpdacfxytkmip2j4mvpfevv4rt3o4zti5zy"},
	{262144, "bafkreigtb2zed6k6pq34amzfdj4ovylbble3alojsysuiikydagtlammdm"},
	{262145, "bafybeif4z4ikxldcsjhv2l4sxmk57abnwjkwpa57gopqjvdhkyxddhmzf4"},
	{1048576, "bafybeiauqn2tgwkyydo5v62clfl5vtokgwet2o3qpoaaxihbnh3ehac3am"},
}

func TestDataCID(t *testing.T) {
	for _, tc := range dataCIDCases {
		c, n, err := DataCID(&patternReader{size: tc.size})
		if err != nil {
			t.Fatalf("size %d: %v", tc.size, err)
		}
		if n != tc.size {
			t.Errorf("size %d: counted %d bytes", tc.size, n)
		}
		if c.String() != tc.want {
			t.Errorf("size %d: got %s, want %s", tc.size, c, tc.want)
		}
		// The same through a reader that returns one byte at a time, and
		// from memory.
		data := pattern(tc.size)
		if tc.size <= 262145 {
			c2, _, err := DataCID(iotest.OneByteReader(bytes.NewReader(data)))
			if err != nil || !c2.Equals(c) {
				t.Errorf("size %d: one-byte reader gives %s, %v", tc.size, c2, err)
			}
		}
		if c3 := DataCIDFromBytes(data); !c3.Equals(c) {
			t.Errorf("size %d: DataCIDFromBytes gives %s", tc.size, c3)
		}
	}
}

func TestDataCIDRawLeafIsSHA256(t *testing.T) {
	data := []byte("k1 data")
	c, _, err := DataCID(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256(data)
	want := append([]byte{0x01, 0x55, 0x12, 0x20}, d[:]...)
	if !bytes.Equal(c.Bytes(), want) {
		t.Fatalf("got % x, want % x", c.Bytes(), want)
	}
	if c.Prefix().Codec != cid.Raw {
		t.Fatal("not raw")
	}
}

// chunkCounter yields size bytes, each 256 KiB chunk filled with its index,
// cheaply (a pattern generator is slow under -race).
type chunkCounter struct{ i, size int64 }

func (c *chunkCounter) Read(b []byte) (int, error) {
	if c.i >= c.size {
		return 0, io.EOF
	}
	n := min(int64(len(b)), c.size-c.i, DataChunkSize-c.i%DataChunkSize)
	v := byte(c.i / DataChunkSize)
	b[0] = v
	for j := int64(1); j < n; j *= 2 {
		copy(b[j:n], b[:j])
	}
	c.i += n
	return int(n), nil
}

func TestDataCIDLimit(t *testing.T) {
	c, n, err := DataCIDLimit(&patternReader{size: 100}, 100)
	if err != nil || n != 100 || c.String() != dataCIDCases[2].want {
		t.Fatalf("at the limit: %s %d %v", c, n, err)
	}
	r := &patternReader{size: 1 << 30}
	_, _, err = DataCIDLimit(r, 1000)
	if !errors.Is(err, ErrDataTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if r.i > 1001 {
		t.Fatalf("read %d bytes for a limit of 1000", r.i)
	}
	if _, _, err := DataCIDLimit(bytes.NewReader(nil), 0); err != nil {
		t.Fatalf("empty with limit 0: %v", err)
	}
	if _, _, err := DataCIDLimit(bytes.NewReader([]byte{1}), 0); !errors.Is(err, ErrDataTooLarge) {
		t.Fatalf("1 byte with limit 0: %v", err)
	}
	if _, _, err := DataCIDLimit(bytes.NewReader(nil), -1); err == nil {
		t.Fatal("negative limit accepted")
	}
}

func TestDataCIDReadError(t *testing.T) {
	boom := errors.New("boom")
	_, _, err := DataCID(io.MultiReader(&patternReader{size: 300000}, iotest.ErrReader(boom)))
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
}

func BenchmarkDataCID100B(b *testing.B) {
	data := pattern(100)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DataCID(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDataCID8MiB(b *testing.B) {
	data := pattern(8 << 20)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DataCID(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// TestDataCIDStreams checks that DataCID does not hold the data: while it
// hashes 256 MiB, the live heap stays far below that.
func TestDataCIDStreams(t *testing.T) {
	const size = 256 << 20
	r := &heapWatcher{r: &chunkCounter{size: size}}
	if _, n, err := DataCID(r); err != nil || n != size {
		t.Fatal(n, err)
	}
	if r.peak > 64<<20 {
		t.Fatalf("DataCID of %d bytes held %d bytes of heap", size, r.peak)
	}
}

// heapWatcher samples the live heap every 32 reads.
type heapWatcher struct {
	r     io.Reader
	reads int
	peak  uint64
}

func (h *heapWatcher) Read(b []byte) (int, error) {
	if h.reads++; h.reads%32 == 0 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		h.peak = max(h.peak, m.HeapAlloc)
	}
	return h.r.Read(b)
}
