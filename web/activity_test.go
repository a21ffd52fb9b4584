package web

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/data"
	dataagent "github.com/tenun-chain/tenun/data/agent"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/label"
	labelagent "github.com/tenun-chain/tenun/label/agent"
	"github.com/tenun-chain/tenun/label/workforce"
	"github.com/tenun-chain/tenun/node"
	"github.com/tenun-chain/tenun/pipeline"
	"github.com/tenun-chain/tenun/subnet"
	"github.com/tenun-chain/tenun/zkml/circuit"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/prover"
	"github.com/tenun-chain/tenun/zkml/registry"
	"github.com/tenun-chain/tenun/zkml/train"
)

// The dev keys' parts in the activity.
const (
	kAlice    = 0 // sends tokens, curates the dataset, owns the subnet and the model
	kBob      = 1 // receives tokens, contributes, labels
	kCarol    = 2 // contributes, labels
	kDave     = 3 // buys the dataset, labels (a spammer)
	kEve      = 4 // requests the labeling job
	kMiner1   = 5
	kMiner2   = 6
	kVal      = 7  // subnet validator
	kProvider = 8  // compute provider that never runs its job
	kTenant   = 9  // posts the compute job
	kProver   = 10 // registers the circuit and proves
	devKeys   = 11
)

// evilTitle is the dataset's name: the pages must show it as text.
const evilTitle = `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> telemetry`

// activity is what the chain holds after run: the ids the pages are checked on.
type activity struct {
	sendHash   string
	blobCID    string
	labelJob   uint64
	computeID  uint64
	pipelineID uint64
}

// runActivity drives every market on a real node: a transfer and a blob; a
// dataset (with a hostile title) with two contributors, a version, a sale
// and a lineage edge; a subnet with two miners and a validator through
// epochs; a compute provider that abandons its job and is slashed; a labeling
// job worked by a simulated crowd (one spammer) and closed with gold; and a
// zkML model with a verified inference proof. Markets run concurrently, each
// with its own keys.
func runActivity(t *testing.T, net *testnode.Net) activity {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Second)
	defer cancel()
	c := net.Client
	var act activity
	must := func(what string, err error) {
		if err != nil {
			panic(fmt.Sprintf("%s: %v", what, err))
		}
	}
	submit := func(k int, m chain.Msg) api.TxResponse {
		res, err := c.Submit(ctx, net.Keys[k], m, client.Options{})
		must(m.Type(), err)
		return res
	}

	res := submit(kAlice, &chain.MsgSend{To: net.Addr(kBob), Amount: 5 * node.TNN})
	act.sendHash = res.Hash
	cid, err := c.RegisterBlob(ctx, net.Keys[kAlice], []byte("evaluation set: 8x8 digits\n"))
	must("blob", err)
	act.blobCID = cid

	var wg sync.WaitGroup
	var errMu sync.Mutex
	var errs []error
	run := func(name string, fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					errMu.Lock()
					errs = append(errs, fmt.Errorf("%s: %v", name, r))
					errMu.Unlock()
				}
			}()
			fn()
		}()
	}

	run("data", func() {
		submit(kAlice, &data.MsgCreate{Name: evilTitle, Description: "vehicle telemetry <b>bold?</b>", Schema: dataagent.VehicleSchema(),
			License: "CC-BY-4.0", Price: 1_000_003, CuratorBps: 1000, MaxBatch: 100})
		_, err := dataagent.Contribute(ctx, c, net.Keys[kBob], 1, dataagent.NewVehicleFeed("car-1", 1, 1_700_000_000, 12), 6)
		must("contribute", err)
		_, err = dataagent.Contribute(ctx, c, net.Keys[kCarol], 1, dataagent.NewVehicleFeed("car-2", 2, 1_700_000_000, 8), 8)
		must("contribute", err)
		submit(kAlice, &data.MsgSnapshot{Dataset: 1, Note: "v1"})
		submit(kDave, &data.MsgBuy{Dataset: 1, Version: 1})
		submit(kAlice, &data.MsgLink{From: "dataset/1@1", To: "model/1", Relation: "trained"})
		act.pipelineID = startPipeline(ctx, submit)
		submit(kEve, &data.MsgLink{From: "label-job/1", To: "dataset/1@1", Relation: "labelled"})
	})

	run("subnet", func() {
		submit(kAlice, &subnet.MsgCreate{Task: "classify digits", Dataset: cid, Tempo: 4, RegistrationMinStake: node.TNN, ValidatorMinStake: 10 * node.TNN, MaxUIDs: 8})
		submit(kMiner1, &subnet.MsgRegister{Subnet: 1, Role: subnet.RoleMiner, Stake: node.TNN, Endpoint: "http://127.0.0.1:9/predict"})
		submit(kMiner2, &subnet.MsgRegister{Subnet: 1, Role: subnet.RoleMiner, Stake: node.TNN, Endpoint: "http://127.0.0.1:9/predict"})
		submit(kVal, &subnet.MsgRegister{Subnet: 1, Role: subnet.RoleValidator, Stake: 20 * node.TNN})
		for round := 0; round < 3; round++ {
			submit(kVal, &subnet.MsgSetWeights{Subnet: 1, UIDs: []uint16{0, 1}, Values: []uint16{65535, uint16(20000 + 15000*round)}})
			var s subnet.Subnet
			must("subnet info", c.Query(ctx, "subnet", "info/1", nil, &s))
			must("wait epoch", c.WaitForHeight(ctx, s.NextEpoch+1))
		}
	})

	run("compute", func() {
		submit(kProvider, &chain.MsgBond{Pool: compute.Pool, Amount: 2 * node.TNN})
		submit(kProvider, &compute.MsgRegister{CPUCores: 4, MemoryMB: 4096, GPUs: 1, GPUModel: "H100", Price: 100})
		mod, err := c.RegisterBlob(ctx, net.Keys[kTenant], []byte("\x00asm\x01\x00\x00\x00"))
		must("module", err)
		res := submit(kTenant, &compute.MsgPostJob{Spec: compute.Spec{Module: mod, MemoryBytes: 1 << 20, Fuel: 1000, WallSeconds: 5, MaxOutputBytes: 1024},
			MaxPrice: 100, Redundancy: 2, Timeout: 3, DeadlineBlocks: 8})
		for _, e := range res.Events {
			for _, a := range e.Attrs {
				if a.Key == "job" && act.computeID == 0 {
					fmt.Sscan(a.Value, &act.computeID)
				}
			}
		}
		if act.computeID == 0 {
			act.computeID = 1
		}
		// The provider never commits: it is slashed and the job ends unfinished.
		for {
			var j compute.Job
			must("job", c.Query(ctx, "compute", fmt.Sprintf("job/%d", act.computeID), nil, &j))
			if j.Status != compute.StatusRunning && j.Status != compute.StatusChallenge {
				return
			}
			select {
			case <-ctx.Done():
				panic("compute job never ended")
			case <-time.After(100 * time.Millisecond):
			}
		}
	})

	run("label", func() {
		crowd, err := workforce.New(workforce.Mix{Classes: 2, Honest: 2, Spammers: 1, MinAccuracy: 0.9, MaxAccuracy: 0.95, Seed: 5})
		must("crowd", err)
		items := []string{}
		truthLabels := []int{}
		for i := range 8 {
			items = append(items, fmt.Sprintf("is %d even?", i))
			truthLabels = append(truthLabels, i%2)
		}
		gold, goldLab, salt := []uint32{0, 1}, []uint32{0, 1}, chain.Hash([]byte("a gold salt of 32 bytes, secret!"))
		res := submit(kEve, &label.MsgCreateJob{Title: "even or odd", Labels: []string{"even", "odd"}, Items: items, ItemKind: label.KindText,
			Redundancy: 3, MaxRedundancy: 3, ConfidencePPM: 900_000, Reward: 1000, Stake: 20_000, DeadlineBlocks: 40, RevealBlocks: 40, GraceBlocks: 40,
			QualityPPM: 300_000, BatchSize: 4, MaxPerWorker: 8, GoldHash: label.GoldHash(gold, goldLab, salt)})
		act.labelJob = 1
		for _, e := range res.Events {
			for _, a := range e.Attrs {
				if a.Key == "job" {
					fmt.Sscan(a.Value, &act.labelJob)
				}
			}
		}
		keys := net.Keys[kBob : kDave+1]
		for _, k := range keys {
			_, err := c.Submit(ctx, k, &chain.MsgBond{Pool: label.Pool, Amount: 20_000}, client.Options{})
			must("bond", err)
		}
		_, err = labelagent.Simulate(ctx, labelagent.ClientLedger{C: c, TxTimeout: 5 * time.Second}, labelagent.SimConfig{
			Job: act.labelJob, Truth: truthLabels, Crowd: crowd, Keys: keys, Seed: 9, Concurrent: true, Poll: 60 * time.Millisecond, IdleLimit: 8})
		must("simulate", err)
		var j label.Job
		must("job", c.Query(ctx, "label", fmt.Sprintf("job/%d", act.labelJob), nil, &j))
		must("wait", c.WaitForHeight(ctx, j.CommitEnd+1))
		submit(kEve, &label.MsgClose{Job: act.labelJob, GoldItems: gold, GoldLabels: goldLab, Salt: salt})
	})

	run("zkml", func() {
		arch := model.Arch{Sizes: []int{16, 8, 10}, InBits: 5, Shifts: []int{5}}
		arch.BiasBits = []int{model.DefaultBiasBits(16, 31), model.DefaultBiasBits(8, 255)}
		m, err := train.RandomModel(arch, 1)
		must("model", err)
		com, err := m.ComputeCommitment()
		must("commitment", err)
		spec := prover.Spec{Kind: prover.KindInference, Arch: arch}
		ccs, err := prover.Compile(spec)
		must("compile", err)
		keys, err := prover.Setup(spec, ccs)
		must("setup", err)
		dir := t.TempDir()
		_, err = prover.SaveKeys(dir, "tiny", keys, prover.SetupSingleParty)
		must("save keys", err)
		vk, man, err := prover.LoadVerifyingKey(filepath.Join(dir, "tiny.json"))
		must("vk", err)
		x := make([]int, arch.NumInputs())
		for i := range x {
			x[i] = (i * 7) % 32
		}
		a, class, err := circuit.InferenceAssignment(m, x)
		must("assignment", err)
		proof, _, err := keys.Prove(a)
		must("prove", err)
		rarch, err := registry.ArchOf(arch)
		must("arch", err)
		rspec := registry.Spec{Kind: registry.KindInference, Arch: rarch}
		submit(kProver, &registry.MsgRegisterCircuit{Spec: rspec, VerifyingKey: vk, Gnark: man.Gnark, Setup: man.Setup})
		submit(kAlice, &registry.MsgCommitModel{Commitment: com, Arch: rarch, Name: "tiny-mlp"})
		in := make([]uint32, len(x))
		for i, v := range x {
			in[i] = uint32(v)
		}
		submit(kProver, &registry.MsgSubmitProof{Circuit: registry.CircuitID(rspec, vk), Model: 1, Proof: proof,
			Inference: &registry.InferenceClaim{Input: in, Class: uint32(class)}})
	})

	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	// Let the index reach the last block.
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for net.Node.Comet.BlockStore().Height() < st.Height || indexHeight(t, net) < st.Height {
		if ctx.Err() != nil {
			t.Fatal("index never reached the chain's height")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return act
}

// startPipeline declares a pipeline over alice's dataset: its labelling
// stage starts at once; nobody labels, so it ends at its deadline with
// the reason and the refund, which the pipeline page must show as the
// chain holds them.
func startPipeline(ctx context.Context, submit func(int, chain.Msg) api.TxResponse) uint64 {
	arch := model.Arch{Sizes: []int{16, 8, 10}, InBits: 5, Shifts: []int{5}}
	ds := &model.Dataset{X: [][]int{make([]int, 16), make([]int, 16)}, Y: []int{3, 7}}
	tsh, err := arch.TestSetHash(ds)
	if err != nil {
		panic(err)
	}
	rows := [][]uint32{append(make([]uint32, 16), 3), append(make([]uint32, 16), 7)}
	submit(kAlice, &registry.MsgRegisterTestSet{Hash: tsh, Shape: registry.Shape{Inputs: 16, InBits: 5, Classes: 10}, Name: "two rows", Rows: rows})
	trainer := []byte("\x00asm\x01\x00\x00\x00 trainer")
	submit(kAlice, &chain.MsgRegisterBlob{CID: chain.BlobCID(trainer), Size: uint64(len(trainer))})
	res := submit(kAlice, &pipeline.MsgCreate{Budget: 50 * node.TNN, Spec: pipeline.Spec{
		Name: "telemetry model", Stages: []string{"label", "train", "prove"},
		Dataset: &pipeline.DatasetSpec{Dataset: 1, Version: 1},
		Label: &pipeline.LabelSpec{Title: "moving?", Labels: []string{"parked", "moving"}, ItemKind: label.KindText,
			Redundancy: 1, MaxRedundancy: 1, ConfidencePPM: 500_000, Reward: 10, Stake: 1000,
			DeadlineBlocks: 10, RevealBlocks: 10, GraceBlocks: 10, QualityPPM: 300_000, BatchSize: 4, MaxPerWorker: 20,
			DatasetName: "telemetry labelled", Price: 5000, AnnotatorBps: 2500},
		Train: &pipeline.TrainSpec{Module: chain.BlobCID(trainer), InputName: "train.csv", MemoryBytes: 1 << 20, Fuel: compute.FuelPerUnit,
			WallSeconds: 10, MaxOutputBytes: 1 << 20, MaxPrice: 10, Redundancy: 2, Timeout: 5, DeadlineBlocks: 20},
		Prove: &pipeline.ProveSpec{TestSet: tsh, MinAccuracyBps: 7000, DeadlineBlocks: 20, AllowSingleParty: true},
	}})
	for _, e := range res.Events {
		for _, a := range e.Attrs {
			if e.Type == "pipeline_create" && a.Key == "pipeline" {
				var id uint64
				fmt.Sscan(a.Value, &id)
				return id
			}
		}
	}
	panic("no pipeline_create event")
}

func indexHeight(t *testing.T, net *testnode.Net) int64 {
	var o Overview
	if err := net.Client.Get(context.Background(), "/explorer/overview", &o); err != nil {
		t.Fatal(err)
	}
	return o.Indexed
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
