// Package registry is the chain domain "zkml": verifiable claims about
// private models.
//
// A model owner commits to a quantized MLP or CNN (zkml/model's Poseidon2
// commitment: the weights stay private; Arch.Conv marks a CNN); anyone registers Groth16 verifying
// keys per circuit spec (zkml/prover) and public test sets; anyone then
// submits proofs that the committed model maps an input to a class, or
// classifies at least K of the N rows of a registered test set correctly.
// The state machine verifies each proof inside the handler (bounded cost:
// zkml's size bounds, a fee per verification) and records the verified
// claim; a proof that does not verify changes nothing.
//
// Accuracy over more rows than one circuit proves in reasonable time: a
// test set registered as pieces (TestSet.Pieces, hashed by
// model.PiecesRoot) is proven piece by piece under one circuit
// (MsgSubmitProof.Set); when the last piece verifies the chain records one
// accuracy claim about the whole set (Claim.Parts lists the piece claims),
// the same Claim that buyers and the pipeline read for any test set.
//
// Trust: a Groth16 key is only as sound as its setup. zkml/prover's
// single-party setup lets whoever ran it forge proofs, so it is for devnets
// (Circuit.Trust says so wherever a circuit or claim is shown); a public
// network runs a ceremony on chain (ceremony.go), which derives the key
// itself. Once a ceremony sealed a spec, uploaded keys for that spec and
// claims under them are refused; RequireTrustedClaim is the rule for
// markets that pay on a claim.
//
// State, under "zkml/":
//
//	zkml/circuit/<id 32>           Circuit (spec, key, registrant)
//	zkml/model/<id be8>            Model
//	zkml/modelseq                  last model id
//	zkml/owned/<addr 20><com 32>   model id: one record per owner and commitment
//	zkml/testset/<hash 32>         TestSet
//	zkml/tshead/<hash 32>          TestSetHead (the test set without its rows)
//	zkml/claim/<model be8><n be8>  Claim
//	zkml/stmt/<sha256 32>          claim n: each statement is recorded once
//	zkml/pieces/<model be8><set 32><circuit 32>  PieceProgress over a test set of pieces
//
// and the ceremony keys listed in ceremony.go.
package registry

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"strconv"
	"strings"

	"github.com/consensys/gnark-crypto/ecc/bn254/fr"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/model"
)

// Circuit is a registered verifying key.
type Circuit struct {
	ID           Hash          `json:"id" cbor:"1,keyasint"`
	Spec         Spec          `json:"spec" cbor:"2,keyasint"`
	VerifyingKey []byte        `json:"verifying_key" cbor:"3,keyasint"`
	PublicInputs uint32        `json:"public_inputs" cbor:"4,keyasint"`
	Gnark        string        `json:"gnark" cbor:"5,keyasint"`
	Setup        string        `json:"setup,omitempty" cbor:"6,keyasint,omitempty"`
	Registrant   chain.Address `json:"registrant" cbor:"7,keyasint"`
	Height       int64         `json:"height" cbor:"8,keyasint"`
	// Ceremony is the on-chain ceremony that derived the key; 0 for a key
	// uploaded from a single-party setup (devnets: see Trust).
	Ceremony uint64 `json:"ceremony,omitempty" cbor:"9,keyasint,omitempty"`
	// Trust says how far the key can be believed (TrustSingleParty or
	// TrustCeremony); shown with every circuit and claim.
	Trust string `json:"trust" cbor:"10,keyasint"`
}

// Model is a committed model.
type Model struct {
	ID         uint64        `json:"id" cbor:"1,keyasint"`
	Owner      chain.Address `json:"owner" cbor:"2,keyasint"`
	Name       string        `json:"name" cbor:"3,keyasint"`
	Commitment model.Digest  `json:"commitment" cbor:"4,keyasint"`
	Arch       Arch          `json:"arch" cbor:"5,keyasint"`
	Height     int64         `json:"height" cbor:"6,keyasint"`
	Claims     uint64        `json:"claims" cbor:"7,keyasint"` // verified claims recorded so far
	// ComputeJob and Output: the compute job the model came out of and its
	// output CID, checked at commit (see ModelSource); zero when committed
	// by hand.
	ComputeJob uint64 `json:"compute_job,omitempty" cbor:"8,keyasint,omitempty"`
	Output     string `json:"output,omitempty" cbor:"9,keyasint,omitempty"`
}

// TestSet is a registered test set.
type TestSet struct {
	Hash  model.Digest  `json:"hash" cbor:"1,keyasint"`
	Name  string        `json:"name" cbor:"2,keyasint"`
	Owner chain.Address `json:"owner" cbor:"3,keyasint"`
	Shape Shape         `json:"shape" cbor:"4,keyasint"`
	N     uint32        `json:"n" cbor:"5,keyasint"`
	// Verified: the chain recomputed Hash from Rows. A test set given by
	// CID carries a declared hash that readers check off chain.
	Verified bool       `json:"verified" cbor:"6,keyasint"`
	Rows     [][]uint32 `json:"rows,omitempty" cbor:"7,keyasint,omitempty"`
	CID      string     `json:"cid,omitempty" cbor:"8,keyasint,omitempty"`
	Height   int64      `json:"height" cbor:"9,keyasint"`
	// Pieces, for a test set given as pieces: the hashes of its pieces
	// (registered test sets of one shape and size), Hash their
	// model.PiecesRoot. Accuracy is proven per piece (MsgSubmitProof.Set);
	// once every piece has a verified proof for a model under one circuit
	// the chain records the claim about the whole set. Verified when every
	// piece is.
	Pieces []model.Digest `json:"pieces,omitempty" cbor:"10,keyasint,omitempty"`
}

// Claim is a verified statement about a committed model.
type Claim struct {
	Model      uint64          `json:"model" cbor:"1,keyasint"`
	Seq        uint64          `json:"seq" cbor:"2,keyasint"`
	Kind       string          `json:"kind" cbor:"3,keyasint"`
	Circuit    Hash            `json:"circuit" cbor:"4,keyasint"`
	Commitment model.Digest    `json:"commitment" cbor:"5,keyasint"`
	Inference  *InferenceClaim `json:"inference,omitempty" cbor:"6,keyasint,omitempty"`
	Accuracy   *AccuracyClaim  `json:"accuracy,omitempty" cbor:"7,keyasint,omitempty"`
	// AccuracyBps is K/N in basis points, rounded down (accuracy claims).
	AccuracyBps *uint32       `json:"accuracy_bps,omitempty" cbor:"8,keyasint,omitempty"`
	Height      int64         `json:"height" cbor:"9,keyasint"`
	Prover      chain.Address `json:"prover" cbor:"10,keyasint"`
	// Ceremony and Trust are the circuit's (see Circuit), copied so that
	// every claim shown says whether its key came from a ceremony.
	Ceremony uint64 `json:"ceremony,omitempty" cbor:"20,keyasint,omitempty"`
	Trust    string `json:"trust" cbor:"21,keyasint"`
	// ComputeJob and Output are the model's (the chain copies them): the
	// compute job output the claim is about.
	ComputeJob uint64 `json:"compute_job,omitempty" cbor:"11,keyasint,omitempty"`
	Output     string `json:"output,omitempty" cbor:"12,keyasint,omitempty"`
	// Parts, on an accuracy claim about a test set given as pieces: the
	// seqs of the model's piece claims (one per piece, in the set's order)
	// whose counts it adds up. Prover is whoever proved the last piece.
	Parts []uint64 `json:"parts,omitempty" cbor:"22,keyasint,omitempty"`
}

// PieceProgress is how far a model's accuracy over a test set given as
// pieces has got under one circuit: the claim seq proving each piece (0
// while missing).
type PieceProgress struct {
	Model   uint64       `json:"model" cbor:"1,keyasint"`
	Set     model.Digest `json:"set" cbor:"2,keyasint"`
	Circuit Hash         `json:"circuit" cbor:"3,keyasint"`
	Parts   []uint64     `json:"parts" cbor:"4,keyasint"`
	// Claim is the claim about the whole set, once every piece is proven.
	Claim uint64 `json:"claim,omitempty" cbor:"5,keyasint,omitempty"`
}

// Keys.
var (
	prefixCircuit = []byte("zkml/circuit/")
	prefixModel   = []byte("zkml/model/")
	prefixOwned   = []byte("zkml/owned/")
	prefixTestSet = []byte("zkml/testset/")
	prefixTSHead  = []byte("zkml/tshead/")
	prefixClaim   = []byte("zkml/claim/")
	prefixStmt    = []byte("zkml/stmt/")
	prefixPieces  = []byte("zkml/pieces/")
	keyModelSeq   = []byte("zkml/modelseq")
)

func circuitKey(id Hash) []byte        { return chain.Key(prefixCircuit, id[:]) }
func modelKey(id uint64) []byte        { return chain.Key(prefixModel, chain.Uint64Bytes(id)) }
func testSetKey(h model.Digest) []byte { return chain.Key(prefixTestSet, h[:]) }
func testSetHeadKey(h model.Digest) []byte {
	return chain.Key(prefixTSHead, h[:])
}
func claimPrefix(modelID uint64) []byte { return chain.Key(prefixClaim, chain.Uint64Bytes(modelID)) }
func claimKey(modelID, seq uint64) []byte {
	return chain.Key(claimPrefix(modelID), chain.Uint64Bytes(seq))
}
func stmtKey(h [32]byte) []byte { return chain.Key(prefixStmt, h[:]) }
func piecesKey(modelID uint64, set model.Digest, circuit Hash) []byte {
	return chain.Key(prefixPieces, chain.Uint64Bytes(modelID), set[:], circuit[:])
}

// GetPieceProgress loads a model's progress over a test set given as
// pieces under one circuit.
func GetPieceProgress(kv store.KV, modelID uint64, set model.Digest, circuit Hash) (PieceProgress, error) {
	var p PieceProgress
	if !chain.Get(kv, piecesKey(modelID, set, circuit), &p) {
		return p, chain.Wrap(chain.ErrNotFound, "no piece of test set %s is proven for model %d under circuit %s", set, modelID, circuit)
	}
	return p, nil
}

// GetClaim loads one claim of a model.
func GetClaim(kv store.KV, modelID, seq uint64) (Claim, error) {
	var c Claim
	if !chain.Get(kv, claimKey(modelID, seq), &c) {
		return c, chain.Wrap(chain.ErrNotFound, "claim %d of model %d", seq, modelID)
	}
	return c, nil
}
func ownedKey(a chain.Address, c model.Digest) []byte {
	return chain.Key(prefixOwned, a[:], c[:])
}

// GetCircuit loads a registered circuit.
func GetCircuit(kv store.KV, id Hash) (Circuit, error) {
	var c Circuit
	if !chain.Get(kv, circuitKey(id), &c) {
		return c, chain.Wrap(chain.ErrNotFound, "circuit %s is not registered", id)
	}
	c.Trust = c.trust()
	return c, nil
}

// trust is the circuit's trust note; circuits stored before the note
// existed were all uploaded single-party keys.
func (c Circuit) trust() string {
	if c.Ceremony != 0 {
		return TrustCeremony
	}
	return TrustSingleParty
}

// GetModel loads a committed model.
func GetModel(kv store.KV, id uint64) (Model, error) {
	var m Model
	if !chain.Get(kv, modelKey(id), &m) {
		return m, chain.Wrap(chain.ErrNotFound, "model %d", id)
	}
	return m, nil
}

// TestSetHead is a test set without its rows: what handlers read about a
// test set, so that the cost of a message naming one does not grow with
// the rows it keeps in state (up to MaxInlineCells values, ~20 ms to
// decode).
type TestSetHead struct {
	Name     string         `json:"name" cbor:"5,keyasint"`
	Shape    Shape          `json:"shape" cbor:"1,keyasint"`
	N        uint32         `json:"n" cbor:"2,keyasint"`
	Verified bool           `json:"verified" cbor:"3,keyasint"`
	Pieces   []model.Digest `json:"pieces,omitempty" cbor:"4,keyasint,omitempty"`
}

func (t TestSet) head() TestSetHead {
	return TestSetHead{Name: t.Name, Shape: t.Shape, N: t.N, Verified: t.Verified, Pieces: t.Pieces}
}

// GetTestSetHead loads a registered test set without its rows. Test sets
// stored before heads existed are read whole.
func GetTestSetHead(kv store.KV, h model.Digest) (TestSetHead, error) {
	var hd TestSetHead
	if chain.Get(kv, testSetHeadKey(h), &hd) {
		return hd, nil
	}
	t, err := GetTestSet(kv, h)
	if err != nil {
		return hd, err
	}
	return t.head(), nil
}

// GetTestSet loads a registered test set.
func GetTestSet(kv store.KV, h model.Digest) (TestSet, error) {
	var t TestSet
	if !chain.Get(kv, testSetKey(h), &t) {
		return t, chain.Wrap(chain.ErrNotFound, "test set %s is not registered", h)
	}
	return t, nil
}

// Claims lists a model's verified claims in the order they were recorded.
func Claims(kv store.KV, modelID uint64) []Claim {
	out := []Claim{}
	chain.Each(kv, claimPrefix(modelID), func(_ []byte, c Claim) bool {
		out = append(out, c)
		return true
	})
	return out
}

// Domain is the zkml registry's chain domain.
type Domain struct{}

func (Domain) Name() string { return "zkml" }

func (Domain) Register(r *chain.Router) {
	chain.Handle(r, registerCircuit)
	chain.Handle(r, commitModel)
	chain.Handle(r, registerTestSet)
	chain.Handle(r, submitProof)
	chain.Handle(r, openCeremony)
	chain.Handle(r, contribute)
}

func registerCircuit(ctx *chain.Context, m *MsgRegisterCircuit) error {
	id := CircuitID(m.Spec, m.VerifyingKey)
	if cid, ok := SealedCeremonyFor(ctx.KV, m.Spec); ok {
		return chain.Wrap(chain.ErrConflict, "ceremony %d sealed a circuit for this spec: uploaded keys (%s) are refused for it", cid, TrustSingleParty)
	}
	if store.Has(ctx.KV, circuitKey(id)) {
		return chain.Wrap(chain.ErrConflict, "circuit %s is already registered", id)
	}
	// Bounded decoding with subgroup checks: a malformed key never enters
	// state, so every later verification starts from a sound key.
	k, err := zkml.ParseVerifyingKey(m.VerifyingKey)
	if err != nil {
		return chain.Wrap(chain.ErrInvalidRequest, "verifying key: %v", err)
	}
	n := k.NumPublicInputs()
	// A key whose public inputs do not fit the spec's circuit could never
	// verify a claim laid out for that spec: refuse it now.
	if want := m.Spec.publicInputs(); n != want {
		return chain.Wrap(chain.ErrInvalidRequest, "verifying key takes %d public inputs, a %s circuit for %s takes %d",
			n, m.Spec.Kind, m.Spec.Arch, want)
	}
	c := Circuit{
		ID: id, Spec: m.Spec, VerifyingKey: m.VerifyingKey, PublicInputs: uint32(n),
		Gnark: m.Gnark, Setup: m.Setup, Registrant: ctx.Sender, Height: ctx.Block.Height,
		Trust: TrustSingleParty,
	}
	chain.Put(ctx.KV, circuitKey(id), c)
	ctx.Emit("zkml_circuit", "id", id.String(), "kind", m.Spec.Kind, "arch", m.Spec.Arch.String(),
		"rows", chain.U64(uint64(m.Spec.Rows)), "registrant", ctx.Sender.String(), "trust", TrustSingleParty)
	return nil
}

func commitModel(ctx *chain.Context, m *MsgCommitModel) error {
	owner := ctx.Sender
	var job uint64
	var output string
	if m.Source != nil {
		var err error
		if output, err = checkSource(ctx, m); err != nil {
			return err
		}
		job = m.Source.ComputeJob
		if prev, ok := ModelOfJob(ctx.KV, job); ok {
			return chain.Wrap(chain.ErrConflict, "compute job %d's model is already committed as model %d", job, prev.ID)
		}
		j, _ := compute.GetJob(ctx.KV, job)
		owner = j.Tenant // the job's model is its tenant's, whoever brings it
	}
	ok := ownedKey(owner, m.Commitment)
	if raw := ctx.KV.Get(ok); raw != nil {
		return chain.Wrap(chain.ErrConflict, "%s already committed %s as model %d", owner, m.Commitment, binary.BigEndian.Uint64(raw))
	}
	var id uint64 = 1
	if raw := ctx.KV.Get(keyModelSeq); len(raw) == 8 {
		id = binary.BigEndian.Uint64(raw) + 1
	}
	ctx.KV.Set(keyModelSeq, chain.Uint64Bytes(id))
	ctx.KV.Set(ok, chain.Uint64Bytes(id))
	chain.Put(ctx.KV, modelKey(id), Model{
		ID: id, Owner: owner, Name: m.Name, Commitment: m.Commitment, Arch: m.Arch, Height: ctx.Block.Height,
		ComputeJob: job, Output: output,
	})
	if job != 0 {
		if err := recordSourceLineage(ctx, job, output, id); err != nil {
			return err
		}
	}
	ctx.Emit("zkml_model", "id", chain.U64(id), "owner", owner.String(), "commitment", m.Commitment.String(),
		"arch", m.Arch.String(), "name", m.Name)
	return nil
}

func registerTestSet(ctx *chain.Context, m *MsgRegisterTestSet) error {
	t := TestSet{Hash: m.Hash, Name: m.Name, Owner: ctx.Sender, Shape: m.Shape, Height: ctx.Block.Height}
	if len(m.Pieces) > 0 {
		if err := checkPieces(ctx.KV, m, &t); err != nil {
			return err
		}
	} else if len(m.Rows) > 0 {
		got, err := m.Shape.TestSetHash(m.Rows)
		if err != nil {
			return err
		}
		if got != m.Hash {
			return chain.Wrap(chain.ErrInvalidRequest, "the rows hash to %s, not the declared %s", got, m.Hash)
		}
		t.N, t.Verified, t.Rows = uint32(len(m.Rows)), true, m.Rows
	} else {
		if _, err := chain.RequireBlob(ctx, m.CID); err != nil {
			return err
		}
		t.N, t.CID = m.N, m.CID
	}
	// First registration stands, except that verified rows replace a
	// declared hash: nobody can squat a hash with a bogus blob.
	if store.Has(ctx.KV, testSetKey(m.Hash)) {
		if old, err := GetTestSetHead(ctx.KV, m.Hash); err != nil || old.Verified || !t.Verified {
			return chain.Wrap(chain.ErrConflict, "test set %s is already registered (%q)", m.Hash, old.Name)
		}
	}
	chain.Put(ctx.KV, testSetKey(m.Hash), t)
	chain.Put(ctx.KV, testSetHeadKey(m.Hash), t.head())
	ctx.Emit("zkml_testset", "hash", m.Hash.String(), "n", chain.U64(uint64(t.N)),
		"verified", strconv.FormatBool(t.Verified), "owner", ctx.Sender.String())
	return nil
}

// checkPieces fills t from the pieces of m: each a registered test set of
// m's shape, not itself made of pieces, all with the same number of rows
// (so that one accuracy circuit proves every piece), and m.Hash their root.
func checkPieces(kv store.KV, m *MsgRegisterTestSet, t *TestSet) error {
	root, err := model.PiecesRoot(m.Pieces)
	if err != nil {
		return chain.Wrap(chain.ErrInvalidRequest, "test set pieces: %v", err)
	}
	if root != m.Hash {
		return chain.Wrap(chain.ErrInvalidRequest, "the pieces' root is %s, not the declared %s", root, m.Hash)
	}
	t.Verified, t.Pieces = true, m.Pieces
	var rows uint32
	for i, h := range m.Pieces {
		p, err := GetTestSetHead(kv, h)
		if err != nil {
			return chain.Wrap(chain.ErrNotFound, "piece %d: test set %s is not registered", i, h)
		}
		switch {
		case len(p.Pieces) > 0:
			return chain.Wrap(chain.ErrInvalidRequest, "piece %d (%s) is itself made of pieces", i, h)
		case p.Shape != m.Shape:
			return chain.Wrap(chain.ErrInvalidRequest, "piece %d has shape %+v, the set %+v", i, p.Shape, m.Shape)
		case i > 0 && p.N != rows:
			return chain.Wrap(chain.ErrInvalidRequest, "piece %d has %d rows, piece 0 has %d: every piece needs the same number", i, p.N, rows)
		}
		rows = p.N
		t.Verified = t.Verified && p.Verified
	}
	total := uint64(rows) * uint64(len(m.Pieces))
	if total > MaxRows || (m.N != 0 && uint64(m.N) != total) {
		return chain.Wrap(chain.ErrInvalidRequest, "the pieces hold %d rows (n says %d, at most %d)", total, m.N, MaxRows)
	}
	t.N = uint32(total)
	return nil
}

func submitProof(ctx *chain.Context, m *MsgSubmitProof) error {
	c, err := GetCircuit(ctx.KV, m.Circuit)
	if err != nil {
		return err
	}
	mdl, err := GetModel(ctx.KV, m.Model)
	if err != nil {
		return err
	}
	if !c.Spec.Arch.Equal(mdl.Arch) {
		return chain.Wrap(chain.ErrInvalidRequest, "circuit %s is for arch %s, model %d is %s", c.ID, c.Spec.Arch, mdl.ID, mdl.Arch)
	}
	// Once a ceremony sealed a circuit for the spec, the single-party keys
	// of the devnet days prove nothing more about it.
	if cid, ok := SealedCeremonyFor(ctx.KV, c.Spec); ok && c.Ceremony == 0 {
		return chain.Wrap(chain.ErrUnauthorized, "circuit %s is from a %s; ceremony %d sealed the circuit for this spec: prove under it", c.ID, TrustSingleParty, cid)
	}
	if (m.ComputeJob != 0 || m.Output != "") && (m.ComputeJob != mdl.ComputeJob || m.Output != mdl.Output) {
		return chain.Wrap(chain.ErrInvalidRequest, "the claim is about compute job %d output %q, but model %d came out of compute job %d output %q",
			m.ComputeJob, m.Output, mdl.ID, mdl.ComputeJob, mdl.Output)
	}
	claim := Claim{
		Model: mdl.ID, Seq: mdl.Claims + 1, Kind: c.Spec.Kind, Circuit: c.ID, Commitment: mdl.Commitment,
		Inference: m.Inference, Accuracy: m.Accuracy, Height: ctx.Block.Height, Prover: ctx.Sender,
		Ceremony: c.Ceremony, Trust: c.trust(),
		ComputeJob: mdl.ComputeJob, Output: mdl.Output,
	}
	var pub []fr.Element
	var piece *pieceSlot
	switch {
	case c.Spec.Kind == KindInference && m.Inference != nil:
		input := make([]int, len(m.Inference.Input))
		for i, v := range m.Inference.Input {
			input[i] = int(v)
		}
		// The commitment comes from the model's record, never from the
		// sender: a proof about another model cannot verify.
		ic := zkml.InferenceClaim{Model: mdl.Commitment, Input: input, Class: int(m.Inference.Class)}
		if pub, err = ic.PublicInputs(mdl.Arch.InputArch()); err != nil {
			return chain.Wrap(chain.ErrInvalidRequest, "inference claim: %v", err)
		}
	case c.Spec.Kind == KindAccuracy && m.Accuracy != nil:
		a := m.Accuracy
		ts, err := GetTestSetHead(ctx.KV, a.TestSet)
		if err != nil {
			return err
		}
		switch {
		case ts.N != a.N:
			return chain.Wrap(chain.ErrInvalidRequest, "test set %s has %d rows, the claim says %d", a.TestSet, ts.N, a.N)
		case c.Spec.Rows != a.N:
			return chain.Wrap(chain.ErrInvalidRequest, "circuit %s proves accuracy over %d rows, the claim is over %d", c.ID, c.Spec.Rows, a.N)
		case ts.Shape != ShapeOf(mdl.Arch):
			return chain.Wrap(chain.ErrInvalidRequest, "test set %s has shape %+v, model %d takes %+v", a.TestSet, ts.Shape, mdl.ID, ShapeOf(mdl.Arch))
		}
		if m.Set != (model.Digest{}) {
			if piece, err = pieceOf(ctx.KV, m.Set, a.TestSet, mdl.ID, c.ID); err != nil {
				return err
			}
		}
		ac := zkml.AccuracyClaim{Model: mdl.Commitment, TestSet: a.TestSet, N: int(a.N), K: int(a.K)}
		if pub, err = ac.PublicInputs(); err != nil {
			return chain.Wrap(chain.ErrInvalidRequest, "accuracy claim: %v", err)
		}
		bps := uint32(uint64(a.K) * 10_000 / uint64(a.N))
		claim.AccuracyBps = &bps
	default:
		return chain.Wrap(chain.ErrInvalidRequest, "circuit %s proves %s claims; the message carries another kind", c.ID, c.Spec.Kind)
	}
	// The same statement is recorded once, whoever proves it again; a
	// piece already proven on its own counts for its set as it stands.
	sk := stmtKey(statementHash(c.ID, mdl.ID, pub))
	if raw := ctx.KV.Get(sk); raw != nil {
		if piece != nil {
			return piece.fill(ctx, &mdl, c, binary.BigEndian.Uint64(raw))
		}
		return chain.Wrap(chain.ErrConflict, "this claim is already recorded as claim %d of model %d", binary.BigEndian.Uint64(raw), mdl.ID)
	}
	// zkml.Verify bounds the cost: key and proof sizes and layouts are checked
	// before gnark decodes them, then a fixed number of pairings and an MSM
	// over the few public inputs. VerifyFee pays for it.
	if err := zkml.Verify(c.VerifyingKey, m.Proof, pub); err != nil {
		if errors.Is(err, zkml.ErrInvalidProof) {
			return chain.Wrap(chain.ErrInvalidRequest, "proof does not verify for this claim about model %d under circuit %s: %v", mdl.ID, c.ID, err)
		}
		return chain.Wrap(chain.ErrInternal, "circuit %s: %v", c.ID, err)
	}
	mdl.Claims = claim.Seq
	chain.Put(ctx.KV, modelKey(mdl.ID), mdl)
	chain.Put(ctx.KV, claimKey(mdl.ID, claim.Seq), claim)
	ctx.KV.Set(sk, chain.Uint64Bytes(claim.Seq))
	if err := data.RecordEdge(ctx, ModelRef(mdl.ID), ClaimRef(mdl.ID, claim.Seq), data.RelClaim); err != nil {
		return err
	}
	ev := []string{"model", chain.U64(mdl.ID), "claim", chain.U64(claim.Seq), "kind", claim.Kind,
		"circuit", c.ID.String(), "prover", ctx.Sender.String()}
	if a := m.Accuracy; a != nil {
		ev = append(ev, "k", chain.U64(uint64(a.K)), "n", chain.U64(uint64(a.N)), "accuracy_bps", chain.U64(uint64(*claim.AccuracyBps)))
	} else {
		ev = append(ev, "class", chain.U64(uint64(m.Inference.Class)))
	}
	ctx.Emit("zkml_claim", ev...)
	if piece != nil {
		return piece.fill(ctx, &mdl, c, claim.Seq)
	}
	return nil
}

// pieceSlot is the piece of a test set given as pieces that an accuracy
// proof is for, with the progress it fills in.
type pieceSlot struct {
	hash     model.Digest
	set      TestSetHead
	index    int
	progress PieceProgress
}

// pieceOf checks that test set piece is one of set's pieces and still
// unproven for the model under the circuit.
func pieceOf(kv store.KV, set, piece model.Digest, modelID uint64, circuit Hash) (*pieceSlot, error) {
	ts, err := GetTestSetHead(kv, set)
	if err != nil {
		return nil, err
	}
	if len(ts.Pieces) == 0 {
		return nil, chain.Wrap(chain.ErrInvalidRequest, "test set %s is not made of pieces", set)
	}
	slot := &pieceSlot{hash: set, set: ts, index: -1}
	for i, p := range ts.Pieces {
		if p == piece {
			slot.index = i
			break
		}
	}
	if slot.index < 0 {
		return nil, chain.Wrap(chain.ErrInvalidRequest, "test set %s is not a piece of %s", piece, set)
	}
	slot.progress, err = GetPieceProgress(kv, modelID, set, circuit)
	if err != nil {
		slot.progress = PieceProgress{Model: modelID, Set: set, Circuit: circuit, Parts: make([]uint64, len(ts.Pieces))}
	}
	if seq := slot.progress.Parts[slot.index]; seq != 0 {
		return nil, chain.Wrap(chain.ErrConflict, "piece %d of test set %s is already proven for model %d by claim %d under circuit %s",
			slot.index, set, modelID, seq, circuit)
	}
	return slot, nil
}

// fill records claim seq as the slot's piece and, once every piece of the
// set is proven, records the claim about the whole set: the pieces'
// counts added up, under the same circuit (so one trust note covers it).
func (p *pieceSlot) fill(ctx *chain.Context, mdl *Model, c Circuit, seq uint64) error {
	pr := &p.progress
	pr.Parts[p.index] = seq
	var k uint64
	for _, part := range pr.Parts {
		if part == 0 {
			chain.Put(ctx.KV, piecesKey(mdl.ID, p.hash, c.ID), *pr)
			ctx.Emit("zkml_piece", "model", chain.U64(mdl.ID), "set", p.hash.String(), "piece", chain.U64(uint64(p.index)),
				"claim", chain.U64(seq), "circuit", c.ID.String())
			return nil
		}
		pc, err := GetClaim(ctx.KV, mdl.ID, part)
		if err != nil || pc.Accuracy == nil {
			return chain.Wrap(chain.ErrInternal, "piece claim %d of model %d: %v", part, mdl.ID, err)
		}
		k += uint64(pc.Accuracy.K)
	}
	bps := uint32(k * 10_000 / uint64(p.set.N))
	claim := Claim{
		Model: mdl.ID, Seq: mdl.Claims + 1, Kind: KindAccuracy, Circuit: c.ID, Commitment: mdl.Commitment,
		Accuracy:    &AccuracyClaim{TestSet: p.hash, N: p.set.N, K: uint32(k)},
		AccuracyBps: &bps, Height: ctx.Block.Height, Prover: ctx.Sender, Ceremony: c.Ceremony, Trust: c.trust(),
		ComputeJob: mdl.ComputeJob, Output: mdl.Output, Parts: append([]uint64(nil), pr.Parts...),
	}
	pr.Claim = claim.Seq
	mdl.Claims = claim.Seq
	chain.Put(ctx.KV, modelKey(mdl.ID), *mdl)
	chain.Put(ctx.KV, claimKey(mdl.ID, claim.Seq), claim)
	chain.Put(ctx.KV, piecesKey(mdl.ID, p.hash, c.ID), *pr)
	if err := data.RecordEdge(ctx, ModelRef(mdl.ID), ClaimRef(mdl.ID, claim.Seq), data.RelClaim); err != nil {
		return err
	}
	ctx.Emit("zkml_claim", "model", chain.U64(mdl.ID), "claim", chain.U64(claim.Seq), "kind", claim.Kind,
		"circuit", c.ID.String(), "prover", ctx.Sender.String(), "k", chain.U64(k), "n", chain.U64(uint64(p.set.N)),
		"accuracy_bps", chain.U64(uint64(bps)), "pieces", chain.U64(uint64(len(pr.Parts))))
	return nil
}

// statementHash identifies a statement: circuit, model and public inputs.
func statementHash(circuit Hash, modelID uint64, pub []fr.Element) [32]byte {
	h := sha256.New()
	h.Write(circuit[:])
	h.Write(chain.Uint64Bytes(modelID))
	for i := range pub {
		b := pub[i].Bytes()
		h.Write(b[:])
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

// Query answers: circuits | circuit/<id> | models | model/<id> |
// claims/<model id> | testset/<hash> | pieces/<model id>/<set hash> | ceremonies | ceremony/<id> |
// ceremony-data/<id> (with the transcript head, for contributors and provers).
func (Domain) Query(kv store.KV, path string, _ map[string]string) (any, error) {
	kind, arg, _ := strings.Cut(path, "/")
	switch kind {
	case "circuits":
		out := []Circuit{}
		chain.Each(kv, prefixCircuit, func(_ []byte, c Circuit) bool {
			c.Trust = c.trust()
			out = append(out, c)
			return true
		})
		return out, nil
	case "circuit":
		id, err := chain.ParseHash(arg)
		if err != nil {
			return nil, err
		}
		return GetCircuit(kv, id)
	case "models":
		out := []Model{}
		chain.Each(kv, prefixModel, func(_ []byte, m Model) bool {
			out = append(out, m)
			return true
		})
		return out, nil
	case "model", "claims":
		id, err := strconv.ParseUint(arg, 10, 64)
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "model id %q", arg)
		}
		m, err := GetModel(kv, id)
		if err != nil {
			return nil, err
		}
		if kind == "model" {
			return m, nil
		}
		return Claims(kv, id), nil
	case "pieces":
		// pieces/<model id>/<set hash>: the model's progress over a test set
		// of pieces, one record per circuit proving it.
		ids, sets, _ := strings.Cut(arg, "/")
		id, err := strconv.ParseUint(ids, 10, 64)
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "model id %q", ids)
		}
		set, err := model.ParseDigest(sets)
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "test set hash %q: %v", sets, err)
		}
		out := []PieceProgress{}
		chain.Each(kv, chain.Key(prefixPieces, chain.Uint64Bytes(id), set[:]), func(_ []byte, p PieceProgress) bool {
			out = append(out, p)
			return true
		})
		return out, nil
	case "testset":
		h, err := model.ParseDigest(arg)
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "test set hash %q: %v", arg, err)
		}
		return GetTestSet(kv, h)
	case "ceremonies":
		out := []Ceremony{}
		chain.Each(kv, prefixCeremony, func(_ []byte, c Ceremony) bool {
			out = append(out, c)
			return true
		})
		return out, nil
	case "ceremony", "ceremony-data":
		id, err := strconv.ParseUint(arg, 10, 64)
		if err != nil {
			return nil, chain.Wrap(chain.ErrInvalidRequest, "ceremony id %q", arg)
		}
		if kind == "ceremony" {
			return GetCeremony(kv, id)
		}
		return GetCeremonyData(kv, id)
	}
	return nil, chain.Wrap(chain.ErrNotFound, "no zkml query %q", path)
}
