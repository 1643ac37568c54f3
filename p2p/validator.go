package p2p

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/anya-org/anya/did"
	record "github.com/libp2p/go-libp2p-record"
)

// DefaultResolveTimeout bounds the DID resolution a Validator may do for
// a record of a method other than did:key.
const DefaultResolveTimeout = 5 * time.Second

// Validator is the record.Validator of the /did/ DHT namespace. The DHT
// calls it synchronously, on every put it receives and every value a lookup
// returns. did:key records are checked offline; other methods go through
// Resolver (nil refuses them, except did:jwk) bounded by Timeout.
type Validator struct {
	// Resolver resolves DIDs other than did:key; nil accepts only did:key
	// and did:jwk records.
	Resolver did.Resolver
	// Timeout bounds one resolution; zero means DefaultResolveTimeout.
	Timeout time.Duration
	// Now is the clock that expires records; nil means time.Now.
	Now func() time.Time
}

var _ record.Validator = (*Validator)(nil)

func (v *Validator) verify(key string, value []byte) (*DIDRecord, error) {
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = DefaultResolveTimeout
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return VerifyRecordAt(ctx, key, value, v.Resolver, now())
}

// Validate implements record.Validator: value must be a valid, unexpired
// record signed for key (see VerifyRecordAt).
func (v *Validator) Validate(key string, value []byte) error {
	_, err := v.verify(key, value)
	return err
}

// Select implements record.Validator: of the valid values, the highest
// sequence number wins; on a tie the later expiry, then the bytewise larger
// value, so every node picks the same one. Invalid values never win; if
// none is valid, Select fails.
func (v *Validator) Select(key string, values [][]byte) (int, error) {
	best, bestRec := -1, (*DIDRecord)(nil)
	for i, val := range values {
		rec, err := v.verify(key, val)
		if err != nil {
			continue
		}
		if bestRec == nil || better(rec, bestRec) {
			best, bestRec = i, rec
		}
	}
	if best < 0 {
		return 0, errors.New("p2p: no valid DID record to select from")
	}
	return best, nil
}

// better reports whether a beats b in Select's order.
func better(a, b *DIDRecord) bool {
	switch {
	case a.Seq != b.Seq:
		return a.Seq > b.Seq
	case !a.Expires.Equal(b.Expires):
		return a.Expires.After(b.Expires)
	}
	return bytes.Compare(a.Value, b.Value) > 0
}
