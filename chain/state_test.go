package chain_test

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/btcsuite/btcd/btcutil/bech32"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

func stakeParams(unbonding int64) chain.Params {
	p := chain.DefaultParams()
	p.UnbondingBlocks = unbonding
	return p
}

func hasEvent(events []chain.Event, typ string, attrs ...string) bool {
next:
	for _, ev := range events {
		if ev.Type != typ {
			continue
		}
		for i := 0; i+1 < len(attrs); i += 2 {
			found := false
			for _, a := range ev.Attrs {
				if a.Key == attrs[i] && a.Value == attrs[i+1] {
					found = true
				}
			}
			if !found {
				continue next
			}
		}
		return true
	}
	return false
}

func TestBondUnbondMaturity(t *testing.T) {
	e := newEnv(t, stakeParams(3), account{"alice", 1000})
	alice, pool := addrOf("alice"), chain.StakePoolAddress("validator")
	e.applyOK(e.tx("alice", 10, &chain.MsgBond{Pool: "validator", Amount: 400})) // height 1
	ctx := e.ctx(e.tree)
	if got := chain.Bonded(ctx, alice, "validator"); got != 400 {
		t.Fatalf("bonded %d", got)
	}
	if e.balance("alice") != 590 || chain.Balance(e.tree, pool) != 400 {
		t.Fatalf("balances alice %d pool %d", e.balance("alice"), chain.Balance(e.tree, pool))
	}
	if st := chain.PoolStakes(ctx, "validator"); len(st) != 1 || st[0] != (chain.Stake{Account: alice, Pool: "validator", Amount: 400}) {
		t.Fatalf("pool stakes %+v", st)
	}
	// Bonding again adds up; other pools are separate, even prefixes of the name.
	e.applyOK(e.tx("alice", 10, &chain.MsgBond{Pool: "validator", Amount: 100}))   // 2
	e.applyOK(e.tx("alice", 10, &chain.MsgBond{Pool: "validator/2", Amount: 50}))  // 3
	e.applyOK(e.tx("alice", 10, &chain.MsgUnbond{Pool: "validator", Amount: 200})) // 4: matures at 7
	ctx = e.ctx(e.tree)
	if chain.Bonded(ctx, alice, "validator") != 300 || chain.Bonded(ctx, alice, "validator/2") != 50 {
		t.Fatalf("bonded %d / %d", chain.Bonded(ctx, alice, "validator"), chain.Bonded(ctx, alice, "validator/2"))
	}
	if st := chain.PoolStakes(ctx, "validator"); len(st) != 1 || st[0].Amount != 300 {
		t.Fatalf("PoolStakes(validator) = %+v (must not include validator/2)", st)
	}
	if st := chain.AccountStakes(ctx, alice); len(st) != 2 {
		t.Fatalf("AccountStakes = %+v", st)
	}
	ub := chain.Unbondings(ctx, alice)
	if len(ub) != 1 || ub[0] != (chain.Unbonding{Owner: alice, Pool: "validator", Amount: 200, Maturity: 7}) {
		t.Fatalf("unbondings %+v", ub)
	}
	balance := e.balance("alice")
	// Unbonding stake is not liquid: unbonding more than remains bonded fails.
	e.mustReject(t, e.tx("alice", 10, &chain.MsgUnbond{Pool: "validator", Amount: 301}), chain.ErrInsufficientFunds)
	for e.height < 6 {
		res := e.apply()
		if hasEvent(res.Events, "unbond_complete") || e.balance("alice") != balance {
			t.Fatalf("paid early at height %d", e.height)
		}
	}
	res := e.apply() // height 7
	if !hasEvent(res.Events, "unbond_complete", "account", alice.String(), "pool", "validator", "amount", "200") {
		t.Fatalf("no unbond_complete at maturity: %+v", res.Events)
	}
	if e.balance("alice") != balance+200 || len(chain.Unbondings(e.ctx(e.tree), alice)) != 0 {
		t.Fatalf("after maturity: balance %d, unbondings %+v", e.balance("alice"), chain.Unbondings(e.ctx(e.tree), alice))
	}
	if chain.Balance(e.tree, pool) != 300 {
		t.Fatalf("pool holds %d, want 300", chain.Balance(e.tree, pool))
	}
	// Nothing is paid twice.
	e.apply()
	if e.balance("alice") != balance+200 {
		t.Fatal("paid twice")
	}
}

// Several unbondings maturing at different heights, some in the same block,
// are each paid exactly at their own maturity.
func TestUnbondingOrder(t *testing.T) {
	e := newEnv(t, stakeParams(2), account{"alice", 1000}, account{"bob", 1000})
	e.applyOK(e.tx("alice", 10, &chain.MsgBond{Pool: "p", Amount: 100}), e.tx("bob", 10, &chain.MsgBond{Pool: "p", Amount: 100})) // 1
	e.applyOK(
		signTx(t, "alice", testChainID, 1, 10, &chain.MsgUnbond{Pool: "p", Amount: 10}, ""),
		signTx(t, "alice", testChainID, 2, 10, &chain.MsgUnbond{Pool: "p", Amount: 20}, ""),
		e.tx("bob", 10, &chain.MsgUnbond{Pool: "p", Amount: 30}),
	) // 2: all mature at 4
	e.applyOK(e.tx("bob", 10, &chain.MsgUnbond{Pool: "p", Amount: 40})) // 3: matures at 5
	a, b := e.balance("alice"), e.balance("bob")
	e.apply() // 4
	if e.balance("alice") != a+30 || e.balance("bob") != b+30 {
		t.Fatalf("height 4: alice +%d bob +%d", e.balance("alice")-a, e.balance("bob")-b)
	}
	e.apply() // 5
	if e.balance("bob") != b+70 {
		t.Fatalf("height 5: bob +%d", e.balance("bob")-b)
	}
}

func TestUnbondingZeroBlocks(t *testing.T) {
	e := newEnv(t, stakeParams(0), account{"alice", 1000})
	e.applyOK(e.tx("alice", 10, &chain.MsgBond{Pool: "p", Amount: 100}))
	res := e.applyOK(e.tx("alice", 10, &chain.MsgUnbond{Pool: "p", Amount: 100}))
	if !hasEvent(res.Events, "unbond_complete") || e.balance("alice") != 980 {
		t.Fatalf("with no unbonding period the stake returns in the same block: %d", e.balance("alice"))
	}
}

func TestSlash(t *testing.T) {
	setup := func(t *testing.T) *testEnv {
		e := newEnv(t, stakeParams(10), account{"alice", 1000}, account{"bob", 0}, account{"carol", 100})
		e.applyOK(e.tx("alice", 10, &chain.MsgBond{Pool: "label", Amount: 500}))
		e.applyOK(e.tx("alice", 10, &chain.MsgUnbond{Pool: "label", Amount: 200})) // matures at 12
		e.applyOK(e.tx("alice", 10, &chain.MsgUnbond{Pool: "label", Amount: 100})) // matures at 13
		e.applyOK(e.tx("carol", 10, &chain.MsgBond{Pool: "label", Amount: 50}))
		return e
	}
	slash := func(e *testEnv, amount uint64, reason string, beneficiary chain.Address) (uint64, []chain.Event, error) {
		c := store.NewCache(e.tree)
		ctx := e.ctx(c)
		took, err := chain.Slash(ctx, addrOf("alice"), "label", reason, amount, beneficiary)
		if err == nil {
			c.Write()
		}
		e.mustInvariants()
		return took, ctx.Events(), err
	}
	t.Run("bonded only, to a beneficiary", func(t *testing.T) {
		e := setup(t)
		took, events, err := slash(e, 150, "double label", addrOf("bob"))
		if err != nil || took != 150 {
			t.Fatalf("took %d, %v", took, err)
		}
		ctx := e.ctx(e.tree)
		if chain.Bonded(ctx, addrOf("alice"), "label") != 50 || e.balance("bob") != 150 {
			t.Fatalf("bonded %d bob %d", chain.Bonded(ctx, addrOf("alice"), "label"), e.balance("bob"))
		}
		if len(chain.Unbondings(ctx, addrOf("alice"))) != 2 {
			t.Fatal("unbondings touched though the bonded stake sufficed")
		}
		recs := chain.Slashes(ctx, addrOf("alice"))
		want := chain.SlashRecord{Account: addrOf("alice"), Pool: "label", Amount: 150, Reason: "double label", Height: e.height + 1, Beneficiary: addrOf("bob")}
		if len(recs) != 1 || recs[0] != want {
			t.Fatalf("records %+v, want %+v", recs, want)
		}
		if !hasEvent(events, "slash", "reason", "double label", "amount", "150") {
			t.Fatalf("events %+v", events)
		}
		if chain.Supply(e.tree) != 1100 {
			t.Fatal("a slash to a beneficiary changed the supply")
		}
	})
	t.Run("bonded then unbonding, burned", func(t *testing.T) {
		e := setup(t)
		took, _, err := slash(e, 400, "forged answer", chain.Address{})
		if err != nil || took != 400 {
			t.Fatalf("took %d, %v", took, err)
		}
		ctx := e.ctx(e.tree)
		if chain.Bonded(ctx, addrOf("alice"), "label") != 0 {
			t.Fatal("bonded stake left")
		}
		// 200 bonded, then 200 from the unbondings, oldest maturity first.
		ub := chain.Unbondings(ctx, addrOf("alice"))
		if len(ub) != 1 || ub[0].Amount != 100 || ub[0].Maturity != 13 {
			t.Fatalf("unbondings %+v", ub)
		}
		if chain.Supply(e.tree) != 700 {
			t.Fatalf("supply %d, want 700 after burning 400", chain.Supply(e.tree))
		}
		if chain.Bonded(ctx, addrOf("carol"), "label") != 50 || chain.Balance(e.tree, chain.StakePoolAddress("label")) != 150 {
			t.Fatal("another staker's stake or the pool balance is wrong")
		}
		recs := chain.Slashes(ctx, chain.Address{})
		if len(recs) != 1 || recs[0].Reason != "forged answer" || !recs[0].Beneficiary.IsZero() || recs[0].Amount != 400 {
			t.Fatalf("records %+v", recs)
		}
		// The slashed unbonding is no longer paid; the rest is, at maturity.
		before := e.balance("alice")
		for e.height < 13 {
			e.apply()
		}
		if e.balance("alice") != before+100 {
			t.Fatalf("paid %d at maturity, want 100", e.balance("alice")-before)
		}
	})
	t.Run("more than the stake takes all of it", func(t *testing.T) {
		e := setup(t)
		took, _, err := slash(e, 10_000, "gone", addrOf("bob"))
		if err != nil || took != 500 || e.balance("bob") != 500 {
			t.Fatalf("took %d, bob %d, %v", took, e.balance("bob"), err)
		}
		if len(chain.Unbondings(e.ctx(e.tree), addrOf("alice"))) != 0 {
			t.Fatal("unbondings left")
		}
		// Nothing more to take: no record, no error.
		took, _, err = slash(e, 1, "again", addrOf("bob"))
		if err != nil || took != 0 || len(chain.Slashes(e.ctx(e.tree), addrOf("alice"))) != 1 {
			t.Fatalf("second slash: took %d, %v", took, err)
		}
	})
	t.Run("needs a reason", func(t *testing.T) {
		e := setup(t)
		hash := e.tree.WorkingHash()
		c := store.NewCache(e.tree)
		_, err := chain.Slash(e.ctx(c), addrOf("alice"), "label", "", 10, chain.Address{})
		if chain.CodeOf(err) != chain.ErrInvalidRequest.Code || c.Len() != 0 {
			t.Fatalf("err %v, %d writes", err, c.Len())
		}
		checkLog(t, err.Error(), chain.ErrInvalidRequest)
		if !bytes.Equal(hash, e.tree.WorkingHash()) {
			t.Fatal("state changed")
		}
	})
}

func TestEscrow(t *testing.T) {
	e := newEnv(t, chain.DefaultParams(), account{"alice", 1000}, account{"bob", 100}, account{"carol", 0})
	do := func(f func(ctx *chain.Context) error) error {
		c := store.NewCache(e.tree)
		err := f(e.ctx(c))
		if err == nil {
			c.Write()
		} else if c.Len() != 0 {
			t.Fatalf("failed escrow step buffered %d writes: %v", c.Len(), err)
		}
		e.mustInvariants()
		return err
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	rejects := func(err error, want *chain.Error) {
		t.Helper()
		if chain.CodeOf(err) != want.Code {
			t.Fatalf("err %v, want %s", err, want.Name)
		}
		checkLog(t, err.Error(), want)
	}
	must(do(func(ctx *chain.Context) error { return chain.Lock(ctx, addrOf("alice"), "job1", 300) }))
	must(do(func(ctx *chain.Context) error { return chain.Lock(ctx, addrOf("alice"), "job1", 100) }))
	if e.balance("alice") != 600 || chain.EscrowBalance(e.ctx(e.tree), "job1") != 400 {
		t.Fatal("lock did not move funds")
	}
	hash := e.tree.WorkingHash()
	rejects(do(func(ctx *chain.Context) error { return chain.Lock(ctx, addrOf("bob"), "job1", 10) }), chain.ErrUnauthorized)
	rejects(do(func(ctx *chain.Context) error { return chain.Lock(ctx, addrOf("alice"), "job2", 601) }), chain.ErrInsufficientFunds)
	rejects(do(func(ctx *chain.Context) error { return chain.Release(ctx, "job1", addrOf("carol"), 401) }), chain.ErrInsufficientFunds)
	rejects(do(func(ctx *chain.Context) error { _, err := chain.Refund(ctx, "nope"); return err }), chain.ErrNotFound)
	if !bytes.Equal(hash, e.tree.WorkingHash()) {
		t.Fatal("a rejected escrow step changed the state")
	}
	must(do(func(ctx *chain.Context) error { return chain.Release(ctx, "job1", addrOf("carol"), 150) }))
	if e.balance("carol") != 150 {
		t.Fatal("release did not pay")
	}
	var refunded uint64
	must(do(func(ctx *chain.Context) error { var err error; refunded, err = chain.Refund(ctx, "job1"); return err }))
	if refunded != 250 || e.balance("alice") != 850 || chain.EscrowBalance(e.ctx(e.tree), "job1") != 0 {
		t.Fatalf("refund %d, alice %d", refunded, e.balance("alice"))
	}
	// A refunded escrow still belongs to its owner.
	rejects(do(func(ctx *chain.Context) error { return chain.Lock(ctx, addrOf("bob"), "job1", 10) }), chain.ErrUnauthorized)
	q, err := e.app.Query(e.tree, "core", "escrow/job1", nil)
	if err != nil {
		t.Fatal(err)
	}
	if m := q.(map[string]any); m["locked"] != uint64(400) || m["balance"] != uint64(0) || m["owner"] != addrOf("alice") {
		t.Fatalf("escrow query %+v", m)
	}
}

func TestBlobRegister(t *testing.T) {
	p := chain.DefaultParams()
	p.MaxBlobBytes = 1 << 20
	p.StorageFeePerByte = 0 // TestBlobStorageFeeAndQuota covers the fee
	e := newEnv(t, p, account{"alice", 1000}, account{"bob", 1000})
	content := []byte("hello tenun")
	cid := chain.BlobCID(content)
	if err := chain.VerifyBlob(cid, content); err != nil {
		t.Fatal(err)
	}
	if chain.VerifyBlob(cid, []byte("other")) == nil {
		t.Fatal("VerifyBlob accepted other content")
	}
	res := e.applyOK(e.tx("alice", 10, &chain.MsgRegisterBlob{CID: cid, Size: uint64(len(content))}))
	if !hasEvent(res.Txs[0].Events, "blob_register", "cid", cid) {
		t.Fatalf("events %+v", res.Txs[0].Events)
	}
	rec, err := chain.RequireBlob(e.ctx(e.tree), cid)
	want := chain.BlobRecord{CID: cid, Owner: addrOf("alice"), Size: uint64(len(content)), Height: 1}
	if err != nil || rec != want {
		t.Fatalf("record %+v, %v; want %+v", rec, err, want)
	}
	// Registering the same content again (by anyone) is harmless and keeps
	// the first record; it still costs the fee and uses the sequence.
	hashBefore := e.tree.WorkingHash()
	e.applyOK(e.tx("bob", 10, &chain.MsgRegisterBlob{CID: cid, Size: uint64(len(content))}))
	e.applyOK(e.tx("alice", 10, &chain.MsgRegisterBlob{CID: cid, Size: uint64(len(content))}))
	if rec, _ := chain.GetBlob(e.ctx(e.tree), cid); rec != want {
		t.Fatalf("re-register changed the record: %+v", rec)
	}
	if bytes.Equal(hashBefore, e.tree.WorkingHash()) || e.balance("bob") != 990 || e.seq("bob") != 1 {
		t.Fatal("re-register did not charge the fee")
	}
	e.mustReject(t, e.tx("bob", 10, &chain.MsgRegisterBlob{CID: cid, Size: 99}), chain.ErrConflict)
	e.mustReject(t, e.tx("bob", 10, &chain.MsgRegisterBlob{CID: chain.BlobCID([]byte("x")), Size: 0}), chain.ErrInvalidRequest)
	e.mustReject(t, e.tx("bob", 10, &chain.MsgRegisterBlob{CID: chain.BlobCID([]byte("x")), Size: p.MaxBlobBytes + 1}), chain.ErrInvalidRequest)
	e.applyOK(e.tx("bob", 10, &chain.MsgRegisterBlob{CID: chain.BlobCID([]byte("x")), Size: p.MaxBlobBytes}))
	if _, err := chain.RequireBlob(e.ctx(e.tree), chain.BlobCID([]byte("unknown"))); chain.CodeOf(err) != chain.ErrNotFound.Code {
		t.Fatalf("RequireBlob of an unregistered CID: %v", err)
	}
	q, err := e.app.Query(e.tree, "core", "blob/"+cid, nil)
	if err != nil || q.(chain.BlobRecord) != want {
		t.Fatalf("blob query %+v %v", q, err)
	}
}

func TestBadCIDs(t *testing.T) {
	e := defaultEnv(t)
	good := chain.BlobCID([]byte("content"))
	bad := map[string]string{
		"empty":                 "",
		"garbage":               "not-a-cid",
		"cidv0":                 "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG",
		"dag-cbor codec":        "bafyreihnoabliopjvscf6irvpwbcxlauirzq7pnwafwt5skdekl3t3e7om",
		"sha2-512 multihash":    "bafkrgqhhyivzstcz3hhswshfjgy6ertgmnqeleynhwt4dlfsthi4hn7zgh4uvlsb5xncykzapi3ocd4lzogukir6ksdy6wzrnz6ohnv4aglcs",
		"identity multihash":    "bafkqaddimvwgy3zanb2gk3tvnzxa",
		"base58btc form":        "zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA",
		"upper-case base32":     strings.ToUpper(good),
		"too long":              "b" + strings.Repeat("a", 200),
		"trailing character":    good + "a",
		"truncated":             good[:len(good)-1],
		"leading space":         " " + good,
		"control character":     good + "\n",
		"invalid utf-8":         good[:10] + "\xff",
		"valid cid, wrong case": "B" + good[1:],
	}
	for name, c := range bad {
		t.Run(name, func(t *testing.T) {
			if _, err := chain.ParseBlobCID(c); err == nil {
				t.Fatalf("ParseBlobCID(%q) accepted", c)
			}
			want := chain.ErrInvalidRequest
			if !strings.HasPrefix(name, "invalid utf-8") {
				r := e.mustReject(t, e.tx("alice", 10, &chain.MsgRegisterBlob{CID: c, Size: 1}), want)
				if !strings.Contains(r.Log, "blob/register") {
					t.Errorf("log %q does not name the message type", r.Log)
				}
			} else {
				// Invalid UTF-8 cannot travel in a CBOR text string at all.
				e.mustReject(t, e.tx("alice", 10, &chain.MsgRegisterBlob{CID: c, Size: 1}), chain.ErrDecode)
			}
		})
	}
	if _, err := chain.ParseBlobCID(good); err != nil {
		t.Fatal(err)
	}
	// A UnixFS root (what `ipfs add --cid-version 1 --raw-leaves` prints for
	// a file over one chunk) is a blob CID too, but not a raw one.
	root := "bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"
	if _, err := chain.ParseBlobCID(root); err != nil {
		t.Fatalf("dag-pb root refused: %v", err)
	}
	if _, err := chain.ParseRawBlobCID(root); err == nil {
		t.Fatal("ParseRawBlobCID accepted a dag-pb root")
	}
	if _, err := chain.ParseRawBlobCID(good); err != nil {
		t.Fatal(err)
	}
	e.applyOK(e.tx("alice", 10, &chain.MsgRegisterBlob{CID: root, Size: 300}))
}

func TestQueries(t *testing.T) {
	e := newEnv(t, stakeParams(5), account{"alice", 1000})
	e.applyOK(e.tx("alice", 10, &chain.MsgBond{Pool: "validator", Amount: 100}))
	q := func(path string) any {
		t.Helper()
		v, err := e.app.Query(e.tree, "core", path, nil)
		if err != nil {
			t.Fatalf("query %s: %v", path, err)
		}
		return v
	}
	if s := q("supply").(map[string]uint64)["supply"]; s != 1000 {
		t.Fatalf("supply %d", s)
	}
	if p := q("params").(chain.Params); p != stakeParams(5) {
		t.Fatalf("params %+v", p)
	}
	if st := q("pool/validator").([]chain.Stake); len(st) != 1 || st[0].Amount != 100 {
		t.Fatalf("pool %+v", st)
	}
	for _, path := range []string{"nope", "escrow/x", "blob/x", ""} {
		if _, err := e.app.Query(e.tree, "core", path, nil); chain.CodeOf(err) != chain.ErrNotFound.Code {
			t.Errorf("query %q: %v", path, err)
		}
	}
	if _, err := e.app.Query(e.tree, "nodomain", "supply", nil); chain.CodeOf(err) != chain.ErrNotFound.Code {
		t.Errorf("unknown domain: %v", err)
	}
	info := chain.Account(e.tree, addrOf("alice"))
	if info.Balance != 890 || info.Sequence != 1 || len(info.Stakes) != 1 || info.Address != addrOf("alice") {
		t.Fatalf("account %+v", info)
	}
	if _, err := json.Marshal(info); err != nil {
		t.Fatal(err)
	}
}

func TestGenesis(t *testing.T) {
	app := chain.NewApp(testChainID)
	tree, err := store.OpenTree("")
	if err != nil {
		t.Fatal(err)
	}
	defer tree.Close()
	for name, p := range map[string]chain.Params{
		"zero max tx bytes":       {MaxTxBytes: 0, MaxBlobBytes: 1},
		"negative unbonding":      {MaxTxBytes: 1, UnbondingBlocks: -1, MaxBlobBytes: 1},
		"zero max blob bytes":     {MaxTxBytes: 1},
		"negative max tx bytes":   {MaxTxBytes: -5, MaxBlobBytes: 1},
		"all zero (missing JSON)": {},
	} {
		err := app.InitGenesis(chain.NewContext(store.NewCache(tree), chain.Block{}, p), chain.Genesis{Params: p})
		if err == nil {
			t.Errorf("%s: genesis accepted", name)
		}
	}
	g := chain.Genesis{
		Params:   stakeParams(3),
		Accounts: []chain.GenesisAccount{{Address: addrOf("alice"), Balance: 1000}, {Address: addrOf("bob"), Balance: 0}},
		Stakes:   []chain.GenesisStake{{Address: addrOf("alice"), Pool: "validator", Amount: 600}},
	}
	// Genesis goes through JSON in the node.
	js, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	var back chain.Genesis
	if err := json.Unmarshal(js, &back); err != nil {
		t.Fatal(err)
	}
	if err := app.InitGenesis(chain.NewContext(tree, chain.Block{Height: 1}, back.Params), back); err != nil {
		t.Fatal(err)
	}
	ctx := chain.NewContext(tree, chain.Block{Height: 1}, back.Params)
	if chain.Balance(tree, addrOf("alice")) != 400 || chain.Bonded(ctx, addrOf("alice"), "validator") != 600 || chain.Supply(tree) != 1000 {
		t.Fatal("genesis state wrong")
	}
	if chain.LoadParams(tree) != stakeParams(3) {
		t.Fatal("params not stored")
	}
	if err := chain.CheckInvariants(tree); err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string]chain.Genesis{
		"stake more than balance": {Params: g.Params, Accounts: g.Accounts[:1], Stakes: []chain.GenesisStake{{Address: addrOf("alice"), Pool: "v", Amount: 1001}}},
		"stake in invalid pool":   {Params: g.Params, Accounts: g.Accounts[:1], Stakes: []chain.GenesisStake{{Address: addrOf("alice"), Pool: "V!", Amount: 1}}},
		"zero stake":              {Params: g.Params, Accounts: g.Accounts[:1], Stakes: []chain.GenesisStake{{Address: addrOf("alice"), Pool: "v", Amount: 0}}},
	} {
		if err := app.InitGenesis(chain.NewContext(store.NewMemory(), chain.Block{Height: 1}, bad.Params), bad); err == nil {
			t.Errorf("%s: genesis accepted", name)
		}
	}
}

func TestAddress(t *testing.T) {
	a := addrOf("alice")
	s := a.String()
	if !strings.HasPrefix(s, chain.AddressPrefix+"1") {
		t.Fatalf("address %s", s)
	}
	back, err := chain.ParseAddress(s)
	if err != nil || back != a {
		t.Fatalf("round trip %v %v", back, err)
	}
	js, err := json.Marshal(struct{ A chain.Address }{a})
	if err != nil || !strings.Contains(string(js), s) {
		t.Fatalf("json %s %v", js, err)
	}
	var dec struct{ A chain.Address }
	if err := json.Unmarshal(js, &dec); err != nil || dec.A != a {
		t.Fatalf("json back %v %v", dec.A, err)
	}
	for _, bad := range []string{"", "tenun", s[:len(s)-1], "cosmos1qyqszqgpqyqszqgpqyqszqgpqyqszqgpjnp7du", s + "q", strings.ToUpper(s[:6]) + s[6:]} {
		if _, err := chain.ParseAddress(bad); err == nil {
			t.Errorf("ParseAddress(%q) accepted", bad)
		}
	}
	if chain.ModuleAddress("x") == chain.ModuleAddress("y") || !(chain.Address{}).IsZero() || a.IsZero() {
		t.Fatal("module addresses")
	}
	if !(chain.Address{0}).Less(chain.Address{1}) || (chain.Address{1}).Less(chain.Address{1}) {
		t.Fatal("Less")
	}
}

func TestMulDiv(t *testing.T) {
	cases := []struct{ a, b, c, want uint64 }{
		{10, 3, 4, 7},
		{math.MaxUint64, math.MaxUint64, math.MaxUint64, math.MaxUint64},
		{math.MaxUint64, 2, 4, math.MaxUint64 / 2},
		{0, 5, 1, 0},
	}
	for _, c := range cases {
		if got := chain.MulDiv(c.a, c.b, c.c); got != c.want {
			t.Errorf("MulDiv(%d,%d,%d) = %d, want %d", c.a, c.b, c.c, got, c.want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Fatal("MulDiv overflow did not panic")
		}
	}()
	chain.MulDiv(math.MaxUint64, 2, 1)
}

func TestBlockRand(t *testing.T) {
	b := chain.Block{Height: 3}
	b.Seed[0] = 1
	if b.Rand("x", 1) != b.Rand("x", 1) {
		t.Fatal("not deterministic")
	}
	if b.Rand("x", 1) == b.Rand("x", 2) || b.Rand("x", 1) == b.Rand("y", 1) {
		t.Fatal("purpose or counter ignored")
	}
	c := b
	c.Seed[0] = 2
	if b.Rand("x", 1) == c.Rand("x", 1) {
		t.Fatal("seed ignored")
	}
}

func TestCodec(t *testing.T) {
	type s struct {
		A uint64 `cbor:"1,keyasint"`
		B string `cbor:"2,keyasint,omitempty"`
	}
	b := chain.Marshal(s{A: 1})
	var out s
	if err := chain.Unmarshal(b, &out); err != nil || out.A != 1 {
		t.Fatal(out, err)
	}
	for name, enc := range map[string][]byte{
		"non-shortest": cborMap(1, raw{0x18, 1}),
		"empty string": cborMap(1, 1, 2, ""),
		"unsorted":     cborMap(2, "x", 1, 1),
		"unknown key":  cborMap(1, 1, 3, 1),
		"trailing":     append(cborMap(1, 1), 0),
	} {
		if err := chain.Unmarshal(enc, &out); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if chain.CodeOf(nil) != 0 || chain.CodeOf(errString("x")) != chain.ErrInternal.Code {
		t.Fatal("CodeOf")
	}
	if got := chain.Wrap(chain.ErrFee, "need %d", 5).Error(); got != "fee too low: need 5" {
		t.Fatal(got)
	}
}

type errString string

func (e errString) Error() string { return string(e) }

// Isolated keeps a step's writes and events when it succeeds and drops
// both when it fails, leaving the rest of the context as it was.
func TestContextIsolated(t *testing.T) {
	ctx := chain.NewContext(store.NewMemory(), chain.Block{Height: 3}, chain.DefaultParams())
	ctx.Emit("before")
	ok := ctx.Isolated(func(sub *chain.Context) error {
		sub.KV.Set([]byte("kept"), []byte{1})
		sub.Emit("kept", "k", "v")
		return nil
	})
	bad := ctx.Isolated(func(sub *chain.Context) error {
		sub.KV.Set([]byte("dropped"), []byte{1})
		sub.Emit("dropped")
		return chain.Wrap(chain.ErrConflict, "step fails")
	})
	if ok != nil || bad == nil {
		t.Fatalf("errors %v, %v; want nil, the step's", ok, bad)
	}
	if ctx.KV.Get([]byte("kept")) == nil || ctx.KV.Get([]byte("dropped")) != nil {
		t.Fatal("the successful step's write is missing or the failed step's write stayed")
	}
	var types []string
	for _, e := range ctx.Events() {
		types = append(types, e.Type)
	}
	if strings.Join(types, ",") != "before,kept" {
		t.Fatalf("events %v; want before,kept", types)
	}
}

// BIP-173/350: version-0 data is bech32 only; the same bytes under a bech32m
// checksum are a second spelling of the account and must be refused.
func TestAddressRefusesBech32m(t *testing.T) {
	a := addrOf("alice")
	conv, err := bech32.ConvertBits(a[:], 8, 5, true)
	if err != nil {
		t.Fatal(err)
	}
	m, err := bech32.EncodeM(chain.AddressPrefix, conv)
	if err != nil {
		t.Fatal(err)
	}
	if m == a.String() {
		t.Fatal("bech32m spelling equals the bech32 one")
	}
	if got, err := chain.ParseAddress(m); err == nil {
		t.Fatalf("bech32m spelling %s accepted as %s", m, got)
	}
	var dec struct{ A chain.Address }
	if err := json.Unmarshal([]byte(`{"A":"`+m+`"}`), &dec); err == nil {
		t.Fatal("bech32m spelling accepted in JSON")
	}
}
