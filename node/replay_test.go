package node_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cometbft/cometbft/types"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/client"
	"github.com/tenun-chain/tenun/internal/testnode"
	"github.com/tenun-chain/tenun/node"
)

// Replaying a live node's blocks from its genesis through a fresh in-memory
// app reproduces the app hash in every header and the node's own hash.
func TestReplayMatchesNode(t *testing.T) {
	net := testnode.Start(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// Transfers spread over a few blocks, some in the same block.
	var last int64
	for round := 0; round < 3; round++ {
		var hashes []string
		for i := 0; i < 3; i++ {
			res, err := net.Client.Submit(ctx, net.Keys[i], &chain.MsgSend{To: net.Addr((i + 1) % 3), Amount: uint64(100*round + i + 1)}, client.Options{NoWait: true})
			if err != nil {
				t.Fatal(err)
			}
			hashes = append(hashes, res.Hash)
		}
		for _, h := range hashes {
			info := waitTx(ctx, t, net.Client, h)
			if info.Code != 0 {
				t.Fatalf("tx %s failed: %+v", h, info)
			}
			last = max(last, info.Height)
		}
	}
	rpcAddr := net.Node.Comet.Config().RPC.ListenAddress
	if err := net.Node.WaitForHeight(ctx, last+2); err != nil {
		t.Fatal(err)
	}
	height, own, err := node.AppInfo(ctx, rpcAddr)
	if err != nil {
		t.Fatal(err)
	}
	if height < last+2 {
		t.Fatalf("app at height %d, want at least %d", height, last+2)
	}
	blocks, err := node.FetchBlocks(ctx, rpcAddr, 1, height)
	if err != nil {
		t.Fatal(err)
	}
	genesis := filepath.Join(net.Node.Home, "config", "genesis.json")
	hashes, err := node.Replay(genesis, blocks)
	if err != nil {
		t.Fatal(err)
	}
	if len(hashes) != int(height) {
		t.Fatalf("%d hashes for %d blocks", len(hashes), height)
	}
	if err := node.CheckAppHashes(blocks, hashes); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(hashes[height-1], own) {
		t.Fatalf("replay ends at %X, node's app says %X at height %d", hashes[height-1], own, height)
	}

	// The genesis document over RPC replays the same.
	doc, err := node.FetchGenesis(ctx, rpcAddr)
	if err != nil {
		t.Fatal(err)
	}
	again, err := node.ReplayGenesis(doc, blocks)
	if err != nil || !bytes.Equal(again[height-1], own) {
		t.Fatalf("replay from RPC genesis: %v", err)
	}

	// A block with a transaction dropped replays to other hashes.
	tampered := make([]*types.Block, len(blocks))
	copy(tampered, blocks)
	for i, b := range tampered {
		if len(b.Txs) == 0 {
			continue
		}
		tampered[i] = &types.Block{Header: b.Header, Data: types.Data{Txs: b.Txs[1:]}, Evidence: b.Evidence, LastCommit: b.LastCommit}
		break
	}
	bad, err := node.Replay(genesis, tampered)
	if err != nil {
		t.Fatal(err)
	}
	if node.CheckAppHashes(tampered, bad) == nil && bytes.Equal(bad[height-1], own) {
		t.Fatal("replay of a tampered chain matched the node")
	}

	// Gaps are refused.
	if _, err := node.Replay(genesis, blocks[1:]); err == nil {
		t.Fatal("replay from height 2 accepted")
	}
}

func waitTx(ctx context.Context, t *testing.T, c *client.Client, hash string) node.TxInfo {
	t.Helper()
	for {
		info, err := c.Tx(ctx, hash)
		if err == nil {
			return info
		}
		select {
		case <-ctx.Done():
			t.Fatalf("tx %s not committed: %v", hash, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// A node that lost its transaction index (CometBFT writes it after the
// block is committed, so a crash can drop the last block's entries) rebuilds
// the recent part from its stored blocks when it starts.
func TestStartRepairsTxIndex(t *testing.T) {
	net := testnode.Start(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := net.Client.Submit(ctx, net.Keys[0], &chain.MsgSend{To: net.Addr(1), Amount: 5}, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := net.Node.WaitForHeight(ctx, res.Height+1); err != nil {
		t.Fatal(err)
	}
	home := net.Node.Home
	if err := net.Node.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(home, "data", "tx_index.db")); err != nil {
		t.Fatal(err)
	}

	n, err := node.Start(home)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	hash, _ := hex.DecodeString(res.Hash)
	info, err := n.TxInfo(ctx, hash)
	if err != nil {
		t.Fatalf("after restart: %v", err)
	}
	if info.Height != res.Height || info.Code != 0 || info.Type != "bank/send" {
		t.Fatalf("re-indexed tx %+v, committed at %d", info, res.Height)
	}
	log, _ := os.ReadFile(filepath.Join(home, "node.log"))
	if !bytes.Contains(log, []byte("re-indexed blocks")) {
		t.Fatal("node.log does not mention the re-index")
	}
}
