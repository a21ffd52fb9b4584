package scenario

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// What Go tests of a market's pure rules share with the scenario files,
// for the cases a story would not read well (property tests over many
// random inputs, fuzzing): one message through the router as a transaction
// would run it, and the check that a refusal left the state byte for byte
// as it was.

// ByteAddr is a test address whose first byte is b, for tests that need
// many accounts and no signatures.
func ByteAddr(b byte) chain.Address {
	var a chain.Address
	a[0] = b
	return a
}

// Dump renders every key and value of kv in order; two dumps are equal
// exactly when the states are.
func Dump(kv store.KV) string {
	var buf bytes.Buffer
	kv.Iterate(nil, func(k, v []byte) bool {
		buf.Write(k)
		buf.WriteByte('=')
		buf.Write(v)
		buf.WriteByte('\n')
		return true
	})
	return buf.String()
}

// Apply decodes msg as a transaction would (ValidateBasic included) and
// runs its handler as sender in block, limited to its domain's prefix,
// inside a write buffer over kv that is kept only if the handler succeeds.
func Apply(app *chain.App, kv store.KV, block chain.Block, params chain.Params, sender chain.Address, msg chain.Msg) error {
	cache := store.NewCache(kv)
	ctx := chain.NewContext(cache, block, params)
	ctx.Sender = sender
	m, err := app.Router().DecodeMsg(chain.Any{Type: msg.Type(), Value: chain.Marshal(msg)})
	if err != nil {
		return err
	}
	if err := app.Router().HandleForTest(ctx, m); err != nil {
		return err
	}
	cache.Write()
	return nil
}

// MustReject runs run, which must fail with code and an error containing
// substr, and checks that kv did not change.
func MustReject(t testing.TB, kv store.KV, what string, code *chain.Error, substr string, run func() error) {
	t.Helper()
	before := Dump(kv)
	err := run()
	if err == nil {
		t.Fatalf("%s: accepted, want rejection", what)
	}
	if chain.CodeOf(err) != code.Code || !strings.Contains(err.Error(), substr) {
		t.Fatalf("%s: got %v (code %d), want code %d containing %q", what, err, chain.CodeOf(err), code.Code, substr)
	}
	if Dump(kv) != before {
		t.Fatalf("%s: rejected but state changed", what)
	}
}

// Pure runs a market's rules over an in-memory store, block by block,
// without signatures: the one harness under the markets' Go tests. Each
// market's test embeds it and adds helpers of its own.
type Pure struct {
	T      testing.TB
	KV     *store.Memory
	App    *chain.App
	Height int64 // the current block, where Run executes
	Params chain.Params
	// Fee, if set, is moved from the sender to the fee collector before
	// each message, inside the same buffer, as a transaction's fee is.
	Fee uint64
}

// NewPure writes g (DefaultParams if g.Params is unset) at height 1 and
// returns the harness at that height.
func NewPure(t testing.TB, g chain.Genesis, domains ...chain.Domain) *Pure {
	t.Helper()
	if g.Params.MaxTxBytes == 0 {
		g.Params = chain.DefaultParams()
	}
	p := &Pure{T: t, KV: store.NewMemory(), App: chain.NewApp(ChainID, domains...), Height: 1, Params: g.Params}
	if err := p.App.InitGenesis(chain.NewContext(p.KV, p.Block(), p.Params), g); err != nil {
		t.Fatal(err)
	}
	return p
}

// Funded is genesis accounts ByteAddr(1) to ByteAddr(n), balance each.
func Funded(n byte, balance uint64) []chain.GenesisAccount {
	out := make([]chain.GenesisAccount, 0, n)
	for i := byte(1); i <= n; i++ {
		out = append(out, chain.GenesisAccount{Address: ByteAddr(i), Balance: balance})
	}
	return out
}

// Block is the current block (see the package's Block).
func (p *Pure) Block() chain.Block { return Block(p.Height) }

// Ctx is a context over the store at the current block.
func (p *Pure) Ctx() *chain.Context { return chain.NewContext(p.KV, p.Block(), p.Params) }

// Run executes msg from sender in the current block, as a transaction
// would; on error nothing is written, not even the fee.
func (p *Pure) Run(sender chain.Address, msg chain.Msg) error {
	cache := store.NewCache(p.KV)
	if p.Fee > 0 {
		if err := chain.Send(chain.NewContext(cache, p.Block(), p.Params), sender, chain.FeeCollector, p.Fee); err != nil {
			return err
		}
	}
	if err := Apply(p.App, cache, p.Block(), p.Params, sender, msg); err != nil {
		return err
	}
	cache.Write()
	return nil
}

// Must runs msg and fails the test if it is refused.
func (p *Pure) Must(sender chain.Address, msg chain.Msg) {
	p.T.Helper()
	if err := p.Run(sender, msg); err != nil {
		p.T.Fatalf("%s from %s at block %d: %v", msg.Type(), sender, p.Height, err)
	}
}

// MustFail checks that msg is refused with code and an error containing
// substr, and that the state is byte for byte unchanged.
func (p *Pure) MustFail(sender chain.Address, msg chain.Msg, code *chain.Error, substr string) {
	p.T.Helper()
	MustReject(p.T, p.KV, msg.Type(), code, substr, func() error { return p.Run(sender, msg) })
}

// EndBlock ends the current block as the chain does (every domain's
// end-block step), fails on an end-block, epoch or pipeline error event or a broken supply
// invariant, and moves to the next height.
func (p *Pure) EndBlock() {
	p.T.Helper()
	res := p.App.ApplyBlock(p.KV, p.Block(), nil, nil)
	for _, e := range res.Events {
		// Failures of the end-block steps themselves; a market's own
		// reported outcomes (label_export_error: nothing to export) are
		// for its tests to judge.
		if strings.HasSuffix(e.Type, "end_block_error") || strings.HasSuffix(e.Type, "_epoch_error") || e.Type == "pipeline_error" {
			p.T.Fatalf("block %d: %s %v", p.Height, e.Type, e.Attrs)
		}
	}
	if err := chain.CheckInvariants(p.KV); err != nil {
		p.T.Fatal(err)
	}
	p.Height++
}

// AdvanceTo ends blocks until height is the current one.
func (p *Pure) AdvanceTo(height int64) {
	p.T.Helper()
	for p.Height < height {
		p.EndBlock()
	}
}

// Invariants fails the test if the supply invariant does not hold.
func (p *Pure) Invariants() {
	p.T.Helper()
	if err := chain.CheckInvariants(p.KV); err != nil {
		p.T.Fatal(err)
	}
}
