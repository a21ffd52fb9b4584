package node_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/node"
)

// A node on Pebble commits blocks, stops, and restarts to the same height
// and app hash; its data then refuses to open as goleveldb.
func TestNodeRestartsOnPebble(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node twice")
	}
	home := t.TempDir()
	port, err := node.FreeBasePort()
	if err != nil {
		t.Fatal(err)
	}
	if err := node.InitHome(home, node.InitOptions{ChainID: "tenun-pebble", BasePort: port, BlockTime: 20 * time.Millisecond, DBBackend: store.BackendPebble}); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(home, "config", "config.toml")
	if b, _ := os.ReadFile(cfgPath); !bytes.Contains(b, []byte(`db_backend = "pebbledb"`)) {
		t.Fatalf("config.toml does not name pebbledb")
	}
	n, err := node.Start(home)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	if err := n.WaitForHeight(ctx, 5); err != nil {
		n.Stop()
		t.Fatal(err)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	info, _ := n.ABCI.Info(ctx, nil)
	if _, err := os.Stat(filepath.Join(home, "data", "blockstore.db", "OPTIONS-000000")); err != nil {
		entries, _ := os.ReadDir(filepath.Join(home, "data", "blockstore.db"))
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		if !strings.Contains(strings.Join(names, " "), "OPTIONS-") {
			t.Fatalf("blockstore.db is not a Pebble store: %v", names)
		}
	}

	again, err := node.Start(home)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := again.ABCI.Info(ctx, nil)
	if got.LastBlockHeight < info.LastBlockHeight || (got.LastBlockHeight == info.LastBlockHeight && !bytes.Equal(got.LastBlockAppHash, info.LastBlockAppHash)) {
		again.Stop()
		t.Fatalf("restarted at %d %x, stopped at %d %x", got.LastBlockHeight, got.LastBlockAppHash, info.LastBlockHeight, info.LastBlockAppHash)
	}
	if !bytes.Equal(got.LastBlockAppHash, info.LastBlockAppHash) && got.LastBlockHeight == info.LastBlockHeight {
		t.Fatal("app hash changed")
	}
	if err := again.WaitForHeight(ctx, info.LastBlockHeight+2); err != nil {
		again.Stop()
		t.Fatal(err)
	}
	if err := again.Stop(); err != nil {
		t.Fatal(err)
	}

	// The same data under db_backend = "goleveldb" is refused, untouched.
	b, _ := os.ReadFile(cfgPath)
	os.WriteFile(cfgPath, bytes.Replace(b, []byte(`db_backend = "pebbledb"`), []byte(`db_backend = "goleveldb"`), 1), 0o644)
	if _, err := node.Start(home); err == nil || !strings.Contains(err.Error(), "created with") {
		t.Fatalf("goleveldb over Pebble data: %v", err)
	}
}
