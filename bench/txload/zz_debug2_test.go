package txload

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/node"
)

func TestZZDebugApp(t *testing.T) {
	app := os.Getenv("ZZAPP")
	if app == "" {
		t.Skip()
	}
	n, _ := strconv.Atoi(os.Getenv("ZZN"))
	bt, _ := time.ParseDuration(os.Getenv("ZZBT"))
	o := Options{Txs: n, Accounts: 1000, Workers: 4, BlockTime: bt, Timeout: 300 * time.Second}
	o.defaults()
	keys := Keys(o.Accounts)
	txs, _ := Transfers(keys, Addresses(keys), o.Txs, 0, BenchChainID)
	start := startTenun
	if app == "kvstore" {
		txs = KVStoreTxs(txs)
		start = startKVStore
	}
	home := filepath.Join(t.TempDir(), app)
	port, _ := freeBasePort()
	if err := node.InitHome(home, node.InitOptions{ChainID: BenchChainID, BlockTime: o.BlockTime, BasePort: port, ExtraAccounts: GenesisAccounts(keys)}); err != nil {
		t.Fatal(err)
	}
	if p := os.Getenv("ZZPROF"); p != "" {
		f, _ := os.Create(p)
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	res, err := runApp(context.Background(), o, app, home, start, Streams(txs, o.Accounts, o.Workers))
	for _, b := range res.Blocks {
		fmt.Printf("h=%d txs=%d t=%.3f\n", b.Height, b.Txs, b.At)
	}
	res.Blocks = nil
	fmt.Printf("%+v %v\n", res, err)
	b, _ := os.ReadFile(filepath.Join(home, "node.log"))
	os.WriteFile("/tmp/dbg/"+app+".log", b, 0o644)
}

func TestZZFull(t *testing.T) {
	if os.Getenv("ZZFULL") == "" {
		t.Skip()
	}
	n, _ := strconv.Atoi(os.Getenv("ZZN"))
	bt, _ := time.ParseDuration(os.Getenv("ZZBT"))
	res, err := RunNodes(context.Background(), Options{Txs: n, BlockTime: bt, Progress: os.Stderr})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []AppResult{res.Tenun, res.KVStore} {
		fmt.Printf("%s %.0f tx/s window %+v cpu %.1f us/tx maxblock %d blocks %d overall %.0f\n", a.App, a.TxPerSec, a.Window, a.CPUMicrosPerTx, a.MaxBlockTxs, a.TxBlocks, a.OverallTxPerSec)
	}
	fmt.Printf("ratio %.2f\n", res.Ratio)
	if os.Getenv("ZZSM") != "" {
		sm, err := RunStateMachine(SMOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("SM %+v\n", *sm)
	}
}
