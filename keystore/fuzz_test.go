package keystore

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to the keystore file decoder and, when
// they decode, to the unsealing code. Neither may panic; decoded files must
// only describe well-formed keys.
func FuzzOpen(f *testing.F) {
	for _, opts := range []SoftwareOptions{
		{KDF: cheapKDF, Rand: detRand(3)},
		{Unencrypted: true, Rand: detRand(4)},
	} {
		dir := storeWithKeys(f, opts)
		b, err := os.ReadFile(filepath.Join(dir, fileName))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"version":1,"encrypted":false,"seed":"00000000000000000000000000000000","keys":[]}`))
	f.Add([]byte(`null`))
	f.Add([]byte(``))

	f.Fuzz(func(t *testing.T, data []byte) {
		df, err := decodeFile(data)
		if err != nil {
			return
		}
		for _, ki := range df.infos() {
			if ValidateID(ki.ID) != nil || !ki.Type.valid() || checkPublicKey(ki.Type, ki.PublicKey) != nil {
				t.Fatalf("decoder accepted a bad key %+v", ki)
			}
		}
		var key []byte
		if df.encrypted() {
			p := df.KDF.params()
			if p.Time <= 2 && p.MemoryKiB <= 256 {
				key = deriveKey(testPass, df.KDF)
			} else {
				key = bytes.Repeat([]byte{7}, aeadKeyLen)
			}
		}
		u, err := unseal(df, key)
		if err != nil {
			if errors.Is(err, ErrCorrupt) {
				t.Fatal("unseal errors are wrapped by the caller")
			}
			return
		}
		defer u.wipe()
		for _, k := range df.Keys {
			m := u.keys[k.ID]
			if m == nil || !bytes.Equal(m.publicBytes(), k.PublicKey) {
				t.Fatalf("key %q unsealed without matching its public key", k.ID)
			}
		}
	})
}
