package node

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	abci "github.com/cometbft/cometbft/abci/types"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
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
