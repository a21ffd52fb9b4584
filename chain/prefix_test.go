package chain_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// rogue is a test domain whose message writes whatever key it names, and
// whose end-block step writes outside its prefix when told to.
type rogue struct{ endBlockKey *string }

type msgWrite struct {
	Key   string `cbor:"1,keyasint"`
	Cross bool   `cbor:"2,keyasint"` // write through the ledger domain's exported function
}

func (*msgWrite) Type() string         { return "rogue/write" }
func (*msgWrite) ValidateBasic() error { return nil }

func (rogue) Name() string { return "rogue" }
func (rogue) Register(r *chain.Router) {
	chain.Handle(r, func(ctx *chain.Context, m *msgWrite) error {
		if m.Cross {
			return ledgerCredit(ctx, m.Key)
		}
		ctx.KV.Set([]byte(m.Key), []byte("x"))
		return chain.Send(ctx, ctx.Sender, addrOf("bob"), 1) // token moves work from any domain
	})
}
func (d rogue) EndBlock(ctx *chain.Context) error {
	if *d.endBlockKey != "" {
		ctx.KV.Set([]byte(*d.endBlockKey), []byte("x"))
	}
	return nil
}

type ledger struct{}

func (ledger) Name() string             { return "ledger" }
func (ledger) Register(r *chain.Router) {}

// ledgerCredit is the ledger market's exported function that another market
// calls: it writes its own records through a store scoped to "ledger/".
func ledgerCredit(ctx *chain.Context, key string) error {
	ctx = ctx.Scoped("ledger")
	ctx.KV.Set([]byte(key), []byte("credited"))
	ctx.Emit("ledger_credit", "key", key)
	return nil
}

// A domain writes only under its own prefix: a write elsewhere, by a
// handler or an end-block step, fails it and changes nothing, while its own
// keys, token moves through the bank and a cross-market call that scopes
// itself to the other market's prefix work.
func TestDomainWritesOnlyUnderItsPrefix(t *testing.T) {
	endBlockKey := ""
	app := chain.NewApp(testChainID, rogue{&endBlockKey}, ledger{})
	tree, err := store.OpenTree("")
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	g := chain.Genesis{Params: chain.DefaultParams(), Accounts: []chain.GenesisAccount{{Address: addrOf("alice"), Balance: 1000}}}
	if err := app.InitGenesis(chain.NewContext(tree, chain.Block{Height: 1, ChainID: testChainID}, g.Params), g); err != nil {
		t.Fatal(err)
	}
	seq := uint64(0)
	height := int64(1)
	apply := func(m *msgWrite) (chain.TxResult, []chain.Event) {
		t.Helper()
		tx := signTx(t, "alice", testChainID, seq, g.Params.MinFee, m, "")
		height++
		res := app.ApplyBlock(tree, chain.Block{Height: height, ChainID: testChainID}, [][]byte{tx}, nil)
		if res.Txs[0].Code == 0 {
			seq++
		}
		return res.Txs[0], res.Events
	}
	if r, _ := apply(&msgWrite{Key: "rogue/mine"}); r.Code != 0 {
		t.Fatalf("own prefix: %s", r.Log)
	}
	if chain.Balance(tree, addrOf("bob")) != 1 {
		t.Fatal("the token move did not happen")
	}
	for _, key := range []string{"bank/bal/forged", "ledger/x", "params", "acct/seq/x", "rogu"} {
		before := kvDump(tree)
		r, _ := apply(&msgWrite{Key: key})
		if r.Code != chain.ErrInternal.Code || !strings.Contains(r.Log, "outside the domain's prefix") {
			t.Fatalf("write to %q: code %d %q, want an internal error", key, r.Code, r.Log)
		}
		if kvDump(tree) != before {
			t.Fatalf("write to %q was refused but the state changed", key)
		}
	}
	// The cross-market function writes under its own market's prefix only.
	if r, _ := apply(&msgWrite{Key: "ledger/credit/1", Cross: true}); r.Code != 0 || len(r.Events) < 2 {
		t.Fatalf("cross-market call: %d %q %v", r.Code, r.Log, r.Events)
	}
	if !bytes.Equal(tree.Get([]byte("ledger/credit/1")), []byte("credited")) {
		t.Fatal("the cross-market write is missing")
	}
	if r, _ := apply(&msgWrite{Key: "rogue/via-ledger", Cross: true}); r.Code != chain.ErrInternal.Code {
		t.Fatalf("the ledger function wrote outside ledger/: %d %q", r.Code, r.Log)
	}
	// An end-block step that writes outside its prefix is dropped and reported.
	endBlockKey = "bank/supply"
	supply := chain.Supply(tree)
	_, events := apply(&msgWrite{Key: "rogue/again"})
	if chain.Supply(tree) != supply {
		t.Fatal("the end-block step changed the supply")
	}
	found := false
	for _, ev := range events {
		if ev.Type == "end_block_error" && strings.Contains(ev.Attrs[1].Value, "outside the domain's prefix") {
			found = true
		}
	}
	if !found {
		t.Fatalf("no end_block_error event: %v", events)
	}
	if err := chain.CheckInvariants(tree); err != nil {
		t.Fatal(err)
	}
}
