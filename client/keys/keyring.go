package keys

import (
	"bytes"
	stded25519 "crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/internal/atomicfile"
)

// Backend selects how a keyring stores its keys.
type Backend string

const (
	// BackendFile encrypts every key under a passphrase (Argon2id +
	// XChaCha20-Poly1305). Use it for any key that holds real value.
	BackendFile Backend = "file"
	// BackendTest stores keys UNENCRYPTED, readable by anyone who can read
	// the directory. INSECURE: for local devnets and tests only.
	BackendTest Backend = "test"
)

// MinPassphraseLen is the shortest passphrase the file backend accepts when
// it encrypts a new key.
const MinPassphraseLen = 8

// MaxNameLen is the longest key name.
const MaxNameLen = 64

// keyFileSuffix ends the file name of every key, after the key name.
const keyFileSuffix = ".key.json"

// Errors callers can test with errors.Is. Returned errors wrap them with the
// key name.
var (
	ErrInvalidName        = errors.New("invalid key name: use 1 to 64 of the characters a-z A-Z 0-9 _ -")
	ErrKeyExists          = errors.New("a key with this name already exists")
	ErrKeyNotFound        = errors.New("no such key")
	ErrWrongPassphrase    = errors.New("wrong passphrase or corrupt key file")
	ErrCorruptKeyFile     = errors.New("corrupt key file")
	ErrInvalidMnemonic    = errors.New("invalid mnemonic")
	ErrNoMnemonic         = errors.New("key was imported as a raw private key and has no mnemonic")
	ErrInvalidPrivKey     = errors.New("invalid ed25519 private key")
	ErrUnknownBackend     = errors.New("unknown keyring backend")
	ErrNoPassphrase       = errors.New("the file keyring backend needs a passphrase but none was provided")
	ErrPassphraseTooShort = fmt.Errorf("passphrase shorter than %d characters", MinPassphraseLen)
)

// Info is the public description of a key; reading it needs no passphrase.
type Info struct {
	Name    string        `json:"name"`
	Address chain.Address `json:"address"`
	PubKey  []byte        `json:"pub_key"` // 32-byte ed25519 public key
	Backend Backend       `json:"backend"`
}

// Option adjusts Open.
type Option func(*options)

type options struct {
	kdf KDFParams
}

// WithKDFParams sets the Argon2id costs for keys the file backend encrypts
// from now on (existing files keep the costs stored in them). Lowering them
// below DefaultKDFParams is for tests only: it makes stolen key files cheaper
// to brute-force.
func WithKDFParams(p KDFParams) Option {
	return func(o *options) { o.kdf = p }
}

// Keyring is a directory of keys. Its methods are safe for concurrent use
// within one process; several processes sharing a directory are safe for
// adds and reads (files are created atomically and never rewritten).
type Keyring struct {
	mu         sync.Mutex
	dir        string
	backend    Backend
	passphrase func() (string, error)
	kdf        KDFParams
}

// Open opens (creating if needed) the keyring of the given backend in dir.
// Keys live in dir/<name>.key.json; dir is made mode 0700 and every key file
// 0600. Use one directory per backend (the CLI uses <home>/keyring-<backend>):
// each file records its backend, and a key file of the other backend is
// refused as corrupt rather than silently used.
//
// passphrase is called whenever the file backend has to encrypt or decrypt
// a key (Add, Import, ImportPrivKey, Export, Signer); List, Show and Delete
// never call it. It may be nil for the test backend, or for a file keyring
// only used to list and show keys.
func Open(dir string, backend Backend, passphrase func() (string, error), opts ...Option) (*Keyring, error) {
	if backend != BackendFile && backend != BackendTest {
		return nil, fmt.Errorf("keys: %w %q (want %q or %q)", ErrUnknownBackend, backend, BackendFile, BackendTest)
	}
	o := options{kdf: DefaultKDFParams()}
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.kdf.validate(); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if dir == "" {
		return nil, errors.New("keys: empty keyring directory")
	}
	root := filepath.Clean(dir)
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	st, err := os.Stat(root)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("keys: %s is not a directory", root)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm()&0o077 != 0 && onlyKeyringFiles(root) {
		// Tighten a too-open keyring directory, but never chmod a directory
		// that holds anything else (someone's home passed as --keyring-dir).
		if err := os.Chmod(root, 0o700); err != nil {
			return nil, fmt.Errorf("keys: restricting %s to its owner: %w", root, err)
		}
	}
	return &Keyring{dir: root, backend: backend, passphrase: passphrase, kdf: o.kdf}, nil
}

// Dir is the directory holding the key files.
func (k *Keyring) Dir() string { return k.dir }

// Backend is the keyring's backend.
func (k *Keyring) Backend() Backend { return k.backend }

// ValidateName checks a key name: 1 to 64 characters from [a-zA-Z0-9_-].
func ValidateName(name string) error {
	if len(name) == 0 || len(name) > MaxNameLen {
		return fmt.Errorf("%w: %q", ErrInvalidName, name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
		if !ok {
			return fmt.Errorf("%w: %q", ErrInvalidName, name)
		}
	}
	return nil
}

// Add creates a key from a fresh 24-word mnemonic and returns it with the
// mnemonic, which the caller must show to the user to write down: it is the
// only backup of the key.
func (k *Keyring) Add(name string) (Info, string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.checkNew(name); err != nil {
		return Info{}, "", err
	}
	mnemonic, err := NewMnemonic()
	if err != nil {
		return Info{}, "", err
	}
	info, err := k.storeMnemonic(name, mnemonic)
	if err != nil {
		return Info{}, "", err
	}
	return info, mnemonic, nil
}

// Import stores the key of an existing BIP-39 mnemonic (24 words; 12, 15,
// 18 and 21 are accepted too), derived as DerivePrivKey documents.
func (k *Keyring) Import(name, mnemonic string) (Info, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := ValidateName(name); err != nil {
		return Info{}, err
	}
	if err := ValidateMnemonic(mnemonic); err != nil {
		return Info{}, err
	}
	if err := k.checkNew(name); err != nil {
		return Info{}, err
	}
	return k.storeMnemonic(name, NormalizeMnemonic(mnemonic))
}

// ImportPrivKey stores a raw 64-byte ed25519 private key (seed || public
// key, as CometBFT lays it out). Such a key has no mnemonic, so Export
// fails for it; back up the private key itself.
func (k *Keyring) ImportPrivKey(name string, priv ed25519.PrivKey) (Info, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := ValidateName(name); err != nil {
		return Info{}, err
	}
	if len(priv) != ed25519.PrivateKeySize {
		return Info{}, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidPrivKey, len(priv), ed25519.PrivateKeySize)
	}
	seed := append([]byte(nil), priv[:ed25519.SeedSize]...)
	defer wipe(seed)
	full := privKeyFromSeed(seed)
	defer wipe(full)
	if !bytes.Equal(full[32:], priv[32:]) {
		return Info{}, fmt.Errorf("%w: public half does not match the seed", ErrInvalidPrivKey)
	}
	if err := k.checkNew(name); err != nil {
		return Info{}, err
	}
	s := &secret{Seed: hexBytes(seed)}
	return k.store(name, full[32:], sourcePrivKey, s)
}

// Export returns the mnemonic of a key (decrypting it with the passphrase
// for the file backend).
func (k *Keyring) Export(name string) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, err := k.load(name)
	if err != nil {
		return "", err
	}
	if f.Source != sourceMnemonic {
		return "", fmt.Errorf("key %q: %w", name, ErrNoMnemonic)
	}
	s, priv, err := k.open(f)
	if err != nil {
		return "", err
	}
	wipe(priv)
	return s.Mnemonic, nil
}

// Signer returns the private key of a key (decrypting it with the
// passphrase for the file backend).
func (k *Keyring) Signer(name string) (ed25519.PrivKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, err := k.load(name)
	if err != nil {
		return nil, err
	}
	s, priv, err := k.open(f)
	if err != nil {
		return nil, err
	}
	s.wipe()
	return priv, nil
}

// Show returns the public description of a key.
func (k *Keyring) Show(name string) (Info, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	f, err := k.load(name)
	if err != nil {
		return Info{}, err
	}
	return f.info(), nil
}

// ShowAddress returns the key whose address is addr.
func (k *Keyring) ShowAddress(addr chain.Address) (Info, error) {
	infos, err := k.List()
	if err != nil {
		return Info{}, err
	}
	for _, in := range infos {
		if in.Address == addr {
			return in, nil
		}
	}
	return Info{}, fmt.Errorf("address %s: %w", addr, ErrKeyNotFound)
}

// List returns every key, sorted by name. A corrupt key file is an error
// naming the file.
func (k *Keyring) List() ([]Info, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	names, err := k.names()
	if err != nil {
		return nil, err
	}
	out := make([]Info, 0, len(names))
	for _, n := range names {
		f, err := k.load(n)
		if err != nil {
			if errors.Is(err, ErrKeyNotFound) {
				continue // deleted meanwhile by another process
			}
			return nil, err
		}
		out = append(out, f.info())
	}
	slices.SortFunc(out, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Delete removes a key. Without a mnemonic or private-key backup the key is
// gone for good.
func (k *Keyring) Delete(name string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, err := k.load(name); err != nil && !errors.Is(err, ErrCorruptKeyFile) {
		return err
	}
	if err := os.Remove(k.path(name)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("key %q: %w", name, ErrKeyNotFound)
		}
		return fmt.Errorf("key %q: %w", name, err)
	}
	return nil
}

// --- internals (callers hold k.mu) ---

// onlyKeyringFiles reports whether dir holds nothing but key files and this
// package's temporary files.
func onlyKeyringFiles(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !(strings.HasSuffix(n, keyFileSuffix) || strings.HasPrefix(n, ".") && strings.Contains(n, keyFileSuffix+".tmp-")) { // atomicfile's temporaries
			return false
		}
	}
	return true
}

func (k *Keyring) path(name string) string { return filepath.Join(k.dir, name+keyFileSuffix) }

// names lists the key names that have files in the directory.
func (k *Keyring) names() ([]string, error) {
	entries, err := os.ReadDir(k.dir)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	var out []string
	for _, e := range entries {
		n, ok := strings.CutSuffix(e.Name(), keyFileSuffix)
		if !ok || e.IsDir() || ValidateName(n) != nil {
			continue
		}
		out = append(out, n)
	}
	return out, nil
}

// checkNew validates name and makes sure no key has it, ignoring case (so
// keyrings behave the same on case-insensitive file systems).
func (k *Keyring) checkNew(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	names, err := k.names()
	if err != nil {
		return err
	}
	for _, n := range names {
		if strings.EqualFold(n, name) {
			if n == name {
				return fmt.Errorf("key %q: %w", name, ErrKeyExists)
			}
			return fmt.Errorf("key %q: %w (as %q; names are compared ignoring case)", name, ErrKeyExists, n)
		}
	}
	return nil
}

// load reads and validates the file of a key, without decrypting it.
func (k *Keyring) load(name string) (*keyFile, error) {
	if err := ValidateName(name); err != nil {
		return nil, err
	}
	p := k.path(name)
	fh, err := os.Open(p)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("key %q: %w", name, ErrKeyNotFound)
		}
		return nil, fmt.Errorf("key %q: %w", name, err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", name, err)
	}
	f, err := decodeKeyFile(data)
	if err != nil {
		return nil, fmt.Errorf("key %q (%s): %w", name, p, err)
	}
	if f.Name != name {
		if strings.EqualFold(f.Name, name) {
			// Case-insensitive file system: "Alice" opened alice's file.
			return nil, fmt.Errorf("key %q: %w (did you mean %q?)", name, ErrKeyNotFound, f.Name)
		}
		return nil, fmt.Errorf("key %q (%s): %w: file holds key %q", name, p, ErrCorruptKeyFile, f.Name)
	}
	if f.Backend != k.backend {
		return nil, fmt.Errorf("key %q (%s): %w: %s-backend key in a %s keyring", name, p, ErrCorruptKeyFile, f.Backend, k.backend)
	}
	return f, nil
}

// getPassphrase asks for the passphrase (file backend only).
func (k *Keyring) getPassphrase() (string, error) {
	if k.passphrase == nil {
		return "", ErrNoPassphrase
	}
	p, err := k.passphrase()
	if err != nil {
		return "", fmt.Errorf("keys: reading passphrase: %w", err)
	}
	return p, nil
}

// open decrypts f.
func (k *Keyring) open(f *keyFile) (*secret, ed25519.PrivKey, error) {
	var pass string
	if f.Backend == BackendFile {
		p, err := k.getPassphrase()
		if err != nil {
			return nil, nil, err
		}
		pass = p
	}
	s, priv, err := f.open(pass)
	if err != nil {
		return nil, nil, fmt.Errorf("key %q: %w", f.Name, err)
	}
	return s, priv, nil
}

func (k *Keyring) storeMnemonic(name, mnemonic string) (Info, error) {
	priv, err := DerivePrivKey(mnemonic, "")
	if err != nil {
		return Info{}, err
	}
	defer wipe(priv)
	pub := append([]byte(nil), priv[32:]...)
	return k.store(name, pub, sourceMnemonic, &secret{Mnemonic: mnemonic})
}

// store seals s and writes a new key file; it never overwrites one.
func (k *Keyring) store(name string, pub []byte, source string, s *secret) (Info, error) {
	if len(pub) != stded25519.PublicKeySize {
		return Info{}, fmt.Errorf("%w: public key is %d bytes", ErrInvalidPrivKey, len(pub))
	}
	var pass string
	if k.backend == BackendFile {
		p, err := k.getPassphrase()
		if err != nil {
			return Info{}, err
		}
		if len([]rune(p)) < MinPassphraseLen {
			return Info{}, ErrPassphraseTooShort
		}
		pass = p
	}
	f := newKeyFile(name, k.backend, pub, source)
	if err := f.seal(s, pass, k.kdf); err != nil {
		return Info{}, fmt.Errorf("key %q: %w", name, err)
	}
	data, err := encodeKeyFile(f)
	if err != nil {
		return Info{}, fmt.Errorf("key %q: %w", name, err)
	}
	defer wipe(data)
	if err := k.writeNew(name, data); err != nil {
		return Info{}, err
	}
	return f.info(), nil
}

// writeNew writes data as the file of name, mode 0600, atomically and
// without replacing an existing file.
func (k *Keyring) writeNew(name string, data []byte) error {
	err := atomicfile.WriteNew(k.path(name), data, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("key %q: %w", name, ErrKeyExists)
	}
	if err != nil {
		return fmt.Errorf("key %q: %w", name, err)
	}
	return nil
}
