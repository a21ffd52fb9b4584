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

	abci "github.com/cometbft/cometbft/abci/types"

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

	committed atomic.Int64 // last committed height, for API snapshots
	mu        sync.Mutex   // guards check against API simulation reads
}

// NewABCI wraps app over the durable tree.
func NewABCI(app *chain.App, tree *store.Tree) *ABCI {
	a := &ABCI{app: app, tree: tree}
	a.committed.Store(tree.Version())
	a.resetCheck()
	return a
}

func (a *ABCI) resetCheck() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.check = store.NewCache(a.tree)
	if v := a.tree.Version(); v > 0 {
		if snap, err := a.tree.Snapshot(v); err == nil {
			a.check = store.NewCache(snap)
		}
	}
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
	var r chain.TxResult
	if req.Type == abci.CheckTxType_Recheck {
		// Already in the mempool, so its signature was verified on admission.
		r = a.app.RecheckTx(a.check, next, req.Tx)
	} else {
		r = a.app.CheckTx(a.check, next, req.Tx)
	}
	return &abci.ResponseCheckTx{Code: r.Code, Log: r.Log, Codespace: codespace(r.Code)}, nil
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
	res := a.app.ApplyBlock(a.tree, block, req.Txs)
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
	_, v, err := a.tree.Commit()
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
	kv, err := a.tree.Snapshot(h)
	return kv, h, err
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

func toABCIEvents(evs []chain.Event) []abci.Event {
	out := make([]abci.Event, len(evs))
	for i, e := range evs {
		out[i].Type = e.Type
		for _, at := range e.Attrs {
			out[i].Attributes = append(out[i].Attributes, abci.EventAttribute{Key: at.Key, Value: at.Value, Index: true})
		}
	}
	return out
}
