package ceremony_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/big"
	"testing"

	"github.com/consensys/gnark-crypto/ecc"
	curve "github.com/consensys/gnark-crypto/ecc/bn254"
	"github.com/consensys/gnark-crypto/ecc/bn254/fr"
	cmpc "github.com/consensys/gnark-crypto/ecc/bn254/mpcsetup"
	"github.com/consensys/gnark/backend/groth16"
	groth16bn254 "github.com/consensys/gnark/backend/groth16/bn254"
	"github.com/consensys/gnark/backend/groth16/bn254/mpcsetup"
	cs "github.com/consensys/gnark/constraint/bn254"
	"github.com/consensys/gnark/frontend"
	"github.com/consensys/gnark/frontend/cs/r1cs"

	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/ceremony"
)

// square proves knowledge of X with X*X == Y (Y public). No BSB22
// commitment, so a forger only has to fake A, B and C.
type square struct {
	X frontend.Variable
	Y frontend.Variable `gnark:",public"`
}

func (c *square) Define(api frontend.API) error {
	x3 := api.Mul(c.X, c.X, c.X)
	api.AssertIsEqual(api.Mul(c.X, c.X), c.Y)
	api.AssertIsDifferent(x3, 0)
	return nil
}

func compileSquare(t *testing.T) (*cs.R1CS, uint64) {
	t.Helper()
	ccs, err := frontend.Compile(ecc.BN254.ScalarField(), r1cs.NewBuilder, &square{})
	if err != nil {
		t.Fatal(err)
	}
	n := ceremony.Domain(ccs.GetNbConstraints())
	r, err := ceremony.R1CS(ccs, n)
	if err != nil {
		t.Fatal(err)
	}
	return r, n
}

// contributor makes one contribution to a phase; nil means "an honest
// stranger" (ceremony.Contribute*).
type transcript struct {
	n       uint64
	p1      []byte
	p1start bool
	commons []byte
	p2      []byte
}

func newTranscript(t *testing.T, n uint64) *transcript {
	init, err := ceremony.InitPhase1(n)
	if err != nil {
		t.Fatal(err)
	}
	return &transcript{n: n, p1: init, p1start: true}
}

func (tr *transcript) add1(t *testing.T, next []byte) {
	t.Helper()
	got, err := ceremony.VerifyPhase1(tr.p1, next, tr.n, tr.p1start)
	if err != nil {
		t.Fatalf("phase-1 contribution refused: %v", err)
	}
	tr.p1, tr.p1start = got, false
}

func (tr *transcript) honest1(t *testing.T) {
	next, err := ceremony.ContributePhase1(tr.p1, tr.n, tr.p1start)
	if err != nil {
		t.Fatal(err)
	}
	tr.add1(t, next)
}

func (tr *transcript) seal1(t *testing.T, r *cs.R1CS, beacon []byte) {
	t.Helper()
	var err error
	if tr.commons, err = ceremony.SealPhase1(tr.p1, tr.n, beacon); err != nil {
		t.Fatal(err)
	}
	if tr.p2, err = ceremony.InitPhase2(r, tr.commons, tr.n); err != nil {
		t.Fatal(err)
	}
}

func (tr *transcript) add2(t *testing.T, next []byte) {
	t.Helper()
	got, err := ceremony.VerifyPhase2(tr.p2, next)
	if err != nil {
		t.Fatalf("phase-2 contribution refused: %v", err)
	}
	tr.p2 = got
}

func (tr *transcript) honest2(t *testing.T) {
	next, err := ceremony.ContributePhase2(tr.p2)
	if err != nil {
		t.Fatal(err)
	}
	tr.add2(t, next)
}

func (tr *transcript) keys(t *testing.T, r *cs.R1CS, beacon []byte) (groth16.ProvingKey, groth16.VerifyingKey, []byte) {
	t.Helper()
	pk, vk, err := ceremony.Keys(r, tr.commons, tr.n, tr.p2, beacon)
	if err != nil {
		t.Fatal(err)
	}
	vkb, err := ceremony.VerifyingKeyBytes(vk)
	if err != nil {
		t.Fatal(err)
	}
	return pk, vk, vkb
}

var (
	beacon1 = []byte("block seed of the phase-1 seal")
	beacon2 = []byte("block seed of the phase-2 seal")
)

func TestCeremonyKeysProve(t *testing.T) {
	r, n := compileSquare(t)
	tr := newTranscript(t, n)
	for range 3 {
		tr.honest1(t)
	}
	tr.seal1(t, r, beacon1)
	for range 2 {
		tr.honest2(t)
	}
	pk, _, vkb := tr.keys(t, r, beacon2)
	w, err := frontend.NewWitness(&square{X: 7, Y: 49}, ecc.BN254.ScalarField())
	if err != nil {
		t.Fatal(err)
	}
	proof, err := groth16.Prove(r, pk, w)
	if err != nil {
		t.Fatal(err)
	}
	var pb bytes.Buffer
	if _, err := proof.WriteTo(&pb); err != nil {
		t.Fatal(err)
	}
	if err := zkml.Verify(vkb, pb.Bytes(), []fr.Element{fr.NewElement(49)}); err != nil {
		t.Fatalf("ceremony-key proof refused: %v", err)
	}
	if err := zkml.Verify(vkb, pb.Bytes(), []fr.Element{fr.NewElement(50)}); !errors.Is(err, zkml.ErrInvalidProof) {
		t.Fatalf("proof verified for another statement: %v", err)
	}
	// Anyone replaying the transcript derives the same verifying key.
	_, _, again := tr.keys(t, r, beacon2)
	if !bytes.Equal(again, vkb) {
		t.Fatal("keys from the same transcript differ")
	}
	// Another beacon gives another key: the seal is part of the transcript.
	_, _, other := tr.keys(t, r, []byte("another seed"))
	if bytes.Equal(other, vkb) {
		t.Fatal("the beacon does not change the key")
	}
}

func TestBadContributionsRefused(t *testing.T) {
	r, n := compileSquare(t)
	tr := newTranscript(t, n)
	first, err := ceremony.ContributePhase1(tr.p1, n, true)
	if err != nil {
		t.Fatal(err)
	}
	tr.add1(t, first)
	stale, err := ceremony.ContributePhase1(ceremonyInit(t, n), n, true) // built on the starting state
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(first)
	flipped[len(flipped)/2] ^= 1
	wrongN := bytes.Clone(first)
	binary.BigEndian.PutUint64(wrongN[288:], 1<<40)
	for name, b := range map[string][]byte{
		"empty":         nil,
		"truncated":     first[:len(first)-1],
		"longer":        append(bytes.Clone(first), 0),
		"bit flipped":   flipped,
		"huge domain":   wrongN,
		"not extending": stale,
		"a copy":        tr.p1,
	} {
		if _, err := ceremony.VerifyPhase1(tr.p1, b, n, false); !errors.Is(err, ceremony.ErrInvalid) {
			t.Errorf("phase 1, %s: want ErrInvalid, got %v", name, err)
		}
	}
	tr.seal1(t, r, beacon1)
	start := tr.p2
	good, err := ceremony.ContributePhase2(start)
	if err != nil {
		t.Fatal(err)
	}
	tr.add2(t, good)
	stale2, err := ceremony.ContributePhase2(start)
	if err != nil {
		t.Fatal(err)
	}
	bigSlice := bytes.Clone(good)
	binary.BigEndian.PutUint32(bigSlice[2+32:], 1<<31)
	flipped2 := bytes.Clone(good)
	flipped2[len(flipped2)/3] ^= 4
	for name, b := range map[string][]byte{
		"empty":         nil,
		"truncated":     good[:len(good)-3],
		"huge slice":    bigSlice,
		"bit flipped":   flipped2,
		"not extending": stale2,
		"a copy":        tr.p2,
	} {
		if _, err := ceremony.VerifyPhase2(tr.p2, b); !errors.Is(err, ceremony.ErrInvalid) {
			t.Errorf("phase 2, %s: want ErrInvalid, got %v", name, err)
		}
	}
}

func ceremonyInit(t *testing.T, n uint64) []byte {
	b, err := ceremony.InitPhase1(n)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestKnownWasteCannotForgeAfterAnotherContribution: a contributor who keeps
// its secrets (τ, α, β in phase 1, δ in phase 2) forges a proof of a false
// statement when it is the only contributor (the beacon is public), and the
// same forgery is refused once one other party contributed to each phase.
func TestKnownWasteCannotForgeAfterAnotherContribution(t *testing.T) {
	r, n := compileSquare(t)
	const y = 5 // the forger uses no witness: any y would do
	w := waste{tau: fr.NewElement(11), alpha: fr.NewElement(13), beta: fr.NewElement(17), delta: fr.NewElement(19)}

	alone := newTranscript(t, n)
	alone.add1(t, w.phase1(t, alone.p1))
	sealed1 := alone.p1
	alone.seal1(t, r, beacon1)
	alone.add2(t, w.phase2(t, alone.p2))
	last2 := alone.p2
	_, _, vkb := alone.keys(t, r, beacon2)
	forged := w.forge(t, vkb, sealed1, last2, y)
	if err := zkml.Verify(vkb, forged, []fr.Element{fr.NewElement(y)}); err != nil {
		t.Fatalf("control failed: the sole contributor's forgery should verify: %v", err)
	}

	for _, order := range []string{"stranger after", "stranger before"} {
		tr := newTranscript(t, n)
		if order == "stranger before" {
			tr.honest1(t)
		}
		tr.add1(t, w.phase1(t, tr.p1))
		if order == "stranger after" {
			tr.honest1(t)
		}
		sealed1 := tr.p1
		tr.seal1(t, r, beacon1)
		if order == "stranger before" {
			tr.honest2(t)
		}
		tr.add2(t, w.phase2(t, tr.p2))
		if order == "stranger after" {
			tr.honest2(t)
		}
		last2 := tr.p2
		_, _, vkb := tr.keys(t, r, beacon2)
		forged := w.forge(t, vkb, sealed1, last2, y)
		if err := zkml.Verify(vkb, forged, []fr.Element{fr.NewElement(y)}); !errors.Is(err, zkml.ErrInvalidProof) {
			t.Fatalf("%s: forgery with the known waste was not refused: %v", order, err)
		}
	}
}

// waste is a contributor's secrets, kept instead of destroyed.
type waste struct{ tau, alpha, beta, delta fr.Element }

func bi(e fr.Element) *big.Int { var b big.Int; return e.BigInt(&b) }

// phase1 contributes w's τ, α, β to prev the way mpcsetup.Phase1.Contribute
// does with random ones, working on the encoding.
func (w waste) phase1(t *testing.T, prev []byte) []byte {
	t.Helper()
	challenge := sha256.Sum256(prev)
	dec := curve.NewDecoder(bytes.NewReader(prev[3*96:]))
	var n uint64
	var beta curve.G2Affine
	must(t, dec.Decode(&n), dec.Decode(&beta))
	tau1 := make([]curve.G1Affine, 2*n-1)
	tau2 := make([]curve.G2Affine, n)
	betaTau := make([]curve.G1Affine, n)
	alphaTau := make([]curve.G1Affine, n)
	for i := 1; i < len(tau1); i++ {
		must(t, dec.Decode(&tau1[i]))
	}
	for i := 1; i < len(tau2); i++ {
		must(t, dec.Decode(&tau2[i]))
	}
	for i := range betaTau {
		must(t, dec.Decode(&betaTau[i]))
	}
	for i := range alphaTau {
		must(t, dec.Decode(&alphaTau[i]))
	}
	tau, alpha, b := w.tau, w.alpha, w.beta
	proofs := []cmpc.UpdateProof{
		cmpc.UpdateValues(&tau, challenge[:], mpcsetup.DST_TAU),
		cmpc.UpdateValues(&alpha, challenge[:], mpcsetup.DST_ALPHA),
		cmpc.UpdateValues(&b, challenge[:], mpcsetup.DST_BETA),
	}
	alphaTau[0].ScalarMultiplication(&alphaTau[0], bi(alpha))
	betaTau[0].ScalarMultiplication(&betaTau[0], bi(b))
	beta.ScalarMultiplication(&beta, bi(b))
	pow := tau
	for i := 1; i < len(tau1); i++ {
		tau1[i].ScalarMultiplication(&tau1[i], bi(pow))
		if i < int(n) {
			tau2[i].ScalarMultiplication(&tau2[i], bi(pow))
			var s fr.Element
			s.Mul(&pow, &alpha)
			alphaTau[i].ScalarMultiplication(&alphaTau[i], bi(s))
			s.Mul(&pow, &b)
			betaTau[i].ScalarMultiplication(&betaTau[i], bi(s))
		}
		pow.Mul(&pow, &tau)
	}
	var out bytes.Buffer
	for i := range proofs {
		if _, err := proofs[i].WriteTo(&out); err != nil {
			t.Fatal(err)
		}
	}
	enc := curve.NewEncoder(&out)
	must(t, enc.Encode(n), enc.Encode(&beta))
	for _, s := range [][]curve.G1Affine{tau1[1:]} {
		for i := range s {
			must(t, enc.Encode(&s[i]))
		}
	}
	for i := 1; i < len(tau2); i++ {
		must(t, enc.Encode(&tau2[i]))
	}
	for _, s := range [][]curve.G1Affine{betaTau, alphaTau} {
		for i := range s {
			must(t, enc.Encode(&s[i]))
		}
	}
	writeShort(&out, challenge[:])
	return out.Bytes()
}

// phase2 contributes w's δ (the square circuit has no commitment, so no σ).
func (w waste) phase2(t *testing.T, prev []byte) []byte {
	t.Helper()
	challenge := sha256.Sum256(prev)
	if binary.BigEndian.Uint16(prev) != 0 {
		t.Fatal("phase2 helper handles circuits without commitments only")
	}
	dec := curve.NewDecoder(bytes.NewReader(prev[2:]))
	var d1 curve.G1Affine
	var d2 curve.G2Affine
	var pkk, z []curve.G1Affine
	must(t, dec.Decode(&d1), dec.Decode(&pkk), dec.Decode(&z), dec.Decode(&d2))
	d := w.delta
	proof := cmpc.UpdateValues(&d, challenge[:], mpcsetup.DST_DELTA)
	d1.ScalarMultiplication(&d1, bi(d))
	d2.ScalarMultiplication(&d2, bi(d))
	var inv fr.Element
	inv.Inverse(&d)
	for i := range pkk {
		pkk[i].ScalarMultiplication(&pkk[i], bi(inv))
	}
	for i := range z {
		z[i].ScalarMultiplication(&z[i], bi(inv))
	}
	var out bytes.Buffer
	out.Write([]byte{0, 0})
	enc := curve.NewEncoder(&out)
	must(t, enc.Encode(&d1), enc.Encode(pkk), enc.Encode(z), enc.Encode(&d2))
	if _, err := proof.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	writeShort(&out, challenge[:])
	return out.Bytes()
}

// forge makes a Groth16 proof of any public y from α, β, δ as w believes
// them: its own values times the public beacon contributions (correct only
// if nobody else contributed). A = r, B = s, C = (rs - αβ - L(y)) / δ.
func (w waste) forge(t *testing.T, vkb, lastPhase1, lastPhase2 []byte, y uint64) []byte {
	t.Helper()
	b1 := cmpc.BeaconContributions(hash(lastPhase1), []byte("Groth16 MPC Setup - Phase 1"), beacon1, 3)
	b2 := cmpc.BeaconContributions(hash(lastPhase2), []byte("Groth16 MPC Setup - Phase2"), beacon2, 1)
	var alpha, beta, delta fr.Element
	alpha.Mul(&w.alpha, &b1[1])
	beta.Mul(&w.beta, &b1[2])
	delta.Mul(&w.delta, &b2[0])
	var vk groth16bn254.VerifyingKey
	if _, err := vk.ReadFrom(bytes.NewReader(vkb)); err != nil {
		t.Fatal(err)
	}
	var yb big.Int
	yb.SetUint64(y)
	var L, tmp curve.G1Affine
	tmp.ScalarMultiplication(&vk.G1.K[1], &yb)
	L.Add(&vk.G1.K[0], &tmp)
	rr, ss := fr.NewElement(23), fr.NewElement(29)
	var c, ab fr.Element
	c.Mul(&rr, &ss)
	ab.Mul(&alpha, &beta)
	c.Sub(&c, &ab)
	var dinv fr.Element
	dinv.Inverse(&delta)
	c.Mul(&c, &dinv)
	_, _, g1, g2 := curve.Generators()
	var p groth16bn254.Proof
	p.Ar.ScalarMultiplication(&g1, bi(rr))
	p.Bs.ScalarMultiplication(&g2, bi(ss))
	var cg, lg curve.G1Affine
	cg.ScalarMultiplication(&g1, bi(c))
	lg.ScalarMultiplication(&L, bi(dinv))
	p.Krs.Sub(&cg, &lg)
	var out bytes.Buffer
	if _, err := p.WriteTo(&out); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func hash(b []byte) []byte { h := sha256.Sum256(b); return h[:] }

func writeShort(out *bytes.Buffer, b []byte) {
	out.WriteByte(byte(len(b)))
	out.Write(b)
}

func must(t *testing.T, errs ...error) {
	t.Helper()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
