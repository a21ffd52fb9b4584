package keys

import (
	stded25519 "crypto/ed25519"
	"encoding/hex"
	"errors"
	"slices"
	"strings"
	"testing"

	bip39 "github.com/cosmos/go-bip39"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSLIP10Ed25519Vector1 checks the SLIP-0010 specification's test vector 1
// for ed25519 (seed 000102030405060708090a0b0c0d0e0f), byte for byte.
// https://github.com/satoshilabs/slips/blob/master/slip-0010.md
func TestSLIP10Ed25519Vector1(t *testing.T) {
	seed := mustHex(t, "000102030405060708090a0b0c0d0e0f")

	// Master node, with chain code and public key as the spec lists them.
	key, chainCode := slip10Master(seed)
	if got, want := hex.EncodeToString(key[:]), "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7"; got != want {
		t.Fatalf("master private key = %s, want %s", got, want)
	}
	if got, want := hex.EncodeToString(chainCode[:]), "90046a93de5380a72b5e45010748567d5ea02bbf6522f979e05c0d8d8ca9fffb"; got != want {
		t.Fatalf("master chain code = %s, want %s", got, want)
	}
	pub := stded25519.NewKeyFromSeed(key[:]).Public().(stded25519.PublicKey)
	if got, want := "00"+hex.EncodeToString(pub), "00a4b2856bfec510abab89753fac1ac0e1112364e7d250545963f135f2a33188ed"; got != want {
		t.Fatalf("master public key = %s, want %s", got, want)
	}

	chains := []struct {
		path      []uint32
		chainCode string
		priv      string
		pub       string // SLIP-0010 form: 0x00 || ed25519 public key
	}{
		{[]uint32{0}, "8b59aa11380b624e81507a27fedda59fea6d0b779a778918a2fd3590e16e9c69",
			"68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3",
			"008c8a13df77a28f3445213a0f432fde644acaa215fc72dcdf300d5efaa85d350c"},
		{[]uint32{0, 1}, "a320425f77d1b5c2505a6b1b27382b37368ee640e3557c315416801243552f14",
			"b1d0bad404bf35da785a64ca1ac54b2617211d2777696fbffaf208f746ae84f2",
			"001932a5270f335bed617d5b935c80aedb1a35bd9fc1e31acafd5372c30f5c1187"},
		{[]uint32{0, 1, 2}, "", "92a5b23c0b8a99e37d07df3fb9966917f5d06e02ddbd909c7e184371463e9fc9", ""},
		{[]uint32{0, 1, 2, 2}, "", "30d1dc7e5fc04c31219ab25a27ae00b50f6fd66622f6e9c913253d6511d1e662", ""},
		{[]uint32{0, 1, 2, 2, 1000000000}, "", "8f94d394a8e8fd6b1bc2f3f49f5c47e385281d5c17e65324b0f62483e37e8793", ""},
	}
	for _, c := range chains {
		key, cc := slip10DeriveEd25519(seed, c.path)
		if got := hex.EncodeToString(key[:]); got != c.priv {
			t.Errorf("m/%v' private key = %s, want %s", c.path, got, c.priv)
		}
		if c.chainCode != "" {
			if got := hex.EncodeToString(cc[:]); got != c.chainCode {
				t.Errorf("m/%v' chain code = %s, want %s", c.path, got, c.chainCode)
			}
		}
		if c.pub != "" {
			pub := stded25519.NewKeyFromSeed(key[:]).Public().(stded25519.PublicKey)
			if got := "00" + hex.EncodeToString(pub); got != c.pub {
				t.Errorf("m/%v' public key = %s, want %s", c.path, got, c.pub)
			}
		}
	}
}

// TestBIP39SeedVector pins step 1 of the derivation to the BIP-39 reference
// (Trezor) vector.
func TestBIP39SeedVector(t *testing.T) {
	m := "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"
	if err := ValidateMnemonic(m); err != nil {
		t.Fatal(err)
	}
	got := hex.EncodeToString(bip39.NewSeed(m, "TREZOR"))
	want := "c55257c360c07c72029aebc1b53c05ed0362ada38ead3e3e9efa3708e53495531f09a6987599d18264c1e1c92f2cf141630c7a3c4ab7c81b2f001698e7463b04"
	if got != want {
		t.Fatalf("seed = %s, want %s", got, want)
	}
}

func TestHDPathConstant(t *testing.T) {
	p, err := parseHDPath(HDPath)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p, hdPath) {
		t.Fatalf("HDPath parses to %v, hdPath is %v", p, hdPath)
	}
	for _, bad := range []string{"", "44'/118'", "m/44", "m/44'/x'", "m/2147483648'", "m/'"} {
		if _, err := parseHDPath(bad); err == nil {
			t.Errorf("parseHDPath(%q) succeeded", bad)
		}
	}
}

func TestDerivePrivKey(t *testing.T) {
	m, err := NewMnemonic()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(m)); n != 24 {
		t.Fatalf("NewMnemonic gave %d words, want 24", n)
	}
	a, err := DerivePrivKey(m, "")
	if err != nil {
		t.Fatal(err)
	}
	// Extra whitespace and upper case are normalized away.
	b, err := DerivePrivKey("  "+strings.ToUpper(strings.ReplaceAll(m, " ", "\n\t "))+" ", "")
	if err != nil {
		t.Fatal(err)
	}
	if !a.Equals(b) {
		t.Fatal("normalized mnemonic derived a different key")
	}
	// Equals the documented derivation, step by step.
	key, _ := slip10DeriveEd25519(bip39.NewSeed(m, ""), []uint32{44, 118, 0, 0, 0})
	if !slices.Equal([]byte(a), []byte(stded25519.NewKeyFromSeed(key[:]))) {
		t.Fatal("DerivePrivKey differs from BIP-39 + SLIP-0010 at m/44'/118'/0'/0'/0'")
	}
	// The BIP-39 passphrase changes the key.
	c, err := DerivePrivKey(m, "25th word")
	if err != nil {
		t.Fatal(err)
	}
	if a.Equals(c) {
		t.Fatal("BIP-39 passphrase ignored")
	}
	msg := []byte("tenun")
	sig, err := a.Sign(msg)
	if err != nil || !a.PubKey().VerifySignature(msg, sig) {
		t.Fatal("derived key does not sign")
	}
}

func TestValidateMnemonic(t *testing.T) {
	good := DevMnemonic(0)
	words := strings.Fields(good)
	// Swap the last word for another valid word: the checksum breaks.
	bad := slices.Clone(words)
	if bad[23] == "abandon" {
		bad[23] = "ability"
	} else {
		bad[23] = "abandon"
	}
	cases := map[string]string{
		"bad checksum":  strings.Join(bad, " "),
		"unknown word":  strings.Join(append(slices.Clone(words[:23]), "tenunx"), " "),
		"too short":     strings.Join(words[:23], " "),
		"empty":         "",
		"13 words":      strings.Join(words[:13], " "),
		"all abandon12": strings.Repeat("abandon ", 12),
	}
	for name, m := range cases {
		err := ValidateMnemonic(m)
		if !errors.Is(err, ErrInvalidMnemonic) {
			t.Errorf("%s: ValidateMnemonic = %v, want ErrInvalidMnemonic", name, err)
		}
		if _, err := DerivePrivKey(m, ""); !errors.Is(err, ErrInvalidMnemonic) {
			t.Errorf("%s: DerivePrivKey = %v, want ErrInvalidMnemonic", name, err)
		}
	}
	if err := ValidateMnemonic(good); err != nil {
		t.Fatal(err)
	}
}
