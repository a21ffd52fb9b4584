package txload

import (
	"context"
	"os"
	"path/filepath"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/tenun-chain/tenun/node"
)

func TestZZDebugTenun(t *testing.T) {
	if os.Getenv("ZZDEBUG") == "" {
		t.Skip()
	}
	o := Options{Txs: 60000, Accounts: 1000, Workers: 4, BlockTime: 200 * time.Millisecond, Timeout: 120 * time.Second}
	o.defaults()
	keys := Keys(o.Accounts)
	txs, _ := Transfers(keys, Addresses(keys), o.Txs, 0, BenchChainID)
	home := filepath.Join(t.TempDir(), "tenun")
	port, _ := freeBasePort()
	if err := node.InitHome(home, node.InitOptions{ChainID: BenchChainID, BlockTime: o.BlockTime, BasePort: port, ExtraAccounts: GenesisAccounts(keys)}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Create("/tmp/dbg/cpu.prof")
	pprof.StartCPUProfile(f)
	go func() {
		for i := 0; i < 6; i++ {
			time.Sleep(3 * time.Second)
			g, _ := os.Create(filepath.Join("/tmp/dbg", "gor"+string(rune('0'+i))+".txt"))
			pprof.Lookup("goroutine").WriteTo(g, 2)
			g.Close()
		}
	}()
	res, err := runApp(context.Background(), o, "tenun", home, startTenun, Streams(txs, o.Accounts, o.Workers))
	pprof.StopCPUProfile()
	t.Logf("%+v %v", res, err)
	b, _ := os.ReadFile(filepath.Join(home, "node.log"))
	os.WriteFile("/tmp/dbg/node.log", b, 0o644)
}
