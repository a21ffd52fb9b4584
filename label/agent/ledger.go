// Package agent is the client side of the annotation market: the labeling
// page server behind `tenun annotate`, the local store of commit salts and
// gold secrets, item parsing for blob jobs, results export, and a
// simulated-workforce driver (label/workforce behaviours) that runs against
// a real node or an in-memory chain.
package agent

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/tenun-chain/tenun/api"
	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/label"
)

// Ledger is the chain as an annotation agent sees it: submit a message, read
// a label query, know the height. *ClientLedger talks to a node; *MemLedger
// is an in-memory chain for fast simulations.
type Ledger interface {
	Submit(ctx context.Context, key ed25519.PrivKey, msg chain.Msg) (api.TxResponse, error)
	Query(ctx context.Context, path string, params url.Values, out any) error
	Height(ctx context.Context) (int64, error)
}

// ClientLedger is a Ledger over a node's API.
type ClientLedger struct {
	C *client.Client
	// TxTimeout bounds the wait for one transaction's block (0: none). A
	// transaction the mempool drops on recheck (another one in the block
	// took the last item it asked for, say) is never committed, and the
	// node would otherwise keep the caller waiting a full minute.
	TxTimeout time.Duration
}

// ErrUnconfirmed wraps a submission whose block never came within
// TxTimeout: it may or may not have been committed; read the state.
var ErrUnconfirmed = errors.New("transaction not confirmed in time")

func (l ClientLedger) Submit(ctx context.Context, key ed25519.PrivKey, msg chain.Msg) (api.TxResponse, error) {
	if l.TxTimeout <= 0 {
		return l.C.Submit(ctx, key, msg, client.Options{})
	}
	tctx, cancel := context.WithTimeout(ctx, l.TxTimeout)
	defer cancel()
	res, err := l.C.Submit(tctx, key, msg, client.Options{})
	if err != nil && ctx.Err() == nil && tctx.Err() != nil {
		return res, fmt.Errorf("%s: %w: %w", msg.Type(), ErrUnconfirmed, err)
	}
	return res, err
}

func (l ClientLedger) Query(ctx context.Context, path string, params url.Values, out any) error {
	return l.C.Query(ctx, "label", path, params, out)
}

func (l ClientLedger) Height(ctx context.Context) (int64, error) {
	s, err := l.C.Status(ctx)
	return s.Height, err
}

// MemLedger is a whole chain in memory: the real state machine (fees,
// sequences, signatures, end-block steps) with one block per transaction,
// so a simulation of thousands of answers runs in about a second.
type MemLedger struct {
	mu      sync.Mutex
	kv      *store.Memory
	app     *chain.App
	height  int64
	chainID string
}

// NewMemLedger starts an in-memory chain whose genesis funds each key with balance.
func NewMemLedger(keys []ed25519.PrivKey, balance uint64) (*MemLedger, error) {
	m := &MemLedger{kv: store.NewMemory(), app: chain.NewApp("tenun-sim", label.Domain{}), height: 1, chainID: "tenun-sim"}
	g := chain.Genesis{Params: chain.DefaultParams()}
	for _, k := range keys {
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: chain.AddressFromPubKey(k.PubKey().Bytes()), Balance: balance})
	}
	if err := m.app.InitGenesis(chain.NewContext(m.kv, m.block(), g.Params), g); err != nil {
		return nil, fmt.Errorf("in-memory genesis: %w", err)
	}
	return m, nil
}

// block is the next block; its seed depends on the height as a real one
// depends on the block hash.
func (m *MemLedger) block() chain.Block {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(m.height))
	return chain.Block{Height: m.height, Time: 1_700_000_000 + m.height, ChainID: m.chainID, Seed: sha256.Sum256(b[:])}
}

// Submit signs msg and applies it as the only transaction of the next block.
func (m *MemLedger) Submit(_ context.Context, key ed25519.PrivKey, msg chain.Msg) (api.TxResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	sender := chain.AddressFromPubKey(key.PubKey().Bytes())
	fee := chain.LoadParams(m.kv).MinFee
	if c, ok := msg.(chain.Coster); ok {
		fee += c.ExtraFee()
	}
	tx, err := chain.SignTx(key, m.chainID, chain.Sequence(m.kv, sender), fee, msg, "")
	if err != nil {
		return api.TxResponse{}, err
	}
	r := m.app.ApplyBlock(m.kv, m.block(), [][]byte{tx}, nil).Txs[0]
	hash := chain.TxHash(tx)
	res := api.TxResponse{Hash: fmt.Sprintf("%X", hash[:]), Code: r.Code, Log: r.Log, Height: m.height, Events: r.Events}
	m.height++
	if r.Code != 0 {
		return res, &client.TxError{Res: res}
	}
	return res, nil
}

// Advance applies n empty blocks (deadlines pass, end-block steps run).
func (m *MemLedger) Advance(n int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for range n {
		m.app.ApplyBlock(m.kv, m.block(), nil, nil)
		m.height++
	}
}

// Query answers a label query as the API would, through JSON.
func (m *MemLedger) Query(_ context.Context, path string, params url.Values, out any) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := map[string]string{}
	for k, v := range params {
		p[k] = v[0]
	}
	v, err := m.app.Query(m.kv, "label", path, p)
	if err != nil {
		return &client.APIError{Code: chain.CodeOf(err), Msg: err.Error()}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// Height is the last applied block.
func (m *MemLedger) Height(context.Context) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.height - 1, nil
}

// Account returns an account's balance and stake.
func (m *MemLedger) Account(a chain.Address) chain.AccountInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	return chain.Account(m.kv, a)
}

// CheckInvariants checks the supply invariant of the in-memory state.
func (m *MemLedger) CheckInvariants() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return chain.CheckInvariants(m.kv)
}

// Code is the chain's rejection code of a failed submission, 0 when err is
// not a rejection.
func Code(err error) uint32 {
	var te *client.TxError
	if errors.As(err, &te) {
		return te.Res.Code
	}
	var ae *client.APIError
	if errors.As(err, &ae) {
		return ae.Code
	}
	return 0
}
