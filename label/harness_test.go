package label

import (
	"crypto/sha256"
	"encoding/binary"
	"github.com/tenun-chain/tenun/internal/scenario"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// The pure rules without a node: messages run through the router's
// handlers in a write buffer, as a transaction would (the fee included), on
// an in-memory store, block by block with EndBlock.

func addr(b byte) chain.Address { var a chain.Address; a[0] = b; a[19] = 0x1a; return a }

type harness struct {
	t      testing.TB
	kv     *store.Memory
	app    *chain.App
	height int64
	fee    uint64
}

// newHarness funds accounts 1..n with balance each.
func newHarness(t testing.TB, n int, balance uint64) *harness {
	h := &harness{t: t, kv: store.NewMemory(), app: chain.NewApp("t", Domain{}), height: 1, fee: chain.DefaultParams().MinFee}
	ctx := chain.NewContext(h.kv, h.block(), chain.DefaultParams())
	g := chain.Genesis{Params: chain.DefaultParams()}
	for i := 1; i <= n; i++ {
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: addr(byte(i)), Balance: balance})
	}
	if err := h.app.InitGenesis(ctx, g); err != nil {
		t.Fatal(err)
	}
	return h
}

// block is the current block; its seed depends on the height, as a real
// block's does on its hash.
func (h *harness) block() chain.Block {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(h.height))
	return chain.Block{Height: h.height, ChainID: "t", Seed: sha256.Sum256(b[:])}
}

// run executes msg from sender in the current block and returns the
// handler's error; on error nothing is written (not even the fee).
func (h *harness) run(sender chain.Address, msg chain.Msg) error {
	cache := store.NewCache(h.kv)
	ctx := chain.NewContext(cache, h.block(), chain.DefaultParams())
	ctx.Sender = sender
	m, err := h.app.Router().DecodeMsg(chain.Any{Type: msg.Type(), Value: chain.Marshal(msg)})
	if err != nil {
		return err
	}
	if err := chain.Send(ctx, sender, chain.FeeCollector, h.fee); err != nil {
		return err
	}
	if err := h.app.Router().HandleForTest(ctx, m); err != nil {
		return err
	}
	cache.Write()
	return nil
}

func (h *harness) must(sender chain.Address, msg chain.Msg) {
	h.t.Helper()
	if err := h.run(sender, msg); err != nil {
		h.t.Fatalf("%s from %s at block %d: %v", msg.Type(), sender, h.height, err)
	}
}

// mustFail checks that msg is rejected with code and a message containing
// substr, and that the state is byte-for-byte unchanged.
func (h *harness) mustFail(sender chain.Address, msg chain.Msg, code *chain.Error, substr string) {
	h.t.Helper()
	scenario.MustReject(h.t, h.kv, msg.Type(), code, substr, func() error { return h.run(sender, msg) })
}

// next ends the current block (EndBlock) and starts the next.
func (h *harness) next() {
	h.t.Helper()
	cache := store.NewCache(h.kv)
	ctx := chain.NewContext(cache, h.block(), chain.DefaultParams())
	if err := (Domain{}).EndBlock(ctx); err != nil {
		h.t.Fatal(err)
	}
	cache.Write()
	h.height++
}

// advance moves to block height (exclusive of work at the skipped blocks).
func (h *harness) advance(height int64) {
	for h.height < height {
		h.next()
	}
}

func (h *harness) ctx() *chain.Context {
	return chain.NewContext(h.kv, h.block(), chain.DefaultParams())
}

func (h *harness) balance(a chain.Address) uint64 { return chain.Balance(h.kv, a) }

// wealth is an account's balance plus its stake in the label pool.
func (h *harness) wealth(a chain.Address) uint64 {
	return chain.Balance(h.kv, a) + chain.Bonded(h.ctx(), a, Pool)
}

func (h *harness) job(id uint64) Job {
	h.t.Helper()
	j, err := GetJob(h.kv, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return j
}

func (h *harness) tasks(id uint64, a chain.Address) []Task { return WorkerTasks(h.kv, id, a) }

func (h *harness) invariants() {
	h.t.Helper()
	if err := chain.CheckInvariants(h.kv); err != nil {
		h.t.Fatal(err)
	}
}

// salt is a deterministic test salt for (worker, item).
func salt(a chain.Address, item uint32) chain.Hash {
	return sha256.Sum256(append(append([]byte("salt"), a[:]...), byte(item), byte(item>>8)))
}
