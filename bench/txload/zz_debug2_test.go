package txload

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
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
	debugBlocks = func(bs []blockRec, begin, end time.Time) {
		for _, b := range bs {
			fmt.Printf("h=%d txs=%d t=%.3f\n", b.height, b.txs, b.at.Sub(begin).Seconds())
		}
		fmt.Printf("submit end %.3f\n", end.Sub(begin).Seconds())
	}
	res, err := runApp(context.Background(), o, app, home, start, Streams(txs, o.Accounts, o.Workers))
	fmt.Printf("%+v %v\n", res, err)
}
