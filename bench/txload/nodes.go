package txload

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cometbft/cometbft/abci/example/kvstore"
	cfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	mempl "github.com/cometbft/cometbft/mempool"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	rpclocal "github.com/cometbft/cometbft/rpc/client/local"
	ctypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/types"
	"github.com/spf13/viper"

	"github.com/tenun-chain/tenun/bench/report"
	"github.com/tenun-chain/tenun/internal/cputime"
	"github.com/tenun-chain/tenun/node"
)

// Options shape a node-level run.
type Options struct {
	Txs       int           // transactions driven into each app
	Accounts  int           // funded Tenun senders; transactions round-robin over them
	Workers   int           // load generator goroutines, each owning a share of the senders
	BlockTime time.Duration // CometBFT timeout_commit of both nodes
	Dir       string        // parent of the nodes' temp homes ("" = the system temp dir)
	Timeout   time.Duration // per app; 0 = derived from Txs
	Progress  io.Writer     // one line per phase; nil = quiet
	Keep      bool          // keep the temp homes (their node.log) for inspection
	// DBBackend is every node's db_backend (Tenun's app state and all
	// CometBFT stores): "goleveldb" or "pebbledb"; "" = the default.
	DBBackend string
	// Rounds runs the pair this many times, alternating which app goes
	// first, and reports the round with the median ratio: on a machine
	// other programs share, load drifts between one app's turn and the
	// other's. Each round starts both chains afresh; signing is done once.
	Rounds int
	// Validators is the size of each app's network, every node in this
	// process on loopback (1: a single validator). The load is spread over
	// the nodes' mempools; commits are timed on node 0.
	Validators int
	// BlockTxs bounds each block to this many transactions (through the
	// genesis block.max_bytes, the same for every app), so every app is
	// measured over blocks of equal size rather than over whatever its
	// mempool packed; 0 leaves CometBFT's 21 MiB limit. With Blocks, Txs
	// becomes BlockTxs x (Blocks + 2): a warm-up block, Blocks measured
	// ones and a remainder.
	BlockTxs int
	Blocks   int
}

func (o *Options) defaults() {
	if o.BlockTxs > 0 && o.Blocks > 0 {
		o.Txs = o.BlockTxs * (o.Blocks + 2)
	}
	if o.Validators <= 0 {
		o.Validators = 1
	}
	if o.Txs <= 0 {
		o.Txs = 100_000
	}
	if o.Accounts <= 0 {
		o.Accounts = 1000
	}
	if o.Accounts > o.Txs {
		o.Accounts = o.Txs
	}
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.BlockTime <= 0 {
		o.BlockTime = 200 * time.Millisecond
	}
	if o.Timeout <= 0 {
		o.Timeout = 60*time.Second + time.Duration(o.Txs)*time.Millisecond
	}
	if o.Rounds <= 0 {
		o.Rounds = 1
	}
}

// DefaultWorkers is how many submitters the load generator runs: a public
// node serves many clients and peers at once, and with several submissions
// in flight Tenun checks their signatures in batches.
const DefaultWorkers = 16

// Config is the CometBFT configuration both nodes ran with; the run refuses
// to compare nodes whose configurations differ.
type Config struct {
	TimeoutCommit      string `json:"timeout_commit"`
	TimeoutPropose     string `json:"timeout_propose"`
	CreateEmptyBlocks  bool   `json:"create_empty_blocks"`
	MempoolType        string `json:"mempool_type"`
	MempoolSize        int    `json:"mempool_size"`
	MempoolMaxTxsBytes int64  `json:"mempool_max_txs_bytes"`
	MempoolCacheSize   int    `json:"mempool_cache_size"`
	MempoolRecheck     bool   `json:"mempool_recheck"`
	TxIndexer          string `json:"tx_indexer"`
	DBBackend          string `json:"db_backend"`
	BlockMaxBytes      int64  `json:"block_max_bytes"`
	BlockMaxGas        int64  `json:"block_max_gas"`
	Validators         int    `json:"validators"`
	ABCIClient         string `json:"abci_client"`
	Submit             string `json:"submit"`
	Workers            int    `json:"workers"`
	GCPercent          int    `json:"gc_percent"` // the process's GOGC, shared by both apps
}

// Window is the measured stretch of a run: the transactions committed with
// code 0 in blocks FromHeight+1 .. ToHeight over the time between the
// commits of FromHeight and ToHeight. FromHeight is the first block that
// carried transactions (warm-up: it holds whatever queued up while the node
// idled, over no defined interval); ToHeight is the last block that carried
// transactions, or the one before it when the last is a small remainder
// (drain: under half the window's mean block, its fixed per-block cost would
// understate the rate).
type Window struct {
	FromHeight int64   `json:"from_height"`
	ToHeight   int64   `json:"to_height"`
	Blocks     int     `json:"blocks"`
	Txs        int     `json:"txs"`
	Seconds    float64 `json:"seconds"`
	// WarmupExcluded is false only when a single block carried every
	// transaction: the window then starts at the commit before it.
	WarmupExcluded bool `json:"warmup_excluded"`
	DrainExcluded  bool `json:"drain_excluded"`
}

// AppResult is one app's figures.
type AppResult struct {
	App             string  `json:"app"`
	Submitted       int     `json:"submitted"`
	CheckTxRejected int     `json:"checktx_rejected"`
	FirstError      string  `json:"first_error,omitempty"` // the first broadcast error or CheckTx rejection
	Committed       int     `json:"committed"`             // in blocks with code 0
	CommittedFailed int     `json:"committed_failed"`      // in blocks with another code
	TxBlocks        int     `json:"tx_blocks"`             // blocks that carried transactions
	MaxBlockTxs     int     `json:"max_block_txs"`
	SubmitSeconds   float64 `json:"submit_seconds"` // first broadcast to last broadcast answer
	TotalSeconds    float64 `json:"total_seconds"`  // first broadcast to last commit
	Window          Window  `json:"window"`
	TxPerSec        float64 `json:"tx_per_sec"`         // committed in the window / window seconds
	BlocksPerSec    float64 `json:"blocks_per_sec"`     // in the window
	MeanBlockTxs    float64 `json:"mean_block_txs"`     // in the window
	OverallTxPerSec float64 `json:"overall_tx_per_sec"` // Committed / TotalSeconds, warm-up and drain included
	// CPUMicrosPerTx is the process's CPU time (all threads: node, load
	// generator, GC) from the first broadcast to the last commit per
	// committed transaction: unlike tx/s it barely moves when other
	// programs compete for the cores. 0 where it cannot be read.
	CPUMicrosPerTx float64 `json:"cpu_us_per_tx"`
	// Blocks lists every block that carried transactions: its height, its
	// transaction count and when its commit was seen, in seconds after the
	// first broadcast.
	Blocks []BlockStat `json:"blocks"`
}

// BlockStat is one committed block of a run.
type BlockStat struct {
	Height int64   `json:"height"`
	Txs    int     `json:"txs"`
	At     float64 `json:"at_s"`
}

// NodesResult compares Tenun with the kvstore baseline.
type NodesResult struct {
	Txs        int       `json:"txs"`
	BlockTxs   int       `json:"block_txs,omitempty"` // the bound on transactions per block (0: none)
	Accounts   int       `json:"accounts"`
	TxBytes    float64   `json:"tx_bytes"` // mean; kvstore transactions match Tenun's sizes one for one
	TxBytesMin int       `json:"tx_bytes_min"`
	TxBytesMax int       `json:"tx_bytes_max"`
	Config     Config    `json:"config"`
	Tenun      AppResult `json:"tenun"`
	KVStore    AppResult `json:"kvstore"`
	// SignedKVStore is kvstore plus an ed25519 signature check on
	// admission (see signedKV): the engine with the least a chain of signed
	// transactions must do.
	SignedKVStore AppResult `json:"kvstore_signed"`
	Ratio         float64   `json:"ratio"`        // Tenun tx/s over kvstore tx/s
	RatioSigned   float64   `json:"ratio_signed"` // Tenun tx/s over the signed kvstore's: the target's measure
	Target        float64   `json:"target"`
	// Rounds holds every round's ratio when there was more than one; the
	// figures above are those of the median round.
	Rounds []float64 `json:"rounds,omitempty"`
}

// RatioTarget is the goal for Tenun's throughput relative to the signed
// kvstore's (the engine with the least work a chain of signed transactions
// must do), on one validator and on several.
const RatioTarget = 0.9

// RunNodes runs Tenun, kvstore and the signed kvstore with the same load and
// configuration, one after the other, Options.Rounds times.
func RunNodes(ctx context.Context, o Options) (*NodesResult, error) {
	o.defaults()
	logf := func(format string, args ...any) {
		if o.Progress != nil {
			fmt.Fprintf(o.Progress, format+"\n", args...)
		}
	}
	t0 := time.Now()
	keys := Keys(o.Accounts)
	addrs := Addresses(keys)
	tenunTxs, err := Transfers(keys, addrs, o.Txs, 0, BenchChainID)
	if err != nil {
		return nil, err
	}
	kvTxs := KVStoreTxs(tenunTxs)
	signedKVTxs, err := SignedKVStoreTxs(tenunTxs, keys)
	if err != nil {
		return nil, err
	}
	res := &NodesResult{Txs: o.Txs, BlockTxs: o.BlockTxs, Accounts: o.Accounts, TxBytes: meanLen(tenunTxs), Target: RatioTarget}
	res.TxBytesMin, res.TxBytesMax = len(tenunTxs[0]), len(tenunTxs[0])
	for _, t := range tenunTxs {
		res.TxBytesMin, res.TxBytesMax = min(res.TxBytesMin, len(t)), max(res.TxBytesMax, len(t))
	}
	logf("signed %d transfers from %d accounts in %.1fs (%.0f bytes each on average)", o.Txs, o.Accounts, time.Since(t0).Seconds(), res.TxBytes)

	root, err := os.MkdirTemp(o.Dir, "tenun-bench-tx-")
	if err != nil {
		return nil, err
	}
	if !o.Keep {
		defer os.RemoveAll(root)
	} else {
		logf("homes kept in %s", root)
	}
	initOpts := node.InitOptions{ChainID: BenchChainID, BlockTime: o.BlockTime, ExtraAccounts: GenesisAccounts(keys), DBBackend: o.DBBackend}
	if o.BlockTxs > 0 {
		initOpts.BlockMaxBytes = BlockMaxBytes(o.BlockTxs, res.TxBytesMax, o.Validators)
	}
	apps := []struct {
		name  string
		start startFunc
		txs   [][]byte
	}{
		{"tenun", startTenun, tenunTxs},
		{"kvstore", startKVStore, kvTxs},
		{"kvstore+sig", startSignedKVStore, signedKVTxs},
	}
	type round struct {
		results [3]AppResult
		ratio   float64
	}
	var rounds []round
	for r := 0; r < o.Rounds; r++ {
		var rd round
		for j := range apps {
			i := (j + r) % len(apps) // rotate which app goes first
			app := apps[i]
			dir := filepath.Join(root, fmt.Sprintf("%s-%d", app.name, r))
			if initOpts.BasePort, err = freeBasePorts(o.Validators); err != nil {
				return nil, err
			}
			homes, err := node.InitTestnet(dir, o.Validators, initOpts)
			if err != nil {
				return nil, err
			}
			c, err := configOf(homes[0], o.Workers)
			if err != nil {
				return nil, err
			}
			if res.Config == (Config{}) {
				res.Config = c
			} else if c != res.Config {
				return nil, fmt.Errorf("the nodes' configurations differ:\n%+v\n%+v", res.Config, c)
			}
			logf("%s: running %d transactions (timeout_commit %s)", app.name, o.Txs, o.BlockTime)
			ar, err := runApp(ctx, o, app.name, homes, app.start, Streams(app.txs, o.Accounts, o.Workers))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", app.name, err)
			}
			logf("%s: %.0f tx/s", app.name, ar.TxPerSec)
			rd.results[i] = ar
			if !o.Keep {
				os.RemoveAll(dir)
			}
			runtime.GC()
		}
		if rd.results[2].TxPerSec > 0 { // the target's measure: against the signed kvstore
			rd.ratio = report.Ratio(rd.results[0].TxPerSec, rd.results[2].TxPerSec)
		}
		rounds = append(rounds, rd)
	}
	sorted := append([]round(nil), rounds...)
	slices.SortStableFunc(sorted, func(a, b round) int { return cmp.Compare(a.ratio, b.ratio) })
	med := sorted[len(sorted)/2]
	res.Tenun, res.KVStore, res.SignedKVStore, res.RatioSigned = med.results[0], med.results[1], med.results[2], med.ratio
	res.Ratio = report.Ratio(res.Tenun.TxPerSec, res.KVStore.TxPerSec)
	if len(rounds) > 1 {
		for _, rd := range rounds {
			res.Rounds = append(res.Rounds, rd.ratio)
		}
	}
	return res, nil
}

// BlockMaxBytes is the block.max_bytes that fits txs transactions of
// txBytes each (and not one more) in a block of a network of validators:
// the transactions' encoded size plus CometBFT's block, header and commit
// overheads, which it subtracts before reaping the mempool.
func BlockMaxBytes(txs, txBytes, validators int) int64 {
	tx := make(types.Tx, txBytes)
	return int64(txs)*types.ComputeProtoSizeForTxs([]types.Tx{tx}) + types.MaxOverheadForBlock + types.MaxHeaderBytes + types.MaxCommitBytes(validators)
}

// freeBasePorts finds a base port where n nodes of node.InitTestnet (node
// i on base+10i to base+10i+3) can all listen.
func freeBasePorts(n int) (int, error) {
	for try := 0; try < 50; try++ {
		base, err := node.FreeBasePort()
		if err != nil {
			return 0, err
		}
		free := true
		for i := 1; i < n && free; i++ {
			for p := base + 10*i; p < base+10*i+4 && free; p++ {
				l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
				if err != nil {
					free = false
					continue
				}
				l.Close()
			}
		}
		if free {
			return base, nil
		}
	}
	return 0, fmt.Errorf("no free loopback ports for %d nodes", n)
}

// running is a started node as the harness sees it.
type running struct {
	comet *nm.Node
	rpc   *rpclocal.Local
	stop  func() error
}

type startFunc func(home string) (*running, error)

func startTenun(home string) (*running, error) {
	n, err := node.Start(home)
	if err != nil {
		return nil, err
	}
	return &running{comet: n.Comet, rpc: n.RPC, stop: n.Stop}, nil
}

// startKVStore runs CometBFT's kvstore example app the way node.Start runs
// Tenun: a home written by node.InitHome with the same options (so the same
// config.toml, genesis and single validator), CometBFT's local client
// creator (one mutex over all ABCI calls, as Tenun's), the same DB provider
// and an info-level logger to node.log. kvstore keeps its state in goleveldb
// in the home, as Tenun does.
func startKVStore(home string) (*running, error) { return startKV(home, false) }

// startSignedKVStore runs the signed kvstore (see signedKV) like startKVStore.
func startSignedKVStore(home string) (*running, error) { return startKV(home, true) }

func startKV(home string, signed bool) (*running, error) {
	ccfg, err := loadCometConfig(home)
	if err != nil {
		return nil, err
	}
	// CometBFT registers its Prometheus metrics in the process-wide registry,
	// and the bench starts several nodes in one process: the baselines run
	// without them (Tenun's node serves its own registry, see node/metrics.go).
	ccfg.Instrumentation.Prometheus = false
	app := kvstore.NewPersistentApplication(filepath.Join(home, "data", "app"))
	var clients proxy.ClientCreator = proxy.NewLocalClientCreator(app)
	if signed {
		skv := &signedKV{Application: app, verified: make(map[string]bool)}
		clients = node.PreverifyingClients(skv, skv.preverify)
	}
	logOut, err := os.OpenFile(filepath.Join(home, "node.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		app.Close()
		return nil, err
	}
	logger := cmtlog.NewFilter(cmtlog.NewTMLogger(cmtlog.NewSyncWriter(logOut)), cmtlog.AllowInfo())
	nodeKey, err := p2p.LoadNodeKey(ccfg.NodeKeyFile())
	if err != nil {
		app.Close()
		logOut.Close()
		return nil, err
	}
	pv := privval.LoadFilePV(ccfg.PrivValidatorKeyFile(), ccfg.PrivValidatorStateFile())
	// Rounds restart the baselines in this process: their Pebble stores must
	// all be closed (CometBFT's Stop leaves the tx index open).
	dbProvider, closeDBs := node.TrackedDBProvider()
	comet, err := nm.NewNode(ccfg, pv, nodeKey, clients,
		nm.DefaultGenesisDocProviderFunc(ccfg), dbProvider,
		nm.DefaultMetricsProvider(ccfg.Instrumentation), logger)
	if err != nil {
		closeDBs()
		app.Close()
		logOut.Close()
		return nil, err
	}
	if err := comet.Start(); err != nil {
		closeDBs()
		app.Close()
		logOut.Close()
		return nil, err
	}
	stop := func() error {
		var errs []error
		if comet.IsRunning() {
			errs = append(errs, comet.Stop())
			comet.Wait()
		}
		errs = append(errs, closeDBs(), app.Close(), logOut.Close())
		return errors.Join(errs...)
	}
	return &running{comet: comet, rpc: rpclocal.New(comet), stop: stop}, nil
}

// loadCometConfig reads <home>/config/config.toml as node.Start does.
func loadCometConfig(home string) (*cfg.Config, error) {
	c := cfg.DefaultConfig()
	c.SetRoot(home)
	v := viper.New()
	v.SetConfigFile(filepath.Join(home, "config", "config.toml"))
	if err := v.ReadInConfig(); err != nil {
		return nil, err
	}
	if err := v.Unmarshal(c); err != nil {
		return nil, err
	}
	c.SetRoot(home)
	return c, c.ValidateBasic()
}

func configOf(home string, workers int) (Config, error) {
	c, err := loadCometConfig(home)
	if err != nil {
		return Config{}, err
	}
	g, err := types.GenesisDocFromFile(c.GenesisFile())
	if err != nil {
		return Config{}, err
	}
	return Config{
		TimeoutCommit:      c.Consensus.TimeoutCommit.String(),
		TimeoutPropose:     c.Consensus.TimeoutPropose.String(),
		CreateEmptyBlocks:  c.Consensus.CreateEmptyBlocks,
		MempoolType:        c.Mempool.Type,
		MempoolSize:        c.Mempool.Size,
		MempoolMaxTxsBytes: c.Mempool.MaxTxsBytes,
		MempoolCacheSize:   c.Mempool.CacheSize,
		MempoolRecheck:     c.Mempool.Recheck,
		TxIndexer:          c.TxIndex.Indexer,
		DBBackend:          c.DBBackend,
		BlockMaxBytes:      g.ConsensusParams.Block.MaxBytes,
		BlockMaxGas:        g.ConsensusParams.Block.MaxGas,
		Validators:         len(g.Validators),
		ABCIClient:         "in-process local client, one mutex over all ABCI calls (Tenun checks a new transaction's signature before taking it)",
		Submit:             "rpc/client/local BroadcastTxSync (CheckTx through the mempool), pre-signed",
		Workers:            workers,
		GCPercent:          gcPercent(),
	}, nil
}

// gcPercent reads the garbage collector's current target (GOGC).
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

type blockRec struct {
	height  int64
	txs, ok int
	at      time.Time // when the NewBlock event (fired after the commit) arrived
}

// runApp starts the node in home, drives the streams into it, waits until
// every accepted transaction is committed, and stops the node.
func runApp(ctx context.Context, o Options, name string, homes []string, start startFunc, streams [][][]byte) (AppResult, error) {
	res := AppResult{App: name}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	nodes := make([]*running, 0, len(homes))
	defer func() {
		for i := len(nodes) - 1; i >= 0; i-- {
			nodes[i].stop()
		}
	}()
	for _, home := range homes {
		n, err := start(home)
		if err != nil {
			return res, err
		}
		nodes = append(nodes, n)
	}
	n := nodes[0] // commits are timed here
	sub, err := n.comet.EventBus().Subscribe(ctx, "txload", types.EventQueryNewBlock, 100_000)
	if err != nil {
		return res, fmt.Errorf("subscribe to blocks: %w", err)
	}
	total := 0
	for _, s := range streams {
		total += len(s)
	}

	var answered, rejected atomic.Int64
	var submitting atomic.Bool
	submitting.Store(true)
	blocksCh := make(chan []blockRec, 1)
	allCommitted := make(chan struct{})
	var committedAll atomic.Int64
	firstBlock := make(chan struct{})
	go func() {
		var blocks []blockRec
		defer func() { blocksCh <- blocks }()
		first := true
		for {
			select {
			case <-ctx.Done():
				return
			case <-sub.Canceled():
				return
			case msg := <-sub.Out():
				ev, ok := msg.Data().(types.EventDataNewBlock)
				if !ok {
					continue
				}
				now := time.Now()
				r := blockRec{height: ev.Block.Height, txs: len(ev.Block.Txs), at: now}
				for _, tr := range ev.ResultFinalizeBlock.TxResults {
					if tr.Code == 0 {
						r.ok++
					}
				}
				blocks = append(blocks, r)
				if first {
					first = false
					close(firstBlock)
				}
				if committedAll.Add(int64(r.txs)) >= int64(total)-rejected.Load() && !submitting.Load() {
					close(allCommitted)
					return
				}
			}
		}
	}()
	select {
	case <-firstBlock:
	case <-ctx.Done():
		return res, fmt.Errorf("no block committed: %w", ctx.Err())
	}

	begin := time.Now()
	cpuBegin, cpuOK := cputime.Process()
	var wg sync.WaitGroup
	var errs firstError
	for k, s := range streams {
		wg.Add(1)
		// Streams are spread over the nodes, as clients reach a network at
		// every validator; each account's stream stays on one node, in order.
		target := nodes[k%len(nodes)]
		go func(s [][]byte) {
			defer wg.Done()
			for _, tx := range s {
				for {
					r, err := target.rpc.BroadcastTxSync(ctx, tx)
					if err != nil && errors.As(err, &mempl.ErrMempoolIsFull{}) {
						time.Sleep(2 * time.Millisecond)
						continue
					}
					countAnswer(r, err, &answered, &rejected, &errs)
					break
				}
				if ctx.Err() != nil {
					return
				}
			}
		}(s)
	}
	wg.Wait()
	submitEnd := time.Now()
	submitting.Store(false)
	// Empty blocks keep coming (create_empty_blocks), so the collector sees
	// the end even if the last transactions committed before this point.
	select {
	case <-allCommitted:
	case <-ctx.Done():
	}
	cpuEnd, _ := cputime.Process()
	cancel()
	blocks := <-blocksCh

	res.Submitted = int(answered.Load())
	res.CheckTxRejected = int(rejected.Load())
	res.SubmitSeconds = submitEnd.Sub(begin).Seconds()
	for _, b := range blocks {
		res.Committed += b.ok
		res.CommittedFailed += b.txs - b.ok
		if b.txs > 0 {
			res.Blocks = append(res.Blocks, BlockStat{Height: b.height, Txs: b.txs, At: b.at.Sub(begin).Seconds()})
			res.TxBlocks++
			res.MaxBlockTxs = max(res.MaxBlockTxs, b.txs)
			res.TotalSeconds = b.at.Sub(begin).Seconds()
		}
	}
	if res.TotalSeconds > 0 {
		res.OverallTxPerSec = float64(res.Committed) / res.TotalSeconds
	}
	if cpuOK && res.Committed > 0 {
		res.CPUMicrosPerTx = float64((cpuEnd - cpuBegin).Microseconds()) / float64(res.Committed)
	}
	if e := errs.get(); e != nil {
		res.FirstError = e.Error()
	}
	if e := errs.get(); e != nil && res.Committed == 0 {
		return res, fmt.Errorf("broadcast: %w", e)
	}
	if res.Committed+res.CommittedFailed < total-res.CheckTxRejected {
		return res, fmt.Errorf("only %d of %d transactions committed before the timeout (%s)", res.Committed+res.CommittedFailed, total, o.Timeout)
	}
	w, err := window(blocks)
	if err != nil {
		return res, err
	}
	res.Window = w
	res.TxPerSec = float64(w.Txs) / w.Seconds
	res.BlocksPerSec = float64(w.Blocks) / w.Seconds
	res.MeanBlockTxs = float64(w.Txs) / float64(w.Blocks)
	return res, nil
}

func countAnswer(r *ctypes.ResultBroadcastTx, err error, answered, rejected *atomic.Int64, errs *firstError) {
	answered.Add(1)
	if err != nil {
		rejected.Add(1)
		errs.set(err)
		return
	}
	if r.Code != 0 {
		rejected.Add(1)
		errs.set(fmt.Errorf("CheckTx code %d: %s", r.Code, r.Log))
	}
}

// firstError keeps the first error the generator saw.
type firstError struct {
	mu  sync.Mutex
	err error
}

func (f *firstError) set(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
}

func (f *firstError) get() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

// window picks the measured stretch of blocks; see Window.
func window(blocks []blockRec) (Window, error) {
	first, last := -1, -1
	for i, b := range blocks {
		if b.txs > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return Window{}, fmt.Errorf("no transactions committed")
	}
	s, e := first, last
	w := Window{WarmupExcluded: true}
	if e == s {
		if s == 0 {
			return Window{}, fmt.Errorf("one block carried every transaction and no commit before it was seen")
		}
		s, w.WarmupExcluded = s-1, false
	}
	okIn := func(s, e int) int {
		n := 0
		for i := s + 1; i <= e; i++ {
			n += blocks[i].ok
		}
		return n
	}
	if e-s >= 2 {
		mean := float64(okIn(s, e-1)) / float64(e-1-s)
		if float64(blocks[e].ok) < mean/2 {
			e, w.DrainExcluded = e-1, true
		}
	}
	w.FromHeight, w.ToHeight = blocks[s].height, blocks[e].height
	w.Blocks, w.Txs = e-s, okIn(s, e)
	w.Seconds = blocks[e].at.Sub(blocks[s].at).Seconds()
	if w.Seconds <= 0 || w.Txs == 0 {
		return w, fmt.Errorf("empty window %+v", w)
	}
	return w, nil
}
