package chain_test

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// Shared test fixtures: named accounts with deterministic keys, a chain over
// an in-memory IAVL tree, and the assertion that a rejected transaction
// leaves the state exactly as it was.

const testChainID = "tenun-test-1"

func keyOf(name string) ed25519.PrivKey {
	return ed25519.GenPrivKeyFromSecret([]byte("tenun-test/" + name))
}

func addrOf(name string) chain.Address {
	return chain.AddressFromPubKey(keyOf(name).PubKey().Bytes())
}

type account struct {
	name    string
	balance uint64
}

type testEnv struct {
	t      testing.TB
	app    *chain.App
	tree   *store.Tree
	params chain.Params
	height int64 // last applied block
}

// newEnv writes a genesis with the given accounts into a fresh in-memory tree.
func newEnv(t testing.TB, params chain.Params, accounts ...account) *testEnv {
	t.Helper()
	tree, err := store.OpenTree("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tree.Close() })
	e := &testEnv{t: t, app: chain.NewApp(testChainID), tree: tree, params: params}
	g := chain.Genesis{Params: params}
	for _, a := range accounts {
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: addrOf(a.name), Balance: a.balance})
	}
	ctx := chain.NewContext(tree, chain.Block{Height: 1, ChainID: testChainID}, params)
	if err := e.app.InitGenesis(ctx, g); err != nil {
		t.Fatalf("genesis: %v", err)
	}
	e.mustInvariants()
	return e
}

func defaultEnv(t testing.TB) *testEnv {
	return newEnv(t, chain.DefaultParams(), account{"alice", 1000}, account{"bob", 500}, account{"carol", 0})
}

func (e *testEnv) blockAt(h int64) chain.Block {
	b := chain.Block{Height: h, Time: 1_700_000_000 + h*5, ChainID: testChainID}
	b.Seed[0], b.Seed[1] = byte(h>>8), byte(h)
	return b
}

func (e *testEnv) next() chain.Block { return e.blockAt(e.height + 1) }

// ctx is a context over the tree at the next block, for calling domain
// functions (Slash, Lock, ...) directly.
func (e *testEnv) ctx(kv store.KV) *chain.Context {
	return chain.NewContext(kv, e.next(), chain.LoadParams(e.tree))
}

// apply runs a block of transactions, checks the supply invariant and commits.
func (e *testEnv) apply(txs ...[]byte) chain.BlockResult {
	e.t.Helper()
	e.height++
	res := e.app.ApplyBlock(e.tree, e.blockAt(e.height), txs, nil)
	e.mustInvariants()
	if _, _, err := e.tree.Commit(); err != nil {
		e.t.Fatal(err)
	}
	return res
}

// applyOK runs a block and fails the test unless every transaction succeeded.
func (e *testEnv) applyOK(txs ...[]byte) chain.BlockResult {
	e.t.Helper()
	res := e.apply(txs...)
	for i, r := range res.Txs {
		if r.Code != 0 {
			e.t.Fatalf("block %d tx %d: code %d: %s", e.height, i, r.Code, r.Log)
		}
	}
	return res
}

func (e *testEnv) mustInvariants() {
	e.t.Helper()
	if err := chain.CheckInvariants(e.tree); err != nil {
		e.t.Fatal(err)
	}
}

func (e *testEnv) seq(name string) uint64 { return chain.Sequence(e.tree, addrOf(name)) }

func (e *testEnv) balance(name string) uint64 { return chain.Balance(e.tree, addrOf(name)) }

// tx signs msg from name with the account's next sequence.
func (e *testEnv) tx(name string, fee uint64, msg chain.Msg) []byte {
	return signTx(e.t, name, testChainID, e.seq(name), fee, msg, "")
}

func signTx(t testing.TB, name, chainID string, seq, fee uint64, msg chain.Msg, memo string) []byte {
	t.Helper()
	b, err := chain.SignTx(keyOf(name), chainID, seq, fee, msg, memo)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// signBody signs an arbitrary body (whose message value may be malformed) as name.
func signBody(t testing.TB, name string, body chain.TxBody) []byte {
	t.Helper()
	sig, err := keyOf(name).Sign(chain.SignBytes(body))
	if err != nil {
		t.Fatal(err)
	}
	return chain.Marshal(chain.Tx{Body: body, PubKey: keyOf(name).PubKey().Bytes(), Signature: sig})
}

// kvDump is every key and value in a store, in order.
func kvDump(kv store.KV) string {
	var b strings.Builder
	kv.Iterate(nil, func(k, v []byte) bool {
		b.WriteString(string(k))
		b.WriteByte('=')
		b.WriteString(string(v))
		b.WriteByte('\n')
		return true
	})
	return b.String()
}

// checkLog asserts that a rejection log names the error and is readable
// text: valid UTF-8, printable, of reasonable length.
func checkLog(t testing.TB, log string, want *chain.Error) {
	t.Helper()
	if !strings.Contains(log, want.Name) {
		t.Errorf("log %q does not name the error %q", log, want.Name)
	}
	if !utf8.ValidString(log) || len(log) > 4096 {
		t.Errorf("log is not readable text (%d bytes): %q", len(log), log)
	}
	for _, r := range log {
		if !unicode.IsPrint(r) {
			t.Errorf("log has an unprintable character %U: %q", r, log)
			break
		}
	}
}

// mustReject checks that txBytes is rejected with code want both by CheckTx
// and inside a block, and that neither path changes the state: the working
// hash and a full dump of the store are compared before and after. The
// block is applied at the last applied height, whose end-block work (paying
// matured unbondings) is already done, so the transaction is the only thing
// that could write.
func (e *testEnv) mustReject(t testing.TB, txBytes []byte, want *chain.Error) chain.TxResult {
	t.Helper()
	hash, dump := e.tree.WorkingHash(), kvDump(e.tree)
	unchanged := func(path string) {
		t.Helper()
		if h := e.tree.WorkingHash(); !bytes.Equal(h, hash) {
			t.Fatalf("%s: rejected transaction changed the app hash %x -> %x", path, hash, h)
		}
		if d := kvDump(e.tree); d != dump {
			t.Fatalf("%s: rejected transaction changed the state:\nbefore:\n%q\nafter:\n%q", path, dump, d)
		}
	}
	ct := e.app.CheckTx(e.tree, e.next(), chain.LoadParams(e.tree), txBytes, nil)
	if ct.Code != want.Code {
		t.Fatalf("CheckTx: code %d (%s), want %d (%s)", ct.Code, ct.Log, want.Code, want.Name)
	}
	checkLog(t, ct.Log, want)
	unchanged("CheckTx")
	res := e.app.ApplyBlock(e.tree, e.blockAt(e.height), [][]byte{txBytes}, nil)
	r := res.Txs[0]
	if r.Code != want.Code {
		t.Fatalf("ApplyBlock: code %d (%s), want %d (%s)", r.Code, r.Log, want.Code, want.Name)
	}
	if r.Log != ct.Log {
		t.Errorf("ApplyBlock log %q differs from CheckTx log %q", r.Log, ct.Log)
	}
	if len(r.Events) != 0 {
		t.Errorf("rejected transaction emitted events: %v", r.Events)
	}
	unchanged("ApplyBlock")
	e.mustInvariants()
	return r
}

// cbor helpers for hand-made (often malformed) encodings.

// raw is already-encoded CBOR, written as is.
type raw []byte

func cborHead(major byte, n uint64) []byte {
	switch {
	case n < 24:
		return []byte{major<<5 | byte(n)}
	case n < 1<<8:
		return []byte{major<<5 | 24, byte(n)}
	case n < 1<<16:
		return []byte{major<<5 | 25, byte(n >> 8), byte(n)}
	default:
		return []byte{major<<5 | 26, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
	}
}

func cborItem(x any) []byte {
	if r, ok := x.(raw); ok {
		return r
	}
	return chain.Marshal(x)
}

// cborMap encodes the key, value pairs in the order given (so possibly
// unsorted or duplicated).
func cborMap(kvs ...any) []byte {
	out := cborHead(5, uint64(len(kvs)/2))
	for _, x := range kvs {
		out = append(out, cborItem(x)...)
	}
	return out
}
