package label

import (
	"crypto/sha256"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/internal/scenario"
)

// The pure rules without a node, on the markets' shared harness
// (scenario.Pure): messages run through the router's handlers in a write
// buffer, as a transaction would (the fee included), on an in-memory
// store, block by block.

func addr(b byte) chain.Address { var a chain.Address; a[0] = b; a[19] = 0x1a; return a }

type harness struct{ *scenario.Pure }

// newHarness funds accounts 1..n with balance each.
func newHarness(t testing.TB, n int, balance uint64) *harness {
	g := chain.Genesis{Params: chain.DefaultParams()}
	for i := 1; i <= n; i++ {
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: addr(byte(i)), Balance: balance})
	}
	h := &harness{scenario.NewPure(t, g, Domain{})}
	h.Fee = h.Params.MinFee
	return h
}

func (h *harness) run(sender chain.Address, msg chain.Msg) error { return h.Run(sender, msg) }
func (h *harness) must(sender chain.Address, msg chain.Msg)      { h.T.Helper(); h.Must(sender, msg) }
func (h *harness) mustFail(sender chain.Address, msg chain.Msg, code *chain.Error, substr string) {
	h.T.Helper()
	h.MustFail(sender, msg, code, substr)
}
func (h *harness) next()                          { h.T.Helper(); h.EndBlock() }
func (h *harness) advance(height int64)           { h.T.Helper(); h.AdvanceTo(height) }
func (h *harness) block() chain.Block             { return h.Block() }
func (h *harness) ctx() *chain.Context            { return h.Ctx() }
func (h *harness) invariants()                    { h.T.Helper(); h.Invariants() }
func (h *harness) balance(a chain.Address) uint64 { return chain.Balance(h.KV, a) }

// wealth is an account's balance plus its stake in the label pool.
func (h *harness) wealth(a chain.Address) uint64 {
	return chain.Balance(h.KV, a) + chain.Bonded(h.ctx(), a, Pool)
}

func (h *harness) job(id uint64) Job {
	h.T.Helper()
	j, err := GetJob(h.KV, id)
	if err != nil {
		h.T.Fatal(err)
	}
	return j
}

func (h *harness) tasks(id uint64, a chain.Address) []Task { return WorkerTasks(h.KV, id, a) }

// salt is a deterministic test salt for (worker, item).
func salt(a chain.Address, item uint32) chain.Hash {
	return sha256.Sum256(append(append([]byte("salt"), a[:]...), byte(item), byte(item>>8)))
}
