package dwn

import (
	"crypto/sha256"
	"fmt"
	"maps"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// ComputeCID returns the CID that dwn-sdk-js's Cid.computeCid gives v:
// CIDv1, codec dag-cbor (0x71), multihash sha2-256 of EncodeDagCBOR(v). Its
// String form is base32-lower, "bafyrei…". v is taken as EncodeDagCBOR takes
// it.
func ComputeCID(v any) (cid.Cid, error) {
	b, err := EncodeDagCBOR(v)
	if err != nil {
		return cid.Undef, err
	}
	return dagCBORCID(b), nil
}

// dagCBORCID is CIDv1(dag-cbor, sha2-256(b)).
func dagCBORCID(b []byte) cid.Cid {
	return sha256CID(cid.DagCBOR, b)
}

// sha256CID builds CIDv1(codec, sha2-256(b)) without the generic multihash
// registry: 01 <codec> 12 20 <digest>.
func sha256CID(codec uint64, b []byte) cid.Cid {
	d := sha256.Sum256(b)
	buf := make([]byte, 0, 2+len(d))
	buf = append(buf, mh.SHA2_256, sha256.Size)
	buf = append(buf, d[:]...)
	return cid.NewCidV1(codec, mh.Multihash(buf))
}

// DescriptorCID returns the descriptorCid of a message descriptor:
// ComputeCID(descriptor).
func DescriptorCID(descriptor any) (cid.Cid, error) {
	return ComputeCID(descriptor)
}

// MessageCID returns the messageCid of a whole message: the CID of every
// top-level property except encodedData (dwn-sdk-js Message.getCid). The
// message must be a JSON object; it is not modified.
func MessageCID(message any) (cid.Cid, error) {
	m, err := objectModel(message, "message")
	if err != nil {
		return cid.Undef, err
	}
	if _, ok := m["encodedData"]; ok {
		m = maps.Clone(m)
		delete(m, "encodedData")
	}
	return ComputeCID(m)
}

// EntryID returns the entryId of a RecordsWrite: the CID of its descriptor
// with one more property, author, set to the logical author's DID
// (dwn-sdk-js RecordsWrite.getEntryId). The recordId of a record is the
// entryId of its initial write. The descriptor is not modified.
func EntryID(descriptor any, author string) (cid.Cid, error) {
	m, err := objectModel(descriptor, "descriptor")
	if err != nil {
		return cid.Undef, err
	}
	m = maps.Clone(m)
	m["author"] = author
	return ComputeCID(m)
}

// objectModel converts v to the JSON data model and insists on an object.
func objectModel(v any, what string) (map[string]any, error) {
	x, err := toModel(v)
	if err != nil {
		return nil, err
	}
	m, ok := x.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s is %s, not a JSON object", ErrNotEncodable, what, jsonKind(x))
	}
	return m, nil
}

// jsonKind names the JSON type of a data-model value for error messages.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case string:
		return "a string"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	default:
		return "a number"
	}
}
