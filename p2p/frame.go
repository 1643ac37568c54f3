package p2p

import (
	"errors"
	"fmt"
	"io"

	"github.com/multiformats/go-varint"
)

// ErrFrameTooLarge is matched (errors.Is) by every *FrameTooLargeError.
var ErrFrameTooLarge = errors.New("p2p: frame too large")

// FrameTooLargeError reports a frame whose declared length exceeds the
// protocol's limit. The body is not read: the caller resets the stream.
type FrameTooLargeError struct {
	Size uint64 // declared length
	Max  int    // the protocol's limit
}

// Error names the declared size and the limit.
func (e *FrameTooLargeError) Error() string {
	return fmt.Sprintf("p2p: frame of %d bytes exceeds the limit of %d bytes", e.Size, e.Max)
}

// Is matches ErrFrameTooLarge.
func (e *FrameTooLargeError) Is(target error) bool { return target == ErrFrameTooLarge }

// WriteFrame writes b as one frame: its length as an unsigned varint
// (multiformats unsigned-varint, the prefix of go-msgio and js
// it-length-prefixed) followed by the bytes, in a single Write.
func WriteFrame(w io.Writer, b []byte) error {
	buf := make([]byte, varint.UvarintSize(uint64(len(b)))+len(b))
	n := varint.PutUvarint(buf, uint64(len(b)))
	copy(buf[n:], b)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("p2p: write frame: %w", err)
	}
	return nil
}

// ReadFrame reads one frame of at most max bytes. It reads exactly the
// prefix and the body, never further, so it never waits for end-of-stream
// and leaves the next frame in r. A clean end of stream before the first
// byte is io.EOF; an end inside a frame is io.ErrUnexpectedEOF. A
// non-minimal or overlong prefix is an error, and a declared length above
// max is a *FrameTooLargeError (errors.Is ErrFrameTooLarge).
func ReadFrame(r io.Reader, max int) ([]byte, error) {
	if max < 0 {
		return nil, fmt.Errorf("p2p: negative frame limit %d", max)
	}
	br, ok := r.(io.ByteReader)
	if !ok {
		br = &byteReader{r: r}
	}
	n, err := varint.ReadUvarint(br)
	switch {
	case err == io.EOF:
		return nil, io.EOF
	case errors.Is(err, io.ErrUnexpectedEOF):
		return nil, fmt.Errorf("p2p: read frame length: %w", io.ErrUnexpectedEOF)
	case err != nil:
		return nil, fmt.Errorf("p2p: read frame length: %w", err)
	case n > uint64(max):
		return nil, &FrameTooLargeError{Size: n, Max: max}
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("p2p: read frame body (%d bytes): %w", n, err)
	}
	return b, nil
}

// byteReader reads one byte at a time without buffering ahead, so bytes
// after the length prefix stay in the underlying reader.
type byteReader struct {
	r   io.Reader
	buf [1]byte
}

func (b *byteReader) ReadByte() (byte, error) {
	for range 100 {
		n, err := b.r.Read(b.buf[:])
		if n == 1 {
			return b.buf[0], nil
		}
		if err != nil {
			return 0, err
		}
	}
	return 0, io.ErrNoProgress
}
