package dwn

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ipfs/go-cid"
)

// The UnixFS import parameters of dwn-sdk-js 0.5.2 (ipfs-unixfs-importer
// 15.1.5 as Cid.computeDagPbCidFromStream calls it), which are also those of
// `ipfs add --cid-version 1`: fixed-size chunks, balanced layout, raw leaves,
// a single leaf standing for the whole file.
const (
	// DataChunkSize is the UnixFS chunk size: 256 KiB.
	DataChunkSize = 262144
	// DataMaxLinks is the most children a UnixFS node of the balanced layout
	// has.
	DataMaxLinks = 174
)

// ErrDataTooLarge is wrapped by DataCIDLimit when the data is longer than
// the limit.
var ErrDataTooLarge = errors.New("dwn: data too large")

// DataCID reads r to EOF and returns the dataCid of its bytes and their
// number. It streams: memory stays at one chunk plus 174 links per tree
// level, whatever the size.
//
// The result is exactly what dwn-sdk-js computes: data of at most 256 KiB is
// a single raw leaf, CIDv1(raw 0x55, sha2-256(data)) ("bafkrei…"; empty data
// gives bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku); longer
// data is a dag-pb UnixFS file root ("bafybei…") over raw leaves of 262144
// bytes, 174 links per node. It is the tree that boxo's balanced importer
// builds with DagBuilderParams{Maxlinks: 174, RawLeaves: true, CidBuilder:
// cid.V1Builder{Codec: cid.DagProtobuf, MhType: mh.SHA2_256}} and
// chunker.NewSizeSplitter(r, 262144), encoded here without keeping a single
// block.
func DataCID(r io.Reader) (cid.Cid, int64, error) {
	return dataCID(r, -1)
}

// DataCIDLimit is DataCID for data of at most max bytes. It reads at most
// max+1 bytes from r and fails with an error wrapping ErrDataTooLarge as soon
// as it has read more than max.
func DataCIDLimit(r io.Reader, max int64) (cid.Cid, int64, error) {
	if max < 0 {
		return cid.Undef, 0, fmt.Errorf("dwn: DataCIDLimit: negative limit %d", max)
	}
	return dataCID(r, max)
}

// DataCIDFromBytes returns DataCID of b, for data already in memory (such as
// a decoded encodedData).
func DataCIDFromBytes(b []byte) cid.Cid {
	if len(b) <= DataChunkSize {
		return sha256CID(cid.Raw, b)
	}
	c, _, _ := dataCID(&byteReader{b: b}, -1) // cannot fail
	return c
}

// byteReader is bytes.Reader without the seeking state.
type byteReader struct{ b []byte }

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

var chunkPool = sync.Pool{New: func() any { return new([DataChunkSize]byte) }}

// unixfsLink is a finished child: its CID, the size of the subtree's encoded
// blocks (dag-pb Tsize) and the number of file bytes below it.
type unixfsLink struct {
	c        cid.Cid
	tsize    uint64
	fileSize uint64
}

func dataCID(r io.Reader, max int64) (cid.Cid, int64, error) {
	if max >= 0 {
		r = io.LimitReader(r, max+1)
	}
	buf := chunkPool.Get().(*[DataChunkSize]byte)
	defer chunkPool.Put(buf)

	// levels[0] holds leaves not yet under a parent, levels[k] nodes of
	// height k. A level is flushed into a parent as soon as it is full,
	// which builds the same tree as boxo's balanced.Layout and the JS
	// importer's level-by-level reduction.
	// Data of one chunk or less is its own raw leaf: no tree to build.
	n, err := io.ReadFull(r, buf[:])
	total := int64(n)
	if max >= 0 && total > max {
		return cid.Undef, total, fmt.Errorf("%w: more than %d bytes", ErrDataTooLarge, max)
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return sha256CID(cid.Raw, buf[:n]), total, nil
	}
	if err != nil {
		return cid.Undef, total, fmt.Errorf("dwn: reading data: %w", err)
	}

	var levels [][]unixfsLink
	var enc []byte
	add := func(k int, l unixfsLink) {
		for {
			if k == len(levels) {
				levels = append(levels, make([]unixfsLink, 0, DataMaxLinks))
			}
			levels[k] = append(levels[k], l)
			if len(levels[k]) < DataMaxLinks {
				return
			}
			enc, l = unixfsParent(enc[:0], levels[k])
			levels[k] = levels[k][:0]
			k++
		}
	}
	for {
		if n > 0 {
			add(0, unixfsLink{c: sha256CID(cid.Raw, buf[:n]), tsize: uint64(n), fileSize: uint64(n)})
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		n, err = io.ReadFull(r, buf[:])
		total += int64(n)
		if max >= 0 && total > max {
			return cid.Undef, total, fmt.Errorf("%w: more than %d bytes", ErrDataTooLarge, max)
		}
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return cid.Undef, total, fmt.Errorf("dwn: reading data: %w", err)
		}
	}
	// Close the open levels bottom-up. The top level's single node is the
	// root; a lone leaf is the root itself (reduceSingleLeafToSelf).
	for k := 0; ; k++ {
		if k == len(levels)-1 && len(levels[k]) == 1 {
			return levels[k][0].c, total, nil
		}
		if len(levels[k]) == 0 {
			continue
		}
		var l unixfsLink
		enc, l = unixfsParent(enc[:0], levels[k])
		levels[k] = levels[k][:0]
		if k+1 == len(levels) {
			levels = append(levels, nil)
		}
		levels[k+1] = append(levels[k+1], l)
	}
}

// unixfsParent encodes a dag-pb node whose Data is a UnixFS File with no
// inline bytes, linking children in order, and returns its link. enc is
// scratch space, returned for reuse.
//
// dag-pb (canonical field order: Links, then Data):
//
//	PBNode { repeated PBLink Links = 2; bytes Data = 1 }
//	PBLink { bytes Hash = 1; string Name = 2 (always "", present); uint64 Tsize = 3 }
//	UnixFS Data { Type = 1 (File = 2); filesize = 3; repeated blocksizes = 4 }
func unixfsParent(enc []byte, children []unixfsLink) ([]byte, unixfsLink) {
	var fileSize, tsizes uint64
	for _, ch := range children {
		fileSize += ch.fileSize
		tsizes += ch.tsize
	}
	for _, ch := range children {
		hash := ch.c.Bytes()
		linkLen := 1 + uvarintSize(uint64(len(hash))) + len(hash) + 2 + 1 + uvarintSize(ch.tsize)
		enc = append(enc, 0x12)
		enc = binary.AppendUvarint(enc, uint64(linkLen))
		enc = append(enc, 0x0a)
		enc = binary.AppendUvarint(enc, uint64(len(hash)))
		enc = append(enc, hash...)
		enc = append(enc, 0x12, 0x00, 0x18)
		enc = binary.AppendUvarint(enc, ch.tsize)
	}
	dataLen := 2 + 1 + uvarintSize(fileSize)
	for _, ch := range children {
		dataLen += 1 + uvarintSize(ch.fileSize)
	}
	enc = append(enc, 0x0a)
	enc = binary.AppendUvarint(enc, uint64(dataLen))
	enc = append(enc, 0x08, 0x02, 0x18)
	enc = binary.AppendUvarint(enc, fileSize)
	for _, ch := range children {
		enc = append(enc, 0x20)
		enc = binary.AppendUvarint(enc, ch.fileSize)
	}
	return enc, unixfsLink{
		c:        sha256CID(cid.DagProtobuf, enc),
		tsize:    uint64(len(enc)) + tsizes,
		fileSize: fileSize,
	}
}

// uvarintSize is the length of x as a protobuf varint.
func uvarintSize(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}
