package chain

import (
	"fmt"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/chain/store"
)

// App is Tenun's state machine: pure rules over a store. It does no I/O of
// its own; the node hands it blocks and a store, and persists what it wrote.
type App struct {
	ChainID string
	router  *Router
}

// NewApp returns the state machine with the core domain and the given
// market domains.
func NewApp(chainID string, domains ...Domain) *App {
	return &App{ChainID: chainID, router: NewRouter(append([]Domain{Core{}}, domains...)...)}
}

// Router exposes message decoding (the API and fuzz targets use it).
func (a *App) Router() *Router { return a.router }

// TxResult is the outcome of one transaction. Code 0 is success; any other
// code means the transaction changed nothing.
type TxResult struct {
	Code    uint32  `json:"code"`
	Log     string  `json:"log"`
	Events  []Event `json:"events,omitempty"`
	Type    string  `json:"type,omitempty"`
	Sender  string  `json:"sender,omitempty"`
	GasUsed int64   `json:"-"`
}

// BlockResult is the outcome of a block.
type BlockResult struct {
	Txs    []TxResult
	Events []Event // end-block events
}

var prefixSequence = []byte("acct/seq/")

// Sequence is the next sequence number a's transaction must carry.
func Sequence(kv store.KV, a Address) uint64 {
	return GetUint64(kv, append(append([]byte{}, prefixSequence...), a[:]...))
}

func setSequence(kv store.KV, a Address, s uint64) {
	SetUint64(kv, append(append([]byte{}, prefixSequence...), a[:]...), s)
}

// verifySignatures checks every decoded transaction's signature at once.
// CometBFT's ed25519 batch verifier gives the same verdict as one-by-one
// verification (both use ZIP-215 rules); its internal random coefficients
// only speed it up and never change a verdict on valid input, so the result
// is deterministic. Transactions marked in done are taken as valid (they
// came with a VerifiedTx for their bytes).
func verifySignatures(txs []*Tx, done []bool) []bool {
	ok := make([]bool, len(txs))
	todo := 0
	for i, tx := range txs {
		if tx == nil {
			continue
		}
		if done[i] {
			ok[i] = true
			continue
		}
		todo++
	}
	if todo < 4 {
		for i, tx := range txs {
			if tx != nil && !ok[i] {
				ok[i] = tx.VerifySignature() == nil
			}
		}
		return ok
	}
	return verifyBatch(txs, ok)
}

// verifyBatch batch-verifies the signatures of the non-nil txs not yet
// marked in ok, marking the valid ones.
func verifyBatch(txs []*Tx, ok []bool) []bool {
	bv := ed25519.NewBatchVerifier()
	idx := make([]int, 0, len(txs))
	for i, tx := range txs {
		if tx == nil || ok[i] {
			continue
		}
		if err := bv.Add(ed25519.PubKey(tx.PubKey), SignBytes(tx.Body), tx.Signature); err != nil {
			continue
		}
		idx = append(idx, i)
	}
	if len(idx) == 0 {
		return ok
	}
	_, valid := bv.Verify()
	for j, i := range idx {
		ok[i] = valid[j]
	}
	return ok
}

// VerifySignatures checks the signatures of txs together (batch
// verification where there are several) and reports each one's verdict,
// the same as tx.VerifySignature()==nil would. Nil entries are false.
func VerifySignatures(txs []*Tx) []bool {
	return verifySignatures(txs, make([]bool, len(txs)))
}

// ApplyBlock runs a block's transactions in order and then the end-block
// steps, writing to kv. Each transaction runs in its own write buffer that is
// applied only if it succeeds. verified, when not nil, has one entry per
// transaction: a VerifiedTx for those bytes (whoever verified them) saves
// decoding and verifying them again; nil entries, and entries for other
// bytes or over the size limit, are decoded and verified here. The result
// is the same either way.
func (a *App) ApplyBlock(kv store.KV, block Block, txs [][]byte, verified []*VerifiedTx) BlockResult {
	params := LoadParams(kv)
	decoded := make([]*Tx, len(txs))
	decodeErr := make([]error, len(txs))
	done := make([]bool, len(txs))
	for i, b := range txs {
		if i < len(verified) && verified[i].usable(b, params.MaxTxBytes) {
			decoded[i], done[i] = verified[i].tx, true
			continue
		}
		decoded[i], decodeErr[i] = DecodeTx(b, params.MaxTxBytes)
	}
	sigOK := verifySignatures(decoded, done)
	// The block's writes collect in one buffer and reach kv once, in key
	// order, at the end: a key many transactions write (the fee collector's
	// balance, a busy sender's sequence) costs one tree update per block,
	// not one per transaction.
	blk := store.NewCache(kv)
	res := BlockResult{Txs: make([]TxResult, len(txs))}
	for i := range txs {
		if decodeErr[i] != nil {
			res.Txs[i] = failed(decodeErr[i])
			continue
		}
		var sigErr error
		if !sigOK[i] {
			sigErr = Wrap(ErrSignature, "signature does not match the body and public key")
		}
		res.Txs[i] = a.deliver(blk, block, params, decoded[i], sigErr)
	}
	res.Events = a.endBlock(blk, block, params)
	blk.Write()
	return res
}

// CheckTx decides whether a transaction may enter the mempool: it runs the
// transaction in full against kv, the node's check state, and keeps its
// writes there on success so that the same sender's next transaction (with
// the next sequence) is checked against them. params are the chain's (the
// node keeps them; they are fixed at genesis). verified, when it is a
// VerifiedTx of exactly txBytes, saves decoding and verifying; otherwise
// (nil, or other bytes) CheckTx decodes and verifies here.
func (a *App) CheckTx(kv store.KV, block Block, params Params, txBytes []byte, verified *VerifiedTx) TxResult {
	if verified.usable(txBytes, params.MaxTxBytes) {
		return a.deliver(kv, block, params, verified.tx, nil)
	}
	tx, err := DecodeTx(txBytes, params.MaxTxBytes)
	if err != nil {
		return failed(err)
	}
	return a.deliver(kv, block, params, tx, tx.VerifySignature())
}

func failed(err error) TxResult { return TxResult{Code: CodeOf(err), Log: err.Error()} }

// deliver runs one decoded transaction; sigErr is the verdict on its
// signature. On any failure nothing is written.
func (a *App) deliver(kv store.KV, block Block, params Params, tx *Tx, sigErr error) TxResult {
	sender := tx.Sender()
	senderStr := sender.String() // once: the result and the events name it
	res := func(err error) TxResult {
		r := failed(err)
		r.Type, r.Sender = tx.Body.Msg.Type, senderStr
		return r
	}
	if tx.Body.ChainID != a.ChainID {
		return res(Wrap(ErrChainID, "transaction is for %q, this chain is %q", tx.Body.ChainID, a.ChainID))
	}
	if sigErr != nil {
		return res(sigErr)
	}
	seq := Sequence(kv, sender)
	if tx.Body.Sequence != seq {
		return res(Wrap(ErrSequence, "account %s expects sequence %d, transaction has %d", sender, seq, tx.Body.Sequence))
	}
	msg, err := a.router.DecodeMsg(tx.Body.Msg)
	if err != nil {
		return res(err)
	}
	minFee := params.MinFee
	if c, ok := msg.(Coster); ok {
		if minFee, err = AddU64(minFee, c.ExtraFee()); err != nil {
			return res(err)
		}
	}
	if tx.Body.Fee < minFee {
		return res(Wrap(ErrFee, "fee %d%s, this transaction needs at least %d%s", tx.Body.Fee, Denom, minFee, Denom))
	}
	cache := store.NewCache(kv)
	ctx := &Context{KV: cache, Block: block, Sender: sender, Params: params}
	if err := move(cache, sender, FeeCollector, tx.Body.Fee); err != nil {
		return res(Wrap(ErrInsufficientFunds, "cannot pay the fee: %v", err))
	}
	setSequence(cache, sender, seq+1)
	if err := a.router.handle(ctx, msg); err != nil {
		return res(err)
	}
	cache.Write()
	events := append([]Event{{Type: "tx", Attrs: []Attribute{
		{Key: "sender", Value: senderStr},
		{Key: "type", Value: tx.Body.Msg.Type},
		{Key: "fee", Value: U64(tx.Body.Fee)},
	}}}, ctx.Events()...)
	return TxResult{Code: 0, Log: "ok", Events: events, Type: tx.Body.Msg.Type, Sender: senderStr}
}

// endBlock runs each domain's end-block step in its own buffer. A step that
// fails is a bug in that domain; its writes are dropped and the failure is
// recorded as an event, so one broken domain cannot halt the chain.
func (a *App) endBlock(kv store.KV, block Block, params Params) []Event {
	ctx := NewContext(kv, block, params)
	for _, d := range a.router.Domains() {
		if eb, ok := d.(EndBlocker); ok {
			if err := ctx.Isolated(eb.EndBlock); err != nil {
				ctx.Emit("end_block_error", "domain", d.Name(), "error", err.Error())
			}
		}
	}
	return ctx.Events()
}

// Query routes a read-only query to a domain.
func (a *App) Query(kv store.KV, domain, path string, params map[string]string) (any, error) {
	d, ok := a.router.Domain(domain)
	if !ok {
		return nil, Wrap(ErrNotFound, "no domain %q", domain)
	}
	q, ok := d.(Querier)
	if !ok {
		return nil, Wrap(ErrNotFound, "domain %q answers no queries", domain)
	}
	return q.Query(kv, path, params)
}

// CheckInvariants verifies the supply invariant: every token is in exactly
// one balance.
func CheckInvariants(kv store.KV) error {
	sum, err := SumBalances(kv)
	if err != nil {
		return err
	}
	if s := Supply(kv); sum != s {
		return fmt.Errorf("supply invariant broken: balances sum to %d, supply is %d", sum, s)
	}
	return nil
}
