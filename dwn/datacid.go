package dwn

import (
	"context"
	"errors"
	"fmt"
	"io"

	chunker "github.com/ipfs/boxo/chunker"
	"github.com/ipfs/boxo/ipld/unixfs/importer/balanced"
	"github.com/ipfs/boxo/ipld/unixfs/importer/helpers"
	"github.com/ipfs/go-cid"
	ipld "github.com/ipfs/go-ipld-format"
	mh "github.com/multiformats/go-multihash"
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
// number, computed by boxo's UnixFS balanced importer with the reference's
// parameters. Blocks are hashed and dropped, never kept, so memory stays
// bounded whatever the size.
//
// Data of at most 256 KiB is a single raw leaf, CIDv1(raw, sha2-256(data))
// ("bafkrei…"; empty data gives
// bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku); longer data
// is a dag-pb UnixFS file root ("bafybei…") over raw leaves.
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
	c, _, _ := dataCID(&byteReader{b: b}, -1) // reading memory cannot fail
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

// countingReader counts bytes and stops at max+1 (max < 0: no limit).
type countingReader struct {
	r        io.Reader
	n, max   int64
	tooLarge bool
}

func (c *countingReader) Read(p []byte) (int, error) {
	if c.max >= 0 && int64(len(p)) > c.max+1-c.n {
		p = p[:c.max+1-c.n]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.max >= 0 && c.n > c.max {
		c.tooLarge = true
		return n, fmt.Errorf("%w: more than %d bytes", ErrDataTooLarge, c.max)
	}
	return n, err
}

func dataCID(r io.Reader, max int64) (cid.Cid, int64, error) {
	cr := &countingReader{r: r, max: max}
	params := helpers.DagBuilderParams{
		Maxlinks:   DataMaxLinks,
		RawLeaves:  true,
		CidBuilder: cid.V1Builder{Codec: cid.DagProtobuf, MhType: mh.SHA2_256},
		Dagserv:    discardDAG{},
	}
	db, err := params.New(chunker.NewSizeSplitter(cr, DataChunkSize))
	if err != nil {
		return cid.Undef, 0, err
	}
	root, err := balanced.Layout(db)
	if cr.tooLarge {
		return cid.Undef, cr.n, fmt.Errorf("%w: more than %d bytes", ErrDataTooLarge, max)
	}
	if err != nil {
		return cid.Undef, cr.n, fmt.Errorf("dwn: read data: %w", err)
	}
	return root.Cid(), cr.n, nil
}

// discardDAG is a DAG service that keeps nothing: the importer only needs
// to hand its blocks somewhere while it computes the root.
type discardDAG struct{}

func (discardDAG) Get(context.Context, cid.Cid) (ipld.Node, error) { return nil, ipld.ErrNotFound{} }
func (discardDAG) GetMany(context.Context, []cid.Cid) <-chan *ipld.NodeOption {
	c := make(chan *ipld.NodeOption)
	close(c)
	return c
}
func (discardDAG) Add(context.Context, ipld.Node) error        { return nil }
func (discardDAG) AddMany(context.Context, []ipld.Node) error  { return nil }
func (discardDAG) Remove(context.Context, cid.Cid) error       { return nil }
func (discardDAG) RemoveMany(context.Context, []cid.Cid) error { return nil }
