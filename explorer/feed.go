package explorer

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/node"
)

// maxLog bounds the failure reason kept per transaction in lists.
const maxLog = 300

// Load reads block h and its results from the node's block and state
// stores, decoded for the index.
func Load(ctx context.Context, n *node.Node, h int64) (BlockData, error) {
	var d BlockData
	br, err := n.RPC.Block(ctx, &h)
	if err != nil {
		return d, fmt.Errorf("load block %d: %w", h, err)
	}
	res, err := n.RPC.BlockResults(ctx, &h)
	if err != nil {
		return d, fmt.Errorf("load results of block %d: %w", h, err)
	}
	b := br.Block
	t := b.Time.UTC().Format(time.RFC3339Nano)
	d.Block = Block{Height: h, Time: t, Hash: br.BlockID.Hash.String(), Proposer: b.ProposerAddress.String(), Txs: len(b.Txs)}
	router := n.ABCI.App().Router()
	for i, raw := range b.Txs {
		hash := strings.ToUpper(hex.EncodeToString(raw.Hash()))
		td := TxData{Tx: Tx{Hash: hash, Height: h, Index: uint32(i), Time: t}}
		if i < len(res.TxsResults) {
			r := res.TxsResults[i]
			td.Tx.Code = r.Code
			if r.Code != 0 {
				td.Tx.Log = truncate(r.Log, maxLog)
				d.Block.Failed++
			}
			td.Events = fromABCI(r.Events)
		}
		if tx, err := chain.DecodeTx(raw, len(raw)); err == nil {
			td.Tx.Type, td.Tx.Sender, td.Tx.Fee = tx.Body.Msg.Type, tx.Sender().String(), tx.Body.Fee
			if m, err := router.DecodeMsg(tx.Body.Msg); err == nil {
				td.Msg, _ = json.Marshal(m)
			}
		} else {
			td.Tx.Type = "undecodable"
		}
		d.Txs = append(d.Txs, td)
	}
	d.Events = fromABCI(res.FinalizeBlockEvents)
	return d, nil
}

func fromABCI(evs []abci.Event) []chain.Event {
	out := []chain.Event{}
	for _, e := range evs {
		ev := chain.Event{Type: e.Type, Attrs: []chain.Attribute{}}
		for _, a := range e.Attributes {
			ev.Attrs = append(ev.Attrs, chain.Attribute{Key: a.Key, Value: a.Value})
		}
		out = append(out, ev)
	}
	return out
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Follow keeps x at the node's committed height until ctx ends: it catches
// up from the block store (after a restart, or if the index fell behind),
// then wakes on each NewBlock from CometBFT's event bus. notify, if not nil,
// is told of each block written.
func Follow(ctx context.Context, n *node.Node, x *Index, notify func(BlockData)) error {
	sub, err := n.Comet.EventBus().Subscribe(ctx, "explorer", cmttypes.EventQueryNewBlock, 64)
	if err != nil {
		return fmt.Errorf("explorer: subscribe to new blocks: %w", err)
	}
	defer n.Comet.EventBus().UnsubscribeAll(context.Background(), "explorer")
	// A slow pass cancels the subscription (its buffer filled); a ticker
	// still wakes the catch-up, so the index never stops for long.
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if err := catchUp(ctx, n, x, notify); err != nil && ctx.Err() == nil {
			n.Comet.Logger.Error("explorer index catch-up", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-sub.Out():
		case <-sub.Canceled():
			sub, err = n.Comet.EventBus().Subscribe(ctx, "explorer", cmttypes.EventQueryNewBlock, 64)
			if err != nil {
				return fmt.Errorf("explorer: resubscribe to new blocks: %w", err)
			}
		case <-tick.C:
		}
	}
}

func catchUp(ctx context.Context, n *node.Node, x *Index, notify func(BlockData)) error {
	top := n.Comet.BlockStore().Height()
	for h := x.Height() + 1; h <= top; h++ {
		if ctx.Err() != nil {
			return nil
		}
		if h < n.Comet.BlockStore().Base() {
			h = n.Comet.BlockStore().Base() // pruned below: start where blocks remain
		}
		d, err := Load(ctx, n, h)
		if err != nil && h == top {
			return nil // the newest block is stored before its results: next wake-up
		}
		if err != nil {
			return err
		}
		if err := x.Write(d); err != nil {
			return err
		}
		if notify != nil {
			notify(d)
		}
	}
	return nil
}
