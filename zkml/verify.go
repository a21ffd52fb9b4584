// Package zkml is the verification API for zero-knowledge claims about
// quantized MLPs (the chain calls this; proving lives in zkml/prover):
//
//   - inference: "the model with commitment M maps input x to class y"
//   - accuracy: "the model with commitment M classifies at least K of the N
//     rows of the test set with hash T correctly"
//
// Proofs are Groth16 over BN254 in gnark's compressed binary format;
// verifying keys likewise. Every entry point bounds its cost: byte sizes and
// the number of public inputs are capped and all length prefixes are checked
// before gnark allocates anything, points are decoded with subgroup checks,
// and a verification is then a fixed number of pairings plus a
// multi-scalar multiplication over at most MaxPublicInputs points.
//
// A verifying key only means something for the circuit it was set up for:
// register keys per circuit spec from a trusted setup (see zkml/prover), not
// keys supplied by the party that proves.
package zkml

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"

	"github.com/tenun-chain/tenun/zkml/model"
)

// Bounds on untrusted inputs.
const (
	MaxVerifyingKeyBytes = 64 << 10
	MaxProofBytes        = 1 << 10
	MaxPublicInputs      = 512
	maxCommitments       = 4
)

// ErrInvalidProof wraps every failure that means "this proof does not prove
// this claim" (as opposed to malformed keys or claims).
var ErrInvalidProof = errors.New("zkml: proof does not verify")

// VerifyingKey is a parsed, ready-to-use verifying key; parse once and cache.
type VerifyingKey struct {
	vk *groth16bn254.VerifyingKey
}

// NumPublicInputs is the number of public inputs the key expects. gnark's
// NbPublicWitness also counts the wires its commitments add, which the
// caller does not supply.
func (k *VerifyingKey) NumPublicInputs() int {
	return len(k.vk.G1.K) - len(k.vk.PublicAndCommitmentCommitted) - 1
}

// ParseVerifyingKey decodes a gnark Groth16 BN254 verifying key in compressed form.
func ParseVerifyingKey(b []byte) (*VerifyingKey, error) {
	if len(b) > MaxVerifyingKeyBytes {
		return nil, fmt.Errorf("zkml: verifying key of %d bytes exceeds %d", len(b), MaxVerifyingKeyBytes)
	}
	if err := checkVKLayout(b); err != nil {
		return nil, fmt.Errorf("zkml: verifying key: %w", err)
	}
	vk := new(groth16bn254.VerifyingKey)
	n, err := vk.ReadFrom(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("zkml: verifying key: %w", err)
	}
	if n != int64(len(b)) {
		return nil, fmt.Errorf("zkml: verifying key has %d trailing bytes", int64(len(b))-n)
	}
	k := &VerifyingKey{vk: vk}
	if n := k.NumPublicInputs(); n < 0 || n > MaxPublicInputs {
		return nil, fmt.Errorf("zkml: verifying key takes %d public inputs, want 0 to %d", n, MaxPublicInputs)
	}
	return k, nil
}

// Verify checks a proof (gnark compressed format) against public inputs.
func (k *VerifyingKey) Verify(proofBytes []byte, public []fr.Element) error {
	if len(public) != k.NumPublicInputs() {
		return fmt.Errorf("%w: %d public inputs, key expects %d", ErrInvalidProof, len(public), k.NumPublicInputs())
	}
	proof, err := parseProof(proofBytes)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidProof, err)
	}
	if err := groth16bn254.Verify(proof, k.vk, fr.Vector(public)); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidProof, err)
	}
	return nil
}

// Verify parses the key and checks the proof against raw public inputs.
func Verify(vkBytes, proofBytes []byte, public []fr.Element) error {
	k, err := ParseVerifyingKey(vkBytes)
	if err != nil {
		return err
	}
	return k.Verify(proofBytes, public)
}

// InferenceClaim is the statement of an inference proof.
type InferenceClaim struct {
	Model model.Digest `json:"model"`
	Input []int        `json:"input"`
	Class int          `json:"class"`
}

// PublicInputs lays the claim out as the circuit's public inputs:
// commitment, packed input elements, class.
func (c InferenceClaim) PublicInputs(arch model.Arch) ([]fr.Element, error) {
	if err := arch.Validate(); err != nil {
		return nil, err
	}
	if c.Class < 0 || c.Class >= arch.NumClasses() {
		return nil, fmt.Errorf("zkml: class %d out of [0, %d)", c.Class, arch.NumClasses())
	}
	m, err := c.Model.Element()
	if err != nil {
		return nil, err
	}
	packed, err := arch.PackInput(c.Input)
	if err != nil {
		return nil, fmt.Errorf("zkml: %w", err)
	}
	pub := []fr.Element{m}
	for _, p := range packed {
		var e fr.Element
		e.SetBigInt(p)
		pub = append(pub, e)
	}
	var cls fr.Element
	cls.SetUint64(uint64(c.Class))
	return append(pub, cls), nil
}

// ParseInferenceClaim reads an inference claim back from public inputs.
func ParseInferenceClaim(arch model.Arch, public []fr.Element) (InferenceClaim, error) {
	if err := arch.Validate(); err != nil {
		return InferenceClaim{}, err
	}
	n := arch.NumInputElems()
	if len(public) != n+2 {
		return InferenceClaim{}, fmt.Errorf("zkml: %d public inputs, inference for %s has %d", len(public), arch, n+2)
	}
	elems := make([]*big.Int, n)
	for i := range elems {
		elems[i] = public[1+i].BigInt(new(big.Int))
	}
	vals, err := model.Unpack(elems, inputWidths(arch))
	if err != nil {
		return InferenceClaim{}, fmt.Errorf("zkml: input: %w", err)
	}
	cls, err := small(public[n+1], arch.NumClasses()-1)
	if err != nil {
		return InferenceClaim{}, fmt.Errorf("zkml: class: %w", err)
	}
	c := InferenceClaim{Model: model.DigestOf(public[0]), Input: make([]int, len(vals)), Class: cls}
	for i, v := range vals {
		c.Input[i] = int(v)
	}
	return c, nil
}

// VerifyInference checks that proofBytes proves the claim for a model of
// architecture arch, against an inference verifying key for that arch.
func VerifyInference(vkBytes, proofBytes []byte, arch model.Arch, c InferenceClaim) error {
	pub, err := c.PublicInputs(arch)
	if err != nil {
		return err
	}
	return Verify(vkBytes, proofBytes, pub)
}

// AccuracyClaim is the statement of an accuracy proof: at least K of the N
// test rows are classified correctly.
type AccuracyClaim struct {
	Model   model.Digest `json:"model"`
	TestSet model.Digest `json:"test_set"`
	N       int          `json:"n"`
	K       int          `json:"k"`
}

// PublicInputs lays the claim out as the circuit's public inputs:
// commitment, test-set hash, N, K.
func (c AccuracyClaim) PublicInputs() ([]fr.Element, error) {
	if c.N < 1 || c.K < 0 || c.K > c.N {
		return nil, fmt.Errorf("zkml: accuracy claim %d of %d is not a count", c.K, c.N)
	}
	m, err := c.Model.Element()
	if err != nil {
		return nil, err
	}
	t, err := c.TestSet.Element()
	if err != nil {
		return nil, err
	}
	var n, k fr.Element
	n.SetUint64(uint64(c.N))
	k.SetUint64(uint64(c.K))
	return []fr.Element{m, t, n, k}, nil
}

// ParseAccuracyClaim reads an accuracy claim back from public inputs.
func ParseAccuracyClaim(public []fr.Element) (AccuracyClaim, error) {
	if len(public) != 4 {
		return AccuracyClaim{}, fmt.Errorf("zkml: %d public inputs, accuracy has 4", len(public))
	}
	n, err := small(public[2], 1<<30)
	if err != nil {
		return AccuracyClaim{}, fmt.Errorf("zkml: n: %w", err)
	}
	k, err := small(public[3], n)
	if err != nil {
		return AccuracyClaim{}, fmt.Errorf("zkml: k: %w", err)
	}
	return AccuracyClaim{Model: model.DigestOf(public[0]), TestSet: model.DigestOf(public[1]), N: n, K: k}, nil
}

// VerifyAccuracy checks that proofBytes proves the claim against an accuracy
// verifying key (whose circuit fixes the arch and N).
func VerifyAccuracy(vkBytes, proofBytes []byte, c AccuracyClaim) error {
	pub, err := c.PublicInputs()
	if err != nil {
		return err
	}
	return Verify(vkBytes, proofBytes, pub)
}

func small(e fr.Element, max int) (int, error) {
	if !e.IsUint64() || e.Uint64() > uint64(max) {
		return 0, fmt.Errorf("value %s out of [0, %d]", e.String(), max)
	}
	return int(e.Uint64()), nil
}

func inputWidths(a model.Arch) []int {
	w := make([]int, a.NumInputs())
	for i := range w {
		w[i] = a.InBits
	}
	return w
}

func parseProof(b []byte) (*groth16bn254.Proof, error) {
	if len(b) > MaxProofBytes {
		return nil, fmt.Errorf("proof of %d bytes exceeds %d", len(b), MaxProofBytes)
	}
	c := cursor{b: b}
	c.points(sizeG1, sizeG2, sizeG1)
	c.pointSlice(sizeG1, maxCommitments)
	c.points(sizeG1)
	if c.err != nil {
		return nil, fmt.Errorf("proof: %w", c.err)
	}
	if c.off != len(b) {
		return nil, fmt.Errorf("proof has %d trailing bytes", len(b)-c.off)
	}
	p := new(groth16bn254.Proof)
	if _, err := p.ReadFrom(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("proof: %w", err)
	}
	return p, nil
}

// Compressed point sizes (gnark-crypto BN254).
const (
	sizeG1 = 32
	sizeG2 = 64
)

// checkVKLayout walks the compressed verifying-key encoding and checks every
// length prefix against the bytes present, so that gnark's decoder never
// allocates from an unchecked length.
func checkVKLayout(b []byte) error {
	c := cursor{b: b}
	c.points(sizeG1, sizeG1, sizeG2, sizeG2, sizeG1, sizeG2) // α1 β1 β2 γ2 δ1 δ2
	c.pointSlice(sizeG1, MaxPublicInputs+maxCommitments+1)   // K
	nc := c.u32(maxCommitments)                              // public-and-commitment-committed
	for range nc {
		c.skip(8 * c.u32(MaxPublicInputs))
	}
	nk := c.u32(maxCommitments) // Pedersen verifying keys: G, GSigmaNeg in G2
	for range nk {
		c.points(sizeG2, sizeG2)
	}
	if c.err != nil {
		return c.err
	}
	if c.off != len(b) {
		return fmt.Errorf("%d trailing bytes", len(b)-c.off)
	}
	return nil
}

// cursor reads a byte layout, remembering the first error.
type cursor struct {
	b   []byte
	off int
	err error
}

func (c *cursor) skip(n int) {
	if c.err == nil && (n < 0 || c.off+n > len(c.b)) {
		c.err = errors.New("truncated")
	}
	if c.err == nil {
		c.off += n
	}
}

func (c *cursor) u32(max int) int {
	if c.err != nil || c.off+4 > len(c.b) {
		c.skip(4)
		return 0
	}
	v := binary.BigEndian.Uint32(c.b[c.off:])
	c.off += 4
	if v > uint32(max) {
		c.err = fmt.Errorf("length %d exceeds %d", v, max)
		return 0
	}
	return int(v)
}

// points requires compressed points of the given sizes (top two bits of the
// first byte non-zero marks gnark-crypto's compressed encoding).
func (c *cursor) points(sizes ...int) {
	for _, s := range sizes {
		if c.err == nil && c.off < len(c.b) && c.b[c.off]>>6 == 0 {
			c.err = errors.New("uncompressed point")
		}
		c.skip(s)
	}
}

func (c *cursor) pointSlice(size, max int) {
	n := c.u32(max)
	for range n {
		c.points(size)
	}
}
