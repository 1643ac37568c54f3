package did_test

import (
	"encoding/base64"
	"testing"

	"github.com/anya-org/anya/did"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
	dssync "github.com/ipfs/go-datastore/sync"
)

var queryAll = query.Query{}

func checkResolution(t *testing.T, id string, res *did.Resolution) {
	t.Helper()
	if res == nil {
		t.Fatalf("Resolve(%q) = nil", id)
	}
	if err := res.Err(); err != nil {
		if res.Document != nil || res.ResolutionMetadata.Error == "" || res.ResolutionMetadata.ErrorMessage == "" {
			t.Fatalf("Resolve(%q): failure with bad shape %+v", id, res)
		}
		return
	}
	if res.Document.ID != id || len(res.Document.VerificationMethod) != 1 || res.Document.VerificationMethod[0].Controller != id {
		t.Fatalf("Resolve(%q): document %+v", id, res.Document)
	}
}

func FuzzResolveKey(f *testing.F) {
	for _, s := range []string{
		"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
		"did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
		"did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv",
		"did:key:z6LShs9GGnqk85isEBzzshkuVWrVKsRp24GnDuHk8QWkARMW",
		"did:key:z6Mk", "did:key:abc", "did:key:z", "did:key:", "did:key:z%41",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		checkResolution(t, id, did.KeyResolver{}.Resolve(ctx, id))
	})
}

func FuzzResolveJWK(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	for _, s := range []string{
		`{"crv":"Ed25519","kty":"OKP","x":"vqxW3w1YWf7Z2y-lsAFEakmTM44zBMZsMq5iplXln1M","kid":"HNGsfgbtOsr8s9_MRtutEbDMt5vY7bkL6jQnqS67ICQ","alg":"EdDSA"}`,
		`{"kty":"OKP","use":"enc"}`, `{"kty":1}`, `1`, `null`, `[]`, `{"kty":"EC","d":"x"}`, `{"kty":"a","kty":"b"}`,
	} {
		f.Add("did:jwk:" + enc([]byte(s)))
	}
	f.Add("did:jwk:!")
	f.Fuzz(func(t *testing.T, id string) {
		checkResolution(t, id, did.JWKResolver{}.Resolve(ctx, id))
	})
}

// BenchmarkResolveKey resolves a did:key with no cache: multibase decoding,
// point validation, JWK and thumbprint.
func BenchmarkResolveKey(b *testing.B) {
	for _, id := range []string{
		"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp",
		"did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",
	} {
		b.Run(id[8:12], func(b *testing.B) {
			r := did.KeyResolver{}
			b.ReportAllocs()
			for b.Loop() {
				if r.Resolve(ctx, id).Document == nil {
					b.Fatal("failed")
				}
			}
		})
	}
}

// BenchmarkRegistryCached resolves a did:key through a Registry whose cache
// is a synchronised in-memory datastore, so every call after the first is a
// cache hit.
func BenchmarkRegistryCached(b *testing.B) {
	id := "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	reg := did.NewRegistry(did.RegistryConfig{Cache: dssync.MutexWrap(datastore.NewMapDatastore())})
	b.ReportAllocs()
	for b.Loop() {
		if reg.Resolve(ctx, id).Document == nil {
			b.Fatal("failed")
		}
	}
}

// BenchmarkRegistryUncached resolves a did:key through a Registry without a
// cache.
func BenchmarkRegistryUncached(b *testing.B) {
	id := "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	reg := did.NewRegistry(did.RegistryConfig{})
	b.ReportAllocs()
	for b.Loop() {
		if reg.Resolve(ctx, id).Document == nil {
			b.Fatal("failed")
		}
	}
}
