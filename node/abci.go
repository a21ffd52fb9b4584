// Package node runs Tenun: the ABCI adapter that feeds CometBFT's blocks to
// the pure state machine in package chain, the in-process CometBFT node, the
// HTTP API and the blob store.
package node

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	abcicli "github.com/cometbft/cometbft/abci/client"
	abci "github.com/cometbft/cometbft/abci/types"
	cmtsync "github.com/cometbft/cometbft/libs/sync"
	"github.com/cometbft/cometbft/proxy"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
)

// ABCI adapts chain.App to CometBFT. It is deliberately thin: it turns ABCI
// requests into calls on the state machine and owns the durable tree.
// CometBFT's local client serialises all ABCI calls, so only the committed
// height is shared with the API, which reads immutable snapshots.
type ABCI struct {
	abci.BaseApplication

	app  *chain.App
	tree *store.Tree

	// check is the mempool's view: committed state plus the writes of the
	// transactions checked since the last commit.
	check     *store.Cache
	lastBlock chain.Block

	// treeMu is held for writing while a block is applied and committed,
	// and for reading by every snapshot read (see lockedkv.go).
	treeMu sync.RWMutex

	dropped map[[32]byte]string // recheck failures, see noteDropped

	committed atomic.Int64 // last committed height, for API snapshots
	mu        sync.Mutex   // guards check against API simulation reads

	// params are the chain's parameters, fixed at genesis, read once per
	// check state instead of once per CheckTx.
	params chain.Params

	// prechecked holds, by sha256, transactions this node decoded and whose
	// signatures it found valid, before the ABCI lock (PreverifyTx) or in
	// CheckTx, so that neither CheckTx, CometBFT's recheck nor FinalizeBlock
	// decodes or verifies them again (chain.VerifiedTx, which CheckTx and
	// ApplyBlock take); a block's transactions leave it.
	precheckedMu sync.Mutex
	prechecked   map[[32]byte]*chain.VerifiedTx
	sigs         *sigBatcher
}

// maxPrechecked bounds the prechecked set: entries of transactions that
// never reach a block (dropped on recheck) are forgotten when it fills.
const maxPrechecked = 1 << 17

func (a *ABCI) remember(h [32]byte, tx *chain.VerifiedTx) {
	a.precheckedMu.Lock()
	defer a.precheckedMu.Unlock()
	if len(a.prechecked) >= maxPrechecked {
		clear(a.prechecked)
	}
	a.prechecked[h] = tx
}

func (a *ABCI) forget(h [32]byte) {
	a.precheckedMu.Lock()
	defer a.precheckedMu.Unlock()
	delete(a.prechecked, h)
}

func (a *ABCI) lookup(h [32]byte) *chain.VerifiedTx {
	a.precheckedMu.Lock()
	defer a.precheckedMu.Unlock()
	return a.prechecked[h]
}

// PreverifyTx decodes a new transaction and checks its signature before
// CometBFT takes the ABCI lock for CheckTx (see clientCreator), so that the
// signature checks of concurrent submissions run in parallel on every core,
// in batches (sigBatcher), while the state checks stay serial. It only
// records valid transactions: anything else is left for CheckTx to judge
// and reject with its reason.
func (a *ABCI) PreverifyTx(txBytes []byte) {
	if v := a.sigs.verify(txBytes); v != nil { // CheckTx applies the size limit
		a.remember(sha256.Sum256(txBytes), v)
	}
}

// NewABCI wraps app over the durable tree.
func NewABCI(app *chain.App, tree *store.Tree) *ABCI {
	a := &ABCI{app: app, tree: tree, prechecked: make(map[[32]byte]*chain.VerifiedTx), sigs: newSigBatcher()}
	a.committed.Store(tree.Version())
	// After a restart the mempool checks against the last committed height
	// until the next block arrives (its time comes with that block).
	a.lastBlock = chain.Block{Height: tree.Version(), ChainID: app.ChainID}
	a.resetCheck()
	return a
}

func (a *ABCI) resetCheck() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.check = store.NewCache(a.tree)
	if v := a.tree.Version(); v > 0 {
		if snap, err := a.tree.Snapshot(v); err == nil {
			a.check = store.NewCache(lockedKV{snap, &a.treeMu})
		}
	}
	a.params = chain.LoadParams(a.check)
}

// Info tells CometBFT how far the app got, so the handshake replays only the
// blocks after it.
func (a *ABCI) Info(context.Context, *abci.RequestInfo) (*abci.ResponseInfo, error) {
	return &abci.ResponseInfo{
		Data:             "tenun",
		Version:          "0.1.0",
		AppVersion:       1,
		LastBlockHeight:  a.tree.Version(),
		LastBlockAppHash: a.tree.Hash(),
	}, nil
}

// InitChain writes the genesis state into the working tree; it is committed
// with block 1.
func (a *ABCI) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	var g chain.Genesis
	if err := json.Unmarshal(req.AppStateBytes, &g); err != nil {
		return nil, fmt.Errorf("genesis app_state: %w", err)
	}
	if req.ChainId != a.app.ChainID {
		return nil, fmt.Errorf("genesis chain id %q, app built for %q", req.ChainId, a.app.ChainID)
	}
	ctx := chain.NewContext(a.tree, chain.Block{Height: req.InitialHeight, Time: req.Time.Unix(), ChainID: req.ChainId}, g.Params)
	if err := a.app.InitGenesis(ctx, g); err != nil {
		return nil, err
	}
	return &abci.ResponseInitChain{AppHash: a.tree.WorkingHash()}, nil
}

// CheckTx admits a transaction to the mempool if it would succeed now.
func (a *ABCI) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := a.lastBlock
	next.Height++
	h := sha256.Sum256(req.Tx)
	tx := a.lookup(h)
	if tx == nil && req.Type == abci.CheckTxType_New {
		// Not seen before the lock (a caller that bypassed the
		// preverifying client): decode and verify here, once.
		if v, err := chain.VerifyTx(req.Tx); err == nil {
			tx = v
			a.remember(h, tx)
		}
	}
	r := a.app.CheckTx(a.check, next, a.params, req.Tx, tx)
	if r.Code != 0 {
		// Refused or dropped: it is not in the mempool, so no block of
		// ours will carry it from there; keep nothing for it.
		a.forget(h)
		if req.Type == abci.CheckTxType_Recheck {
			a.noteDropped(h, r.Log)
		}
	}
	return &abci.ResponseCheckTx{Code: r.Code, Log: r.Log, Codespace: codespace(r.Code)}, nil
}

// maxDropped bounds the memory of transactions dropped on recheck.
const maxDropped = 1 << 14

// noteDropped remembers why the mempool dropped a transaction on recheck
// (the block before it changed the state it relied on), so a client waiting
// for it to commit learns at once instead of timing out. Caller holds mu.
func (a *ABCI) noteDropped(h [32]byte, reason string) {
	if a.dropped == nil || len(a.dropped) >= maxDropped {
		a.dropped = make(map[[32]byte]string)
	}
	a.dropped[h] = reason
}

// Dropped reports whether the mempool dropped the transaction with hash h
// on recheck, and why.
func (a *ABCI) Dropped(h [32]byte) (string, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	reason, ok := a.dropped[h]
	return reason, ok
}

// FinalizeBlock applies a decided block and returns the app hash it leads to.
func (a *ABCI) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	block := chain.Block{
		Height:  req.Height,
		Time:    req.Time.Unix(),
		ChainID: a.app.ChainID,
		Seed:    blockSeed(req.Hash, req.Height),
	}
	for _, m := range req.Misbehavior {
		block.Misbehaving = append(block.Misbehaving, chain.AddressFromBytes(m.Validator.Address))
	}
	known := make([]*chain.VerifiedTx, len(req.Txs))
	a.precheckedMu.Lock()
	for i, tx := range req.Txs {
		h := sha256.Sum256(tx)
		known[i] = a.prechecked[h]
		delete(a.prechecked, h)
	}
	a.precheckedMu.Unlock()
	a.treeMu.Lock()
	defer a.treeMu.Unlock()
	res := a.app.ApplyBlock(a.tree, block, req.Txs, known)
	a.lastBlock = block
	out := &abci.ResponseFinalizeBlock{
		TxResults: make([]*abci.ExecTxResult, len(res.Txs)),
		Events:    toABCIEvents(res.Events),
		AppHash:   a.tree.WorkingHash(),
	}
	for i, r := range res.Txs {
		out.TxResults[i] = &abci.ExecTxResult{Code: r.Code, Log: r.Log, Codespace: codespace(r.Code), Events: toABCIEvents(r.Events)}
	}
	return out, nil
}

// Commit makes the block's state durable.
func (a *ABCI) Commit(context.Context, *abci.RequestCommit) (*abci.ResponseCommit, error) {
	a.treeMu.Lock()
	_, v, err := a.tree.Commit()
	a.treeMu.Unlock()
	if err != nil {
		return nil, err
	}
	a.committed.Store(v)
	a.resetCheck()
	return &abci.ResponseCommit{}, nil
}

// Query answers ABCI queries on path /<domain>/<path> with JSON, so
// CometBFT's abci_query RPC reads the same state as the HTTP API.
func (a *ABCI) Query(_ context.Context, req *abci.RequestQuery) (*abci.ResponseQuery, error) {
	parts := strings.SplitN(strings.TrimPrefix(req.Path, "/"), "/", 2)
	if len(parts) < 2 {
		return &abci.ResponseQuery{Code: chain.ErrNotFound.Code, Log: "path must be /<domain>/<query>"}, nil
	}
	kv, h, err := a.Snapshot()
	if err != nil {
		return &abci.ResponseQuery{Code: chain.ErrNotFound.Code, Log: err.Error()}, nil
	}
	v, err := a.app.Query(kv, parts[0], parts[1], nil)
	if err != nil {
		return &abci.ResponseQuery{Code: chain.CodeOf(err), Log: err.Error(), Height: h}, nil
	}
	b, _ := json.Marshal(v)
	return &abci.ResponseQuery{Value: b, Height: h}, nil
}

// Snapshot returns the last committed state, safe to read from any goroutine.
func (a *ABCI) Snapshot() (store.KV, int64, error) {
	h := a.committed.Load()
	if h == 0 {
		return nil, 0, fmt.Errorf("no block committed yet")
	}
	a.treeMu.RLock()
	kv, err := a.tree.Snapshot(h)
	a.treeMu.RUnlock()
	if err != nil {
		return nil, 0, err
	}
	return lockedKV{kv, &a.treeMu}, h, nil
}

// App returns the state machine.
func (a *ABCI) App() *chain.App { return a.app }

// Sequence is the next sequence for addr in the mempool's view, counting
// transactions checked but not yet committed.
func (a *ABCI) Sequence(addr chain.Address) uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return chain.Sequence(a.check, addr)
}

func blockSeed(hash []byte, height int64) [32]byte {
	h := sha256.New()
	h.Write([]byte("tenun/seed"))
	h.Write(hash)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(height))
	h.Write(b[:])
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

func codespace(code uint32) string {
	if code == 0 {
		return ""
	}
	return "tenun"
}

// indexedKeys are the event attributes CometBFT's tx indexer indexes, so
// tx_search can find an account's transactions by type and party. Every
// indexed attribute costs a database write per transaction; the rest are
// still stored with the result and returned by the API.
var indexedKeys = map[string]bool{"sender": true, "recipient": true, "type": true}

func toABCIEvents(evs []chain.Event) []abci.Event {
	out := make([]abci.Event, len(evs))
	for i, e := range evs {
		out[i].Type = e.Type
		for _, at := range e.Attrs {
			out[i].Attributes = append(out[i].Attributes, abci.EventAttribute{Key: at.Key, Value: at.Value, Index: indexedKeys[at.Key]})
		}
	}
	return out
}

// PreverifyingClients connects CometBFT to app like
// proxy.NewLocalClientCreator (one mutex over every ABCI connection, so ABCI
// calls never overlap), except that preverify sees each new transaction
// before CheckTx takes that mutex. The node passes ABCI.PreverifyTx:
// signature checks are pure and by far the largest part of CheckTx; outside
// the mutex the submissions CometBFT checks concurrently (RPC handlers,
// mempool gossip) verify on every core, and block execution is not held up
// by them. (The tx benchmark's signed kvstore uses it too, to be admitted
// the same way.)
func PreverifyingClients(app abci.Application, preverify func(tx []byte)) proxy.ClientCreator {
	return &clientCreator{mtx: new(cmtsync.Mutex), app: app, preverify: preverify}
}

type clientCreator struct {
	mtx       *cmtsync.Mutex
	app       abci.Application
	preverify func([]byte)
}

func (c *clientCreator) NewABCIClient() (abcicli.Client, error) {
	return &preverifyingClient{Client: abcicli.NewLocalClient(c.mtx, c.app), preverify: c.preverify}, nil
}

type preverifyingClient struct {
	abcicli.Client
	preverify func([]byte)
}

func (c *preverifyingClient) CheckTxAsync(ctx context.Context, req *abci.RequestCheckTx) (*abcicli.ReqRes, error) {
	if req.Type == abci.CheckTxType_New {
		c.preverify(req.Tx)
	}
	return c.Client.CheckTxAsync(ctx, req)
}

func (c *preverifyingClient) CheckTx(ctx context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	if req.Type == abci.CheckTxType_New {
		c.preverify(req.Tx)
	}
	return c.Client.CheckTx(ctx, req)
}
