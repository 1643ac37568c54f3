package keystore

import (
	"crypto/sha256"
	"path/filepath"
	"testing"
)

func BenchmarkSign(b *testing.B) {
	s := mustCreate(b, filepath.Join(b.TempDir(), "ks"), testPass, cheapOpts)
	msg := make([]byte, 256)
	for _, kt := range allTypes {
		g, err := s.Create(string(kt), kt)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(string(kt), func(b *testing.B) {
			for b.Loop() {
				if _, err := g.Sign(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	ss := mustSigner(b, s, string(Secp256k1)).(SchnorrSigner)
	hash := sha256.Sum256(msg)
	b.Run("secp256k1-schnorr", func(b *testing.B) {
		for b.Loop() {
			if _, err := ss.SignSchnorr(hash[:]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkOpenDefaultKDF measures unlocking a store with the default
// argon2id parameters, the cost paid at every node start.
func BenchmarkOpenDefaultKDF(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "ks")
	s, err := CreateSoftware(dir, testPass, SoftwareOptions{})
	if err != nil {
		b.Fatal(err)
	}
	s.Close()
	for b.Loop() {
		s, err := OpenSoftware(dir, testPass, SoftwareOptions{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}
