package keys

import (
	stded25519 "crypto/ed25519"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/cometbft/cometbft/crypto/ed25519"
	bip39 "github.com/cosmos/go-bip39"
)

// HDPath is the SLIP-0010 derivation path of every mnemonic key in a Tenun
// keyring: purpose 44', coin type 118' (the Cosmos coin type, so wallets that
// speak Cosmos ed25519 derivation find the same key), account 0', change 0',
// index 0'. Every level is hardened because SLIP-0010 ed25519 only defines
// hardened derivation.
const HDPath = "m/44'/118'/0'/0'/0'"

// hdPath is HDPath as child indexes (without the hardened bit).
var hdPath = []uint32{44, 118, 0, 0, 0}

// MnemonicEntropyBits is the entropy of the mnemonics this package generates:
// 256 bits, i.e. 24 words.
const MnemonicEntropyBits = 256

const hardenedOffset uint32 = 0x80000000

// slip10Seed is the HMAC key SLIP-0010 uses for the ed25519 curve.
var slip10Seed = []byte("ed25519 seed")

// NewMnemonic returns a fresh 24-word BIP-39 mnemonic (256 bits from
// crypto/rand plus an 8-bit checksum).
func NewMnemonic() (string, error) {
	entropy, err := bip39.NewEntropy(MnemonicEntropyBits)
	if err != nil {
		return "", fmt.Errorf("keys: entropy: %w", err)
	}
	defer wipe(entropy)
	return bip39.NewMnemonic(entropy)
}

// NormalizeMnemonic collapses runs of whitespace to single spaces and lower
// cases the words, the form in which mnemonics are stored and hashed.
func NormalizeMnemonic(mnemonic string) string {
	return strings.ToLower(strings.Join(strings.Fields(mnemonic), " "))
}

// ValidateMnemonic checks that mnemonic (after NormalizeMnemonic) is a BIP-39
// English mnemonic of 12, 15, 18, 21 or 24 words whose words are all in the
// word list and whose checksum is right. The error wraps ErrInvalidMnemonic.
func ValidateMnemonic(mnemonic string) error {
	m := NormalizeMnemonic(mnemonic)
	n := len(strings.Fields(m))
	switch n {
	case 12, 15, 18, 21, 24:
	default:
		return fmt.Errorf("%w: %d words, want 24 (or 12, 15, 18, 21)", ErrInvalidMnemonic, n)
	}
	for i, w := range strings.Fields(m) {
		if _, ok := bip39.ReverseWordMap[w]; !ok {
			return fmt.Errorf("%w: word %d is not in the BIP-39 English word list", ErrInvalidMnemonic, i+1)
		}
	}
	if _, err := bip39.MnemonicToByteArray(m); err != nil {
		return fmt.Errorf("%w: bad checksum", ErrInvalidMnemonic)
	}
	return nil
}

// DerivePrivKey derives the account key of a mnemonic:
//
//  1. seed = BIP-39 PBKDF2-HMAC-SHA512(mnemonic, "mnemonic"+bip39Passphrase,
//     2048 iterations, 64 bytes), mnemonic normalized by NormalizeMnemonic;
//  2. SLIP-0010 ed25519 derivation of seed along HDPath
//     (m/44'/118'/0'/0'/0', all hardened);
//  3. the resulting 32-byte key is the ed25519 seed (RFC 8032 private key),
//     expanded to CometBFT's 64-byte seed||pubkey layout.
//
// The keyring always uses an empty bip39Passphrase.
func DerivePrivKey(mnemonic, bip39Passphrase string) (ed25519.PrivKey, error) {
	if err := ValidateMnemonic(mnemonic); err != nil {
		return nil, err
	}
	seed := bip39.NewSeed(NormalizeMnemonic(mnemonic), bip39Passphrase)
	defer wipe(seed)
	key, chain := slip10DeriveEd25519(seed, hdPath)
	defer wipe(chain[:])
	defer wipe(key[:])
	return privKeyFromSeed(key[:]), nil
}

// privKeyFromSeed expands a 32-byte ed25519 seed into CometBFT's 64-byte
// private key (seed || public key).
func privKeyFromSeed(seed []byte) ed25519.PrivKey {
	return ed25519.PrivKey(stded25519.NewKeyFromSeed(seed))
}

// slip10Master computes the SLIP-0010 ed25519 master node of a seed.
func slip10Master(seed []byte) (key, chainCode [32]byte) {
	mac := hmac.New(sha512.New, slip10Seed)
	mac.Write(seed)
	sum := mac.Sum(nil)
	copy(key[:], sum[:32])
	copy(chainCode[:], sum[32:])
	wipe(sum)
	return key, chainCode
}

// slip10Child derives the hardened child index (index < 2^31; the hardened
// bit is added here) of a SLIP-0010 ed25519 node:
// I = HMAC-SHA512(chainCode, 0x00 || key || ser32(index + 2^31)).
func slip10Child(key, chainCode [32]byte, index uint32) (childKey, childChain [32]byte) {
	var data [1 + 32 + 4]byte
	copy(data[1:33], key[:])
	binary.BigEndian.PutUint32(data[33:], index|hardenedOffset)
	mac := hmac.New(sha512.New, chainCode[:])
	mac.Write(data[:])
	sum := mac.Sum(nil)
	copy(childKey[:], sum[:32])
	copy(childChain[:], sum[32:])
	wipe(sum)
	wipe(data[:])
	return childKey, childChain
}

// slip10DeriveEd25519 walks path (indexes without the hardened bit; every
// step is hardened) from the master node of seed.
func slip10DeriveEd25519(seed []byte, path []uint32) (key, chainCode [32]byte) {
	key, chainCode = slip10Master(seed)
	for _, i := range path {
		key, chainCode = slip10Child(key, chainCode, i)
	}
	return key, chainCode
}

// errNotHardened is returned by parseHDPath for a non-hardened level.
var errNotHardened = errors.New("SLIP-0010 ed25519 only supports hardened levels")

// parseHDPath reads "m/44'/118'/0'/0'/0'" into child indexes without the
// hardened bit. Only used to check HDPath agrees with hdPath.
func parseHDPath(p string) ([]uint32, error) {
	parts := strings.Split(p, "/")
	if len(parts) == 0 || parts[0] != "m" {
		return nil, fmt.Errorf("path %q: must start with m", p)
	}
	out := make([]uint32, 0, len(parts)-1)
	for _, part := range parts[1:] {
		if !strings.HasSuffix(part, "'") && !strings.HasSuffix(part, "H") {
			return nil, fmt.Errorf("path %q: %w", p, errNotHardened)
		}
		var v uint32
		num := part[:len(part)-1]
		if num == "" || len(num) > 10 {
			return nil, fmt.Errorf("path %q: bad level %q", p, part)
		}
		for _, c := range num {
			if c < '0' || c > '9' {
				return nil, fmt.Errorf("path %q: bad level %q", p, part)
			}
			n := uint64(v)*10 + uint64(c-'0')
			if n >= uint64(hardenedOffset) {
				return nil, fmt.Errorf("path %q: level %q out of range", p, part)
			}
			v = uint32(n)
		}
		out = append(out, v)
	}
	return out, nil
}

// wipe zeroes b (best effort: Go may have copied the bytes elsewhere).
func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
