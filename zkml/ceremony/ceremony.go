// Package ceremony runs a multi-party Groth16 setup (gnark's
// backend/groth16/bn254/mpcsetup: phase 1, powers of tau; phase 2, the
// circuit's δ) over byte transcripts the chain can keep in state.
//
// A transcript is a sequence of contributions; each contribution is the whole
// state after one participant mixed in its secret, with proofs that it
// extends the previous one (same-ratio pairings, a proof of knowledge bound to
// the hash of the previous state). The keys are sound if one participant of
// each phase destroyed its secret: nobody then knows τ, α, β or δ.
//
// # Inside consensus
//
// The chain calls Verify*, Seal* and Keys in its handlers. Every input is
// bounded before gnark decodes it (exact lengths, every length prefix
// compared with the previous state's), points are decoded with subgroup
// checks, and a contribution is stored in its canonical re-encoding.
//
// Determinism: this package starts no goroutine, but gnark does: its
// multi-scalar multiplications and FFTs split work over goroutines, and the
// batched same-ratio check draws a random linear combination. Neither
// changes a verdict. The split work sums exact group elements, so the result
// does not depend on scheduling. The random combination only matters for a
// contribution that is wrong: a valid one passes for every draw (perfect
// completeness), an invalid one passes with probability at most about
// 2^-240 per validator (Schwartz-Zippel over BN254's scalar field), which is
// the same assurance as the pairing check itself. Seal and Keys draw nothing:
// the final beacon contribution is derived from the block seed.
//
// Contribute* draw the participant's secret from crypto/rand: they run on a
// participant's machine (tenun zk ceremony contribute, the validator hook),
// never inside consensus.
package ceremony

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/consensys/gnark-crypto/ecc"
	"github.com/consensys/gnark/backend/groth16"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
	"github.com/consensys/gnark/constraint"
	cs "github.com/consensys/gnark/constraint/bn254"
)

// Bounds. A phase-1 state of domain N is about 3N points (192 bytes times
// N); MaxDomain keeps one contribution under the chain's 1 MiB transaction.
const (
	MinDomain = 4
	MaxDomain = 1 << 12
	// MaxCommitments bounds the BSB22 commitments of a phase-2 state
	// (zkml's circuits use one).
	MaxCommitments = 4
)

// Encoded sizes (gnark-crypto's compressed encoding).
const (
	g1Size     = 32
	g2Size     = 64
	proofSize  = g1Size + g2Size // mpcsetup.UpdateProof
	hashSize   = sha256.Size
	phase1NOff = 3 * proofSize // the domain size follows the three proofs
)

// ErrInvalid wraps every reason a contribution is refused.
var ErrInvalid = errors.New("ceremony: invalid contribution")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Domain is the phase-1 domain size for a circuit of nbConstraints: the next
// power of two, at least MinDomain.
func Domain(nbConstraints int) uint64 {
	return max(ecc.NextPowerOfTwo(uint64(max(nbConstraints, 1))), MinDomain)
}

func checkDomain(n uint64) error {
	if n < MinDomain || n > MaxDomain || n&(n-1) != 0 {
		return fmt.Errorf("ceremony: domain %d: want a power of two in [%d, %d]", n, MinDomain, MaxDomain)
	}
	return nil
}

func encode(w io.WriterTo) ([]byte, error) {
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("ceremony: encode: %w", err)
	}
	return buf.Bytes(), nil
}

// decode reads b into r and requires that it consumes all of b.
func decode(r io.ReaderFrom, b []byte, what string) error {
	n, err := r.ReadFrom(bytes.NewReader(b))
	if err != nil {
		return invalid("%s: %v", what, err)
	}
	if n != int64(len(b)) {
		return invalid("%s: %d trailing bytes", what, int64(len(b))-n)
	}
	return nil
}

// Digest is sha256 of a state: what the next contribution's challenge is.
func Digest(state []byte) [32]byte { return sha256.Sum256(state) }

// InitPhase1 is the starting state of phase 1 for domain n.
func InitPhase1(n uint64) ([]byte, error) {
	if err := checkDomain(n); err != nil {
		return nil, err
	}
	return encode(mpcsetup.NewPhase1(n))
}

// Phase1Len is the length of every phase-1 contribution of domain n: the
// starting state's encoding with a 32-byte challenge in place of none.
func Phase1Len(n uint64) int {
	// proofs, N, [β]₂, [τⁱ]₁ (2N-2), [τⁱ]₂ (N-1), [βτⁱ]₁ and [ατⁱ]₁ (N each),
	// then the challenge with its 1-byte length.
	return phase1NOff + 8 + g2Size + int(2*n-2)*g1Size + int(n-1)*g2Size + int(2*n)*g1Size + 1 + hashSize
}

func checkPhase1Shape(b []byte, n uint64) error {
	if len(b) != Phase1Len(n) {
		return invalid("phase-1 contribution of %d bytes, domain %d takes %d", len(b), n, Phase1Len(n))
	}
	if got := binary.BigEndian.Uint64(b[phase1NOff:]); got != n {
		return invalid("phase-1 contribution for domain %d, the ceremony's is %d", got, n)
	}
	if got := b[len(b)-1-hashSize]; got != hashSize {
		return invalid("phase-1 challenge of %d bytes", got)
	}
	return nil
}

func readPhase1(b []byte, n uint64, starting bool) (*mpcsetup.Phase1, error) {
	if starting {
		init, err := InitPhase1(n)
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(b, init) {
			return nil, invalid("not the starting phase-1 state of domain %d", n)
		}
		return mpcsetup.NewPhase1(n), nil
	}
	if err := checkPhase1Shape(b, n); err != nil {
		return nil, err
	}
	p := new(mpcsetup.Phase1)
	if err := decode(p, b, "phase-1 state"); err != nil {
		return nil, err
	}
	return p, nil
}

// VerifyPhase1 checks that next extends prev (a state from the chain: the
// starting state or an accepted contribution) and returns next's canonical
// encoding. starting says prev is InitPhase1(n).
func VerifyPhase1(prev, next []byte, n uint64, starting bool) ([]byte, error) {
	if err := checkDomain(n); err != nil {
		return nil, err
	}
	p, err := readPhase1(prev, n, starting)
	if err != nil {
		return nil, fmt.Errorf("previous state: %w", err)
	}
	q, err := readPhase1(next, n, false)
	if err != nil {
		return nil, err
	}
	if err := p.Verify(q); err != nil {
		return nil, invalid("phase 1: %v", err)
	}
	return encode(q)
}

// ContributePhase1 mixes a fresh secret into the phase-1 state prev. Off
// chain only: the secret comes from crypto/rand and is dropped on return.
func ContributePhase1(prev []byte, n uint64, starting bool) ([]byte, error) {
	p, err := readPhase1(prev, n, starting)
	if err != nil {
		return nil, err
	}
	p.Contribute()
	return encode(p)
}

// SealPhase1 applies the beacon to the last phase-1 state and returns the
// circuit-independent parameters (mpcsetup.SrsCommons, encoded).
func SealPhase1(last []byte, n uint64, beacon []byte) ([]byte, error) {
	p, err := readPhase1(last, n, false)
	if err != nil {
		return nil, err
	}
	commons := p.Seal(beacon)
	return encode(&commons)
}

func readCommons(b []byte, n uint64) (*mpcsetup.SrsCommons, error) {
	// SrsCommons is the phase-1 layout without the proofs and the challenge.
	if want := Phase1Len(n) - phase1NOff - 1 - hashSize; len(b) != want || binary.BigEndian.Uint64(b) != n {
		return nil, fmt.Errorf("ceremony: phase-1 parameters of %d bytes, domain %d takes %d", len(b), n, want)
	}
	c := new(mpcsetup.SrsCommons)
	if err := decode(c, b, "phase-1 parameters"); err != nil {
		return nil, err
	}
	return c, nil
}

// R1CS narrows a compiled constraint system to the BN254 R1CS phase 2 needs
// and checks that it fits domain n.
func R1CS(ccs constraint.ConstraintSystem, n uint64) (*cs.R1CS, error) {
	r, ok := ccs.(*cs.R1CS)
	if !ok {
		return nil, errors.New("ceremony: need a BN254 R1CS")
	}
	if c := r.GetNbConstraints(); uint64(c) > n {
		return nil, fmt.Errorf("ceremony: %d constraints do not fit domain %d", c, n)
	}
	if k := len(r.CommitmentInfo.(constraint.Groth16Commitments)); k > MaxCommitments {
		return nil, fmt.Errorf("ceremony: %d commitments, at most %d", k, MaxCommitments)
	}
	return r, nil
}

// InitPhase2 is the starting state of phase 2 for circuit r over the sealed
// phase-1 parameters commons (deterministic: every validator derives it).
func InitPhase2(r *cs.R1CS, commons []byte, n uint64) ([]byte, error) {
	c, err := readCommons(commons, n)
	if err != nil {
		return nil, err
	}
	if uint64(r.GetNbConstraints()) > n {
		return nil, fmt.Errorf("ceremony: %d constraints do not fit domain %d", r.GetNbConstraints(), n)
	}
	var p mpcsetup.Phase2
	p.Initialize(r, c)
	return encode(&p)
}

// phase2Prefixes walks a phase-2 encoding and returns every length prefix
// (commitment count, slice lengths, challenge length) with the total length
// the prefixes imply, without allocating anything they name.
func phase2Prefixes(b []byte) ([]uint32, int, error) {
	off := 0
	need := func(k int) error {
		if k < 0 || off+k > len(b) {
			return invalid("phase-2 state truncated at byte %d", off)
		}
		return nil
	}
	var out []uint32
	if err := need(2); err != nil {
		return nil, 0, err
	}
	nc := int(binary.BigEndian.Uint16(b))
	if nc > MaxCommitments {
		return nil, 0, invalid("phase-2 state with %d commitments", nc)
	}
	out = append(out, uint32(nc))
	off = 2 + g1Size // δ in G1
	slice := func() error {
		if err := need(4); err != nil {
			return err
		}
		l := binary.BigEndian.Uint32(b[off:])
		out = append(out, l)
		off += 4
		if uint64(l) > uint64(len(b)) { // cheap bound before multiplying
			return invalid("phase-2 slice of %d points", l)
		}
		return need(int(l) * g1Size)
	}
	if err := slice(); err != nil { // PKK
		return nil, 0, err
	}
	off += int(out[len(out)-1]) * g1Size
	if err := slice(); err != nil { // Z
		return nil, 0, err
	}
	off += int(out[len(out)-1]) * g1Size
	off += g2Size  // δ in G2
	for range nc { // σ·CKK
		if err := slice(); err != nil {
			return nil, 0, err
		}
		off += int(out[len(out)-1]) * g1Size
	}
	off += nc*g2Size + (1+nc)*proofSize // σ in G2, the proofs
	if err := need(1); err != nil {
		return nil, 0, err
	}
	cl := b[off]
	out = append(out, uint32(cl))
	off += 1 + int(cl)
	return out, off, nil
}

func readPhase2(b []byte) (*mpcsetup.Phase2, error) {
	p := new(mpcsetup.Phase2)
	if err := decode(p, b, "phase-2 state"); err != nil {
		return nil, err
	}
	return p, nil
}

// VerifyPhase2 checks that next extends prev (the starting state or an
// accepted contribution) and returns next's canonical encoding. The shape of
// next (every length prefix) must be prev's, so decoding it is bounded by
// the size of a state the chain already holds.
func VerifyPhase2(prev, next []byte) ([]byte, error) {
	pp, plen, err := phase2Prefixes(prev)
	if err != nil || plen != len(prev) {
		return nil, fmt.Errorf("previous phase-2 state malformed: %v", err)
	}
	np, nlen, err := phase2Prefixes(next)
	if err != nil {
		return nil, err
	}
	if nlen != len(next) {
		return nil, invalid("phase-2 contribution has %d trailing bytes", len(next)-nlen)
	}
	if len(np) != len(pp) {
		return nil, invalid("phase-2 contribution has another shape than the current state")
	}
	for i := range len(pp) - 1 {
		if np[i] != pp[i] {
			return nil, invalid("phase-2 contribution has another shape than the current state")
		}
	}
	if np[len(np)-1] != hashSize {
		return nil, invalid("phase-2 challenge of %d bytes", np[len(np)-1])
	}
	p, err := readPhase2(prev)
	if err != nil {
		return nil, fmt.Errorf("previous state: %w", err)
	}
	q, err := readPhase2(next)
	if err != nil {
		return nil, err
	}
	if err := p.Verify(q); err != nil {
		return nil, invalid("phase 2: %v", err)
	}
	return encode(q)
}

// ContributePhase2 mixes a fresh δ (and σ per commitment) into the phase-2
// state prev. Off chain only, like ContributePhase1.
func ContributePhase2(prev []byte) ([]byte, error) {
	if _, l, err := phase2Prefixes(prev); err != nil || l != len(prev) {
		return nil, fmt.Errorf("phase-2 state malformed: %v", err)
	}
	p, err := readPhase2(prev)
	if err != nil {
		return nil, err
	}
	p.Contribute()
	return encode(p)
}

// Keys derives the proving and verifying keys from the transcript: the
// sealed phase-1 parameters, the circuit, the last phase-2 state and the
// beacon. The chain runs it to get the verifying key (never uploaded);
// provers run it to get the proving key, from the same public data.
func Keys(r *cs.R1CS, commons []byte, n uint64, last []byte, beacon []byte) (groth16.ProvingKey, groth16.VerifyingKey, error) {
	c, err := readCommons(commons, n)
	if err != nil {
		return nil, nil, err
	}
	if uint64(r.GetNbConstraints()) > n {
		return nil, nil, fmt.Errorf("ceremony: %d constraints do not fit domain %d", r.GetNbConstraints(), n)
	}
	var init mpcsetup.Phase2
	evals := init.Initialize(r, c)
	p, err := readPhase2(last)
	if err != nil {
		return nil, nil, err
	}
	if len(p.Sigmas) != len(init.Sigmas) || len(p.Parameters.G1.PKK) != len(init.Parameters.G1.PKK) {
		return nil, nil, errors.New("ceremony: the last phase-2 state is not for this circuit")
	}
	pk, vk := p.Seal(c, &evals, beacon)
	return pk, vk, nil
}

// VerifyingKeyBytes encodes a verifying key as zkml.ParseVerifyingKey reads it.
func VerifyingKeyBytes(vk groth16.VerifyingKey) ([]byte, error) { return encode(vk) }
