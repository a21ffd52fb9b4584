package chain_test

import (
	"bytes"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// msgUnknown is a well-formed message of a type no domain registered.
type msgUnknown struct {
	X uint64 `cbor:"1,keyasint"`
}

func (*msgUnknown) Type() string         { return "nope/do" }
func (*msgUnknown) ValidateBasic() error { return nil }

func send(to string, amount uint64) *chain.MsgSend {
	return &chain.MsgSend{To: addrOf(to), Amount: amount}
}

func TestTransfer(t *testing.T) {
	e := defaultEnv(t)
	res := e.applyOK(e.tx("alice", 10, send("bob", 100)))
	if got := e.balance("alice"); got != 890 {
		t.Errorf("alice = %d, want 890", got)
	}
	if got := e.balance("bob"); got != 600 {
		t.Errorf("bob = %d, want 600", got)
	}
	if got := chain.Balance(e.tree, chain.FeeCollector); got != 10 {
		t.Errorf("fee collector = %d, want 10", got)
	}
	if e.seq("alice") != 1 || e.seq("bob") != 0 {
		t.Errorf("sequences alice %d bob %d, want 1 0", e.seq("alice"), e.seq("bob"))
	}
	if chain.Supply(e.tree) != 1500 {
		t.Errorf("supply = %d, want 1500", chain.Supply(e.tree))
	}
	r := res.Txs[0]
	if r.Type != "bank/send" || r.Sender != addrOf("alice").String() || r.Log != "ok" {
		t.Errorf("result %+v", r)
	}
	if len(r.Events) != 2 || r.Events[0].Type != "tx" || r.Events[1].Type != "transfer" {
		t.Fatalf("events %+v", r.Events)
	}
	want := []chain.Attribute{{"sender", addrOf("alice").String()}, {"recipient", addrOf("bob").String()}, {"amount", "100"}}
	for i, a := range want {
		if r.Events[1].Attrs[i] != a {
			t.Errorf("transfer attr %d = %v, want %v", i, r.Events[1].Attrs[i], a)
		}
	}
	// Several transactions of one sender in one block, in sequence order,
	// and all of a sender's funds (amount + fee) may be spent.
	e.applyOK(
		signTx(t, "bob", testChainID, 0, 10, send("carol", 100), ""),
		signTx(t, "bob", testChainID, 1, 10, send("carol", 100), "second"),
		signTx(t, "bob", testChainID, 2, 10, send("carol", 370), ""),
	)
	if e.balance("bob") != 0 || e.balance("carol") != 570 || e.seq("bob") != 3 {
		t.Errorf("bob %d carol %d seq %d", e.balance("bob"), e.balance("carol"), e.seq("bob"))
	}
}

// CheckTx keeps a successful transaction's writes in the check state, so
// the sender's next sequence is admitted and a replay is not.
func TestCheckTxKeepsWrites(t *testing.T) {
	e := defaultEnv(t)
	check := store.NewCache(e.tree)
	tx0 := signTx(t, "alice", testChainID, 0, 10, send("bob", 1), "")
	tx1 := signTx(t, "alice", testChainID, 1, 10, send("bob", 1), "")
	if r := e.app.CheckTx(check, e.next(), chain.LoadParams(check), tx0, nil); r.Code != 0 {
		t.Fatalf("tx0: %s", r.Log)
	}
	if r := e.app.CheckTx(check, e.next(), chain.LoadParams(check), tx0, nil); r.Code != chain.ErrSequence.Code {
		t.Fatalf("replayed tx0 in check state: code %d %s", r.Code, r.Log)
	}
	if r := e.app.CheckTx(check, e.next(), chain.LoadParams(check), tx1, nil); r.Code != 0 {
		t.Fatalf("tx1: %s", r.Log)
	}
	if chain.Balance(check, addrOf("alice")) != 978 || e.balance("alice") != 1000 {
		t.Fatal("check state or committed state wrong")
	}
}

func TestRejections(t *testing.T) {
	longMemo := strings.Repeat("m", 256)
	cases := []struct {
		name string
		tx   func(e *testEnv) []byte
		want *chain.Error
	}{
		{"wrong chain id", func(e *testEnv) []byte {
			return signTx(t, "alice", "other-chain", 0, 10, send("bob", 1), "")
		}, chain.ErrChainID},
		{"skipped sequence", func(e *testEnv) []byte {
			return signTx(t, "alice", testChainID, 1, 10, send("bob", 1), "")
		}, chain.ErrSequence},
		{"far future sequence", func(e *testEnv) []byte {
			return signTx(t, "alice", testChainID, math.MaxUint64, 10, send("bob", 1), "")
		}, chain.ErrSequence},
		{"insufficient funds for amount", func(e *testEnv) []byte {
			return e.tx("alice", 10, send("bob", 1001))
		}, chain.ErrInsufficientFunds},
		{"insufficient funds for amount plus fee", func(e *testEnv) []byte {
			return e.tx("alice", 10, send("bob", 991))
		}, chain.ErrInsufficientFunds},
		{"insufficient funds for fee", func(e *testEnv) []byte {
			return e.tx("carol", 10, send("bob", 1))
		}, chain.ErrInsufficientFunds},
		{"insufficient funds for a send to oneself", func(e *testEnv) []byte {
			return e.tx("alice", 10, send("alice", 5000))
		}, chain.ErrInsufficientFunds},
		{"fee too low", func(e *testEnv) []byte {
			return e.tx("alice", 9, send("bob", 1))
		}, chain.ErrFee},
		{"zero fee", func(e *testEnv) []byte {
			return e.tx("alice", 0, send("bob", 1))
		}, chain.ErrFee},
		{"unknown message type", func(e *testEnv) []byte {
			return e.tx("alice", 10, &msgUnknown{X: 1})
		}, chain.ErrUnknownMsg},
		{"send zero", func(e *testEnv) []byte {
			return e.tx("alice", 10, send("bob", 0))
		}, chain.ErrInvalidRequest},
		{"send to the zero address", func(e *testEnv) []byte {
			return e.tx("alice", 10, &chain.MsgSend{Amount: 1})
		}, chain.ErrInvalidRequest},
		{"bond zero", func(e *testEnv) []byte {
			return e.tx("alice", 10, &chain.MsgBond{Pool: "validator"})
		}, chain.ErrInvalidRequest},
		{"unbond zero", func(e *testEnv) []byte {
			return e.tx("alice", 10, &chain.MsgUnbond{Pool: "validator"})
		}, chain.ErrInvalidRequest},
		{"bond more than balance", func(e *testEnv) []byte {
			return e.tx("alice", 10, &chain.MsgBond{Pool: "validator", Amount: 991})
		}, chain.ErrInsufficientFunds},
		{"unbond with nothing bonded", func(e *testEnv) []byte {
			return e.tx("alice", 10, &chain.MsgUnbond{Pool: "validator", Amount: 1})
		}, chain.ErrInsufficientFunds},
		{"memo too long", func(e *testEnv) []byte {
			return signTx(t, "alice", testChainID, 0, 10, send("bob", 1), longMemo+"x")
		}, chain.ErrDecode},
		{"chain id too long", func(e *testEnv) []byte {
			return signTx(t, "alice", strings.Repeat("c", 65), 0, 10, send("bob", 1), "")
		}, chain.ErrDecode},
		{"empty chain id", func(e *testEnv) []byte {
			return signTx(t, "alice", "", 0, 10, send("bob", 1), "")
		}, chain.ErrDecode},
	}
	for _, pool := range []string{"", "Validator", "a b", "pool!", "é", strings.Repeat("p", 49), "val\x00"} {
		pool := pool
		cases = append(cases,
			struct {
				name string
				tx   func(e *testEnv) []byte
				want *chain.Error
			}{"bond to invalid pool " + pool, func(e *testEnv) []byte {
				return e.tx("alice", 10, &chain.MsgBond{Pool: pool, Amount: 1})
			}, chain.ErrInvalidRequest},
			struct {
				name string
				tx   func(e *testEnv) []byte
				want *chain.Error
			}{"unbond from invalid pool " + pool, func(e *testEnv) []byte {
				return e.tx("alice", 10, &chain.MsgUnbond{Pool: pool, Amount: 1})
			}, chain.ErrInvalidRequest},
		)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := defaultEnv(t)
			// Some state beyond genesis, including a bond and an unbonding.
			e.applyOK(e.tx("bob", 10, &chain.MsgBond{Pool: "label", Amount: 100}))
			e.applyOK(e.tx("bob", 10, &chain.MsgUnbond{Pool: "label", Amount: 40}))
			e.mustReject(t, c.tx(e), c.want)
		})
	}
}

// A sequence is used once: the same bytes are rejected the second time.
func TestReplayedSequence(t *testing.T) {
	e := defaultEnv(t)
	tx := e.tx("alice", 10, send("bob", 100))
	e.applyOK(tx)
	r := e.mustReject(t, tx, chain.ErrSequence)
	if !strings.Contains(r.Log, "expects sequence 1, transaction has 0") {
		t.Errorf("log %q", r.Log)
	}
	// Within one block, the replay of a transaction is rejected too.
	tx1 := e.tx("alice", 10, send("bob", 1))
	res := e.apply(tx1, tx1)
	if res.Txs[0].Code != 0 || res.Txs[1].Code != chain.ErrSequence.Code {
		t.Fatalf("codes %d %d", res.Txs[0].Code, res.Txs[1].Code)
	}
}

func TestBadSignature(t *testing.T) {
	e := defaultEnv(t)
	good := e.tx("alice", 10, send("bob", 1))
	var tx chain.Tx
	if err := chain.Unmarshal(good, &tx); err != nil {
		t.Fatal(err)
	}
	flip := func(b []byte, i int) []byte { c := append([]byte{}, b...); c[i] ^= 1; return c }
	variants := map[string]chain.Tx{}
	v := tx
	v.Signature = flip(tx.Signature, 0)
	variants["flipped signature bit"] = v
	v = tx
	v.Signature = flip(tx.Signature, 63)
	variants["flipped high signature bit"] = v
	v = tx
	v.Signature = make([]byte, 64)
	variants["zero signature"] = v
	v = tx
	v.Body.Fee = 11 // body changed after signing
	variants["altered body"] = v
	v = tx
	v.PubKey = keyOf("mallory").PubKey().Bytes() // signature by alice, key of mallory
	variants["other public key"] = v
	v = tx
	v.PubKey = make([]byte, 32)
	variants["zero public key"] = v
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			e.mustReject(t, chain.Marshal(v), chain.ErrSignature)
		})
	}
}

// Blocks of four or more transactions verify signatures in a batch; a bad
// signature in a batch must be rejected exactly as when verified alone, and
// must not affect its neighbours.
func TestBatchSignatureVerification(t *testing.T) {
	e := newEnv(t, chain.DefaultParams(), account{"a", 1000}, account{"b", 1000}, account{"c", 1000}, account{"d", 1000}, account{"e", 1000})
	good := func(name string) []byte { return e.tx(name, 10, send("carol", 1)) }
	bad := func(name string) []byte {
		var tx chain.Tx
		if err := chain.Unmarshal(good(name), &tx); err != nil {
			t.Fatal(err)
		}
		tx.Signature[5] ^= 0x40
		return chain.Marshal(tx)
	}
	for _, n := range []int{3, 4, 5} {
		names := []string{"a", "b", "c", "d", "e"}[:n]
		for badAt := 0; badAt < n; badAt++ {
			hashBefore := e.tree.WorkingHash()
			var txs [][]byte
			for i, name := range names {
				if i == badAt {
					txs = append(txs, bad(name))
				} else {
					txs = append(txs, good(name))
				}
			}
			// Plus a malformed transaction that never reaches verification.
			txs = append(txs, []byte{0xa0})
			res := e.apply(txs...)
			for i, r := range res.Txs {
				want := uint32(0)
				switch {
				case i == len(names):
					want = chain.ErrDecode.Code
				case i == badAt:
					want = chain.ErrSignature.Code
				}
				if r.Code != want {
					t.Fatalf("%d txs, bad at %d: tx %d code %d (%s), want %d", n, badAt, i, r.Code, r.Log, want)
				}
			}
			if bytes.Equal(hashBefore, e.tree.WorkingHash()) {
				t.Fatal("good transactions changed nothing")
			}
		}
	}
	// All bad.
	txs := [][]byte{bad("a"), bad("b"), bad("c"), bad("d"), bad("e")}
	h := e.tree.WorkingHash()
	for _, r := range e.apply(txs...).Txs {
		if r.Code != chain.ErrSignature.Code {
			t.Fatalf("code %d %s", r.Code, r.Log)
		}
	}
	if !bytes.Equal(h, e.tree.WorkingHash()) {
		t.Fatal("a block of bad signatures changed the state")
	}
}

func TestOversizedTransaction(t *testing.T) {
	p := chain.DefaultParams()
	p.MaxTxBytes = 300
	e := newEnv(t, p, account{"alice", 1000}, account{"bob", 0})
	// Find the memo length that makes the transaction exactly the limit.
	var memo string
	var atLimit []byte
	for n := 0; n < 256 && len(atLimit) != p.MaxTxBytes; n++ {
		memo = strings.Repeat("x", n)
		atLimit = signTx(t, "alice", testChainID, 0, 10, send("bob", 1), memo)
	}
	if len(atLimit) != p.MaxTxBytes {
		t.Fatalf("test setup: no memo makes the transaction %d bytes", p.MaxTxBytes)
	}
	over := signTx(t, "alice", testChainID, 0, 10, send("bob", 1), memo+"y")
	r := e.mustReject(t, over, chain.ErrTxTooLarge)
	if !strings.Contains(r.Log, "301 bytes, limit 300") {
		t.Errorf("log %q", r.Log)
	}
	// Huge input is rejected by size before any decoding.
	e.mustReject(t, bytes.Repeat([]byte{0xff}, 1<<20), chain.ErrTxTooLarge)
	e.applyOK(atLimit)
}

// TestMalformedBytes feeds hand-made encodings: every one is rejected as
// malformed and changes nothing.
func TestMalformedBytes(t *testing.T) {
	e := defaultEnv(t)
	good := e.tx("alice", 10, send("bob", 1))
	var tx chain.Tx
	if err := chain.Unmarshal(good, &tx); err != nil {
		t.Fatal(err)
	}
	body := chain.Marshal(tx.Body)
	anyMsg := chain.Marshal(tx.Body.Msg)
	pub, sig := tx.PubKey, tx.Signature
	// The transaction rebuilt by hand must be the canonical one, or the
	// variants below would test nothing.
	if rebuilt := cborMap(1, raw(body), 2, pub, 3, sig); !bytes.Equal(rebuilt, good) {
		t.Fatalf("hand-built encoding differs from the canonical one:\n%x\n%x", rebuilt, good)
	}
	bodyWith := func(kvs ...any) []byte { return cborMap(1, raw(cborMap(kvs...)), 2, pub, 3, sig) }
	cases := map[string][]byte{
		"empty":                      {},
		"nil":                        nil,
		"one byte":                   {0x00},
		"empty map":                  {0xa0},
		"a string":                   chain.Marshal("hello"),
		"an array":                   chain.Marshal([]int{1, 2, 3}),
		"truncated":                  good[:len(good)-1],
		"trailing zero byte":         append(append([]byte{}, good...), 0x00),
		"trailing transaction":       append(append([]byte{}, good...), good...),
		"unsorted map keys":          cborMap(2, pub, 1, raw(body), 3, sig),
		"duplicate map key":          cborMap(1, raw(body), 2, pub, 3, sig, 3, sig),
		"unknown field":              cborMap(1, raw(body), 2, pub, 3, sig, 4, 0),
		"missing signature":          cborMap(1, raw(body), 2, pub),
		"missing body":               cborMap(2, pub, 3, sig),
		"string keys":                cborMap("1", raw(body), "2", pub, "3", sig),
		"public key 31 bytes":        cborMap(1, raw(body), 2, pub[:31], 3, sig),
		"public key 33 bytes":        cborMap(1, raw(body), 2, append(append([]byte{}, pub...), 0), 3, sig),
		"public key empty":           cborMap(1, raw(body), 2, []byte{}, 3, sig),
		"signature 63 bytes":         cborMap(1, raw(body), 2, pub, 3, sig[:63]),
		"signature 65 bytes":         cborMap(1, raw(body), 2, pub, 3, append(append([]byte{}, sig...), 0)),
		"public key as text":         cborMap(1, raw(body), 2, string(pub), 3, sig),
		"non-shortest map header":    append([]byte{0xb8, 0x03}, good[1:]...),
		"non-shortest fee":           bodyWith(1, testChainID, 2, 0, 3, raw{0x18, 10}, 4, raw(anyMsg)),
		"non-shortest sequence":      bodyWith(1, testChainID, 2, raw{0x19, 0, 0}, 3, 10, 4, raw(anyMsg)),
		"negative sequence":          bodyWith(1, testChainID, 2, -1, 3, 10, 4, raw(anyMsg)),
		"float fee":                  bodyWith(1, testChainID, 2, 0, 3, raw{0xf9, 0x49, 0x00}, 4, raw(anyMsg)),
		"explicit empty memo":        bodyWith(1, testChainID, 2, 0, 3, 10, 4, raw(anyMsg), 5, ""),
		"invalid utf-8 chain id":     bodyWith(1, "tenun\xff", 2, 0, 3, 10, 4, raw(anyMsg)),
		"empty message type":         bodyWith(1, testChainID, 2, 0, 3, 10, 4, raw(cborMap(1, "", 2, raw(tx.Body.Msg.Value)))),
		"message type too long":      bodyWith(1, testChainID, 2, 0, 3, 10, 4, raw(cborMap(1, strings.Repeat("t", 65), 2, raw(tx.Body.Msg.Value)))),
		"message without value":      bodyWith(1, testChainID, 2, 0, 3, 10, 4, raw(cborMap(1, "bank/send"))),
		"indefinite-length map":      append(append([]byte{0xbf}, good[1:]...), 0xff),
		"indefinite-length string":   bodyWith(1, raw{0x7f, 0x61, 'a', 0xff}, 2, 0, 3, 10, 4, raw(anyMsg)),
		"tagged value":               append([]byte{0xc0}, good...),
		"nested too deep":            bytes.Repeat([]byte{0x81}, 100),
		"huge declared array length": {0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			e.mustReject(t, b, chain.ErrDecode)
		})
	}
}

// A transaction whose envelope is canonical and correctly signed but whose
// message value is not: rejected as malformed by the message decoder.
func TestMalformedMessageValue(t *testing.T) {
	e := defaultEnv(t)
	bob := addrOf("bob")
	cases := map[string][]byte{
		"non-shortest amount":  cborMap(1, bob[:], 2, raw{0x19, 0, 100}),
		"unsorted keys":        cborMap(2, 100, 1, bob[:]),
		"unknown field":        cborMap(1, bob[:], 2, 100, 3, 1),
		"address 19 bytes":     cborMap(1, bob[:19], 2, 100),
		"address 21 bytes":     cborMap(1, append(bob[:], 0), 2, 100),
		"negative amount":      cborMap(1, bob[:], 2, -5),
		"amount as text":       cborMap(1, bob[:], 2, "100"),
		"not a map":            chain.Marshal([]any{bob[:], 100}),
		"null":                 {0xf6},
		"trailing bytes":       append(cborMap(1, bob[:], 2, 100), 0),
		"duplicate field":      cborMap(1, bob[:], 2, 100, 2, 100),
		"amount over 64 bits":  cborMap(1, bob[:], 2, raw{0xc2, 0x49, 1, 0, 0, 0, 0, 0, 0, 0, 0}),
		"indefinite map":       append(append([]byte{0xbf}, cborMap(1, bob[:], 2, 100)[1:]...), 0xff),
		"empty string as map":  chain.Marshal(""),
		"not well-formed cbor": {0xa2, 0x01},
	}
	for name, value := range cases {
		t.Run(name, func(t *testing.T) {
			if !wellFormed(value) {
				// A value that is not one well-formed CBOR item cannot even be
				// signed (the encoder refuses it) and fails the envelope.
				pub := keyOf("alice").PubKey().Bytes()
				b := cborMap(1, raw(cborMap(1, testChainID, 2, 0, 3, 10, 4, raw(cborMap(1, "bank/send", 2, raw(value))))), 2, pub, 3, make([]byte, 64))
				e.mustReject(t, b, chain.ErrDecode)
				return
			}
			b := signBody(t, "alice", chain.TxBody{ChainID: testChainID, Fee: 10, Msg: chain.Any{Type: "bank/send", Value: value}})
			_, envErr := chain.DecodeTx(b, 1<<20)
			r := e.mustReject(t, b, chain.ErrDecode)
			if envErr == nil && !strings.Contains(r.Log, "bank/send") {
				t.Errorf("log %q does not name the message type", r.Log)
			}
		})
	}
	// The same shape, canonical, is accepted: the cases differ from it only
	// in the way each names.
	ok := signBody(t, "alice", chain.TxBody{ChainID: testChainID, Fee: 10, Msg: chain.Any{Type: "bank/send", Value: cborMap(1, bob[:], 2, 100)}})
	e.applyOK(ok)
}

// Overflow: balances can never exceed the supply, which fits in 64 bits, so
// the overflow checks guard against corrupt state and are tested on one.
func TestAmountOverflow(t *testing.T) {
	t.Run("genesis mint overflows the supply", func(t *testing.T) {
		tree, err := store.OpenTree("")
		if err != nil {
			t.Fatal(err)
		}
		defer tree.Close()
		empty := tree.WorkingHash()
		app := chain.NewApp(testChainID)
		g := chain.Genesis{Params: chain.DefaultParams(), Accounts: []chain.GenesisAccount{
			{Address: addrOf("alice"), Balance: math.MaxUint64},
			{Address: addrOf("bob"), Balance: 1},
		}}
		// The node writes genesis through a buffer and stops on an error, so
		// a failed genesis leaves no state behind.
		buf := store.NewCache(tree)
		err = app.InitGenesis(chain.NewContext(buf, chain.Block{Height: 1}, g.Params), g)
		if chain.CodeOf(err) != chain.ErrOverflow.Code {
			t.Fatalf("err = %v, want an overflow", err)
		}
		checkLog(t, err.Error(), chain.ErrOverflow)
		if !bytes.Equal(tree.WorkingHash(), empty) {
			t.Fatal("failed genesis wrote to the tree")
		}
		// Exactly the maximum supply is fine.
		g.Accounts[0].Balance = math.MaxUint64 - 1
		if err := app.InitGenesis(chain.NewContext(tree, chain.Block{Height: 1}, g.Params), g); err != nil {
			t.Fatal(err)
		}
		if chain.Supply(tree) != math.MaxUint64 {
			t.Fatal("supply is not the maximum")
		}
		if err := chain.CheckInvariants(tree); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("send overflows the recipient", func(t *testing.T) {
		e := newEnv(t, chain.DefaultParams(), account{"alice", 1000}, account{"bob", 0})
		// Corrupt state: bob holds the maximum (beyond the supply).
		bob := addrOf("bob")
		e.tree.Set(append([]byte("bank/bal/"), bob[:]...), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0})
		if chain.Balance(e.tree, addrOf("bob")) != math.MaxUint64-15 {
			t.Fatal("test setup: balance key layout changed")
		}
		hash, dump := e.tree.WorkingHash(), kvDump(e.tree)
		r := e.app.ApplyBlock(e.tree, e.next(), [][]byte{e.tx("alice", 10, send("bob", 16))}, nil).Txs[0]
		if r.Code != chain.ErrOverflow.Code {
			t.Fatalf("code %d %s", r.Code, r.Log)
		}
		checkLog(t, r.Log, chain.ErrOverflow)
		if !bytes.Equal(hash, e.tree.WorkingHash()) || dump != kvDump(e.tree) {
			t.Fatal("overflowing send changed the state")
		}
		if chain.CheckInvariants(e.tree) == nil {
			t.Fatal("invariant check missed a corrupt balance")
		}
	})
	t.Run("AddU64", func(t *testing.T) {
		if s, err := chain.AddU64(math.MaxUint64-1, 1); err != nil || s != math.MaxUint64 {
			t.Fatal(s, err)
		}
		if _, err := chain.AddU64(math.MaxUint64, 1); chain.CodeOf(err) != chain.ErrOverflow.Code {
			t.Fatal(err)
		}
	})
}

// wellFormed reports whether b is exactly one well-formed CBOR data item.
func wellFormed(b []byte) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	chain.Marshal(chain.Any{Type: "x", Value: b})
	return true
}

// Signatures at the edges of ed25519 (small-order keys, non-canonical
// encodings, S not reduced) get the same verdict whether verified alone
// (CheckTx, blocks of fewer than four) or in a batch (blocks of four or
// more): validators and mempools must never disagree on a signature.
func TestSignatureEdgeCasesBatchMatchesSingle(t *testing.T) {
	e := newEnv(t, chain.DefaultParams(), account{"alice", 1000}, account{"a", 1000}, account{"b", 1000}, account{"c", 1000}, account{"d", 1000})
	good := e.tx("alice", 10, send("bob", 1))
	var tx chain.Tx
	if err := chain.Unmarshal(good, &tx); err != nil {
		t.Fatal(err)
	}
	// L, the order of the base point, little-endian.
	l := new(big.Int).Lsh(big.NewInt(1), 252)
	l.Add(l, mustBig("27742317777372353535851937790883648493"))
	addLE := func(s []byte, n *big.Int) []byte {
		be := make([]byte, 32)
		for i := range s {
			be[31-i] = s[i]
		}
		sum := new(big.Int).Add(new(big.Int).SetBytes(be), n).FillBytes(make([]byte, 32))
		out := make([]byte, 32)
		for i := range out {
			out[i] = sum[31-i]
		}
		return out
	}
	identity := append([]byte{1}, make([]byte, 31)...)
	identityNonCanonical := append([]byte{0xee}, bytes.Repeat([]byte{0xff}, 30)...)
	identityNonCanonical = append(identityNonCanonical, 0x7f)
	withKeySig := func(pub, sig []byte) []byte {
		v := tx
		v.PubKey, v.Signature = pub, sig
		return chain.Marshal(v)
	}
	cases := map[string][]byte{
		"valid":                           good,
		"S plus L (not reduced)":          withKeySig(tx.PubKey, append(append([]byte{}, tx.Signature[:32]...), addLE(tx.Signature[32:], l)...)),
		"small-order key, R identity":     withKeySig(identity, append(append([]byte{}, identity...), make([]byte, 32)...)),
		"non-canonical identity key":      withKeySig(identityNonCanonical, append(append([]byte{}, identity...), make([]byte, 32)...)),
		"non-canonical R":                 withKeySig(identity, append(append([]byte{}, identityNonCanonical...), make([]byte, 32)...)),
		"key not on the curve":            withKeySig(append([]byte{2}, make([]byte, 31)...), tx.Signature),
		"all-ones signature":              withKeySig(tx.PubKey, bytes.Repeat([]byte{0xff}, 64)),
		"valid signature, S high bit set": withKeySig(tx.PubKey, append(append([]byte{}, tx.Signature[:63]...), tx.Signature[63]|0x80)),
	}
	fillers := func() [][]byte {
		var out [][]byte
		for _, n := range []string{"a", "b", "c", "d"} {
			out = append(out, e.tx(n, 10, send("bob", 1)))
		}
		return out
	}
	for name, b := range cases {
		single := e.app.CheckTx(store.NewCache(e.tree), e.next(), chain.LoadParams(e.tree), b, nil).Code
		alone := e.app.ApplyBlock(store.NewCache(e.tree), e.next(), [][]byte{b}, nil).Txs[0].Code
		batch := e.app.ApplyBlock(store.NewCache(e.tree), e.next(), append(fillers(), b), nil).Txs[4].Code
		if single != alone || single != batch {
			t.Errorf("%s: CheckTx code %d, alone in a block %d, in a batch %d", name, single, alone, batch)
		}
		t.Logf("%s: code %d", name, single)
	}
}

func mustBig(s string) *big.Int {
	n, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return n
}
