package registry_test

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/registry"
	"github.com/tenun-chain/tenun/zkml/train"
)

// TestPiecedAccuracy: a 12-row test set registered as three 4-row pieces;
// the tiny model's accuracy is proven per piece under the 4-row circuit and
// the chain records one claim about the whole set when the last piece is
// proven. Bad sets, pieces of other sets, repeated pieces and false pieces
// are refused with the state unchanged.
func TestPiecedAccuracy(t *testing.T) {
	h, f, _, accID, tsh := setup(t)
	keys, _ := setupKeys(t, "tiny-accuracy", prover.Spec{Kind: prover.KindAccuracy, Arch: f.arch, Rows: 4})
	shape := registry.ShapeOf(f.regArch)

	// A third piece, and one of three rows.
	rng := rand.New(rand.NewPCG(11, 12))
	mk := func(n int) *model.Dataset {
		ds := &model.Dataset{}
		for range n {
			x := make([]int, f.arch.NumInputs())
			for i := range x {
				x[i] = rng.IntN(1 << f.arch.InBits)
			}
			p, _ := f.m.Predict(x)
			if rng.IntN(3) == 0 {
				p = (p + 1) % 10
			}
			ds.X, ds.Y = append(ds.X, x), append(ds.Y, p)
		}
		return ds
	}
	ds3, short := mk(4), mk(3)
	register := func(ds *model.Dataset, name string) model.Digest {
		t.Helper()
		hh, err := f.arch.TestSetHash(ds)
		if err != nil {
			t.Fatal(err)
		}
		h.mustRun(4, &registry.MsgRegisterTestSet{Hash: hh, Shape: shape, Name: name, Rows: rows(ds)})
		return hh
	}
	h2, h3, hShort := register(f.ds2, "piece-2"), register(ds3, "piece-3"), register(short, "short")
	pieces := []model.Digest{tsh, h2, h3}
	root, err := model.PiecesRoot(pieces)
	if err != nil {
		t.Fatal(err)
	}
	set := func(hash model.Digest, pieces ...model.Digest) *registry.MsgRegisterTestSet {
		return &registry.MsgRegisterTestSet{Hash: hash, Shape: shape, Name: "set", Pieces: pieces}
	}
	rootOf := func(p ...model.Digest) model.Digest {
		r, err := model.PiecesRoot(p)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	h.mustFail("declared root is not the pieces' root", 4, set(rootOf(h2, h3), pieces...), chain.ErrInvalidRequest, "the pieces' root is")
	h.mustFail("one piece", 4, set(rootOf(tsh), tsh), chain.ErrInvalidRequest, "2 to 64 pieces")
	h.mustFail("the same piece twice", 4, set(rootOf(tsh, h2, tsh), tsh, h2, tsh), chain.ErrInvalidRequest, "pieces 0 and 2 are the same")
	h.mustFail("unregistered piece", 4, set(rootOf(tsh, model.Digest{31: 9}), tsh, model.Digest{31: 9}), chain.ErrNotFound, "piece 1")
	h.mustFail("pieces of different sizes", 4, set(rootOf(tsh, hShort), tsh, hShort), chain.ErrInvalidRequest, "piece 1 has 3 rows, piece 0 has 4")
	other := shape
	other.Classes = 9
	h.mustFail("pieces of another shape", 4, &registry.MsgRegisterTestSet{Hash: root, Shape: other, Name: "set", Pieces: pieces},
		chain.ErrInvalidRequest, "piece 0 has shape")
	h.mustFail("pieces and rows", 4, &registry.MsgRegisterTestSet{Hash: root, Shape: shape, Name: "set", Pieces: pieces, Rows: rows(f.ds)},
		chain.ErrInvalidRequest, "only one")
	h.mustRun(4, set(root, pieces...))
	var ts registry.TestSet
	h.query("testset/"+root.String(), &ts)
	if ts.N != 12 || !ts.Verified || len(ts.Pieces) != 3 {
		t.Fatalf("pieced set %+v", ts)
	}
	root2 := rootOf(h2, h3)
	h.mustRun(4, set(root2, h2, h3))
	h.mustFail("a set of sets", 4, set(rootOf(root, tsh), root, tsh), chain.ErrInvalidRequest, "is itself made of pieces")

	prove := func(ds *model.Dataset) ([]byte, int) {
		t.Helper()
		a, k, err := circuit.AccuracyAssignment(f.m, ds, -1)
		if err != nil {
			t.Fatal(err)
		}
		proof, _, err := keys.Prove(a)
		if err != nil {
			t.Fatal(err)
		}
		return proof, k
	}
	p2, k2 := prove(f.ds2)
	p3, k3 := prove(ds3)
	piece := func(testSet, of model.Digest, k int, proof []byte) *registry.MsgSubmitProof {
		return &registry.MsgSubmitProof{Circuit: accID, Model: 1, Proof: proof, Set: of,
			Accuracy: &registry.AccuracyClaim{TestSet: testSet, N: 4, K: uint32(k)}}
	}

	h.mustRun(2, piece(tsh, root, f.k, f.accProof)) // claim 1: piece 0
	if c := registry.Claims(h.KV, 1); len(c) != 1 || c[0].Accuracy.TestSet != tsh || len(c[0].Parts) != 0 {
		t.Fatalf("after one piece: %+v", c)
	}
	h.mustFail("the same piece again", 3, piece(tsh, root, f.k, f.accProof), chain.ErrConflict, "piece 0 of test set")
	h.mustFail("a weaker claim on a proven piece", 3, piece(tsh, root, f.k-1, f.accProof), chain.ErrConflict, "already proven for model 1 by claim 1")
	h.mustFail("not a piece of the set", 3, piece(tsh, root2, f.k, f.accProof), chain.ErrInvalidRequest, "is not a piece of")
	h.mustFail("a set not made of pieces", 3, piece(h2, tsh, k2, p2), chain.ErrInvalidRequest, "is not made of pieces")
	h.mustFail("unregistered set", 3, piece(h2, model.Digest{31: 5}, k2, p2), chain.ErrNotFound, "is not registered")
	h.mustFail("false piece", 3, piece(h3, root, k3+1, p3), chain.ErrInvalidRequest, "proof does not verify")
	h.mustFail("another piece's proof", 3, piece(h3, root, k2, p2), chain.ErrInvalidRequest, "proof does not verify")
	h.mustFail("a set with an inference claim", 3, &registry.MsgSubmitProof{Circuit: accID, Model: 1, Proof: p2, Set: root,
		Inference: &registry.InferenceClaim{Input: u32s(f.x), Class: uint32(f.class)}}, chain.ErrInvalidRequest, "accuracy claims only")

	// Piece 1 proven on its own first (claim 2) counts for the set as it is.
	h.mustRun(3, piece(h2, model.Digest{}, k2, p2))
	h.mustRun(2, piece(h2, root, k2, p2))
	if c := registry.Claims(h.KV, 1); len(c) != 2 {
		t.Fatalf("an adopted piece recorded a claim again: %+v", c)
	}
	if _, err := registry.GetPieceProgress(h.KV, 1, root, accID); err != nil {
		t.Fatal(err)
	}

	h.mustRun(3, piece(h3, root, k3, p3)) // claim 3, and claim 4 about the set
	c := registry.Claims(h.KV, 1)
	if len(c) != 4 {
		t.Fatalf("claims after the last piece: %+v", c)
	}
	whole := c[3]
	k := f.k + k2 + k3
	if whole.Kind != registry.KindAccuracy || whole.Accuracy.TestSet != root || whole.Accuracy.N != 12 || int(whole.Accuracy.K) != k ||
		*whole.AccuracyBps != uint32(k*10_000/12) || whole.Circuit != accID || whole.Prover != addr(3) || whole.Trust != registry.TrustSingleParty ||
		len(whole.Parts) != 3 || whole.Parts[0] != 1 || whole.Parts[1] != 2 || whole.Parts[2] != 3 {
		t.Fatalf("claim about the set %+v", whole)
	}
	// The plain count over the 12 rows agrees.
	var all model.Dataset
	for _, ds := range []*model.Dataset{f.ds, f.ds2, ds3} {
		all.X, all.Y = append(all.X, ds.X...), append(all.Y, ds.Y...)
	}
	if plain, _ := f.m.Accuracy(&all); plain != k {
		t.Fatalf("claim of %d, plain inference %d of 12", k, plain)
	}
	var progress []registry.PieceProgress
	h.query("pieces/1/"+root.String(), &progress)
	if len(progress) != 1 || progress[0].Claim != 4 || progress[0].Circuit != accID || len(progress[0].Parts) != 3 || progress[0].Parts[2] != 3 {
		t.Fatalf("progress %+v", progress)
	}
	h.mustFail("a piece after the set's claim", 2, piece(h3, root, k3, p3), chain.ErrConflict, "piece 2 of test set")
	if err := registry.RequireTrustedClaim(h.KV, whole, 1); !errors.Is(err, chain.ErrUnauthorized) {
		t.Fatalf("a set claim from single-party pieces passed the trust rule: %v", err)
	}
}

// TestDigitsThousandRows is the claim over 1,000 held-out digit rows: the
// 64-8-10 digits MLP (digitsTrain) trained on the first 797 rows, the last
// 1,000 registered as eight pieces of 125, each piece proven and verified
// on chain, and the chain's claim about the set equal to plain integer
// inference over the 1,000 rows. -short skips it (setup of the 125-row
// circuit and eight proofs: ~30 s on 2 cores).
func TestDigitsThousandRows(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: eight accuracy proofs over 125 rows")
	}
	const pieces, per = 8, 125
	ds, err := model.LoadCSV(filepath.Join("..", "..", model.DigitsPath))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join("..", "..", model.DigitsPath)); err != nil {
		t.Fatal(err)
	}
	held := ds.Len() - pieces*per
	trainSet, _ := ds.Slice(0, held)
	fm, err := train.Train(trainSet, 10, digitsTrain())
	if err != nil {
		t.Fatal(err)
	}
	m, err := train.Quantize(fm, trainSet, train.QuantizeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	test, _ := ds.Slice(held, ds.Len())
	plain, err := m.Accuracy(test)
	if err != nil {
		t.Fatal(err)
	}
	keys, setupTook := setupKeys(t, "digits-accuracy-125", prover.Spec{Kind: prover.KindAccuracy, Arch: m.Arch, Rows: per})
	vk, man := vkFile(t, "digits-accuracy-125")
	arch, err := registry.ArchOf(m.Arch)
	if err != nil {
		t.Fatal(err)
	}
	spec := registry.Spec{Kind: registry.KindAccuracy, Arch: arch, Rows: per}
	cid := registry.CircuitID(spec, vk)
	h := newHarness(t, 3, 10_000_000)
	h.mustRun(3, &registry.MsgRegisterCircuit{Spec: spec, VerifyingKey: vk, Gnark: man.Gnark, Setup: man.Setup})
	com, _ := m.ComputeCommitment()
	h.mustRun(1, &registry.MsgCommitModel{Commitment: com, Arch: arch, Name: "digits"})
	hashes := make([]model.Digest, pieces)
	parts := make([]*model.Dataset, pieces)
	for i := range parts {
		parts[i], _ = test.Slice(i*per, (i+1)*per)
		if hashes[i], err = m.Arch.TestSetHash(parts[i]); err != nil {
			t.Fatal(err)
		}
		h.mustRun(2, &registry.MsgRegisterTestSet{Hash: hashes[i], Shape: registry.ShapeOf(arch), Name: "digits-1000-piece", Rows: rows(parts[i])})
	}
	root, _ := model.PiecesRoot(hashes)
	h.mustRun(2, &registry.MsgRegisterTestSet{Hash: root, Shape: registry.ShapeOf(arch), Name: "digits-1000", Pieces: hashes})

	var proveTook, verifyTook time.Duration
	for i, part := range parts {
		a, k, err := circuit.AccuracyAssignment(m, part, -1)
		if err != nil {
			t.Fatal(err)
		}
		t0 := time.Now()
		proof, pub, err := keys.Prove(a)
		if err != nil {
			t.Fatal(err)
		}
		proveTook += time.Since(t0)
		t0 = time.Now()
		if err := zkml.Verify(vk, proof, pub); err != nil {
			t.Fatal(err)
		}
		verifyTook += time.Since(t0)
		msg := &registry.MsgSubmitProof{Circuit: cid, Model: 1, Proof: proof, Set: root,
			Accuracy: &registry.AccuracyClaim{TestSet: hashes[i], N: per, K: uint32(k)}}
		if i == 0 {
			bad := *msg
			bad.Accuracy = &registry.AccuracyClaim{TestSet: hashes[i], N: per, K: uint32(k + 1)}
			h.mustFail("over-claim on a piece", 2, &bad, chain.ErrInvalidRequest, "proof does not verify")
		}
		h.mustRun(2, msg)
	}
	c := registry.Claims(h.KV, 1)
	whole := c[len(c)-1]
	if len(c) != pieces+1 || whole.Accuracy.TestSet != root || whole.Accuracy.N != pieces*per || int(whole.Accuracy.K) != plain {
		t.Fatalf("claim about the 1,000 rows %+v, plain %d", whole, plain)
	}
	t.Logf("digits %s trained on %d rows: %d of %d held-out rows (%d bps) claimed on chain from %d pieces of %d; "+
		"%d constraints a piece, compile+setup %v, prove %v in all, verify %v in all",
		m.Arch, held, whole.Accuracy.K, whole.Accuracy.N, *whole.AccuracyBps, pieces, per,
		man.Constraints, setupTook.Round(100*time.Millisecond), proveTook.Round(10*time.Millisecond), verifyTook.Round(100*time.Microsecond))
}

// TestPiecedClaimTrust: a set's claim under a ceremony's circuit passes the
// trust rule only if every piece does. The micro model's 2-row accuracy
// circuit is sealed by one contributor (account 3); account 3 proves piece
// 0 and account 5 the last piece, so the set's claim names prover 5, whom
// the ceremony is independent of, yet it is refused: piece 0's prover is
// the ceremony's only contributor and could have forged it.
func TestPiecedClaimTrust(t *testing.T) {
	f := getMicro(t)
	spec := registry.Spec{Kind: registry.KindAccuracy, Arch: f.regArch, Rows: 2}
	h := newCeremonyHarness(t)
	h.mustSend(1, &registry.MsgOpenCeremony{Spec: spec, Quorum: 1, PhaseBlocks: 1})
	for range 2 {
		h.mustSend(3, h.contribution(1))
		h.endBlock()
		h.endBlock()
	}
	cer := h.data(1).Ceremony
	if cer.Phase != registry.PhaseSealed {
		t.Fatalf("ceremony in phase %d (%s)", cer.Phase, cer.Failure)
	}
	keys := proverKeys(t, h, 1)
	h.mustSend(1, &registry.MsgCommitModel{Commitment: f.comm, Arch: f.regArch, Name: "micro"})

	parts := []*model.Dataset{
		{X: [][]int{{3, 1}, {0, 2}}, Y: []int{0, 0}},
		{X: [][]int{{1, 1}, {2, 3}}, Y: []int{1, 0}},
	}
	hashes := make([]model.Digest, len(parts))
	var err error
	for i, ds := range parts {
		if hashes[i], err = f.arch.TestSetHash(ds); err != nil {
			t.Fatal(err)
		}
		h.mustSend(2, &registry.MsgRegisterTestSet{Hash: hashes[i], Shape: registry.ShapeOf(f.regArch), Name: "micro-2", Rows: rows(ds)})
	}
	root, _ := model.PiecesRoot(hashes)
	h.mustSend(2, &registry.MsgRegisterTestSet{Hash: root, Shape: registry.ShapeOf(f.regArch), Name: "micro-4", Pieces: hashes})
	var k uint32
	for i, prover := range []byte{3, 5} {
		a, ki, err := circuit.AccuracyAssignment(f.m, parts[i], -1)
		if err != nil {
			t.Fatal(err)
		}
		proof, _, err := keys.Prove(a)
		if err != nil {
			t.Fatal(err)
		}
		h.mustSend(prover, &registry.MsgSubmitProof{Circuit: cer.Circuit, Model: 1, Proof: proof, Set: root,
			Accuracy: &registry.AccuracyClaim{TestSet: hashes[i], N: 2, K: uint32(ki)}})
		k += uint32(ki)
	}
	claims := registry.Claims(h.KV, 1)
	whole := claims[len(claims)-1]
	if len(claims) != 3 || whole.Accuracy.TestSet != root || whole.Accuracy.K != k || whole.Prover != addr(5) || whole.Trust != registry.TrustCeremony {
		t.Fatalf("claims %+v", claims)
	}
	if err := registry.RequireTrustedClaim(h.KV, claims[1], 1); err != nil {
		t.Fatalf("the last piece alone should pass: %v", err)
	}
	err = registry.RequireTrustedClaim(h.KV, whole, 1)
	if !errors.Is(err, chain.ErrUnauthorized) || !strings.Contains(err.Error(), "piece claim 1") {
		t.Fatalf("a set claim with a piece proven by the only contributor passed the trust rule: %v", err)
	}
}

// Handlers read a test set's head (no rows); a test set stored before
// heads existed is read whole and gives the same head.
func TestTestSetHead(t *testing.T) {
	h, _, _, _, tsh := setup(t)
	ts, err := registry.GetTestSet(h.KV, tsh)
	if err != nil {
		t.Fatal(err)
	}
	hd, err := registry.GetTestSetHead(h.KV, tsh)
	if err != nil || hd.Name != ts.Name || hd.Shape != ts.Shape || hd.N != ts.N || hd.Verified != ts.Verified || hd.N != 4 {
		t.Fatalf("head %+v of %+v: %v", hd, ts, err)
	}
	h.KV.Delete(chain.Key([]byte("zkml/tshead/"), tsh[:])) // as stored before heads
	if old, err := registry.GetTestSetHead(h.KV, tsh); err != nil || old.N != hd.N || old.Shape != hd.Shape || old.Name != hd.Name {
		t.Fatalf("head of a test set without one: %+v, %v", old, err)
	}
	if _, err := registry.GetTestSetHead(h.KV, model.Digest{31: 3}); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("head of an unregistered test set: %v", err)
	}
}
