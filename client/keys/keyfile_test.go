package keys

import (
	"errors"
	"strings"
	"testing"
)

// sampleKeyFiles returns one valid file per backend and source, made with
// cheap KDF costs.
func sampleKeyFiles(t testing.TB) [][]byte {
	t.Helper()
	params := KDFParams{Time: 1, MemoryKiB: 8, Threads: 1}
	var out [][]byte
	add := func(backend Backend, source string, s *secret) {
		var pub []byte
		priv, err := s.privKey(source)
		if err != nil {
			t.Fatal(err)
		}
		pub = priv[32:]
		f := newKeyFile("alice", backend, pub, source)
		if err := f.seal(s, testPass, params); err != nil {
			t.Fatal(err)
		}
		data, err := encodeKeyFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	add(BackendFile, sourceMnemonic, &secret{Mnemonic: DevMnemonic(0)})
	add(BackendTest, sourceMnemonic, &secret{Mnemonic: DevMnemonic(0)})
	add(BackendFile, sourcePrivKey, &secret{Seed: hexBytes(DevPrivKey(1)[:32])})
	add(BackendTest, sourcePrivKey, &secret{Seed: hexBytes(DevPrivKey(1)[:32])})
	return out
}

func TestKeyFileRoundTrip(t *testing.T) {
	for _, data := range sampleKeyFiles(t) {
		f, err := decodeKeyFile(data)
		if err != nil {
			t.Fatalf("%v\n%s", err, data)
		}
		if _, _, err := f.open(testPass); err != nil {
			t.Fatal(err)
		}
		if f.Backend == BackendFile {
			if _, _, err := f.open(testPass + "x"); !errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("wrong passphrase: %v", err)
			}
		}
	}
}

func TestDecodeKeyFileRejects(t *testing.T) {
	good := string(sampleKeyFiles(t)[0])
	cases := map[string]string{
		"empty":          "",
		"not json":       "hello",
		"array":          "[]",
		"trailing":       good + "{}",
		"version 2":      strings.Replace(good, `"version": 1`, `"version": 2`, 1),
		"unknown field":  strings.Replace(good, `"version": 1,`, `"version": 1, "extra": 1,`, 1),
		"bad name":       strings.Replace(good, `"name": "alice"`, `"name": "../alice"`, 1),
		"huge memory":    strings.Replace(good, `"memory_kib": 8`, `"memory_kib": 4000000000`, 1),
		"zero time":      strings.Replace(good, `"time": 1`, `"time": 0`, 1),
		"zero threads":   strings.Replace(good, `"threads": 1`, `"threads": 0`, 1),
		"other kdf":      strings.Replace(good, `"argon2id"`, `"pbkdf2"`, 1),
		"other cipher":   strings.Replace(good, `"xchacha20-poly1305"`, `"none"`, 1),
		"other backend":  strings.Replace(good, `"backend": "file"`, `"backend": "os"`, 1),
		"other path":     strings.Replace(good, `"m/44'/118'/0'/0'/0'"`, `"m/44'/118'/0'/0'/1'"`, 1),
		"bad address":    strings.Replace(good, `"address": "tenun1`, `"address": "tenun1q`, 1),
		"plain and enc":  strings.Replace(good, `"version": 1,`, `"version": 1, "plaintext": {"mnemonic": "x"},`, 1),
		"oversized file": good + strings.Repeat(" ", maxKeyFileSize),
	}
	for name, in := range cases {
		if _, err := decodeKeyFile([]byte(in)); !errors.Is(err, ErrCorruptKeyFile) {
			t.Errorf("%s: decodeKeyFile = %v, want ErrCorruptKeyFile", name, err)
		}
	}
}

// FuzzDecodeKeyFile: arbitrary bytes never make the decoder (or, for files
// it accepts with cheap KDF costs, the decryption) panic.
func FuzzDecodeKeyFile(f *testing.F) {
	for _, data := range sampleKeyFiles(f) {
		f.Add(data)
	}
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":1,"backend":"test","plaintext":{}}`))
	f.Add([]byte("null"))
	f.Fuzz(func(t *testing.T, data []byte) {
		kf, err := decodeKeyFile(data)
		if err != nil {
			if kf != nil {
				t.Fatal("file returned with an error")
			}
			return
		}
		if c := kf.Crypto; c != nil && (c.KDFParams.MemoryKiB > 1024 || c.KDFParams.Time > 2) {
			return // valid but too slow to try for every input
		}
		if _, priv, err := kf.open(testPass); err == nil {
			// Whatever opens must be the key the file claims.
			if string(priv[32:]) != string(kf.PubKey) {
				t.Fatal("opened key does not match the file's public key")
			}
		}
		if _, err := encodeKeyFile(kf); err != nil {
			t.Fatalf("re-encoding an accepted file: %v", err)
		}
	})
}
