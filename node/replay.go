package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	dbm "github.com/cometbft/cometbft-db"
	abci "github.com/cometbft/cometbft/abci/types"
	cfg "github.com/cometbft/cometbft/config"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	sm "github.com/cometbft/cometbft/state"
	blockidxkv "github.com/cometbft/cometbft/state/indexer/block/kv"
	"github.com/cometbft/cometbft/state/txindex"
	txidxkv "github.com/cometbft/cometbft/state/txindex/kv"
	cmtstore "github.com/cometbft/cometbft/store"
	"github.com/cometbft/cometbft/types"

	"github.com/tenun-chain/tenun/chain/store"
)

// Replay re-executes a chain from its genesis file in a fresh in-memory app
// and returns the app hash after each block: appHashes[i] is the state after
// blocks[i]. blocks must be consecutive and start at the genesis's initial
// height. The blocks go through the same ABCI adapter a running node uses
// (InitChain, then FinalizeBlock and Commit per block, with the requests
// CometBFT builds), so a replay that disagrees with a node's headers points
// at non-determinism or at state the node lost or invented.
func Replay(genesisFile string, blocks []*types.Block) (appHashes [][]byte, err error) {
	doc, err := types.GenesisDocFromFile(genesisFile)
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	return ReplayGenesis(doc, blocks)
}

// ReplayGenesis is Replay from a parsed genesis document.
func ReplayGenesis(doc *types.GenesisDoc, blocks []*types.Block) (appHashes [][]byte, err error) {
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("replay: genesis: %w", err)
	}
	tree, err := store.OpenTree("")
	if err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	defer tree.Close()
	a := NewABCI(NewApp(doc.ChainID), tree)
	// The state machine and store panic on broken invariants and storage
	// errors; a replay reports them instead.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("replay: panic: %v", r)
		}
	}()
	ctx := context.Background()

	pbparams := doc.ConsensusParams.ToProto()
	vals := make([]*types.Validator, len(doc.Validators))
	for i, v := range doc.Validators {
		vals[i] = types.NewValidator(v.PubKey, v.Power)
	}
	if _, err := a.InitChain(ctx, &abci.RequestInitChain{
		Time:            doc.GenesisTime,
		ChainId:         doc.ChainID,
		InitialHeight:   doc.InitialHeight,
		ConsensusParams: &pbparams,
		Validators:      types.TM2PB.ValidatorUpdates(types.NewValidatorSet(vals)),
		AppStateBytes:   doc.AppState,
	}); err != nil {
		return nil, fmt.Errorf("replay: InitChain: %w", err)
	}

	next := doc.InitialHeight
	for _, b := range blocks {
		if b == nil {
			return appHashes, fmt.Errorf("replay: missing block at height %d", next)
		}
		if b.Height != next {
			return appHashes, fmt.Errorf("replay: block at height %d, want %d (blocks must be consecutive from the initial height)", b.Height, next)
		}
		if b.ChainID != doc.ChainID {
			return appHashes, fmt.Errorf("replay: block %d is for chain %q, genesis is %q", b.Height, b.ChainID, doc.ChainID)
		}
		res, err := a.FinalizeBlock(ctx, FinalizeRequest(b))
		if err != nil {
			return appHashes, fmt.Errorf("replay: FinalizeBlock %d: %w", b.Height, err)
		}
		if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
			return appHashes, fmt.Errorf("replay: Commit %d: %w", b.Height, err)
		}
		if h := tree.Hash(); !bytes.Equal(h, res.AppHash) {
			return appHashes, fmt.Errorf("replay: block %d: FinalizeBlock answered app hash %X, Commit stored %X", b.Height, res.AppHash, h)
		}
		appHashes = append(appHashes, res.AppHash)
		next++
	}
	return appHashes, nil
}

// FinalizeRequest is the FinalizeBlock request CometBFT sends for b (see
// state.BlockExecutor.applyBlock): everything the app reads is derived from
// the block itself. DecidedLastCommit needs the block store and is left
// empty; the adapter does not read it.
func FinalizeRequest(b *types.Block) *abci.RequestFinalizeBlock {
	return &abci.RequestFinalizeBlock{
		Hash:               b.Hash(),
		NextValidatorsHash: b.NextValidatorsHash,
		ProposerAddress:    b.ProposerAddress,
		Height:             b.Height,
		Time:               b.Time,
		Misbehavior:        b.Evidence.Evidence.ToABCI(),
		Txs:                b.Txs.ToSliceOfBytes(),
	}
}

// CheckAppHashes compares replayed app hashes with the chain's headers: the
// header of block h+1 carries the app hash after block h. The last replayed
// block has no successor among blocks and is not checked here; compare it
// with the node's own hash (ABCI info) instead.
func CheckAppHashes(blocks []*types.Block, appHashes [][]byte) error {
	if len(appHashes) != len(blocks) {
		return fmt.Errorf("%d app hashes for %d blocks", len(appHashes), len(blocks))
	}
	for i := 0; i+1 < len(blocks); i++ {
		if want := blocks[i+1].AppHash; !bytes.Equal(appHashes[i], want) {
			return fmt.Errorf("after block %d: replay gives app hash %X, header %d says %X", blocks[i].Height, appHashes[i], blocks[i+1].Height, []byte(want))
		}
	}
	return nil
}

// RPCClient connects to a node's CometBFT RPC at addr ("127.0.0.1:26657",
// "tcp://..." or "http://...").
func RPCClient(addr string) (*rpchttp.HTTP, error) {
	if !strings.Contains(addr, "://") {
		addr = "tcp://" + addr
	}
	return rpchttp.New(addr, "/websocket")
}

// FetchBlocks downloads blocks from..to (inclusive) from a node's CometBFT
// RPC, checking that each block hashes to the ID the node stored it under.
func FetchBlocks(ctx context.Context, rpcAddr string, from, to int64) ([]*types.Block, error) {
	c, err := RPCClient(rpcAddr)
	if err != nil {
		return nil, err
	}
	if from < 1 || to < from {
		return nil, fmt.Errorf("fetch blocks %d..%d: bad range", from, to)
	}
	out := make([]*types.Block, 0, to-from+1)
	for h := from; h <= to; h++ {
		hh := h
		res, err := c.Block(ctx, &hh)
		if err != nil {
			return out, fmt.Errorf("fetch block %d: %w", h, err)
		}
		if res.Block == nil || res.Block.Height != h {
			return out, fmt.Errorf("fetch block %d: node answered no block or another height", h)
		}
		if got := res.Block.Hash(); !bytes.Equal(got, res.BlockID.Hash) {
			return out, fmt.Errorf("fetch block %d: block hashes to %X, node says %X", h, []byte(got), []byte(res.BlockID.Hash))
		}
		out = append(out, res.Block)
	}
	return out, nil
}

// FetchGenesis downloads the genesis document from a node's CometBFT RPC.
func FetchGenesis(ctx context.Context, rpcAddr string) (*types.GenesisDoc, error) {
	c, err := RPCClient(rpcAddr)
	if err != nil {
		return nil, err
	}
	res, err := c.Genesis(ctx)
	if err != nil {
		return nil, fmt.Errorf("fetch genesis: %w", err)
	}
	return res.Genesis, nil
}

// AppInfo asks a node's app (over CometBFT RPC) for its last committed
// height and app hash: the node's own state, not a header.
func AppInfo(ctx context.Context, rpcAddr string) (height int64, appHash []byte, err error) {
	c, err := RPCClient(rpcAddr)
	if err != nil {
		return 0, nil, err
	}
	res, err := c.ABCIInfo(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("abci_info: %w", err)
	}
	return res.Response.LastBlockHeight, res.Response.LastBlockAppHash, nil
}

// maxIndexRepair bounds how far back repairTxIndex looks for heights the
// indexer missed; CometBFT's indexer trails the committed state by at most
// a block or two.
const maxIndexRepair = 100

// repairTxIndex writes the transaction and block-event index entries of the
// last committed heights that CometBFT's kv indexer had not written when the
// node stopped. CometBFT indexes a block asynchronously, after it saved its
// state, so a crash in between leaves the block committed but its
// transactions unknown to /tx/{hash} (and to wait=commit) forever: the
// handshake re-executes only blocks the state lacks. This re-indexes from
// the stored blocks and FinalizeBlock responses, as `cometbft
// reindex-event` does. It must run before CometBFT opens its databases; it
// returns the heights it re-indexed (0, 0 for none).
func repairTxIndex(c *cfg.Config) (from, to int64, err error) {
	if c.TxIndex.Indexer != "kv" {
		return 0, 0, nil
	}
	open := func(id string) (dbm.DB, error) { return DBProvider(&cfg.DBContext{ID: id, Config: c}) }
	bsDB, err := open("blockstore")
	if err != nil {
		return 0, 0, err
	}
	defer bsDB.Close()
	stDB, err := open("state")
	if err != nil {
		return 0, 0, err
	}
	defer stDB.Close()
	idxDB, err := open("tx_index")
	if err != nil {
		return 0, 0, err
	}
	defer idxDB.Close()

	blocks := cmtstore.NewBlockStore(bsDB)
	states := sm.NewStore(stDB, sm.StoreOptions{})
	txIdx := txidxkv.NewTxIndex(idxDB)
	blockIdx := blockidxkv.New(dbm.NewPrefixDB(idxDB, []byte("block_events")))
	state, err := states.Load()
	if err != nil {
		return 0, 0, err
	}
	// Only heights CometBFT's state has applied: their FinalizeBlock
	// responses are saved, and later blocks are re-executed, and indexed, by
	// the handshake.
	top := min(state.LastBlockHeight, blocks.Height())
	low := max(blocks.Base(), 1, top-maxIndexRepair+1)
	from = top + 1
	for h := top; h >= low; h-- {
		ok, err := indexed(blocks, txIdx, blockIdx, h)
		if err != nil {
			return 0, 0, err
		}
		if ok {
			break
		}
		from = h
	}
	for h := from; h <= top; h++ {
		block := blocks.LoadBlock(h)
		if block == nil {
			return 0, 0, fmt.Errorf("re-index: no block %d in the block store", h)
		}
		resp, err := states.LoadFinalizeBlockResponse(h)
		if err != nil {
			return 0, 0, fmt.Errorf("re-index: FinalizeBlock response %d: %w", h, err)
		}
		if len(resp.TxResults) != len(block.Txs) {
			return 0, 0, fmt.Errorf("re-index: block %d has %d txs, %d results", h, len(block.Txs), len(resp.TxResults))
		}
		if len(block.Txs) > 0 {
			batch := txindex.NewBatch(int64(len(block.Txs)))
			for i, r := range resp.TxResults {
				if err := batch.Add(&abci.TxResult{Height: h, Index: uint32(i), Tx: block.Txs[i], Result: *r}); err != nil {
					return 0, 0, err
				}
			}
			if err := txIdx.AddBatch(batch); err != nil {
				return 0, 0, fmt.Errorf("re-index txs of %d: %w", h, err)
			}
		}
		if err := blockIdx.Index(types.EventDataNewBlockEvents{Height: h, Events: resp.Events, NumTxs: int64(len(block.Txs))}); err != nil {
			return 0, 0, fmt.Errorf("re-index block %d: %w", h, err)
		}
	}
	if from > top {
		return 0, 0, nil
	}
	return from, top, nil
}

// indexed reports whether height h is in both indexes: the block's events
// and (written after them) its transactions, in one batch, so the last one
// stands for all.
func indexed(blocks *cmtstore.BlockStore, txIdx *txidxkv.TxIndex, blockIdx *blockidxkv.BlockerIndexer, h int64) (bool, error) {
	ok, err := blockIdx.Has(h)
	if err != nil || !ok {
		return false, err
	}
	block := blocks.LoadBlock(h)
	if block == nil {
		return false, errors.New("re-index: block store lost block " + fmt.Sprint(h))
	}
	if n := len(block.Txs); n > 0 {
		r, err := txIdx.Get(block.Txs[n-1].Hash())
		if err != nil || r == nil {
			return false, err
		}
	}
	return true, nil
}
