package keys

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"

	"github.com/tenun-chain/tenun/chain"
)

// Key file format, version 1. One JSON file per key, named "<name>.key.json":
//
//	{
//	  "version": 1,
//	  "backend": "file",            // or "test"
//	  "name": "alice",
//	  "address": "tenun1...",
//	  "pub_key": "<hex, 32 bytes>",
//	  "source": "mnemonic",         // or "privkey" (ImportPrivKey: no mnemonic)
//	  "hd_path": "m/44'/118'/0'/0'/0'",
//	  "crypto": {                   // file backend only
//	    "kdf": "argon2id",
//	    "kdf_params": {"time": 3, "memory_kib": 65536, "threads": 4, "salt": "<hex, 16 bytes>"},
//	    "cipher": "xchacha20-poly1305",
//	    "nonce": "<hex, 24 bytes>",
//	    "ciphertext": "<hex>"
//	  },
//	  "insecure": "...",            // test backend only: a warning
//	  "plaintext": {...}            // test backend only: the secret in clear
//	}
//
// The secret is the JSON object {"mnemonic": "..."} or {"seed": "<hex>"} (a
// 32-byte ed25519 seed, for keys imported as raw private keys). In the file
// backend it is sealed with XChaCha20-Poly1305 under the 32-byte key
// Argon2id(passphrase, salt, time, memory_kib, threads); the additional data
// is the canonical JSON of every other field (version, backend, name,
// address, pub_key, source, hd_path and the KDF and cipher parameters), so
// editing any of them makes decryption fail.

const (
	keyFileVersion = 1

	kdfArgon2id      = "argon2id"
	cipherXChaCha20  = "xchacha20-poly1305"
	sourceMnemonic   = "mnemonic"
	sourcePrivKey    = "privkey"
	insecureWarning  = "UNENCRYPTED TEST KEY: anyone who can read this file controls the account. Devnets and tests only."
	saltLen          = 16
	encKeyLen        = 32
	maxCiphertextLen = 4096
	maxKeyFileSize   = 64 << 10
	maxKDFTime       = 64
	maxKDFMemoryKiB  = 2 << 20 // 2 GiB, the RFC 9106 first recommended option
	maxKDFThreads    = 64
	minSaltLen       = 16
	maxSaltLen       = 64
	pubKeyLen        = 32
	privSeedLen      = 32
	aadDomain        = "tenun-keyring-v1\x00"
)

// hexBytes is a byte slice that JSON-encodes as lower-case hex.
type hexBytes []byte

func (h hexBytes) MarshalText() ([]byte, error) {
	out := make([]byte, hex.EncodedLen(len(h)))
	hex.Encode(out, h)
	return out, nil
}

func (h *hexBytes) UnmarshalText(b []byte) error {
	out := make([]byte, hex.DecodedLen(len(b)))
	if _, err := hex.Decode(out, b); err != nil {
		return err
	}
	*h = out
	return nil
}

// KDFParams are the Argon2id costs used to encrypt new keys in the file
// backend. They are stored in each key file, so files written with other
// costs stay readable.
type KDFParams struct {
	Time      uint32 `json:"time"`       // passes over memory
	MemoryKiB uint32 `json:"memory_kib"` // memory in KiB
	Threads   uint8  `json:"threads"`    // parallelism
}

// DefaultKDFParams are the RFC 9106 second recommended Argon2id option:
// 3 passes over 64 MiB with 4 lanes (about 0.1-0.3 s per key operation).
func DefaultKDFParams() KDFParams {
	return KDFParams{Time: 3, MemoryKiB: 64 << 10, Threads: 4}
}

// validate checks p is usable by argon2 and bounded (a key file must not be
// able to make Open allocate unbounded memory or spin forever).
func (p KDFParams) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxKDFTime:
		return fmt.Errorf("argon2id time %d out of range [1, %d]", p.Time, maxKDFTime)
	case p.Threads < 1 || p.Threads > maxKDFThreads:
		return fmt.Errorf("argon2id threads %d out of range [1, %d]", p.Threads, maxKDFThreads)
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxKDFMemoryKiB:
		return fmt.Errorf("argon2id memory %d KiB out of range [%d, %d]", p.MemoryKiB, 8*uint32(p.Threads), maxKDFMemoryKiB)
	}
	return nil
}

type kdfSection struct {
	KDFParams
	Salt hexBytes `json:"salt"`
}

type cryptoSection struct {
	KDF        string     `json:"kdf"`
	KDFParams  kdfSection `json:"kdf_params"`
	Cipher     string     `json:"cipher"`
	Nonce      hexBytes   `json:"nonce"`
	Ciphertext hexBytes   `json:"ciphertext,omitempty"`
}

// secret is what the file protects: exactly one of Mnemonic and Seed.
type secret struct {
	Mnemonic string   `json:"mnemonic,omitempty"`
	Seed     hexBytes `json:"seed,omitempty"`
}

func (s *secret) wipe() {
	if s == nil {
		return
	}
	wipe(s.Seed)
	s.Mnemonic = ""
}

// keyFile is the on-disk form of one key.
type keyFile struct {
	Version   int            `json:"version"`
	Backend   Backend        `json:"backend"`
	Name      string         `json:"name"`
	Address   chain.Address  `json:"address"`
	PubKey    hexBytes       `json:"pub_key"`
	Source    string         `json:"source"`
	HDPath    string         `json:"hd_path,omitempty"`
	Crypto    *cryptoSection `json:"crypto,omitempty"`
	Insecure  string         `json:"insecure,omitempty"`
	Plaintext *secret        `json:"plaintext,omitempty"`
}

func (f *keyFile) info() Info {
	return Info{
		Name:    f.Name,
		Address: f.Address,
		PubKey:  append([]byte(nil), f.PubKey...),
		Backend: f.Backend,
	}
}

// aad is the additional authenticated data binding the ciphertext to every
// public field of the file.
func (f *keyFile) aad() []byte {
	hdr := *f
	hdr.Insecure = ""
	hdr.Plaintext = nil
	if f.Crypto != nil {
		c := *f.Crypto
		c.Ciphertext = nil
		hdr.Crypto = &c
	}
	b, err := json.Marshal(&hdr)
	if err != nil {
		panic(err) // plain structs always marshal
	}
	return append([]byte(aadDomain), b...)
}

// encodeKeyFile renders f as indented JSON.
func encodeKeyFile(f *keyFile) ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// decodeKeyFile parses and validates a key file without decrypting it. It
// never panics on arbitrary input.
func decodeKeyFile(data []byte) (*keyFile, error) {
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("%w: %d bytes, larger than %d", ErrCorruptKeyFile, len(data), maxKeyFileSize)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f keyFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptKeyFile, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%w: trailing data after the JSON object", ErrCorruptKeyFile)
	}
	if err := f.validate(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorruptKeyFile, err)
	}
	return &f, nil
}

func (f *keyFile) validate() error {
	if f.Version != keyFileVersion {
		return fmt.Errorf("unsupported key file version %d (this build reads version %d)", f.Version, keyFileVersion)
	}
	if err := ValidateName(f.Name); err != nil {
		return err
	}
	if len(f.PubKey) != pubKeyLen {
		return fmt.Errorf("public key is %d bytes, want %d", len(f.PubKey), pubKeyLen)
	}
	if chain.AddressFromPubKey(f.PubKey) != f.Address {
		return errors.New("address does not match public key")
	}
	switch f.Source {
	case sourceMnemonic:
		if f.HDPath != HDPath {
			return fmt.Errorf("unsupported derivation path %q (want %q)", f.HDPath, HDPath)
		}
	case sourcePrivKey:
		if f.HDPath != "" {
			return errors.New("raw private key with a derivation path")
		}
	default:
		return fmt.Errorf("unknown key source %q", f.Source)
	}
	switch f.Backend {
	case BackendFile:
		if f.Plaintext != nil || f.Insecure != "" {
			return errors.New("encrypted key file with plaintext fields")
		}
		c := f.Crypto
		if c == nil {
			return errors.New("missing crypto section")
		}
		if c.KDF != kdfArgon2id {
			return fmt.Errorf("unsupported kdf %q", c.KDF)
		}
		if err := c.KDFParams.KDFParams.validate(); err != nil {
			return err
		}
		if n := len(c.KDFParams.Salt); n < minSaltLen || n > maxSaltLen {
			return fmt.Errorf("salt is %d bytes, want %d..%d", n, minSaltLen, maxSaltLen)
		}
		if c.Cipher != cipherXChaCha20 {
			return fmt.Errorf("unsupported cipher %q", c.Cipher)
		}
		if len(c.Nonce) != chacha20poly1305.NonceSizeX {
			return fmt.Errorf("nonce is %d bytes, want %d", len(c.Nonce), chacha20poly1305.NonceSizeX)
		}
		if n := len(c.Ciphertext); n < chacha20poly1305.Overhead || n > maxCiphertextLen {
			return fmt.Errorf("ciphertext is %d bytes, want %d..%d", n, chacha20poly1305.Overhead, maxCiphertextLen)
		}
	case BackendTest:
		if f.Crypto != nil {
			return errors.New("test key file with a crypto section")
		}
		if f.Plaintext == nil {
			return errors.New("test key file without plaintext")
		}
	default:
		return fmt.Errorf("unknown backend %q", f.Backend)
	}
	return nil
}

// newKeyFile builds the public part of a key file for priv.
func newKeyFile(name string, backend Backend, pub []byte, source string) *keyFile {
	f := &keyFile{
		Version: keyFileVersion,
		Backend: backend,
		Name:    name,
		Address: chain.AddressFromPubKey(pub),
		PubKey:  append(hexBytes(nil), pub...),
		Source:  source,
	}
	if source == sourceMnemonic {
		f.HDPath = HDPath
	}
	return f
}

// seal stores s in f: encrypted under passphrase for the file backend, in
// clear (with a warning) for the test backend.
func (f *keyFile) seal(s *secret, passphrase string, params KDFParams) error {
	plain, err := json.Marshal(s)
	if err != nil {
		return err
	}
	defer wipe(plain)
	switch f.Backend {
	case BackendTest:
		cp := &secret{Mnemonic: s.Mnemonic, Seed: append(hexBytes(nil), s.Seed...)}
		f.Insecure = insecureWarning
		f.Plaintext = cp
		return nil
	case BackendFile:
	default:
		return fmt.Errorf("unknown backend %q", f.Backend)
	}
	if err := params.validate(); err != nil {
		return err
	}
	salt := make([]byte, saltLen)
	nonce := make([]byte, chacha20poly1305.NonceSizeX)
	if _, err := rand.Read(salt); err != nil {
		return err
	}
	if _, err := rand.Read(nonce); err != nil {
		return err
	}
	f.Crypto = &cryptoSection{
		KDF:       kdfArgon2id,
		KDFParams: kdfSection{KDFParams: params, Salt: salt},
		Cipher:    cipherXChaCha20,
		Nonce:     nonce,
	}
	key := argon2.IDKey([]byte(passphrase), salt, params.Time, params.MemoryKiB, params.Threads, encKeyLen)
	defer wipe(key)
	aead, err := chacha20poly1305.NewX(key)
	if err != nil {
		return err
	}
	f.Crypto.Ciphertext = aead.Seal(nil, nonce, plain, f.aad())
	return nil
}

// open recovers the secret of f, decrypting with passphrase for the file
// backend, and checks that it yields f's public key.
func (f *keyFile) open(passphrase string) (*secret, ed25519.PrivKey, error) {
	var s secret
	switch f.Backend {
	case BackendTest:
		if f.Plaintext == nil {
			return nil, nil, ErrCorruptKeyFile
		}
		s = secret{Mnemonic: f.Plaintext.Mnemonic, Seed: append(hexBytes(nil), f.Plaintext.Seed...)}
	case BackendFile:
		c := f.Crypto
		if c == nil {
			return nil, nil, ErrCorruptKeyFile
		}
		p := c.KDFParams
		if err := p.KDFParams.validate(); err != nil {
			return nil, nil, fmt.Errorf("%w: %v", ErrCorruptKeyFile, err)
		}
		key := argon2.IDKey([]byte(passphrase), p.Salt, p.Time, p.MemoryKiB, p.Threads, encKeyLen)
		defer wipe(key)
		aead, err := chacha20poly1305.NewX(key)
		if err != nil {
			return nil, nil, err
		}
		if len(c.Nonce) != aead.NonceSize() {
			return nil, nil, ErrWrongPassphrase
		}
		plain, err := aead.Open(nil, c.Nonce, c.Ciphertext, f.aad())
		if err != nil {
			return nil, nil, ErrWrongPassphrase
		}
		defer wipe(plain)
		dec := json.NewDecoder(bytes.NewReader(plain))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return nil, nil, fmt.Errorf("%w: secret: %v", ErrCorruptKeyFile, err)
		}
	default:
		return nil, nil, fmt.Errorf("%w: unknown backend %q", ErrCorruptKeyFile, f.Backend)
	}
	priv, err := s.privKey(f.Source)
	if err != nil {
		s.wipe()
		return nil, nil, fmt.Errorf("%w: %v", ErrCorruptKeyFile, err)
	}
	if !bytes.Equal(priv[32:], f.PubKey) {
		s.wipe()
		wipe(priv)
		return nil, nil, fmt.Errorf("%w: secret does not match the public key", ErrCorruptKeyFile)
	}
	return &s, priv, nil
}

// privKey derives the private key a secret stands for.
func (s *secret) privKey(source string) (ed25519.PrivKey, error) {
	switch source {
	case sourceMnemonic:
		if len(s.Seed) != 0 || s.Mnemonic == "" {
			return nil, errors.New("mnemonic key without a mnemonic")
		}
		return DerivePrivKey(s.Mnemonic, "")
	case sourcePrivKey:
		if s.Mnemonic != "" || len(s.Seed) != privSeedLen {
			return nil, errors.New("private key without a 32-byte seed")
		}
		return privKeyFromSeed(s.Seed), nil
	default:
		return nil, fmt.Errorf("unknown key source %q", source)
	}
}
