package subnet_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/node"
	"github.com/tenun-chain/tenun/subnet"
	"github.com/tenun-chain/tenun/subnet/agent"
	"github.com/tenun-chain/tenun/zkml/model"
	"github.com/tenun-chain/tenun/zkml/train"
)

const digitsPath = "../datasets/digits/digits.csv.gz"

// trainMiner trains a digits MLP on the first rows of the training split
// for epochs passes, quantizes it, saves it and loads it back the way
// `tenun miner run --model FILE` does.
func trainMiner(t *testing.T, ds *model.Dataset, rows, epochs int, path string) *model.Model {
	t.Helper()
	trainSet, err := ds.Slice(0, rows)
	if err != nil {
		t.Fatal(err)
	}
	f, err := train.Train(trainSet, 10, train.TrainConfig{Hidden: []int{16}, Epochs: epochs, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	q, err := train.Quantize(f, trainSet, train.QuantizeConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Save(path); err != nil {
		t.Fatal(err)
	}
	m, err := model.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// testCSV is the digits test split as the evaluation blob: 64 features then
// the label per row.
func testCSV(ds *model.Dataset) []byte {
	var b bytes.Buffer
	for r := model.DigitsTrainRows; r < ds.Len(); r++ {
		for _, x := range ds.X[r] {
			fmt.Fprintf(&b, "%d,", x)
		}
		fmt.Fprintf(&b, "%d\n", ds.Y[r])
	}
	return b.Bytes()
}

// Three miners serve digits models of different quality, two honest
// validators score them, and a third validator copies the others' revealed
// weights. Over several commit-reveal epochs the best miner earns the most
// and the copier, always an epoch late, earns less dividends than the
// honest validators; the subnet mints exactly what its schedule accrued.
func TestSubnetScenario(t *testing.T) {
	if _, err := os.Stat(digitsPath); err != nil {
		t.Fatalf("digits data not found at %s: %v", digitsPath, err)
	}
	ds, err := model.LoadCSV(digitsPath)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Good, middling and poor: 20 passes over the training split, one
	// pass, and one pass over 100 rows.
	models := []*model.Model{
		trainMiner(t, ds, model.DigitsTrainRows, 20, filepath.Join(dir, "good.json")),
		trainMiner(t, ds, model.DigitsTrainRows, 1, filepath.Join(dir, "middling.json")),
		trainMiner(t, ds, 100, 1, filepath.Join(dir, "poor.json")),
	}
	test, _ := ds.Slice(model.DigitsTrainRows, ds.Len())
	for i, m := range models {
		ok, err := m.Accuracy(test)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("miner model %d: %d/%d correct on the test split", i, ok, test.Len())
	}

	net := testnode.Start(t, 7)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c := net.Client
	owner := 0
	minerKeys, validatorKeys := []int{1, 2, 3}, []int{4, 5, 6} // 6 copies

	supplyOf := func() uint64 {
		var s struct {
			Supply uint64 `json:"supply"`
		}
		if err := c.Query(ctx, "core", "supply", nil, &s); err != nil {
			t.Fatal(err)
		}
		return s.Supply
	}
	supplyBefore := supplyOf()

	cid, err := c.RegisterBlob(ctx, net.Keys[owner], testCSV(ds))
	if err != nil {
		t.Fatal(err)
	}
	hp := subnet.DefaultHyperparams()
	hp.CommitReveal = true
	const tempo = 20
	if _, err := c.Submit(ctx, net.Keys[owner], &subnet.MsgCreate{
		Task: "classify 8x8 digits: POST /predict {\"inputs\": [[64 ints 0..16]]}", Dataset: cid, Tempo: tempo, Yuma: &hp,
		RegistrationMinStake: node.TNN, ValidatorMinStake: 100 * node.TNN, MaxUIDs: 16,
	}, client.Options{}); err != nil {
		t.Fatal(err)
	}
	const id = 1

	for i, k := range minerKeys {
		m := &agent.Miner{Client: c, Key: net.Keys[k], Subnet: id, Model: models[i], Listen: "127.0.0.1:0"}
		uid, _, err := m.Start(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if uid != uint16(i) {
			t.Fatalf("miner %d got uid %d", i, uid)
		}
		t.Cleanup(func() { m.Stop() })
	}
	vctx, stopValidators := context.WithCancel(ctx)
	var wg sync.WaitGroup
	validators := make([]*agent.Validator, len(validatorKeys))
	for i, k := range validatorKeys {
		strategy := agent.Honest
		if i == 2 {
			strategy = agent.Copier
		}
		v := &agent.Validator{Client: c, Key: net.Keys[k], Subnet: id, Strategy: strategy, Samples: 100, Logf: t.Logf}
		validators[i] = v
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := v.Run(vctx); err != nil {
				t.Errorf("validator %d: %v", i, err)
			}
		}()
	}

	const epochs = 8
	for {
		info, err := agent.Info(ctx, c, id)
		if err != nil {
			t.Fatal(err)
		}
		if info.Epoch >= epochs {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("subnet reached epoch %d of %d before the deadline", info.Epoch, epochs)
		case <-time.After(200 * time.Millisecond):
		}
	}
	stopValidators()
	wg.Wait()

	// Read the subnet, its metagraph and the supply at one height: retry
	// until no block came between the reads.
	var info subnet.Info
	var mg []subnet.MetagraphEntry
	var supply uint64
	for {
		h1, _ := c.Status(ctx)
		supply = supplyOf()
		if info, err = agent.Info(ctx, c, id); err != nil {
			t.Fatal(err)
		}
		if mg, err = agent.Metagraph(ctx, c, id); err != nil {
			t.Fatal(err)
		}
		if h2, _ := c.Status(ctx); h1.Height == h2.Height {
			break
		}
	}
	for _, n := range mg {
		t.Logf("uid %d %-9s stake %d earned %d (incentive %d, dividends %d) permit %v weights %v",
			n.UID, n.Role, n.Stake, n.Earned, n.EarnedIncentive, n.EarnedDividends, n.ValidatorPermit, n.Weights)
	}
	for i, v := range validators {
		t.Logf("validator %d stats: %+v", i, v.Stats())
	}
	t.Logf("subnet %d after %d epochs: accrued %d, minted %d, pending %d", id, info.Epoch, info.Accrued, info.Minted, info.Pending)

	good, middling, poor := mg[0], mg[1], mg[2]
	if !(good.EarnedIncentive > middling.EarnedIncentive && middling.EarnedIncentive >= poor.EarnedIncentive && good.EarnedIncentive > 0) {
		t.Errorf("miner incentive %d, %d, %d: the best miner must earn the most", good.EarnedIncentive, middling.EarnedIncentive, poor.EarnedIncentive)
	}
	honest1, honest2, copier := mg[3], mg[4], mg[5]
	if copier.Role != subnet.RoleValidator || honest1.Role != subnet.RoleValidator || honest2.Role != subnet.RoleValidator {
		t.Fatalf("uids 3-5 should be validators: %+v", mg[3:])
	}
	// Validators register concurrently, so match uids to strategies by account.
	byAccount := map[string]subnet.MetagraphEntry{}
	for _, n := range mg {
		byAccount[n.Account.String()] = n
	}
	honest1, honest2, copier = byAccount[net.Addr(validatorKeys[0]).String()], byAccount[net.Addr(validatorKeys[1]).String()], byAccount[net.Addr(validatorKeys[2]).String()]
	if !(copier.EarnedDividends < honest1.EarnedDividends && copier.EarnedDividends < honest2.EarnedDividends) {
		t.Errorf("dividends: honest %d and %d, copier %d: the copier must earn less", honest1.EarnedDividends, honest2.EarnedDividends, copier.EarnedDividends)
	}
	if validators[2].Stats().Copies == 0 || validators[0].Stats().Reveals == 0 {
		t.Errorf("the copier never copied or the honest validator never revealed: %+v %+v", validators[2].Stats(), validators[0].Stats())
	}

	// Emission accounting: every accrued utnn is minted or pending, every
	// minted one is in some uid's earnings, and the supply grew by exactly
	// what was minted.
	var earned uint64
	for _, n := range mg {
		earned += n.Earned
	}
	if info.Accrued != info.Minted+info.Pending || earned != info.Minted {
		t.Errorf("accrued %d, minted %d, pending %d, earned %d", info.Accrued, info.Minted, info.Pending, earned)
	}
	if supply-supplyBefore != info.Minted {
		t.Errorf("supply grew by %d, subnet minted %d", supply-supplyBefore, info.Minted)
	}
	status, _ := c.Status(ctx)
	var schedule uint64
	for h := info.Created; h <= info.LastEpochBlock; h++ {
		schedule += subnet.BlockReward(h)
	}
	if info.Accrued < schedule || info.Accrued > schedule+uint64(status.Height-info.LastEpochBlock+1)*subnet.InitialBlockReward {
		t.Errorf("accrued %d, the schedule to the last epoch is %d", info.Accrued, schedule)
	}
	var recs []subnet.EpochRecord
	if err := c.Query(ctx, "subnet", fmt.Sprintf("epochs/%d", id), nil, &recs); err != nil || len(recs) < epochs {
		t.Fatalf("epoch records: %d, %v", len(recs), err)
	}
}
