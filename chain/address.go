package chain

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/btcsuite/btcd/btcutil/bech32"
)

// AddressPrefix is the bech32 human-readable part of account addresses.
const AddressPrefix = "tenun"

// AddressLen is the byte length of an address.
const AddressLen = 20

// Address identifies an account: the first 20 bytes of sha256 of its ed25519
// public key, the same derivation CometBFT uses for validator addresses, so a
// validator's consensus key is also an account.
type Address [AddressLen]byte

// AddressFromPubKey derives the account address of an ed25519 public key.
func AddressFromPubKey(pub []byte) Address {
	h := sha256.Sum256(pub)
	var a Address
	copy(a[:], h[:AddressLen])
	return a
}

// AddressFromBytes converts a 20-byte address (a CometBFT validator
// address, say); shorter input is zero-padded, longer truncated.
func AddressFromBytes(b []byte) Address {
	var a Address
	copy(a[:], b)
	return a
}

// ModuleAddress is the account of a named pool (fee collector, stake pools,
// escrows). No private key hashes to it, so only the chain moves its funds.
func ModuleAddress(name string) Address {
	h := sha256.Sum256([]byte("tenun/module/" + name))
	var a Address
	copy(a[:], h[:AddressLen])
	return a
}

// String is the bech32 form, e.g. tenun1qy...
func (a Address) String() string {
	conv, err := bech32.ConvertBits(a[:], 8, 5, true)
	if err != nil {
		panic(err) // 20 bytes always convert
	}
	s, err := bech32.Encode(AddressPrefix, conv)
	if err != nil {
		panic(err)
	}
	return s
}

// IsZero reports whether a is the all-zero address (never a real account).
func (a Address) IsZero() bool { return a == Address{} }

// ParseAddress reads a bech32 address and checks its prefix and length.
func ParseAddress(s string) (Address, error) {
	var a Address
	hrp, data, err := bech32.Decode(s)
	if err != nil {
		return a, fmt.Errorf("address %q: %w", s, err)
	}
	if hrp != AddressPrefix {
		return a, fmt.Errorf("address %q: prefix %q, want %q", s, hrp, AddressPrefix)
	}
	raw, err := bech32.ConvertBits(data, 5, 8, false)
	if err != nil {
		return a, fmt.Errorf("address %q: %w", s, err)
	}
	if len(raw) != AddressLen {
		return a, fmt.Errorf("address %q: %d bytes, want %d", s, len(raw), AddressLen)
	}
	copy(a[:], raw)
	return a, nil
}

// MarshalText makes addresses bech32 in JSON.
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads a bech32 address from JSON.
func (a *Address) UnmarshalText(b []byte) error {
	p, err := ParseAddress(string(b))
	if err != nil {
		return err
	}
	*a = p
	return nil
}

// Less orders addresses bytewise, for deterministic sorting.
func (a Address) Less(b Address) bool { return bytes.Compare(a[:], b[:]) < 0 }
