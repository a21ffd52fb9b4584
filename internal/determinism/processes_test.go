package determinism_test

import (
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/compute"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/node"
	"github.com/tenun-chain/tenun/subnet"
)

// childEnv makes the test binary, re-executed, run the scenario and print
// its app hash instead of testing.
const childEnv = "TENUN_DETERMINISM_CHILD"

// Running the same blocks twice in one process shares the map hash seed,
// the scheduler and the heap layout, so it cannot catch non-determinism.
// This runs one multi-market scenario in two fresh processes of the test
// binary, with different GOMAXPROCS (each process also draws its own map
// seed), and compares their app hashes block by block.
func TestSameAppHashInSeparateProcesses(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		hashes, err := multiMarketScenario()
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println("hashes:", strings.Join(hashes, ","))
		return
	}
	run := func(procs int) []string {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSameAppHashInSeparateProcesses$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"=1", "GOMAXPROCS="+strconv.Itoa(procs))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("child (GOMAXPROCS=%d): %v\n%s", procs, err, out)
		}
		for _, line := range strings.Split(string(out), "\n") {
			if rest, ok := strings.CutPrefix(line, "hashes: "); ok {
				return strings.Split(rest, ",")
			}
		}
		t.Fatalf("child (GOMAXPROCS=%d) printed no hashes:\n%s", procs, out)
		return nil
	}
	a, b := run(1), run(4)
	if len(a) != len(b) || len(a) < 20 {
		t.Fatalf("%d and %d blocks", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("block %d: app hash %s with GOMAXPROCS=1, %s with GOMAXPROCS=4", i+1, a[i], b[i])
		}
	}
	t.Logf("%d blocks, final app hash %s in both processes", len(a), a[len(a)-1])
}

// multiMarketScenario runs blocks that touch the bank, stake, blobs, a
// subnet through several Yuma epochs, the compute market's matching and a
// data market's validation and sale, over an in-memory IAVL tree, and
// returns the app hash after each block. Every transaction must succeed.
func multiMarketScenario() ([]string, error) {
	const chainID = "determinism"
	app := node.NewApp(chainID)
	tree, err := store.OpenTree("")
	if err != nil {
		return nil, err
	}
	defer tree.Close()
	keys := make([]ed25519.PrivKey, 10)
	g := chain.Genesis{Params: chain.DefaultParams()}
	for i := range keys {
		keys[i] = ed25519.GenPrivKeyFromSecret([]byte("determinism/" + strconv.Itoa(i)))
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: chain.AddressFromPubKey(keys[i].PubKey().Bytes()), Balance: 1_000_000_000_000})
	}
	if err := app.InitGenesis(chain.NewContext(tree, chain.Block{Height: 1, ChainID: chainID}, g.Params), g); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	if _, _, err := tree.Commit(); err != nil {
		return nil, err
	}
	seq := make([]uint64, len(keys))
	var hashes []string
	height := int64(1)
	block := func(txs ...[]byte) error {
		height++
		b := chain.Block{Height: height, Time: 1_700_000_000 + 5*height, ChainID: chainID}
		b.Seed = chain.TxHash([]byte("seed/" + strconv.FormatInt(height, 10)))
		res := app.ApplyBlock(tree, b, txs, nil)
		for i, r := range res.Txs {
			if r.Code != 0 {
				return fmt.Errorf("block %d tx %d (%s): %s", height, i, r.Type, r.Log)
			}
		}
		h, _, err := tree.Commit()
		if err != nil {
			return err
		}
		hashes = append(hashes, hex.EncodeToString(h))
		return nil
	}
	tx := func(who int, msg chain.Msg) []byte {
		fee := g.Params.MinFee
		if c, ok := msg.(chain.Coster); ok {
			fee += c.ExtraFee()
		}
		b, err := chain.SignTx(keys[who], chainID, seq[who], fee, msg, "")
		if err != nil {
			panic(err)
		}
		seq[who]++
		return b
	}
	addr := func(i int) chain.Address { return chain.AddressFromPubKey(keys[i].PubKey().Bytes()) }

	evalSet, module := []byte("1,2,3\n"), []byte("\x00asm\x01\x00\x00\x00")
	steps := [][][]byte{
		{tx(0, &chain.MsgRegisterBlob{CID: chain.BlobCID(evalSet), Size: uint64(len(evalSet))}),
			tx(1, &chain.MsgRegisterBlob{CID: chain.BlobCID(module), Size: uint64(len(module))}),
			tx(2, &chain.MsgSend{To: addr(3), Amount: 12345})},
		{tx(0, &subnet.MsgCreate{Task: "digits", Dataset: chain.BlobCID(evalSet), Tempo: 3, RegistrationMinStake: 100, ValidatorMinStake: 1000, MaxUIDs: 8}),
			tx(4, &data.MsgCreate{Name: "telemetry", Description: "d", License: "CC-BY-4.0", Price: 1_000_003, CuratorBps: 1000, MaxBatch: 100,
				Schema: []data.Column{{Name: "vehicle", Type: data.TypeString, Required: true, MaxLen: 32}, {Name: "speed", Type: data.TypeDecimal, Required: true, Min: "0", Max: "300"}}})},
	}
	for i := 5; i <= 7; i++ {
		steps = append(steps, [][]byte{
			tx(i, &subnet.MsgRegister{Subnet: 1, Role: subnet.RoleMiner, Stake: 100 + uint64(i), Endpoint: "http://127.0.0.1:900" + strconv.Itoa(i)}),
			tx(i, &compute.MsgRegister{CPUCores: 8, MemoryMB: 4096, Price: 1, Stake: compute.DefaultParams().MinStake + uint64(i)}),
		})
	}
	steps = append(steps, [][]byte{
		tx(8, &subnet.MsgRegister{Subnet: 1, Role: subnet.RoleValidator, Stake: 50_000}),
		tx(9, &subnet.MsgRegister{Subnet: 1, Role: subnet.RoleValidator, Stake: 70_000}),
		tx(5, &data.MsgContribute{Dataset: 1, Records: [][]string{{"car-1", "12.5"}, {"car-1", "13"}, {"car-2", "7.25"}}}),
		tx(6, &data.MsgContribute{Dataset: 1, Records: [][]string{{"car-3", "99"}, {"car-1", "12.5"}, {"car-4", "0"}}}),
	})
	for j := 0; j < 4; j++ {
		steps = append(steps, [][]byte{
			tx(1, &compute.MsgPostJob{Spec: compute.Spec{Module: chain.BlobCID(module), Args: []string{strconv.Itoa(j)}, MemoryBytes: 16 << 20, Fuel: compute.FuelPerUnit, WallSeconds: 30, MaxOutputBytes: 1 << 20},
				MaxPrice: 1, Redundancy: 2, Timeout: 50, DeadlineBlocks: 500}),
			tx(8, &subnet.MsgSetWeights{Subnet: 1, UIDs: []uint16{0, 1, 2}, Values: []uint16{uint16(100 + j), 300, uint16(5000 - j)}}),
			tx(9, &subnet.MsgSetWeights{Subnet: 1, UIDs: []uint16{0, 2}, Values: []uint16{1, uint16(2 + j)}}),
		})
	}
	steps = append(steps, [][]byte{tx(4, &data.MsgSnapshot{Dataset: 1})}, [][]byte{tx(3, &data.MsgBuy{Dataset: 1, Version: 1})})
	for _, s := range steps {
		if err := block(s...); err != nil {
			return nil, err
		}
	}
	for i := 0; i < 12; i++ { // epochs and the compute market's timeouts
		if err := block(); err != nil {
			return nil, err
		}
	}
	return hashes, nil
}
