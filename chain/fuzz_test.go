package chain_test

import (
	"bytes"
	"github.com/tenun-chain/tenun/node"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Fuzz targets. Without -fuzz, `go test` runs only their seeds, quickly.
// To fuzz one (a single target per run):
//
//	go test ./chain -run '^$' -fuzz '^FuzzDecodeTx$' -fuzztime 60s
//	go test ./chain -run '^$' -fuzz '^FuzzDecodeMsg$' -fuzztime 60s
//	go test ./chain -run '^$' -fuzz '^FuzzApplyTx$' -fuzztime 60s
//	go test ./chain -run '^$' -fuzz '^FuzzApplySignedMsg$' -fuzztime 60s
//
// FuzzDecodeMsg and FuzzApplySignedMsg pick the message type from the input,
// over every type the router knows, so the message types of market domains
// are fuzzed as soon as fuzzApp registers their domains.

const fuzzChainID = "fuzz"

// fuzzApp is the app the fuzz targets run. Add each market domain here when
// it exists (chain.NewApp(fuzzChainID, label.Domain{}, ...)) so that its
// message decoders and handlers are fuzzed too.
// fuzzApp is the full application, every market included, so the message
// fuzz targets reach every decoder the chain registers.
func fuzzApp() *chain.App { return node.NewApp(fuzzChainID) }

// seedMsgs are valid messages of each core type, for the seed corpora.
func seedMsgs() []chain.Msg {
	return []chain.Msg{
		&chain.MsgSend{To: addrOf("bob"), Amount: 100},
		&chain.MsgSend{To: addrOf("alice"), Amount: 1},
		&chain.MsgBond{Pool: "validator", Amount: 300},
		&chain.MsgUnbond{Pool: "validator", Amount: 50},
		&chain.MsgBond{Pool: "subnet/1", Amount: 1},
		&chain.MsgRegisterBlob{CID: chain.BlobCID([]byte("seed")), Size: 4},
	}
}

func seedTxs(t testing.TB) [][]byte {
	var out [][]byte
	for i, m := range seedMsgs() {
		out = append(out, signTx(t, "alice", fuzzChainID, uint64(i%2), 10, m, ""))
	}
	out = append(out,
		signTx(t, "alice", fuzzChainID, 0, 10, send("bob", 1), "memo"),
		signTx(t, "bob", "other", 7, 1<<40, send("alice", 1<<62), ""),
	)
	return out
}

func FuzzDecodeTx(f *testing.F) {
	for _, tx := range seedTxs(f) {
		f.Add(tx)
	}
	f.Add([]byte{})
	f.Add([]byte{0xa0})
	f.Add([]byte{0xa3, 0x01, 0xa0, 0x02, 0x40, 0x03, 0x40})
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := chain.DecodeTx(b, 1<<20)
		if err != nil {
			if chain.CodeOf(err) == chain.ErrInternal.Code {
				t.Fatalf("decode error without a code: %v", err)
			}
			return
		}
		if again := chain.Marshal(tx); !bytes.Equal(again, b) {
			t.Fatalf("decoded transaction re-encodes differently:\n in  %x\n out %x", b, again)
		}
		_ = tx.Sender()
		_ = tx.VerifySignature()
	})
}

func FuzzDecodeMsg(f *testing.F) {
	app := fuzzApp()
	types := app.Router().MsgTypes()
	index := map[string]uint16{}
	for i, typ := range types {
		index[typ] = uint16(i)
	}
	for _, m := range seedMsgs() {
		f.Add(index[m.Type()], chain.Marshal(m))
	}
	// Every type, including ones without a typed seed, gets generic seeds.
	for i := range types {
		f.Add(uint16(i), []byte{0xa0})
		f.Add(uint16(i), cborMap(1, 1, 2, 2))
		f.Add(uint16(i), cborMap(1, "x", 2, []byte{1, 2}, 3, 3))
	}
	f.Fuzz(func(t *testing.T, which uint16, data []byte) {
		typ := types[int(which)%len(types)]
		m, err := app.Router().DecodeMsg(chain.Any{Type: typ, Value: data})
		if err != nil {
			if chain.CodeOf(err) == chain.ErrInternal.Code {
				t.Fatalf("%s: error without a code: %v", typ, err)
			}
			return
		}
		if m.Type() != typ {
			t.Fatalf("decoded a %s as %s", m.Type(), typ)
		}
		// A message that decodes has one encoding: its own bytes.
		if again := chain.Marshal(m); !bytes.Equal(again, data) {
			t.Fatalf("%s re-encodes differently:\n in  %x\n out %x", typ, data, again)
		}
	})
}

// fuzzState is a small genesis state: funded accounts, a stake with an
// unbonding in progress, a registered blob.
func fuzzState(t testing.TB, app *chain.App) *store.Tree {
	tree, err := store.OpenTree("")
	if err != nil {
		t.Fatal(err)
	}
	p := chain.DefaultParams()
	p.MaxTxBytes = 4096
	g := chain.Genesis{
		Params: p,
		Accounts: []chain.GenesisAccount{
			{Address: addrOf("alice"), Balance: 1_000_000},
			{Address: addrOf("bob"), Balance: 1000},
		},
		Stakes: []chain.GenesisStake{{Address: addrOf("alice"), Pool: "validator", Amount: 5000}},
	}
	ctx := chain.NewContext(tree, chain.Block{Height: 1, ChainID: fuzzChainID}, p)
	if err := app.InitGenesis(ctx, g); err != nil {
		t.Fatal(err)
	}
	ctx = chain.NewContext(tree, chain.Block{Height: 1, ChainID: fuzzChainID}, p)
	if err := chain.Unbond(ctx, addrOf("alice"), "validator", 1000); err != nil {
		t.Fatal(err)
	}
	chain.Put(tree, []byte("blob/"+chain.BlobCID([]byte("seed"))), chain.BlobRecord{CID: chain.BlobCID([]byte("seed")), Owner: addrOf("bob"), Size: 4, Height: 1})
	return tree
}

// applyAndCheck applies one transaction in a block at height 2 (no unbonding
// matures) and checks: no panic, a failure leaves the state exactly as it
// was, a success keeps the supply invariant.
func applyAndCheck(t *testing.T, app *chain.App, txBytes []byte) chain.TxResult {
	tree := fuzzState(t, app)
	defer tree.Close()
	hash, dump := tree.WorkingHash(), kvDump(tree)
	res := app.ApplyBlock(tree, chain.Block{Height: 2, ChainID: fuzzChainID}, [][]byte{txBytes}, nil)
	r := res.Txs[0]
	if r.Code != 0 {
		if !bytes.Equal(hash, tree.WorkingHash()) || dump != kvDump(tree) {
			t.Fatalf("rejected transaction (code %d: %s) changed the state", r.Code, r.Log)
		}
		if r.Code == chain.ErrInternal.Code {
			t.Fatalf("rejection without a code: %s", r.Log)
		}
	}
	if err := chain.CheckInvariants(tree); err != nil {
		t.Fatal(err)
	}
	return r
}

// FuzzApplyTx applies arbitrary bytes as a transaction.
func FuzzApplyTx(f *testing.F) {
	for _, tx := range seedTxs(f) {
		f.Add(tx)
	}
	f.Add([]byte{0x00})
	app := fuzzApp()
	f.Fuzz(func(t *testing.T, b []byte) {
		applyAndCheck(t, app, b)
	})
}

// FuzzApplySignedMsg signs an arbitrary message value of any registered type
// as alice, so the fuzzer gets past the signature and reaches the message
// decoders and handlers with hostile content.
func FuzzApplySignedMsg(f *testing.F) {
	app := fuzzApp()
	types := app.Router().MsgTypes()
	index := map[string]uint16{}
	for i, typ := range types {
		index[typ] = uint16(i)
	}
	for _, m := range seedMsgs() {
		f.Add(index[m.Type()], uint64(10), chain.Marshal(m))
	}
	for i := range types {
		f.Add(uint16(i), uint64(10), cborMap(1, 1, 2, 2))
	}
	f.Fuzz(func(t *testing.T, which uint16, fee uint64, value []byte) {
		if !wellFormed(value) {
			return // cannot be signed; FuzzApplyTx covers such envelopes
		}
		body := chain.TxBody{ChainID: fuzzChainID, Sequence: 0, Fee: fee, Msg: chain.Any{Type: types[int(which)%len(types)], Value: value}}
		applyAndCheck(t, app, signBody(t, "alice", body))
	})
}

// The seeds must include transactions that succeed, or the targets would
// only ever exercise rejections.
func TestFuzzSeedsSucceed(t *testing.T) {
	app := fuzzApp()
	ok := 0
	for _, m := range seedMsgs() {
		body := chain.TxBody{ChainID: fuzzChainID, Fee: 10, Msg: chain.Any{Type: m.Type(), Value: chain.Marshal(m)}}
		if applyAndCheck(t, app, signBody(t, "alice", body)).Code == 0 {
			ok++
		}
	}
	if ok != len(seedMsgs()) {
		t.Fatalf("%d of %d seed messages succeed", ok, len(seedMsgs()))
	}
}
