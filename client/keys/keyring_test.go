package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
)

const testPass = "correct horse battery staple"

// fastKDF keeps tests quick; never use such costs for real keys.
var fastKDF = WithKDFParams(KDFParams{Time: 1, MemoryKiB: 64, Threads: 1})

func staticPass(p string) func() (string, error) {
	return func() (string, error) { return p, nil }
}

func openFile(t *testing.T, dir, pass string) *Keyring {
	t.Helper()
	kr, err := Open(dir, BackendFile, staticPass(pass), fastKDF)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestRoundTripFileBackend(t *testing.T) {
	dir := t.TempDir()
	kr := openFile(t, dir, testPass)

	info, mnemonic, err := kr.Add("alice")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(mnemonic)); n != 24 {
		t.Fatalf("mnemonic has %d words", n)
	}
	if info.Name != "alice" || info.Backend != BackendFile || len(info.PubKey) != 32 {
		t.Fatalf("info = %+v", info)
	}
	if info.Address != chain.AddressFromPubKey(info.PubKey) {
		t.Fatal("address does not match public key")
	}
	if !strings.HasPrefix(info.Address.String(), "tenun1") {
		t.Fatalf("address %s", info.Address)
	}
	priv, err := DerivePrivKey(mnemonic, "")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(priv.PubKey().Bytes(), info.PubKey) {
		t.Fatal("stored key is not the mnemonic's key")
	}

	if _, _, err := kr.Add("bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Import("Carol_2-x", DevMnemonic(2)); err != nil {
		t.Fatal(err)
	}

	list, err := kr.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, in := range list {
		names = append(names, in.Name)
	}
	if got := strings.Join(names, ","); got != "Carol_2-x,alice,bob" {
		t.Fatalf("List names = %s", got)
	}

	shown, err := kr.Show("alice")
	if err != nil {
		t.Fatal(err)
	}
	if shown.Address != info.Address || !bytes.Equal(shown.PubKey, info.PubKey) {
		t.Fatal("Show differs from Add")
	}
	byAddr, err := kr.ShowAddress(info.Address)
	if err != nil || byAddr.Name != "alice" {
		t.Fatalf("ShowAddress = %+v, %v", byAddr, err)
	}

	exported, err := kr.Export("alice")
	if err != nil {
		t.Fatal(err)
	}
	if exported != mnemonic {
		t.Fatal("Export returned another mnemonic")
	}

	signer, err := kr.Signer("alice")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("transfer 1 tenun")
	sig, err := signer.Sign(msg)
	if err != nil {
		t.Fatal(err)
	}
	if !ed25519.PubKey(info.PubKey).VerifySignature(msg, sig) {
		t.Fatal("signature does not verify")
	}

	// Import the exported mnemonic into a fresh keyring: same address.
	kr2 := openFile(t, t.TempDir(), "another passphrase")
	imported, err := kr2.Import("restored", exported)
	if err != nil {
		t.Fatal(err)
	}
	if imported.Address != info.Address {
		t.Fatalf("imported address %s, want %s", imported.Address, info.Address)
	}

	// Reopening the directory (even with default KDF costs) reads the keys.
	kr3, err := Open(dir, BackendFile, staticPass(testPass))
	if err != nil {
		t.Fatal(err)
	}
	if m, err := kr3.Export("alice"); err != nil || m != mnemonic {
		t.Fatalf("reopened Export: %v", err)
	}

	if err := kr.Delete("alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Show("alice"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("Show after Delete: %v", err)
	}
	if err := kr.Delete("alice"); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
	if list, _ := kr.List(); len(list) != 2 {
		t.Fatalf("List after Delete has %d keys", len(list))
	}
}

func TestFileHasNoSecretsInClear(t *testing.T) {
	dir := t.TempDir()
	kr := openFile(t, dir, testPass)
	info, mnemonic, err := kr.Add("alice")
	if err != nil {
		t.Fatal(err)
	}
	priv, err := kr.Signer("alice")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(kr.Dir(), "alice.key.json"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	forbidden := []string{mnemonic, testPass}
	// Any two consecutive words of the mnemonic: a single word may appear
	// by chance (in hex, or as one of the format's own names: "source" is
	// a BIP-39 word).
	words := strings.Fields(mnemonic)
	for i := 0; i+1 < len(words); i++ {
		forbidden = append(forbidden, words[i]+" "+words[i+1], words[i]+`","`+words[i+1])
	}
	for _, secret := range [][]byte{priv, priv[:32]} {
		forbidden = append(forbidden,
			hex.EncodeToString(secret), strings.ToUpper(hex.EncodeToString(secret)),
			base64.StdEncoding.EncodeToString(secret), base64.RawURLEncoding.EncodeToString(secret))
	}
	for _, s := range forbidden {
		if strings.Contains(text, s) {
			t.Fatalf("key file contains %q in clear:\n%s", s, text)
		}
	}
	if bytes.Contains(data, priv[:32]) {
		t.Fatal("key file contains the raw private seed")
	}
	// The public part is there, and the format is the documented one.
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	if f["version"] != float64(1) || f["address"] != info.Address.String() || f["backend"] != "file" {
		t.Fatalf("unexpected header: %v", f)
	}
	c := f["crypto"].(map[string]any)
	if c["kdf"] != "argon2id" || c["cipher"] != "xchacha20-poly1305" {
		t.Fatalf("crypto section: %v", c)
	}
}

func TestPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX permissions")
	}
	dir := t.TempDir()
	kr := openFile(t, dir, testPass)
	if _, _, err := kr.Add("alice"); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(kr.Dir())
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Fatalf("keyring dir mode %v, want 0700", st.Mode().Perm())
	}
	st, err = os.Stat(filepath.Join(kr.Dir(), "alice.key.json"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	// No temporary files are left behind.
	entries, _ := os.ReadDir(kr.Dir())
	if len(entries) != 1 {
		t.Fatalf("keyring dir holds %d entries, want 1", len(entries))
	}
	// A too-open existing keyring directory is tightened on Open.
	if err := os.Chmod(kr.Dir(), 0o755); err != nil {
		t.Fatal(err)
	}
	openFile(t, dir, testPass)
	st, _ = os.Stat(kr.Dir())
	if st.Mode().Perm() != 0o700 {
		t.Fatalf("reopened keyring dir mode %v, want 0700", st.Mode().Perm())
	}
	// A directory holding other things is not chmod-ed behind the user's back.
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "notes.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(other, 0o755); err != nil {
		t.Fatal(err)
	}
	openFile(t, other, testPass)
	if st, _ := os.Stat(other); st.Mode().Perm() != 0o755 {
		t.Fatalf("foreign directory mode changed to %v", st.Mode().Perm())
	}
}

func TestWrongPassphrase(t *testing.T) {
	dir := t.TempDir()
	kr := openFile(t, dir, testPass)
	if _, _, err := kr.Add("alice"); err != nil {
		t.Fatal(err)
	}
	bad := openFile(t, dir, "not the passphrase")
	if _, err := bad.Export("alice"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("Export with wrong passphrase: %v", err)
	}
	_, err := bad.Signer("alice")
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("Signer with wrong passphrase: %v", err)
	}
	if !strings.Contains(err.Error(), "wrong passphrase or corrupt key file") {
		t.Fatalf("error text %q", err)
	}
	// Public operations need no passphrase at all.
	noPass, err := Open(dir, BackendFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noPass.Show("alice"); err != nil {
		t.Fatal(err)
	}
	if list, err := noPass.List(); err != nil || len(list) != 1 {
		t.Fatalf("List without passphrase: %v", err)
	}
	if _, err := noPass.Signer("alice"); !errors.Is(err, ErrNoPassphrase) {
		t.Fatalf("Signer without passphrase: %v", err)
	}
	// The passphrase callback's own error comes through.
	boom := errors.New("no terminal")
	failing, _ := Open(dir, BackendFile, func() (string, error) { return "", boom }, fastKDF)
	if _, err := failing.Signer("alice"); !errors.Is(err, boom) {
		t.Fatalf("Signer with failing prompt: %v", err)
	}
}

func TestShortPassphraseRejected(t *testing.T) {
	kr := openFile(t, t.TempDir(), "short")
	if _, _, err := kr.Add("alice"); !errors.Is(err, ErrPassphraseTooShort) {
		t.Fatalf("Add with short passphrase: %v", err)
	}
	if list, _ := kr.List(); len(list) != 0 {
		t.Fatal("key stored despite the error")
	}
}

func TestTamperedFileRejected(t *testing.T) {
	dir := t.TempDir()
	kr := openFile(t, dir, testPass)
	if _, _, err := kr.Add("alice"); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(kr.Dir(), "alice.key.json")
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rewrite := func(edit func(f *keyFile)) {
		t.Helper()
		f, err := decodeKeyFile(orig)
		if err != nil {
			t.Fatal(err)
		}
		edit(f)
		data, err := encodeKeyFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	other, err := DerivePrivKey(DevMnemonic(1), "")
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func(f *keyFile){
		"ciphertext bit": func(f *keyFile) { f.Crypto.Ciphertext[3] ^= 0x01 },
		"ciphertext tag": func(f *keyFile) { f.Crypto.Ciphertext[len(f.Crypto.Ciphertext)-1] ^= 0x80 },
		"truncated":      func(f *keyFile) { f.Crypto.Ciphertext = f.Crypto.Ciphertext[:len(f.Crypto.Ciphertext)-1] },
		"nonce":          func(f *keyFile) { f.Crypto.Nonce[0] ^= 0x01 },
		"salt":           func(f *keyFile) { f.Crypto.KDFParams.Salt[0] ^= 0x01 },
		"kdf time":       func(f *keyFile) { f.Crypto.KDFParams.Time++ },
		// Swapping in another public key (with its matching address) must
		// not let the file claim another account.
		"public key": func(f *keyFile) {
			f.PubKey = hexBytes(other.PubKey().Bytes())
			f.Address = chain.AddressFromPubKey(f.PubKey)
		},
	}
	for name, edit := range cases {
		rewrite(edit)
		_, err := kr.Signer("alice")
		if !errors.Is(err, ErrWrongPassphrase) && !errors.Is(err, ErrCorruptKeyFile) {
			t.Errorf("%s: Signer = %v, want a wrong-passphrase/corrupt error", name, err)
		}
		if _, err := kr.Export("alice"); err == nil {
			t.Errorf("%s: Export succeeded", name)
		}
	}
	// Syntactic damage is reported as corruption, naming the file.
	if err := os.WriteFile(path, []byte(`{"version":1,`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = kr.Show("alice")
	if !errors.Is(err, ErrCorruptKeyFile) || !strings.Contains(err.Error(), path) {
		t.Fatalf("Show of broken file: %v", err)
	}
	if _, err := kr.List(); !errors.Is(err, ErrCorruptKeyFile) {
		t.Fatalf("List with a broken file: %v", err)
	}
	// A corrupt key can still be deleted.
	if err := kr.Delete("alice"); err != nil {
		t.Fatal(err)
	}
	// Restoring the original file restores the key.
	if err := os.WriteFile(path, orig, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Signer("alice"); err != nil {
		t.Fatalf("original file: %v", err)
	}
}

func TestRenamedFileRejected(t *testing.T) {
	kr := openFile(t, t.TempDir(), testPass)
	if _, _, err := kr.Add("alice"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(kr.Dir(), "alice.key.json"), filepath.Join(kr.Dir(), "mallory.key.json")); err != nil {
		t.Fatal(err)
	}
	if _, err := kr.Signer("mallory"); !errors.Is(err, ErrCorruptKeyFile) {
		t.Fatalf("renamed file: %v", err)
	}
}

func TestTestBackend(t *testing.T) {
	dir := t.TempDir()
	kr, err := Open(dir, BackendTest, nil)
	if err != nil {
		t.Fatal(err)
	}
	info, mnemonic, err := kr.Add("alice")
	if err != nil {
		t.Fatal(err)
	}
	if info.Backend != BackendTest {
		t.Fatalf("backend %q", info.Backend)
	}
	if m, err := kr.Export("alice"); err != nil || m != mnemonic {
		t.Fatalf("Export: %q, %v", m, err)
	}
	priv, err := kr.Signer("alice")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(priv.PubKey().Bytes(), info.PubKey) {
		t.Fatal("Signer gave another key")
	}
	dev, err := kr.Import("bob", DevMnemonic(1))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dev.PubKey, DevPrivKey(1).PubKey().Bytes()) {
		t.Fatal("imported dev key differs from DevPrivKey")
	}
	data, err := os.ReadFile(filepath.Join(kr.Dir(), "alice.key.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "UNENCRYPTED") {
		t.Fatal("test key file does not say it is unencrypted")
	}
	// A test key file in a file keyring is refused, not used.
	fileKR := openFile(t, t.TempDir(), testPass)
	if err := os.WriteFile(filepath.Join(fileKR.Dir(), "alice.key.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := fileKR.Signer("alice"); !errors.Is(err, ErrCorruptKeyFile) {
		t.Fatalf("test key in file keyring: %v", err)
	}
}

func TestInvalidMnemonicRejected(t *testing.T) {
	kr := openFile(t, t.TempDir(), testPass)
	words := strings.Fields(DevMnemonic(0))
	words[0], words[1] = words[1], words[0] // same words, wrong checksum
	for _, m := range []string{strings.Join(words, " "), "not a mnemonic", ""} {
		if _, err := kr.Import("x", m); !errors.Is(err, ErrInvalidMnemonic) {
			t.Errorf("Import(%q) = %v, want ErrInvalidMnemonic", m, err)
		}
	}
	if list, _ := kr.List(); len(list) != 0 {
		t.Fatal("invalid mnemonic stored")
	}
}

func TestDuplicateNameRejected(t *testing.T) {
	kr := openFile(t, t.TempDir(), testPass)
	first, _, err := kr.Add("alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := kr.Add("alice"); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("second Add: %v", err)
	}
	if _, err := kr.Import("alice", DevMnemonic(0)); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("Import over existing: %v", err)
	}
	if _, err := kr.Import("ALICE", DevMnemonic(0)); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("Import differing only in case: %v", err)
	}
	if _, err := kr.ImportPrivKey("alice", DevPrivKey(0)); !errors.Is(err, ErrKeyExists) {
		t.Fatalf("ImportPrivKey over existing: %v", err)
	}
	// The original key is untouched.
	now, err := kr.Show("alice")
	if err != nil || now.Address != first.Address {
		t.Fatalf("original key changed: %v", err)
	}
}

func TestConcurrentAddSameName(t *testing.T) {
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			kr, err := Open(dir, BackendTest, nil) // separate Keyrings, like separate processes
			if err == nil {
				_, _, err = kr.Add("alice")
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, ErrKeyExists):
			t.Fatalf("unexpected error %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d concurrent Adds of one name succeeded, want 1", ok)
	}
}

func TestInvalidNames(t *testing.T) {
	kr, err := Open(t.TempDir(), BackendTest, nil)
	if err != nil {
		t.Fatal(err)
	}
	bad := []string{"", strings.Repeat("a", 65), "a b", "../x", "a/b", "a.b", "ä", "a\x00", "name\n"}
	for _, n := range bad {
		if _, _, err := kr.Add(n); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Add(%q) = %v, want ErrInvalidName", n, err)
		}
		if _, err := kr.Show(n); !errors.Is(err, ErrInvalidName) {
			t.Errorf("Show(%q) = %v, want ErrInvalidName", n, err)
		}
	}
	for _, n := range []string{"a", strings.Repeat("Z", 64), "val-1_A"} {
		if err := ValidateName(n); err != nil {
			t.Errorf("ValidateName(%q) = %v", n, err)
		}
	}
}

func TestUnknownName(t *testing.T) {
	kr := openFile(t, t.TempDir(), testPass)
	for _, f := range []func() error{
		func() error { _, err := kr.Show("nobody"); return err },
		func() error { _, err := kr.Export("nobody"); return err },
		func() error { _, err := kr.Signer("nobody"); return err },
		func() error { return kr.Delete("nobody") },
		func() error { _, err := kr.ShowAddress(chain.Address{1}); return err },
	} {
		if err := f(); !errors.Is(err, ErrKeyNotFound) {
			t.Errorf("got %v, want ErrKeyNotFound", err)
		}
	}
}

func TestImportPrivKey(t *testing.T) {
	kr := openFile(t, t.TempDir(), testPass)
	priv := ed25519.GenPrivKey()
	info, err := kr.ImportPrivKey("raw", priv)
	if err != nil {
		t.Fatal(err)
	}
	if info.Address != chain.AddressFromPubKey(priv.PubKey().Bytes()) {
		t.Fatal("address mismatch")
	}
	got, err := kr.Signer("raw")
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equals(priv) {
		t.Fatal("Signer returned another key")
	}
	if _, err := kr.Export("raw"); !errors.Is(err, ErrNoMnemonic) {
		t.Fatalf("Export of raw key: %v", err)
	}
	broken := append(ed25519.PrivKey(nil), priv...)
	broken[40] ^= 1
	if _, err := kr.ImportPrivKey("broken", broken); !errors.Is(err, ErrInvalidPrivKey) {
		t.Fatalf("inconsistent key: %v", err)
	}
	if _, err := kr.ImportPrivKey("short", priv[:32]); !errors.Is(err, ErrInvalidPrivKey) {
		t.Fatalf("short key: %v", err)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(t.TempDir(), "kwallet", nil); !errors.Is(err, ErrUnknownBackend) {
		t.Fatalf("unknown backend: %v", err)
	}
	if _, err := Open("", BackendTest, nil); err == nil {
		t.Fatal("empty dir accepted")
	}
	if _, err := Open(t.TempDir(), BackendFile, nil, WithKDFParams(KDFParams{})); err == nil {
		t.Fatal("zero KDF params accepted")
	}
}
