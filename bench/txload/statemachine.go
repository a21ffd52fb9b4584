package txload

import (
	"fmt"
	"github.com/tenun-chain/tenun/internal/cputime"
	"os"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/node"
)

// SMOptions shape a state-machine-only run.
type SMOptions struct {
	Blocks      int    // measured blocks (one more is applied first as warm-up)
	TxsPerBlock int    // signed transfers per block
	Accounts    int    // funded senders
	Dir         string // parent of the temp state dir ("" = the system temp dir)
}

func (o *SMOptions) defaults() {
	if o.Blocks <= 0 {
		o.Blocks = 5
	}
	if o.TxsPerBlock <= 0 {
		o.TxsPerBlock = 10_000
	}
	if o.Accounts <= 0 {
		o.Accounts = 1000
	}
}

// SMResult is the state machine's throughput beside the cost of only
// checking the same blocks' signatures.
type SMResult struct {
	Blocks        int     `json:"blocks"`
	TxsPerBlock   int     `json:"txs_per_block"`
	Accounts      int     `json:"accounts"`
	ApplySeconds  float64 `json:"apply_seconds"`  // App.ApplyBlock, signature checks included
	CommitSeconds float64 `json:"commit_seconds"` // tree commit (fsync'd)
	TxPerSec      float64 `json:"tx_per_sec"`     // transfers / (apply + commit)
	// SigVerifyTxPerSec is the baseline: the same blocks' signatures checked
	// with CometBFT's ed25519 batch verifier (what ApplyBlock uses) and
	// nothing else, sign bytes prepared beforehand.
	SigVerifyTxPerSec float64 `json:"sigverify_tx_per_sec"`
	// SigVerifySingleTxPerSec checks them one by one, as CheckTx does.
	SigVerifySingleTxPerSec float64 `json:"sigverify_single_tx_per_sec"`
	Ratio                   float64 `json:"ratio"` // TxPerSec / SigVerifyTxPerSec
	Target                  float64 `json:"target_tx_per_sec"`
	// CPUTxPerSec and SigVerifyCPUTxPerSec divide by the process's CPU time
	// instead of wall time: they barely move when other programs compete
	// for the cores (GC threads count too). 0 where CPU time cannot be read.
	CPUTxPerSec          float64 `json:"cpu_tx_per_sec"`
	SigVerifyCPUTxPerSec float64 `json:"sigverify_cpu_tx_per_sec"`
}

// StateMachineTarget is the goal for the state machine on the dev machine.
const StateMachineTarget = 20_000

// RunStateMachine applies blocks of signed transfers with App.ApplyBlock to
// a durable IAVL tree in a temp dir and commits each, as the node does;
// before each block it times checking only that block's signatures.
func RunStateMachine(o SMOptions) (*SMResult, error) {
	o.defaults()
	if o.TxsPerBlock%o.Accounts != 0 {
		return nil, fmt.Errorf("transfers per block (%d) must be a multiple of the accounts (%d)", o.TxsPerBlock, o.Accounts)
	}
	dir, err := os.MkdirTemp(o.Dir, "tenun-bench-sm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	tree, err := store.OpenTree(dir)
	if err != nil {
		return nil, err
	}
	defer tree.Close()
	app := node.NewApp(BenchChainID)
	keys := Keys(o.Accounts)
	addrs := Addresses(keys)
	g := chain.Genesis{Params: chain.DefaultParams(), Accounts: GenesisAccounts(keys)}
	if err := app.InitGenesis(chain.NewContext(tree, chain.Block{Height: 1, ChainID: BenchChainID}, g.Params), g); err != nil {
		return nil, err
	}
	if _, _, err := tree.Commit(); err != nil {
		return nil, err
	}
	res := &SMResult{Blocks: o.Blocks, TxsPerBlock: o.TxsPerBlock, Accounts: o.Accounts, Target: StateMachineTarget}
	perAccount := uint64(o.TxsPerBlock / o.Accounts)
	var verifyBatch, verifySingle, cpuApply, cpuVerify time.Duration
	cpuOK := true
	for b := 0; b <= o.Blocks; b++ { // block 0 is warm-up
		// Each account sends perAccount transfers a block, so block b's
		// sequences start where block b-1's ended.
		txs, err := Transfers(keys, addrs, o.TxsPerBlock, uint64(b)*perAccount, BenchChainID)
		if err != nil {
			return nil, err
		}
		sigs, err := signatures(txs)
		if err != nil {
			return nil, err
		}
		cb, ok1 := cputime.Process()
		tb := time.Now()
		if !sigs.verifyBatch() {
			return nil, fmt.Errorf("block %d: batch verification failed", b)
		}
		dBatch := time.Since(tb)
		ce, ok2 := cputime.Process()
		ts := time.Now()
		if !sigs.verifySingle() {
			return nil, fmt.Errorf("block %d: a signature failed", b)
		}
		dSingle := time.Since(ts)

		height := int64(b + 2)
		c0, ok3 := cputime.Process()
		t0 := time.Now()
		out := app.ApplyBlock(tree, chain.Block{Height: height, Time: height, ChainID: BenchChainID}, txs, nil)
		t1 := time.Now()
		if _, _, err := tree.Commit(); err != nil {
			return nil, err
		}
		t2 := time.Now()
		c2, ok4 := cputime.Process()
		cpuOK = cpuOK && ok1 && ok2 && ok3 && ok4
		for i, r := range out.Txs {
			if r.Code != 0 {
				return nil, fmt.Errorf("block %d tx %d: code %d: %s", b, i, r.Code, r.Log)
			}
		}
		if b == 0 {
			continue
		}
		res.ApplySeconds += t1.Sub(t0).Seconds()
		res.CommitSeconds += t2.Sub(t1).Seconds()
		verifyBatch += dBatch
		verifySingle += dSingle
		cpuVerify += ce - cb
		cpuApply += c2 - c0
	}
	n := float64(o.Blocks * o.TxsPerBlock)
	res.TxPerSec = n / (res.ApplySeconds + res.CommitSeconds)
	res.SigVerifyTxPerSec = n / verifyBatch.Seconds()
	res.SigVerifySingleTxPerSec = n / verifySingle.Seconds()
	res.Ratio = res.TxPerSec / res.SigVerifyTxPerSec
	if cpuOK && cpuApply > 0 && cpuVerify > 0 {
		res.CPUTxPerSec = n / cpuApply.Seconds()
		res.SigVerifyCPUTxPerSec = n / cpuVerify.Seconds()
	}
	return res, nil
}

// sigSet is a block's signatures, ready to verify.
type sigSet struct {
	pubs []ed25519.PubKey
	msgs [][]byte
	sigs [][]byte
}

func signatures(txs [][]byte) (*sigSet, error) {
	s := &sigSet{}
	for _, b := range txs {
		tx, err := chain.DecodeTx(b, chain.DefaultParams().MaxTxBytes)
		if err != nil {
			return nil, err
		}
		s.pubs = append(s.pubs, ed25519.PubKey(tx.PubKey))
		s.msgs = append(s.msgs, chain.SignBytes(tx.Body))
		s.sigs = append(s.sigs, tx.Signature)
	}
	return s, nil
}

func (s *sigSet) verifyBatch() bool {
	bv := ed25519.NewBatchVerifier()
	for i := range s.pubs {
		if err := bv.Add(s.pubs[i], s.msgs[i], s.sigs[i]); err != nil {
			return false
		}
	}
	ok, _ := bv.Verify()
	return ok
}

func (s *sigSet) verifySingle() bool {
	for i := range s.pubs {
		if !s.pubs[i].VerifySignature(s.msgs[i], s.sigs[i]) {
			return false
		}
	}
	return true
}
