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

// String is the bech32 form, e.g. tenun1qy... It is on the hot path (every
// transaction's events name its accounts), so it encodes directly into one
// buffer instead of going through the generic bech32 package; the test
// TestAddressStringMatchesBech32 checks it against bech32.Encode.
func (a Address) String() string {
	const charset = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
	var out [len(AddressPrefix) + 1 + addressChars + 6]byte
	n := copy(out[:], AddressPrefix)
	out[n] = '1'
	n++
	chk := addressPrefixChecksum
	var acc uint32
	bits := 0
	for _, b := range a {
		acc = acc<<8 | uint32(b)
		bits += 8
		for bits >= 5 {
			bits -= 5
			v := (acc >> bits) & 31
			chk = bech32Step(chk) ^ v
			out[n] = charset[v]
			n++
		}
	}
	for i := 0; i < 6; i++ {
		chk = bech32Step(chk)
	}
	chk ^= 1 // bech32, not bech32m
	for i := 0; i < 6; i++ {
		out[n] = charset[(chk>>(5*(5-i)))&31]
		n++
	}
	return string(out[:])
}

// addressChars is the number of 5-bit groups in 20 bytes (160 bits).
const addressChars = AddressLen * 8 / 5

// bech32Step advances the bech32 checksum (BIP 173 polymod) by one
// zero-valued symbol; the caller XORs the symbol in.
func bech32Step(chk uint32) uint32 {
	return (chk&0x1ffffff)<<5 ^ bech32Gen[chk>>25]
}

// bech32Gen[t] is the XOR of the BIP 173 generators selected by the bits of t.
var bech32Gen = func() (tbl [32]uint32) {
	gen := [5]uint32{0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3}
	for t := range tbl {
		for i, g := range gen {
			if (t>>i)&1 == 1 {
				tbl[t] ^= g
			}
		}
	}
	return tbl
}()

// addressPrefixChecksum is the checksum state after the expanded
// human-readable part, the same for every address.
var addressPrefixChecksum = func() uint32 {
	chk := uint32(1)
	for i := 0; i < len(AddressPrefix); i++ {
		chk = bech32Step(chk) ^ uint32(AddressPrefix[i]>>5)
	}
	chk = bech32Step(chk)
	for i := 0; i < len(AddressPrefix); i++ {
		chk = bech32Step(chk) ^ uint32(AddressPrefix[i]&31)
	}
	return chk
}()

// IsZero reports whether a is the all-zero address (never a real account).
func (a Address) IsZero() bool { return a == Address{} }

// ParseAddress reads a bech32 address and checks its prefix and length.
// Only the bech32 checksum is accepted: BIP-173 defines it for version-0
// data, and accepting bech32m as well would give every account two valid
// spellings.
func ParseAddress(s string) (Address, error) {
	var a Address
	hrp, data, ver, err := bech32.DecodeGeneric(s)
	if err != nil {
		return a, fmt.Errorf("address %q: %w", s, err)
	}
	if ver != bech32.Version0 {
		return a, fmt.Errorf("address %q: bech32m checksum, want bech32 (BIP-173)", s)
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
