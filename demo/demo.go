// Package demo runs Tenun's whole workflow on a fresh devnet in this
// process: raw digits contributed to the data market (one contributor sends
// duplicates and malformed rows), a pipeline that escrows its budget once
// and then labels them (honest annotators, a spammer and a copier), trains
// on the labelled version in the compute market (one provider returns a
// made-up model), proves the model's accuracy with zkML and enters it into a
// subnet, where miners serve it, validators score it (one copies weights)
// and part of the emission flows back to the data. Everything the summary
// says is read back from chain state.
//
// The participants are real agents (data/agent, label/agent, compute/agent,
// subnet/agent) driving a real node through its HTTP API with their own
// keys; the cheaters' behaviours are the agents' own test strategies.
package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	gnarklog "github.com/consensys/gnark/logger"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/client/keys"
	"github.com/tenun-chain/tenun/compute"
	computeagent "github.com/tenun-chain/tenun/compute/agent"
	"github.com/tenun-chain/tenun/compute/sandbox"
	"github.com/tenun-chain/tenun/compute/workload"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/datasets/digits"
	"github.com/tenun-chain/tenun/label"
	labelagent "github.com/tenun-chain/tenun/label/agent"
	"github.com/tenun-chain/tenun/label/workforce"
	"github.com/tenun-chain/tenun/node"
	"github.com/tenun-chain/tenun/pipeline"
	"github.com/tenun-chain/tenun/subnet"
	subnetagent "github.com/tenun-chain/tenun/subnet/agent"
	"github.com/tenun-chain/tenun/zkml"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/registry"
)

// Options shape a run.
type Options struct {
	// Home is the node's home; "" makes a fresh temporary one (removed by
	// Stop). An existing home is refused: the demo starts a new chain.
	Home string
	// Rows is how many digits the two honest contributors send (default 240).
	Rows int
	// TestRows is the public test set the accuracy is proven on (default 32).
	TestRows int
	// Epochs is how many subnet epochs the miners serve the model (default 4).
	Epochs int
	// Progress receives one line per step as it happens (nil: none).
	Progress io.Writer
	// Logf receives the agents' own log lines (nil: dropped).
	Logf func(format string, args ...any)
	// ByHand drives the same stages without a pipeline: the team posts the
	// labelling job, closes it, posts the training job and enters the model
	// itself, as a team would without Tenun's pipeline (tenun bench
	// pipeline compares the two).
	ByHand bool
}

func (o *Options) defaults() {
	if o.Rows <= 0 {
		o.Rows = 300
	}
	if o.TestRows <= 0 {
		o.TestRows = 32
	}
	if o.Epochs <= 0 {
		o.Epochs = 4
	}
	if o.Logf == nil {
		o.Logf = func(string, ...any) {}
		gnarklog.Disable() // its compile and prove lines would interleave with the progress
	}
}

// The demo's parameters.
const (
	blockTime   = 100 * time.Millisecond
	hidden      = 16 // the trainer's hidden units: a model small enough to prove in seconds
	epochs      = 40
	labelReward = 1000   // utnn per answer
	labelStake  = 20_000 // utnn each annotator stakes
	price       = 500    // utnn per unit of compute: pays a provider well over its fees
	budget      = 20 * node.TNN
	tempo       = 10 // blocks per subnet epoch
	pixelCols   = 64
	// minAccuracyBps is the pipeline's target: a model of 16 hidden units
	// trained on a few hundred crowd-labelled digits proves 65-85% on the
	// 32 held-out rows, depending on which annotator labelled which item.
	minAccuracyBps = 6000
)

// Roles of the dev keys.
const (
	RoleTeam        = "team"
	RoleContributor = "contributor"
	RoleAnnotator   = "annotator"
	RoleProvider    = "compute provider"
	RoleBuyer       = "buyer"
	RoleMiner       = "miner"
	RoleValidator   = "validator"
)

// Participant is one simulated party: a dev key with a role and, for the
// cheaters, what it does wrong.
type Participant struct {
	Name     string        `json:"name"`
	Role     string        `json:"role"`
	Behavior string        `json:"behavior"` // honest, or how it cheats
	Address  chain.Address `json:"address"`
	key      ed25519.PrivKey
}

func cast() []Participant {
	roles := []struct{ role, behavior string }{
		{RoleTeam, "honest"},
		{RoleContributor, "honest"}, {RoleContributor, "honest"}, {RoleContributor, "sends duplicates and malformed records"},
		{RoleAnnotator, "honest"}, {RoleAnnotator, "honest"}, {RoleAnnotator, "spammer: random labels"}, {RoleAnnotator, "copier: copies another annotator"},
		{RoleProvider, "honest"}, {RoleProvider, "honest"}, {RoleProvider, "returns a made-up model"},
		{RoleBuyer, "buys the labelled dataset"},
		{RoleMiner, "honest"}, {RoleMiner, "honest"},
		{RoleValidator, "honest"}, {RoleValidator, "copier: copies other validators' weights"},
	}
	out := make([]Participant, len(roles))
	for i, r := range roles {
		k := keys.DevPrivKey(i)
		out[i] = Participant{Name: keys.DevName(i), Role: r.role, Behavior: r.behavior, Address: chain.AddressFromPubKey(k.PubKey().Bytes()), key: k}
	}
	return out
}

// Indices into the cast.
const (
	team      = 0
	contribA  = 1
	contribB  = 2
	contribX  = 3
	annot0    = 4
	provider0 = 8
	providerX = 10
	proverK   = team // the team proves its model; anyone holding the output could
	buyer     = 11
	miner0    = 12
	valid0    = 14
	valCopier = 15
)

// Run is a running demo: the node stays up (with the dashboard) until Stop.
type Run struct {
	Node      *node.Node
	Home      string
	Dashboard string
	Summary   *Summary
	// TeamTxs is how many transactions the team signed from the labelling
	// stage to the served model.
	TeamTxs int

	o       Options
	sent    [16]int // transactions each participant signed
	c       *client.Client
	people  []Participant
	start   time.Time
	tmpHome bool
	stopFns []func()
}

// Start starts the devnet and runs the pipeline through every stage.
// The returned Run holds the node until Stop, also when err is not nil
// (then Summary may be nil).
func Start(ctx context.Context, o Options) (*Run, error) {
	o.defaults()
	r := &Run{o: o, people: cast(), start: time.Now(), Home: o.Home}
	if r.Home == "" {
		dir, err := os.MkdirTemp("", "tenun-demo-")
		if err != nil {
			return r, err
		}
		r.Home, r.tmpHome = dir, true
	} else if _, err := os.Stat(filepath.Join(r.Home, "config", "genesis.json")); err == nil {
		return r, fmt.Errorf("%s already holds a chain: the demo starts a fresh one (give another --home)", r.Home)
	}
	port, err := node.FreeBasePort()
	if err != nil {
		return r, err
	}
	r.stepf("devnet", "starting a fresh chain in %s", r.Home)
	n, err := node.StartFresh(r.Home, node.InitOptions{ChainID: "tenun-demo", Moniker: "demo", DevAccounts: len(r.people), BasePort: port, BlockTime: blockTime})
	if err != nil {
		return r, fmt.Errorf("start the devnet: %w", err)
	}
	r.Node = n
	r.c = client.New(n.APIAddr())
	r.Dashboard = "http://" + n.APIAddr() + "/"
	r.stepf("devnet", "node up; dashboard at %s", r.Dashboard)
	s, err := r.run(ctx)
	r.Summary = s
	return r, err
}

// Stop stops the agents and the node, and removes a temporary home.
func (r *Run) Stop() error {
	for i := len(r.stopFns) - 1; i >= 0; i-- {
		r.stopFns[i]()
	}
	r.stopFns = nil
	var err error
	if r.Node != nil {
		err = r.Node.Stop()
		r.Node = nil
	}
	if r.tmpHome {
		os.RemoveAll(r.Home)
	}
	return err
}

func (r *Run) stepf(stage, format string, args ...any) {
	if r.o.Progress != nil {
		fmt.Fprintf(r.o.Progress, "[%6.1fs] %-8s %s\n", time.Since(r.start).Seconds(), stage, fmt.Sprintf(format, args...))
	}
}

// agent runs fn in the background until Stop (or until it returns).
func (r *Run) agent(ctx context.Context, name string, fn func(context.Context) error) {
	actx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := fn(actx); err != nil && actx.Err() == nil {
			r.o.Logf("%s: %v", name, err)
		}
	}()
	r.stopFns = append(r.stopFns, func() { cancel(); <-done })
}

func (r *Run) submit(ctx context.Context, who int, msg chain.Msg) (uint64, error) {
	res, err := r.c.Submit(ctx, r.people[who].key, msg, client.Options{})
	r.sent[who]++
	if err != nil {
		return 0, fmt.Errorf("%s by %s: %w", msg.Type(), r.people[who].Name, err)
	}
	// The id of what the message created, from its events.
	for _, e := range res.Events {
		for _, a := range e.Attrs {
			switch {
			case a.Key == "id" || (e.Type == "pipeline_create" && a.Key == "pipeline") || (e.Type == "zkml_model" && a.Key == "model") || (e.Type == "data_create" && a.Key == "dataset"):
				if id, err := strconv.ParseUint(a.Value, 10, 64); err == nil {
					return id, nil
				}
			}
		}
	}
	return 0, nil
}

// waitPipeline polls until cond holds for pipeline 1 or it ends otherwise.
func (r *Run) waitPipeline(ctx context.Context, what string, cond func(pipeline.Pipeline) bool) (pipeline.Pipeline, error) {
	for {
		var p pipeline.Pipeline
		if err := r.c.Query(ctx, "pipeline", "pipeline/1", nil, &p); err != nil {
			return p, err
		}
		if cond(p) {
			return p, nil
		}
		if p.Status != pipeline.StatusRunning {
			return p, fmt.Errorf("pipeline %s while waiting for %s: %s", p.Status, what, p.Reason)
		}
		select {
		case <-ctx.Done():
			return p, fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (r *Run) run(ctx context.Context) (*Summary, error) {
	sum := &Summary{Home: r.Home, Dashboard: r.Dashboard, Participants: r.people}
	var err error
	if sum.start, err = snapshot(ctx, r.c, r.people); err != nil {
		return nil, err
	}
	if sum.Supply.Start, err = supplyOf(ctx, r.c); err != nil {
		return nil, err
	}
	rows, test, eval, err := loadDigits(r.o.Rows, r.o.TestRows)
	if err != nil {
		return nil, err
	}

	// 1. Raw data: the team curates a dataset, contributors send rows, and
	// the chain validates each record on entry.
	mark, err := r.mark(ctx)
	if err != nil {
		return nil, err
	}
	schema := make([]data.Column, pixelCols)
	for i := range schema {
		schema[i] = data.Column{Name: "p" + strconv.Itoa(i), Type: data.TypeInt, Required: true, Min: "0", Max: "16"}
	}
	if _, err := r.submit(ctx, team, &data.MsgCreate{Name: "8x8 digits", Description: "scanned handwritten digits, one pixel per column (0..16)",
		Schema: schema, License: "CC-BY-4.0", Price: 2 * node.TNN, MaxBatch: 100}); err != nil {
		return nil, err
	}
	half := len(rows.X) / 2
	var accepted []int // the class of each accepted record, in order
	for _, part := range []struct {
		who      int
		from, to int
	}{{contribA, 0, half}, {contribB, half, len(rows.X) - 4}} {
		for b := part.from; b < part.to; b += 100 {
			recs := [][]string{}
			for i := b; i < min(b+100, part.to); i++ {
				recs = append(recs, record(rows.X[i]))
				accepted = append(accepted, rows.Y[i])
			}
			if _, err := r.submit(ctx, part.who, &data.MsgContribute{Dataset: 1, Records: recs}); err != nil {
				return nil, err
			}
		}
	}
	// The cheating contributor: rows already in the dataset, rows with a
	// pixel out of range or a missing column, and four new rows.
	bad := [][]string{record(rows.X[0]), record(rows.X[half]), record(rows.X[1])}
	broken := record(rows.X[2])
	broken[5] = "99"
	short := record(rows.X[3])[:60]
	bad = append(bad, broken, short)
	for i := len(rows.X) - 4; i < len(rows.X); i++ {
		bad = append(bad, record(rows.X[i]))
		accepted = append(accepted, rows.Y[i])
	}
	if _, err := r.submit(ctx, contribX, &data.MsgContribute{Dataset: 1, Records: bad}); err != nil {
		return nil, err
	}
	if _, err := r.submit(ctx, team, &data.MsgSnapshot{Dataset: 1, Note: "raw digits"}); err != nil {
		return nil, err
	}
	var vers []data.Version
	if err := r.c.Query(ctx, "data", "versions/1", nil, &vers); err != nil {
		return nil, err
	}
	if len(vers) != 1 {
		return nil, fmt.Errorf("dataset 1 has %d versions", len(vers))
	}
	ver := vers[0]
	if int(ver.Count) != len(accepted) {
		return nil, fmt.Errorf("version 1 holds %d records, the demo expected %d", ver.Count, len(accepted))
	}
	r.stepf("data", "dataset 1 version 1: %d records accepted, %d refused on entry (duplicates, out of range, missing column)", ver.Count, len(bad)-4)
	if mark, err = r.endStage(ctx, sum, "data", mark); err != nil {
		return nil, err
	}

	// 2. What the pipeline needs in place: the trainer module, a public
	// test set, a subnet for the model, and the compute providers.
	r.stepf("setup", "building the trainer for WASI (cached after the first run)")
	path, err := workload.BuildTrainer("")
	if err != nil {
		return nil, fmt.Errorf("build the trainer: %w", err)
	}
	module, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	modCID, err := r.c.RegisterBlob(ctx, r.people[team].key, module)
	if err != nil {
		return nil, err
	}
	shapeArch := model.Arch{Sizes: []int{pixelCols, hidden, 10}, InBits: 5}
	tsh, err := shapeArch.TestSetHash(test)
	if err != nil {
		return nil, err
	}
	if _, err := r.submit(ctx, proverK, &registry.MsgRegisterTestSet{Hash: tsh, Shape: registry.Shape{Inputs: pixelCols, InBits: 5, Classes: 10},
		Name: fmt.Sprintf("digits held out, %d rows", test.Len()), Rows: testRows(test)}); err != nil {
		return nil, err
	}
	evalCID, err := r.c.RegisterBlob(ctx, r.people[team].key, csvOf(eval))
	if err != nil {
		return nil, err
	}
	hp := subnet.DefaultHyperparams()
	hp.CommitReveal = true // weights are hidden until revealed: a copier copies last epoch's
	if _, err := r.submit(ctx, team, &subnet.MsgCreate{Task: "classify 8x8 digits: POST /predict {\"inputs\": [[64 ints 0..16]]}", Dataset: evalCID,
		Tempo: tempo, Yuma: &hp, RegistrationMinStake: node.TNN, ValidatorMinStake: 10 * node.TNN, MaxUIDs: 8}); err != nil {
		return nil, err
	}
	for i := provider0; i <= providerX; i++ {
		cheat := computeagent.CheatNone
		if i == providerX {
			cheat = computeagent.CheatWrong
		}
		p, err := computeagent.NewProvider(computeagent.Config{Client: client.New(r.Node.APIAddr()), Key: r.people[i].key, Price: price, Cheat: cheat,
			Capacity: computeagent.Capacity{CPUCores: 2, MemoryMB: 2048}, Poll: 100 * time.Millisecond, StateDir: filepath.Join(r.Home, "agents", r.people[i].Name),
			Logf: prefixed(r.o.Logf, "provider "+r.people[i].Name)})
		if err != nil {
			return nil, err
		}
		r.agent(ctx, "provider "+r.people[i].Name, p.Run)
	}
	r.stepf("setup", "trainer module, public test set of %d rows, subnet 1 and three compute providers are ready", test.Len())
	if mark, err = r.endStage(ctx, sum, "setup", mark); err != nil {
		return nil, err
	}

	// 3. The pipeline: declared once, its whole budget escrowed in one
	// transaction; the chain runs the stages.
	labels := make([]string, 10)
	for i := range labels {
		labels[i] = strconv.Itoa(i)
	}
	columns := make([]string, 0, pixelCols+1)
	for i := range pixelCols {
		columns = append(columns, "p"+strconv.Itoa(i))
	}
	columns = append(columns, data.LabelColumn)
	items := uint32(len(accepted))
	spec := pipeline.Spec{
		Name: "digits classifier", Stages: []string{pipeline.StageLabel, pipeline.StageTrain, pipeline.StageProve, pipeline.StageServe},
		Dataset: &pipeline.DatasetSpec{Dataset: 1, Version: 1},
		Label: &pipeline.LabelSpec{Title: "Which digit is this 8x8 scan?", Labels: labels, ItemKind: label.KindGrid,
			Redundancy: 3, MaxRedundancy: 3, ConfidencePPM: 600_000, Reward: labelReward, Stake: labelStake,
			DeadlineBlocks: 150, RevealBlocks: 100, GraceBlocks: 10, QualityPPM: 400_000, BatchSize: 60, MaxPerWorker: items,
			DatasetName: "8x8 digits, labelled", Price: 3 * node.TNN, AnnotatorBps: 3000},
		Train: &pipeline.TrainSpec{Module: modCID, InputName: "digits.csv", Columns: columns,
			Args:        workload.TrainerOptions{Hidden: hidden, Epochs: epochs}.Args(sandbox.InputDir+"/digits.csv", sandbox.OutputDir),
			MemoryBytes: sandbox.DefaultMemoryBytes, Fuel: 400 * compute.FuelPerUnit, WallSeconds: 120, MaxOutputBytes: 16 << 20,
			MaxPrice: price, Redundancy: 3, Timeout: 200, DeadlineBlocks: 1000},
		// Devnet keys come from one party's setup: allowed here, and the
		// pipeline says so wherever it is shown.
		Prove: &pipeline.ProveSpec{TestSet: tsh, MinAccuracyBps: minAccuracyBps, DeadlineBlocks: 600, AllowSingleParty: true},
		Serve: &pipeline.ServeSpec{Subnet: 1, RoyaltyBps: 2000, DataBps: 5000},
	}
	teamBefore := r.sent[team]
	var p pipeline.Pipeline
	if r.o.ByHand {
		if _, err := r.submit(ctx, team, pipeline.LabelMsg(&spec, items)); err != nil {
			return nil, err
		}
		p.LabelJob = 1 // a fresh chain's first job
		r.stepf("label", "by hand: the team posted label job %d over dataset 1 version 1 (%d items, 3 answers each)", p.LabelJob, items)
	} else {
		if _, err := r.submit(ctx, team, &pipeline.MsgCreate{Spec: spec, Budget: budget}); err != nil {
			return nil, err
		}
		if p, err = r.waitPipeline(ctx, "the labelling job", func(p pipeline.Pipeline) bool { return p.LabelJob != 0 }); err != nil {
			return nil, err
		}
		r.stepf("pipeline", "pipeline 1 created: %s escrowed; label job %d opened over dataset 1 version 1 (%d items, 3 answers each)", formatTNN(budget), p.LabelJob, items)
	}

	// 4. Labelling: four annotators work the job; the chain infers the
	// labels, scores and pays or slashes them, and publishes the labelled
	// version when the job closes.
	crowd, err := workforce.New(workforce.Mix{Classes: 10, Honest: 2, Spammers: 1, Copiers: 1, MinAccuracy: 0.92, MaxAccuracy: 0.98, Seed: 7})
	if err != nil {
		return nil, err
	}
	annotKeys := []ed25519.PrivKey{}
	for i := annot0; i < annot0+4; i++ {
		if _, err := r.submit(ctx, i, &chain.MsgBond{Pool: label.Pool, Amount: labelStake}); err != nil {
			return nil, err
		}
		annotKeys = append(annotKeys, r.people[i].key)
	}
	var simWG sync.WaitGroup
	simWG.Add(1)
	go func() {
		defer simWG.Done()
		_, err := labelagent.Simulate(ctx, labelagent.ClientLedger{C: client.New(r.Node.APIAddr()), TxTimeout: 10 * time.Second}, labelagent.SimConfig{
			Job: p.LabelJob, Truth: accepted, Crowd: crowd, Keys: annotKeys, Seed: 11, Concurrent: true, Poll: 100 * time.Millisecond, IdleLimit: 40})
		if err != nil && ctx.Err() == nil {
			r.o.Logf("annotators: %v", err)
		}
	}()
	if r.o.ByHand {
		err = r.closeByHand(ctx, &p, &spec)
	} else {
		p, err = r.waitPipeline(ctx, "the labelled dataset", func(p pipeline.Pipeline) bool { return p.Stage != pipeline.StageLabel })
	}
	simWG.Wait()
	if err != nil {
		return nil, err
	}
	r.stepf("label", "label job %d closed: labelled dataset %d published; training job %d posted over it", p.LabelJob, p.Labelled, p.ComputeJob)
	if mark, err = r.endStage(ctx, sum, "label", mark); err != nil {
		return nil, err
	}

	// 5. Training: the providers fetch the labelled version through the
	// gateway under the job's scoped grant, run the trainer, and commit and
	// reveal; the made-up model is outvoted.
	var job compute.Job
	if r.o.ByHand {
		job, err = r.waitJob(ctx, p.ComputeJob)
	} else {
		p, err = r.waitPipeline(ctx, "the trained model", func(p pipeline.Pipeline) bool { return p.Stage != pipeline.StageTrain })
		if err == nil {
			err = r.c.Query(ctx, "compute", fmt.Sprintf("job/%d", p.ComputeJob), nil, &job)
		}
	}
	if err != nil {
		return nil, err
	}
	r.stepf("train", "compute job %d settled: model %s agreed by %d providers", job.ID, job.Result.Output, agreeing(job))
	if mark, err = r.endStage(ctx, sum, "train", mark); err != nil {
		return nil, err
	}

	// 6. Proof: the prover commits to the model in the job's output and
	// proves its accuracy on the public test set; the chain verifies.
	archive, err := r.c.BlobGet(ctx, job.Result.Output)
	if err != nil {
		return nil, err
	}
	mdl, err := modelOf(archive)
	if err != nil {
		return nil, err
	}
	proof, err := r.prove(ctx, sum, mdl, test, tsh, job, archive)
	if err != nil {
		return nil, err
	}
	if r.o.ByHand {
		err = r.enterByHand(ctx, &p, &spec, sum)
	} else {
		p, err = r.waitPipeline(ctx, "the subnet entry", func(p pipeline.Pipeline) bool { return p.Status == pipeline.StatusCompleted })
	}
	if err != nil {
		return nil, err
	}
	r.stepf("prove", "claim %d verified on chain: %s accuracy on %d rows (proof %.1fs, verification %.1f ms)", p.Claim, formatBps(p.Accuracy), test.Len(), proof.ProveSeconds, proof.VerifyMillis)
	if mark, err = r.endStage(ctx, sum, "prove", mark); err != nil {
		return nil, err
	}

	r.TeamTxs = r.sent[team] - teamBefore

	// The labelled dataset earns too: a buyer pays its price, split by
	// the shares declared when it was made (raw contributors, annotators).
	if _, err := r.submit(ctx, buyer, &data.MsgBuy{Dataset: p.Labelled, Version: 1}); err != nil {
		return nil, err
	}
	r.stepf("data", "%s bought labelled dataset %d: its price went to the raw contributors and the annotators by their shares", r.people[buyer].Name, p.Labelled)

	// 7. Serving: the model entered subnet 1; miners serve it and pay it a
	// royalty, validators score them.
	r.stepf("serve", "model %d entered subnet 1 as model %d; two miners serve it, two validators score them", p.Model, p.Served)
	if err := r.serve(ctx, mdl, p.Served); err != nil {
		return nil, err
	}
	if mark, err = r.endStage(ctx, sum, "serve", mark); err != nil {
		return nil, err
	}
	r.stepf("serve", "%d epochs run", r.o.Epochs)

	if err := sum.read(ctx, r.c, r.people, r.o.ByHand); err != nil {
		return nil, err
	}
	sum.Seconds = time.Since(r.start).Seconds()
	r.stepf("done", "summary read back from chain state at height %d", sum.Height)
	return sum, nil
}

// closeByHand is the label stage without a pipeline: the team waits for
// the answers (the rule the pipeline applies), closes its job and posts the
// training job over the labelled dataset.
func (r *Run) closeByHand(ctx context.Context, p *pipeline.Pipeline, spec *pipeline.Spec) error {
	for {
		var j label.Job
		if err := r.c.Query(ctx, "label", fmt.Sprintf("job/%d", p.LabelJob), nil, &j); err != nil {
			return err
		}
		st, err := r.c.Status(ctx)
		if err != nil {
			return err
		}
		if (st.Height > j.CommitEnd && j.Revealed == j.Committed && j.Committed > 0) || st.Height > j.RevealEnd {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	if _, err := r.submit(ctx, team, &label.MsgClose{Job: p.LabelJob}); err != nil {
		return err
	}
	var j label.Job
	if err := r.c.Query(ctx, "label", fmt.Sprintf("job/%d", p.LabelJob), nil, &j); err != nil {
		return err
	}
	if j.Labelled == 0 {
		return fmt.Errorf("label job %d produced no labelled data", j.ID)
	}
	p.Labelled = j.Labelled
	if _, err := r.submit(ctx, team, pipeline.TrainMsg(spec, p.Labelled)); err != nil {
		return err
	}
	p.ComputeJob = 1
	return nil
}

func (r *Run) waitJob(ctx context.Context, id uint64) (compute.Job, error) {
	for {
		var j compute.Job
		if err := r.c.Query(ctx, "compute", fmt.Sprintf("job/%d", id), nil, &j); err != nil {
			return j, err
		}
		switch j.Status {
		case compute.StatusSettled:
			return j, nil
		case compute.StatusExpired, compute.StatusFailed:
			return j, fmt.Errorf("compute job %d %s: %s", j.ID, j.Status, j.Note)
		}
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// enterByHand is the serve stage without a pipeline: the team, tenant of
// the training job, enters the verified model into the subnet itself.
func (r *Run) enterByHand(ctx context.Context, p *pipeline.Pipeline, spec *pipeline.Spec, sum *Summary) error {
	id, ok := modelOfJob(ctx, r.c, p.ComputeJob)
	if !ok {
		return fmt.Errorf("no model of compute job %d", p.ComputeJob)
	}
	var claims []registry.Claim
	if err := r.c.Query(ctx, "zkml", fmt.Sprintf("claims/%d", id), nil, &claims); err != nil {
		return err
	}
	if len(claims) == 0 || claims[0].AccuracyBps == nil || *claims[0].AccuracyBps < spec.Prove.MinAccuracyBps {
		return fmt.Errorf("model %d has no claim meeting %d bps: %+v", id, spec.Prove.MinAccuracyBps, claims)
	}
	sv := spec.Serve
	if _, err := r.submit(ctx, team, &subnet.MsgEnterModel{Subnet: sv.Subnet, Model: id, Claim: claims[0].Seq, RoyaltyBps: sv.RoyaltyBps, DataBps: sv.DataBps}); err != nil {
		return err
	}
	p.Model, p.Claim, p.Accuracy, p.Served = id, claims[0].Seq, *claims[0].AccuracyBps, 1
	return nil
}

// mark is where a stage began: the time and the chain's height.
type mark struct {
	at     time.Time
	height int64
}

func (r *Run) mark(ctx context.Context) (mark, error) {
	st, err := r.c.Status(ctx)
	return mark{at: time.Now(), height: st.Height}, err
}

// endStage records the stage that began at m: wall time, blocks and the
// transactions they carried. It returns the next stage's mark.
func (r *Run) endStage(ctx context.Context, sum *Summary, stage string, m mark) (mark, error) {
	end, err := r.mark(ctx)
	if err != nil {
		return end, err
	}
	st := StageTime{Stage: stage, Seconds: end.at.Sub(m.at).Seconds(), Blocks: end.height - m.height}
	for h := m.height + 1; h <= end.height; h++ {
		b, err := r.c.Block(ctx, h)
		if err != nil {
			return end, err
		}
		st.Txs += len(b.Txs)
	}
	sum.Stages = append(sum.Stages, st)
	return end, nil
}

// prove runs the prover's part: circuit setup (single-party, as a devnet
// may), its registration, the model commitment and the accuracy proof.
func (r *Run) prove(ctx context.Context, sum *Summary, m *model.Model, test *model.Dataset, tsh model.Digest, job compute.Job, archive []byte) (*ProofReport, error) {
	rep := &ProofReport{}
	spec := prover.Spec{Kind: prover.KindAccuracy, Arch: m.Arch, Rows: test.Len()}
	t := time.Now()
	ccs, err := prover.Compile(spec)
	if err != nil {
		return nil, fmt.Errorf("compile the accuracy circuit: %w", err)
	}
	rep.Constraints = ccs.GetNbConstraints()
	keysDir := filepath.Join(r.Home, "zk")
	keys, err := prover.Setup(spec, ccs)
	if err != nil {
		return nil, err
	}
	if _, err := prover.SaveKeys(keysDir, "accuracy", keys, prover.SetupSingleParty); err != nil {
		return nil, err
	}
	vk, man, err := prover.LoadVerifyingKey(filepath.Join(keysDir, "accuracy.json"))
	if err != nil {
		return nil, err
	}
	rep.SetupSeconds = time.Since(t).Seconds()
	r.stepf("prove", "accuracy circuit: %d constraints, single-party setup in %.1fs (devnet keys)", rep.Constraints, rep.SetupSeconds)
	rarch, err := registry.ArchOf(m.Arch)
	if err != nil {
		return nil, err
	}
	rspec := registry.Spec{Kind: registry.KindAccuracy, Arch: rarch, Rows: uint32(test.Len())}
	if _, err := r.submit(ctx, proverK, &registry.MsgRegisterCircuit{Spec: rspec, VerifyingKey: vk, Gnark: man.Gnark, Setup: man.Setup}); err != nil {
		return nil, err
	}
	modelID, err := r.submit(ctx, proverK, &registry.MsgCommitModel{Commitment: *m.Commitment, Arch: rarch, Name: "digits-mlp",
		Source: &registry.ModelSource{ComputeJob: job.ID, Archive: archive}})
	if err != nil {
		return nil, err
	}
	if modelID == 0 {
		mm, ok := modelOfJob(ctx, r.c, job.ID)
		if !ok {
			return nil, fmt.Errorf("the model of compute job %d is not on chain", job.ID)
		}
		modelID = mm
	}
	pf, err := keys.ProveAccuracy(m, test, -1)
	if err != nil {
		return nil, fmt.Errorf("prove accuracy: %w", err)
	}
	rep.ProveSeconds = time.Since(t).Seconds()
	pub, err := pf.PublicElements()
	if err != nil {
		return nil, err
	}
	if err := zkml.Verify(vk, pf.Proof, pub); err != nil {
		return nil, fmt.Errorf("the proof does not verify: %w", err)
	}
	rep.VerifyMillis = float64(time.Since(t).Microseconds()) / 1000
	if _, err := r.submit(ctx, proverK, &registry.MsgSubmitProof{Circuit: registry.CircuitID(rspec, vk), Model: modelID, Proof: pf.Proof,
		ComputeJob: job.ID, Output: job.Result.Output, Accuracy: &registry.AccuracyClaim{TestSet: tsh, N: uint32(test.Len()), K: uint32(pf.Accuracy.K)}}); err != nil {
		return nil, err
	}
	sum.Proof = rep
	return rep, nil
}

// serve runs the miners (serving the entered model) and the validators for
// the configured number of epochs.
func (r *Run) serve(ctx context.Context, m *model.Model, served uint64) error {
	var info subnet.Info
	if err := r.c.Query(ctx, "subnet", "info/1", nil, &info); err != nil {
		return err
	}
	start := info.Epoch
	for i := miner0; i < miner0+2; i++ {
		mn := &subnetagent.Miner{Client: client.New(r.Node.APIAddr()), Key: r.people[i].key, Subnet: 1, Model: m, Listen: "127.0.0.1:0", Serves: served,
			Logf: prefixed(r.o.Logf, "miner "+r.people[i].Name)}
		if _, _, err := mn.Start(ctx); err != nil {
			return err
		}
		r.stopFns = append(r.stopFns, func() { mn.Stop() })
	}
	for i := valid0; i <= valCopier; i++ {
		strategy := subnetagent.Honest
		if i == valCopier {
			strategy = subnetagent.Copier
		}
		v := &subnetagent.Validator{Client: client.New(r.Node.APIAddr()), Key: r.people[i].key, Subnet: 1, Strategy: strategy, Samples: 64,
			Logf: prefixed(r.o.Logf, "validator "+r.people[i].Name)}
		r.agent(ctx, "validator "+r.people[i].Name, v.Run)
	}
	for {
		if err := r.c.Query(ctx, "subnet", "info/1", nil, &info); err != nil {
			return err
		}
		if info.Epoch >= start+uint64(r.o.Epochs) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func prefixed(logf func(string, ...any), who string) func(string, ...any) {
	return func(format string, args ...any) { logf("%s: %s", who, fmt.Sprintf(format, args...)) }
}

func agreeing(j compute.Job) int {
	n := 0
	for _, a := range j.Assignments {
		if a.Verdict == compute.VerdictPaid {
			n++
		}
	}
	return n
}

func modelOfJob(ctx context.Context, c *client.Client, job uint64) (uint64, bool) {
	var models []registry.Model
	if err := c.Query(ctx, "zkml", "models", nil, &models); err != nil {
		return 0, false
	}
	for _, m := range models {
		if m.ComputeJob == job {
			return m.ID, true
		}
	}
	return 0, false
}

// modelOf reads the quantized model out of a training job's output archive.
func modelOf(archive []byte) (*model.Model, error) {
	files, err := sandbox.UnpackArchive(archive)
	if err != nil {
		return nil, err
	}
	raw, ok := files[registry.QuantizedFile]
	if !ok {
		return nil, fmt.Errorf("the training output holds no %s", registry.QuantizedFile)
	}
	var m model.Model
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("read %s: %w", registry.QuantizedFile, err)
	}
	c, err := m.ComputeCommitment()
	if err != nil {
		return nil, err
	}
	m.Commitment = &c
	return &m, nil
}

// loadDigits splits the bundled digits: the first rows go to the data
// market, the last testRows are the public test set, and the rows between
// the subnet's evaluation set.
func loadDigits(rows, testRows int) (train, test, eval *model.Dataset, err error) {
	dir, err := os.MkdirTemp("", "tenun-digits-")
	if err != nil {
		return nil, nil, nil, err
	}
	defer os.RemoveAll(dir)
	path, err := digits.WriteFile(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	all, err := model.LoadCSV(path)
	if err != nil {
		return nil, nil, nil, err
	}
	if rows+testRows+100 > all.Len() {
		return nil, nil, nil, fmt.Errorf("%d rows and %d test rows: the digits have %d", rows, testRows, all.Len())
	}
	if train, err = all.Slice(0, rows); err != nil {
		return
	}
	if test, err = all.Slice(all.Len()-testRows, all.Len()); err != nil {
		return
	}
	eval, err = all.Slice(all.Len()-testRows-200, all.Len()-testRows)
	return
}

func record(px []int) []string {
	out := make([]string, len(px))
	for i, v := range px {
		out[i] = strconv.Itoa(v)
	}
	return out
}

func testRows(ds *model.Dataset) [][]uint32 {
	out := make([][]uint32, ds.Len())
	for r := range ds.X {
		for _, v := range ds.X[r] {
			out[r] = append(out[r], uint32(v))
		}
		out[r] = append(out[r], uint32(ds.Y[r]))
	}
	return out
}

func csvOf(ds *model.Dataset) []byte {
	var b strings.Builder
	for r := range ds.X {
		b.WriteString(strings.Join(record(ds.X[r]), ","))
		b.WriteString("," + strconv.Itoa(ds.Y[r]) + "\n")
	}
	return []byte(b.String())
}

func formatTNN(u uint64) string {
	return fmt.Sprintf("%d.%06d TNN", u/node.TNN, u%node.TNN)
}

func formatBps(b uint32) string { return fmt.Sprintf("%d.%02d%%", b/100, b%100) }
