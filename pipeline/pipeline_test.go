package pipeline_test

import (
	"crypto/sha256"
	"encoding/json"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/internal/scenario"
	"github.com/tenun-chain/tenun/label"
	"github.com/tenun-chain/tenun/pipeline"
	"github.com/tenun-chain/tenun/subnet"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/registry"
	"github.com/tenun-chain/tenun/zkml/train"
)

// The pure rules over an in-memory store with every market the pipeline
// drives: messages run as transactions would, blocks end with each
// domain's end-block step in the node's order.

func addr(b byte) chain.Address { return scenario.ByteAddr(b) }

// Accounts.
const (
	team         = 1
	contributorA = 2
	contributorB = 3
	annotatorA   = 6
	annotatorB   = 7
	providerA    = 8
	providerB    = 9
	prover_      = 10
	outsider     = 11
)

type harness struct{ *scenario.Pure }

func domains() []chain.Domain {
	return []chain.Domain{data.Domain{}, label.Domain{}, compute.Domain{}, registry.Domain{}, pipeline.Domain{}, subnet.Domain{}}
}

// newHarness funds accounts 1 to outsider and starts at block 2.
func newHarness(t *testing.T) *harness {
	g := chain.Genesis{Params: chain.DefaultParams(), Accounts: scenario.Funded(outsider, 100_000_000)}
	h := &harness{scenario.NewPure(t, g, domains()...)}
	h.Height = 2
	return h
}

func (h *harness) block() chain.Block { return h.Block() }

func (h *harness) run(sender byte, msg chain.Msg) error { return h.Run(addr(sender), msg) }

func (h *harness) must(sender byte, msg chain.Msg) { h.T.Helper(); h.Must(addr(sender), msg) }

func (h *harness) mustFail(what string, sender byte, msg chain.Msg, code *chain.Error, substr string) {
	h.T.Helper()
	scenario.MustReject(h.T, h.KV, what, code, substr, func() error { return h.run(sender, msg) })
}

// next ends the block as the chain does; an end-block error fails the test.
func (h *harness) next() { h.T.Helper(); h.EndBlock() }

func (h *harness) pipe(id uint64) pipeline.Pipeline {
	h.T.Helper()
	p, err := pipeline.Get(h.KV, id)
	if err != nil {
		h.T.Fatal(err)
	}
	return p
}

func (h *harness) advanceUntil(what string, max int, done func() bool) {
	h.T.Helper()
	for i := 0; !done(); i++ {
		if i == max {
			h.T.Fatalf("%s: not after %d blocks", what, max)
		}
		h.next()
	}
}

// fixture: a 16-8-10 model, its 4-row accuracy circuit and test set.
type fixture struct {
	arch    model.Arch
	m       *model.Model
	comm    model.Digest
	regArch registry.Arch
	ds      *model.Dataset
	vk      []byte
	gnark   string
	keys    *prover.Keys
	archive []byte
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error
)

func getFixture(t *testing.T) *fixture {
	fixOnce.Do(func() { fix, fixErr = buildFixture(t.TempDir()) })
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

func buildFixture(dir string) (*fixture, error) {
	f := &fixture{arch: model.Arch{Sizes: []int{16, 8, 10}, InBits: 5, Shifts: []int{5}}}
	f.arch.BiasBits = []int{model.DefaultBiasBits(16, 31), model.DefaultBiasBits(8, 255)}
	var err error
	if f.m, err = train.RandomModel(f.arch, 1); err != nil {
		return nil, err
	}
	if f.comm, err = f.m.ComputeCommitment(); err != nil {
		return nil, err
	}
	if f.regArch, err = registry.ArchOf(f.arch); err != nil {
		return nil, err
	}
	f.ds = &model.Dataset{}
	for r := range 4 {
		x := make([]int, 16)
		for i := range x {
			x[i] = (r*7 + i*3) % 32
		}
		p, _ := f.m.Predict(x)
		f.ds.X, f.ds.Y = append(f.ds.X, x), append(f.ds.Y, p)
	}
	spec := prover.Spec{Kind: prover.KindAccuracy, Arch: f.arch, Rows: 4}
	ccs, err := prover.Compile(spec)
	if err != nil {
		return nil, err
	}
	if f.keys, err = prover.Setup(spec, ccs); err != nil {
		return nil, err
	}
	if _, err := prover.SaveKeys(dir, "acc", f.keys, prover.SetupSingleParty); err != nil {
		return nil, err
	}
	var man *prover.Manifest
	if f.vk, man, err = prover.LoadVerifyingKey(filepath.Join(dir, "acc.json")); err != nil {
		return nil, err
	}
	f.gnark = man.Gnark
	b, err := json.Marshal(f.m)
	if err != nil {
		return nil, err
	}
	f.archive = sandbox.ArchiveOutputs(map[string][]byte{registry.QuantizedFile: b})
	return f, nil
}

func (f *fixture) rows() [][]uint32 {
	out := make([][]uint32, f.ds.Len())
	for r := range f.ds.X {
		for _, v := range f.ds.X[r] {
			out[r] = append(out[r], uint32(v))
		}
		out[r] = append(out[r], uint32(f.ds.Y[r]))
	}
	return out
}

var module = []byte("\x00asm trainer")

// world sets up a raw dataset of 4 records curated by the team, the
// training module, the accuracy circuit and test set, and two providers.
func world(t *testing.T) (*harness, *fixture, model.Digest) {
	f := getFixture(t)
	h := newHarness(t)
	h.must(team, &data.MsgCreate{Name: "pixels", Price: 1000, MaxBatch: 10, Schema: []data.Column{{Name: "text", Type: data.TypeString, Required: true, MaxLen: 20}}})
	h.must(contributorA, &data.MsgContribute{Dataset: 1, Records: [][]string{{"zero"}, {"one"}, {"two"}}})
	h.must(contributorB, &data.MsgContribute{Dataset: 1, Records: [][]string{{"three"}}})
	h.must(team, &data.MsgSnapshot{Dataset: 1})
	h.must(team, &chain.MsgRegisterBlob{CID: chain.BlobCID(module), Size: uint64(len(module))})
	h.must(prover_, &registry.MsgRegisterCircuit{Spec: registry.Spec{Kind: registry.KindAccuracy, Arch: f.regArch, Rows: 4}, VerifyingKey: f.vk, Gnark: f.gnark})
	tsh, err := f.arch.TestSetHash(f.ds)
	if err != nil {
		t.Fatal(err)
	}
	h.must(outsider, &registry.MsgRegisterTestSet{Hash: tsh, Shape: registry.ShapeOf(f.regArch), Name: "public-4", Rows: f.rows()})
	for _, p := range []byte{providerA, providerB} {
		h.must(p, &compute.MsgRegister{CPUCores: 4, MemoryMB: 1024, Price: 1, Stake: 1_000_000})
	}
	return h, f, tsh
}

func spec(tsh model.Digest) pipeline.Spec {
	return pipeline.Spec{
		Name: "digits", Stages: []string{"label", "train", "prove"},
		Dataset: &pipeline.DatasetSpec{Dataset: 1, Version: 1},
		Label: &pipeline.LabelSpec{Title: "which digit", Labels: []string{"0", "1", "2", "3"}, ItemKind: label.KindText,
			Redundancy: 2, MaxRedundancy: 2, ConfidencePPM: 500_000, Reward: 100, Stake: 1000,
			DeadlineBlocks: 10, RevealBlocks: 10, GraceBlocks: 10, QualityPPM: 300_000, BatchSize: 4, MaxPerWorker: 4,
			DatasetName: "pixels labelled", Price: 5000, AnnotatorBps: 2500},
		Train: &pipeline.TrainSpec{Module: chain.BlobCID(module), InputName: "train.csv", MemoryBytes: 1 << 20, Fuel: compute.FuelPerUnit,
			WallSeconds: 10, MaxOutputBytes: 1 << 20, MaxPrice: 10, Redundancy: 2, Timeout: 5, DeadlineBlocks: 50},
		// The fixture's circuit has single-party keys: allowed, and marked.
		Prove: &pipeline.ProveSpec{TestSet: tsh, MinAccuracyBps: 7000, DeadlineBlocks: 20, AllowSingleParty: true},
	}
}

// Budget of the spec over 4 items: label 4 x 2 x 100 = 800, train
// (2 + 2 tie-breakers) x 10 x 1 unit = 40.
const need = 840

func TestRefusalsChangeNothing(t *testing.T) {
	h, _, tsh := world(t)
	s := spec(tsh)
	mk := func(mut func(s *pipeline.Spec), budget uint64) *pipeline.MsgCreate {
		c := s
		l, tr, p := *s.Label, *s.Train, *s.Prove
		c.Label, c.Train, c.Prove = &l, &tr, &p
		c.Stages = append([]string{}, s.Stages...)
		if mut != nil {
			mut(&c)
		}
		return &pipeline.MsgCreate{Spec: c, Budget: budget}
	}
	h.mustFail("missing stage", team, mk(func(s *pipeline.Spec) { s.Stages = []string{"label", "train"} }, need), chain.ErrInvalidRequest, "missing stage")
	h.mustFail("unknown stage", team, mk(func(s *pipeline.Spec) { s.Stages = []string{"label", "finetune", "prove"} }, need), chain.ErrInvalidRequest, `unknown stage "finetune"`)
	h.mustFail("stage without its section", team, mk(func(s *pipeline.Spec) { s.Train = nil }, need), chain.ErrInvalidRequest, "no train section")
	h.mustFail("budget below the stages' sum", team, mk(nil, need-1), chain.ErrInsufficientFunds, "below the stages' sum 840")
	h.mustFail("unknown module", team, mk(func(s *pipeline.Spec) { s.Train.Module = chain.BlobCID([]byte("nobody uploaded this")) }, need), chain.ErrNotFound, "training module")
	h.mustFail("test set that does not exist", team, mk(func(s *pipeline.Spec) { s.Prove.TestSet = model.Digest{1} }, need), chain.ErrNotFound, "test set")
	h.mustFail("dataset without a grant", outsider, mk(nil, need), chain.ErrUnauthorized, "buy version 1")
	h.mustFail("serve stage without its section", team, mk(func(s *pipeline.Spec) { s.Stages = append(s.Stages, pipeline.StageServe) }, need), chain.ErrInvalidRequest, "no serve section")
	h.mustFail("serve section without its stage", team, mk(func(s *pipeline.Spec) { s.Serve = &pipeline.ServeSpec{Subnet: 1} }, need), chain.ErrInvalidRequest, "without the serve stage")
	h.mustFail("serve into a subnet that does not exist", team, mk(func(s *pipeline.Spec) {
		s.Stages, s.Serve = append(s.Stages, pipeline.StageServe), &pipeline.ServeSpec{Subnet: 9, RoyaltyBps: 1000}
	}, need), chain.ErrNotFound, "subnet 9")
	// A second pipeline cannot spend the first one's escrow: each locks its own.
	bal := chain.Balance(h.KV, addr(team))
	h.must(team, mk(nil, bal-need+1)) // leaves less than a second pipeline needs
	h.mustFail("second pipeline over the same funds", team, mk(nil, need), chain.ErrInsufficientFunds, "")
}

// One pipeline through every stage with no action by the team.
func TestPipelineRunsItself(t *testing.T) { runsItself(t, false, true, false) }

// The same pipeline with the serve stage: its verified model enters a
// subnet, and what the model earns there flows back.
func TestPipelineServesItsModel(t *testing.T) { runsItself(t, true, true, false) }

// A spec that does not allow single-party keys ignores a claim under
// them: the prove stage ends at its deadline, saying why.
func TestSinglePartyClaimIsNotTrusted(t *testing.T) { runsItself(t, false, false, false) }

// TestPipelineTakesClaimOverPieces: the prove stage's test set is a set of
// two 4-row pieces; the prover proves each piece and the chain's claim
// about the whole set is the one the pipeline accepts.
func TestPipelineTakesClaimOverPieces(t *testing.T) { runsItself(t, false, true, true) }

func runsItself(t *testing.T, serve, allowSingleParty, pieced bool) {
	h, f, tsh := world(t)
	const budget = 5000
	target := tsh
	var pieces []*model.Dataset
	var hashes []model.Digest
	if pieced {
		// A second piece: other inputs, labelled by the model but one.
		ds2 := &model.Dataset{}
		for r := range 4 {
			x := make([]int, 16)
			for i := range x {
				x[i] = (r*5 + i*11 + 3) % 32
			}
			p, _ := f.m.Predict(x)
			if r == 3 {
				p = (p + 1) % 10
			}
			ds2.X, ds2.Y = append(ds2.X, x), append(ds2.Y, p)
		}
		tsh2, err := f.arch.TestSetHash(ds2)
		if err != nil {
			t.Fatal(err)
		}
		rows2 := make([][]uint32, 4)
		for r := range ds2.X {
			for _, v := range ds2.X[r] {
				rows2[r] = append(rows2[r], uint32(v))
			}
			rows2[r] = append(rows2[r], uint32(ds2.Y[r]))
		}
		h.must(outsider, &registry.MsgRegisterTestSet{Hash: tsh2, Shape: registry.ShapeOf(f.regArch), Name: "public-4b", Rows: rows2})
		pieces, hashes = []*model.Dataset{f.ds, ds2}, []model.Digest{tsh, tsh2}
		if target, err = model.PiecesRoot(hashes); err != nil {
			t.Fatal(err)
		}
		h.must(outsider, &registry.MsgRegisterTestSet{Hash: target, Shape: registry.ShapeOf(f.regArch), Name: "public-8", Pieces: hashes})
	}
	sp := spec(target)
	sp.Prove.AllowSingleParty = allowSingleParty
	if serve {
		eval := []byte("1,2,0\n")
		h.must(team, &chain.MsgRegisterBlob{CID: chain.BlobCID(eval), Size: uint64(len(eval))})
		hp := subnet.DefaultHyperparams()
		h.must(outsider, &subnet.MsgCreate{Task: "digits", Dataset: chain.BlobCID(eval), Tempo: 3, Yuma: &hp, RegistrationMinStake: 100, ValidatorMinStake: 1000, MaxUIDs: 8})
		sp.Stages = append(sp.Stages, pipeline.StageServe)
		sp.Serve = &pipeline.ServeSpec{Subnet: 1, RoyaltyBps: 3333, DataBps: 7777}
	}
	before := chain.Balance(h.KV, addr(team))
	h.must(team, &pipeline.MsgCreate{Spec: sp, Budget: budget})
	p := h.pipe(1)
	if p.Stage != pipeline.StageLabel || p.LabelJob != 1 {
		t.Fatalf("pipeline %+v", p)
	}
	// The dashboard's list: the pipeline as the chain holds it.
	listed, err := pipeline.Domain{}.Query(h.KV, "pipelines", nil)
	if l, ok := listed.([]pipeline.Pipeline); err != nil || !ok || len(l) != 1 || l[0].ID != 1 || l[0].Stage != p.Stage || l[0].Budget != budget {
		t.Fatalf("pipelines query = %+v, %v", listed, err)
	}
	// The annotators work the labelling job the pipeline created.
	truth := map[uint32]uint32{0: 0, 1: 1, 2: 2, 3: 3}
	for _, w := range []byte{annotatorA, annotatorB} {
		h.must(w, &chain.MsgBond{Pool: label.Pool, Amount: 1000})
		h.must(w, &label.MsgJoin{Job: 1})
	}
	salt := func(w byte, it uint32) chain.Hash {
		return chain.Hash{w, byte(it), 's', 'a', 'l', 't', 'y', 's', 'a', 'l', 't', 'y', 's', 'a', 'l', 't'}
	}
	for _, w := range []byte{annotatorA, annotatorB} {
		c := &label.MsgCommit{Job: 1}
		for _, tk := range label.WorkerTasks(h.KV, 1, addr(w)) {
			c.Entries = append(c.Entries, label.CommitEntry{Item: tk.Item, Hash: label.CommitHash(1, tk.Item, truth[tk.Item], salt(w, tk.Item), addr(w))})
		}
		h.must(w, c)
	}
	for _, w := range []byte{annotatorA, annotatorB} {
		r := &label.MsgReveal{Job: 1}
		for _, tk := range label.WorkerTasks(h.KV, 1, addr(w)) {
			r.Entries = append(r.Entries, label.RevealEntry{Item: tk.Item, Label: truth[tk.Item], Salt: salt(w, tk.Item)})
		}
		h.must(w, r)
	}
	h.advanceUntil("training stage", 30, func() bool { return h.pipe(1).Stage == pipeline.StageTrain })
	p = h.pipe(1)
	cj, err := compute.GetJob(h.KV, p.ComputeJob)
	if err != nil || len(cj.Data) != 1 || cj.Data[0].Dataset != p.Labelled || len(cj.Assignments) != 2 {
		t.Fatalf("training job %+v %v", cj, err)
	}
	if d, _ := data.GetDataset(h.KV, p.Labelled); d.Owner != addr(team) {
		t.Fatalf("labelled dataset owned by %s", d.Owner)
	}
	// The providers return the trained model.
	digest, cid := chain.Hash(sha256.Sum256(f.archive)), chain.BlobCID(f.archive)
	h.must(providerA, &chain.MsgRegisterBlob{CID: cid, Size: uint64(len(f.archive))})
	for _, a := range cj.Assignments {
		h.must(a.Provider[0], &compute.MsgCommit{Job: cj.ID, Commit: compute.CommitHash(cj.ID, a.Provider, digest, cid, chain.Hash{a.Provider[0]})})
	}
	for _, a := range cj.Assignments {
		h.must(a.Provider[0], &compute.MsgReveal{Job: cj.ID, Digest: digest, Output: cid, Salt: chain.Hash{a.Provider[0]}})
	}
	h.next()
	if h.pipe(1).Stage != pipeline.StageProve {
		t.Fatalf("after training: %+v", h.pipe(1))
	}
	// A prover (not the team) brings the model and its accuracy proof.
	h.must(prover_, &registry.MsgCommitModel{Commitment: f.comm, Arch: f.regArch, Name: "digits", Source: &registry.ModelSource{ComputeJob: cj.ID, Archive: f.archive}})
	pf, err := f.keys.ProveAccuracy(f.m, f.ds, -1)
	if err != nil {
		t.Fatal(err)
	}
	accID := registry.CircuitID(registry.Spec{Kind: registry.KindAccuracy, Arch: f.regArch, Rows: 4}, f.vk)
	h.mustFail("claim about another job's output", prover_, &registry.MsgSubmitProof{Circuit: accID, Model: 1, Proof: pf.Proof, ComputeJob: cj.ID + 7, Output: cid,
		Accuracy: &registry.AccuracyClaim{TestSet: tsh, N: 4, K: uint32(pf.Accuracy.K)}}, chain.ErrInvalidRequest, "came out of compute job")
	wantClaim := uint64(1)
	if !pieced {
		h.must(prover_, &registry.MsgSubmitProof{Circuit: accID, Model: 1, Proof: pf.Proof, ComputeJob: cj.ID, Output: cid,
			Accuracy: &registry.AccuracyClaim{TestSet: tsh, N: 4, K: uint32(pf.Accuracy.K)}})
	} else {
		for i, ds := range pieces {
			pp, err := f.keys.ProveAccuracy(f.m, ds, -1)
			if err != nil {
				t.Fatal(err)
			}
			h.must(prover_, &registry.MsgSubmitProof{Circuit: accID, Model: 1, Proof: pp.Proof, ComputeJob: cj.ID, Output: cid, Set: target,
				Accuracy: &registry.AccuracyClaim{TestSet: hashes[i], N: 4, K: uint32(pp.Accuracy.K)}})
			if i == 0 {
				h.next() // a piece's claim is about the piece: the pipeline waits for the set's
				if p := h.pipe(1); p.Status != pipeline.StatusRunning || p.Claim != 0 {
					t.Fatalf("pipeline took a piece's claim: %+v", p)
				}
			}
		}
		wantClaim = 3 // the two piece claims, then the claim about the set
	}
	h.next()
	if !allowSingleParty {
		h.advanceUntil("prove deadline", 30, func() bool { return h.pipe(1).Status != pipeline.StatusRunning })
		p = h.pipe(1)
		if p.Status != pipeline.StatusFailed || p.Claim != 0 || !strings.Contains(p.Reason, "no accuracy claim under a trusted setup") || !strings.Contains(p.Reason, "single-party") {
			t.Fatalf("pipeline with an untrusted claim: %+v", p)
		}
		return
	}
	p = h.pipe(1)
	if p.Status != pipeline.StatusCompleted || p.Model != 1 || p.Claim != wantClaim || p.Trust != registry.TrustSingleParty {
		t.Fatalf("pipeline %+v", p)
	}
	if pieced && (p.Accuracy != 7*10_000/8) {
		t.Fatalf("pipeline took %d bps, the set's claim is 7 of 8", p.Accuracy)
	}
	if serve && (p.Served != 1 || p.Stage != pipeline.StageServe || p.Stages[3].Ref != subnet.ModelRef(1, 1)) {
		t.Fatalf("serve stage: %+v", p)
	}
	var spent uint64
	for _, st := range p.Stages {
		spent += st.Spent
	}
	if p.Refunded != budget-spent {
		t.Fatalf("refunded %d, budget %d, spent %d", p.Refunded, budget, spent)
	}
	if got := before - chain.Balance(h.KV, addr(team)); got < spent || got > spent+200 { // fees
		t.Fatalf("team paid %d for %d spent", got, spent)
	}
	lin, err := pipeline.Lineage(h.KV, pipeline.Ref(1))
	if err != nil {
		t.Fatal(err)
	}
	who := map[chain.Address]bool{}
	for _, c := range lin.Contributors {
		who[c.Address] = true
	}
	for _, a := range lin.Annotators {
		if a.Paid > 0 {
			who[a.Address] = true
		}
	}
	for _, pr := range lin.Providers {
		if pr.Paid > 0 {
			who[pr.Address] = true
		}
	}
	for _, b := range []byte{contributorA, contributorB, annotatorA, annotatorB, providerA, providerB} {
		if !who[addr(b)] {
			t.Errorf("lineage misses account %d: %+v", b, lin)
		}
	}
	if serve {
		servedModelEarns(t, h, p)
	}
}

// servedModelEarns enters the pipeline's verified model into a subnet,
// where miners serve it: the royalty on their emission flows back to the
// team, the raw contributors and the annotators, by the shares the
// labelled version declared, to the unit.
func servedModelEarns(t *testing.T, h *harness, p pipeline.Pipeline) {
	enter := &subnet.MsgEnterModel{Subnet: 1, Model: p.Model, Claim: p.Claim, RoyaltyBps: 3333, DataBps: 7777}
	// Refusals: each changes nothing.
	h.mustFail("a miner serving a model never entered", providerA, &subnet.MsgRegister{Subnet: 1, Role: subnet.RoleMiner, Stake: 100, Endpoint: "http://127.0.0.1:9000", Model: 2}, chain.ErrNotFound, "no entered model 2")
	h.mustFail("a claim that does not exist", prover_, &subnet.MsgEnterModel{Subnet: 1, Model: p.Model, Claim: p.Claim + 1, RoyaltyBps: 1000}, chain.ErrNotFound, "no verified claim")
	h.mustFail("a model nobody committed", prover_, &subnet.MsgEnterModel{Subnet: 1, Model: p.Model + 1, Claim: 1, RoyaltyBps: 1000}, chain.ErrNotFound, "")
	h.mustFail("someone else's model", outsider, enter, chain.ErrUnauthorized, "neither owns model")
	h.mustFail("royalty above the whole", prover_, &subnet.MsgEnterModel{Subnet: 1, Model: p.Model, Claim: p.Claim, RoyaltyBps: 10_001}, chain.ErrInvalidRequest, "0 to 10000")
	scenario.MustReject(t, h.KV, "the same model twice", chain.ErrConflict, "already entered", func() error {
		ctx := chain.NewContext(store.NewCache(h.KV), h.block(), chain.DefaultParams())
		ctx.Sender = p.Account // the tenant of the training job, as the serve stage was
		_, err := subnet.EnterModel(ctx, subnet.Entry{Subnet: 1, Model: p.Model, Claim: p.Claim, Owner: p.Owner})
		return err
	})
	sm, err := subnet.GetServedModel(h.KV, 1, 1)
	if err != nil || sm.ComputeJob != p.ComputeJob || len(sm.Sources) != 1 || sm.Sources[0].Ref != data.DatasetRef(p.Labelled, 1) || sm.Owner != addr(team) {
		t.Fatalf("entered model %+v, %v", sm, err)
	}
	for _, m := range []byte{providerA, providerB} {
		h.must(m, &subnet.MsgRegister{Subnet: 1, Role: subnet.RoleMiner, Stake: 100, Endpoint: "http://127.0.0.1:9000", Model: 1})
	}
	for _, v := range []byte{prover_, outsider} {
		h.must(v, &subnet.MsgRegister{Subnet: 1, Role: subnet.RoleValidator, Stake: 10_000})
	}
	h.next() // weights set in the miners' registration block would not count
	for _, v := range []byte{prover_, outsider} {
		h.must(v, &subnet.MsgSetWeights{Subnet: 1, UIDs: []uint16{0, 1}, Values: []uint16{100, 77}})
	}
	before := map[chain.Address]uint64{}
	for _, b := range []byte{team, contributorA, contributorB, annotatorA, annotatorB} {
		before[addr(b)] = chain.Balance(h.KV, addr(b))
	}
	const blocks = 15
	for i := 0; i < blocks; i++ {
		h.next()
	}
	sm, _ = subnet.GetServedModel(h.KV, 1, 1)
	var royalties uint64
	for _, uid := range []uint16{0, 1} {
		n, err := subnet.GetNeuron(h.KV, 1, uid)
		if err != nil {
			t.Fatal(err)
		}
		if n.Royalty == 0 || n.Royalty >= n.EarnedIncentive {
			t.Fatalf("uid %d paid a royalty of %d out of %d server emission", uid, n.Royalty, n.EarnedIncentive)
		}
		royalties += n.Royalty
	}
	if sm.Earned != royalties {
		t.Fatalf("model earned %d, miners paid %d", sm.Earned, royalties)
	}
	// Every unit of revenue is in exactly one account's record, and each
	// record is what that account's balance grew by.
	var recorded uint64
	got := map[chain.Address]uint64{}
	for _, r := range subnet.Revenues(h.KV, 1, 1) {
		recorded += r.Amount
		got[r.Address] += r.Amount
	}
	if recorded != royalties {
		t.Fatalf("revenue records add up to %d of %d", recorded, royalties)
	}
	for _, b := range []byte{team, contributorA, contributorB, annotatorA, annotatorB} {
		if got[addr(b)] == 0 {
			t.Errorf("account %d earned nothing from the served model: %+v", b, subnet.Revenues(h.KV, 1, 1))
		}
		if d := chain.Balance(h.KV, addr(b)) - before[addr(b)]; d != got[addr(b)] {
			t.Errorf("account %d balance grew %d, revenue record %d", b, d, got[addr(b)])
		}
	}
	// The data's part is data_bps of the royalties, within a unit per epoch
	// and miner of rounding, which the owner takes.
	dataPaid := recorded - got[addr(team)]
	if want := royalties * 7777 / 10_000; dataPaid > want || want-dataPaid > 2*blocks {
		t.Errorf("data paid %d of %d royalties, want about %d", dataPaid, royalties, want)
	}
	lin, err := pipeline.Lineage(h.KV, pipeline.Ref(p.ID))
	if err != nil {
		t.Fatal(err)
	}
	var inLineage uint64
	for _, r := range lin.Revenue {
		inLineage += r.Amount
	}
	if inLineage != royalties {
		t.Errorf("the pipeline's lineage shows %d of %d royalties", inLineage, royalties)
	}
	if served, err := pipeline.Lineage(h.KV, subnet.ModelRef(1, 1)); err != nil || len(served.Revenue) != len(lin.Revenue) || len(served.Contributors) == 0 {
		t.Errorf("lineage of the served model: %+v, %v", served, err)
	}
	t.Logf("royalties %d: team %d, contributors %d %d, annotators %d %d", royalties, got[addr(team)],
		got[addr(contributorA)], got[addr(contributorB)], got[addr(annotatorA)], got[addr(annotatorB)])
}

// RoyaltySplit pays every unit: owner plus every share is the amount,
// for odd amounts and shares.
func TestRoyaltySplitIsExact(t *testing.T) {
	srcs := []subnet.RevenueSource{
		{Ref: "dataset/1@1", Shares: []data.Share{{Contributor: addr(2), Records: 3}, {Contributor: addr(3), Records: 1}, {Contributor: addr(4), Records: 7}}},
		{Ref: "dataset/2@1", Shares: []data.Share{{Contributor: addr(5), Records: 1}}},
		{Ref: "dataset/3@1", Shares: nil},
	}
	for _, amount := range []uint64{0, 1, 2, 3, 7, 101, 9_999, 1_000_003, 1<<62 + 17} {
		for _, bps := range []uint32{0, 1, 3333, 7777, 10_000} {
			for n := 0; n <= len(srcs); n++ {
				owner, paid := subnet.RoyaltySplit(amount, bps, srcs[:n])
				sum := owner
				for _, p := range paid {
					for _, v := range p {
						sum += v
					}
				}
				if sum != amount {
					t.Fatalf("amount %d bps %d sources %d: paid %d", amount, bps, n, sum)
				}
				if n == 0 && owner != amount {
					t.Fatalf("no sources: owner %d of %d", owner, amount)
				}
			}
		}
	}
}

// A stage that ends without its result ends the pipeline with the reason
// recorded, and the unspent budget (here all of it) comes back.
func TestExpiredStageRefunds(t *testing.T) {
	h, _, tsh := world(t)
	before := chain.Balance(h.KV, addr(team))
	h.must(team, &pipeline.MsgCreate{Spec: spec(tsh), Budget: 3000})
	h.advanceUntil("pipeline end", 40, func() bool { return h.pipe(1).Status != pipeline.StatusRunning })
	p := h.pipe(1)
	if p.Status != pipeline.StatusFailed || p.Reason != "label job 1 produced no labelled data" || p.Refunded != 3000 {
		t.Fatalf("pipeline %+v", p)
	}
	if chain.Balance(h.KV, addr(team)) != before || chain.Balance(h.KV, p.Account) != 0 {
		t.Fatal("the unspent budget did not all come back")
	}
}
