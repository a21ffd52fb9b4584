package model

import (
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr/poseidon2"
)

// Sponge parameters: Poseidon2 over BN254 with width 16 (rate 15, capacity 1)
// and the reference round numbers (8 full, 57 partial) whose constants ship
// with gnark-crypto. A wide sponge absorbs 15 elements per permutation, which
// makes the in-circuit commitment ~5x cheaper than the width-2
// Merkle-Damgard default.
const (
	SpongeWidth         = 16
	SpongeRate          = SpongeWidth - 1
	SpongeFullRounds    = 8
	SpongePartialRounds = 57
)

// Domain separators: the capacity element starts as domain + 2^16*length, so
// a model commitment can never equal a test-set hash, and inputs of different
// lengths never collide through zero padding.
const (
	DomainModel   = 1
	DomainTestSet = 2
	// DomainTestSetPieces: the root of a test set given as pieces
	// (PiecesRoot); 3 is DomainConvModel.
	DomainTestSetPieces = 4
)

// FormatVersion is absorbed first in every header.
const FormatVersion = 1

var spongePerm = poseidon2.NewPermutation(SpongeWidth, SpongeFullRounds, SpongePartialRounds)

// SpongeIV is the initial capacity element for n absorbed elements.
func SpongeIV(domain uint64, n int) *big.Int {
	iv := new(big.Int).Lsh(big.NewInt(int64(n)), 16)
	return iv.Add(iv, new(big.Int).SetUint64(domain))
}

// SpongeHash absorbs header (small integers) then elems, 15 per permutation,
// zero padding the last block, and returns the first state element.
func SpongeHash(domain uint64, header []uint64, elems []*big.Int) fr.Element {
	in := make([]fr.Element, 0, len(header)+len(elems))
	for _, h := range header {
		var e fr.Element
		e.SetUint64(h)
		in = append(in, e)
	}
	for _, x := range elems {
		var e fr.Element
		e.SetBigInt(x)
		in = append(in, e)
	}
	var state [SpongeWidth]fr.Element
	state[SpongeWidth-1].SetBigInt(SpongeIV(domain, len(in)))
	for i := 0; i < len(in); i += SpongeRate {
		for k := 0; k < SpongeRate && i+k < len(in); k++ {
			state[k].Add(&state[k], &in[i+k])
		}
		if err := spongePerm.Permutation(state[:]); err != nil {
			panic(err) // width is fixed above; cannot happen
		}
	}
	return state[0]
}

// Digest is a BN254 scalar field element in canonical big-endian form: a
// model commitment or a test-set hash. It prints and parses as 0x-hex.
type Digest [32]byte

// DigestOf converts a field element.
func DigestOf(e fr.Element) Digest { return Digest(e.Bytes()) }

// Element returns the digest as a field element; it fails if the bytes are
// not a canonical field element.
func (d Digest) Element() (fr.Element, error) {
	var e fr.Element
	if err := e.SetBytesCanonical(d[:]); err != nil {
		return e, fmt.Errorf("digest is not a canonical BN254 scalar: %w", err)
	}
	return e, nil
}

// BigInt returns the digest as an integer.
func (d Digest) BigInt() *big.Int { return new(big.Int).SetBytes(d[:]) }

func (d Digest) String() string { return "0x" + hex.EncodeToString(d[:]) }

// MarshalText implements encoding.TextMarshaler.
func (d Digest) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Digest) UnmarshalText(b []byte) error {
	p, err := ParseDigest(string(b))
	if err != nil {
		return err
	}
	*d = p
	return nil
}

// ParseDigest parses 0x-prefixed (or bare) hex of at most 32 bytes.
func ParseDigest(s string) (Digest, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "0x")
	if len(s) == 0 || len(s) > 64 {
		return Digest{}, errors.New("digest: want 1 to 64 hex digits")
	}
	if len(s)%2 == 1 {
		s = "0" + s
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return Digest{}, fmt.Errorf("digest: %w", err)
	}
	var d Digest
	copy(d[32-len(b):], b)
	if _, err := d.Element(); err != nil {
		return Digest{}, err
	}
	return d, nil
}
