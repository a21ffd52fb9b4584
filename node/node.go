package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	cmtlog "github.com/cometbft/cometbft/libs/log"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	rpclocal "github.com/cometbft/cometbft/rpc/client/local"
	"github.com/spf13/viper"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/internal/logging"
	"github.com/tenun-chain/tenun/node/metrics"
)

// AppConfig is Tenun's own node configuration, beside CometBFT's config.toml.
type AppConfig struct {
	ChainID string `json:"chain_id"`
	APIAddr string `json:"api_addr"` // host:port of the HTTP API
	// KeyringBackend is the default keyring of the CLI using this home:
	// "test" for devnets, "file" otherwise.
	KeyringBackend string `json:"keyring_backend,omitempty"`
	// NoCeremonyHook stops the node from contributing to zkML setup
	// ceremonies with its validator key (see ceremony_hook.go).
	NoCeremonyHook bool `json:"no_ceremony_hook,omitempty"`
}

func appConfigPath(home string) string { return filepath.Join(home, "config", "tenun.json") }

// LoadAppConfig reads <home>/config/tenun.json.
func LoadAppConfig(home string) (AppConfig, error) {
	var c AppConfig
	b, err := os.ReadFile(appConfigPath(home))
	if err != nil {
		return c, fmt.Errorf("read node config (did you run tenun init?): %w", err)
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("parse %s: %w", appConfigPath(home), err)
	}
	return c, nil
}

// Node is a running Tenun node: CometBFT and the app in one process, plus
// the HTTP API.
type Node struct {
	Home   string
	Config AppConfig
	Comet  *nm.Node
	ABCI   *ABCI
	Blobs  *BlobStore
	RPC    *rpclocal.Local

	// Metrics are the node's application metrics (served on the
	// Prometheus address of config.toml, see metrics.go).
	Metrics *metrics.Metrics

	tree   *store.Tree
	dbs    *openDBs // CometBFT's Pebble stores, closed by Stop
	api    *http.Server
	metSrv *http.Server
	metLn  net.Listener
	apiLn  net.Listener
	logOut *os.File
	// stopHook stops the ceremony hook (nil when it is off).
	stopHook func()
	log      cmtlog.Logger
	stop     chan struct{}
	bg       sync.WaitGroup

	services []Service // see services.go
}

// BlobGrace is how long an uploaded blob may stay unregistered before the
// node removes it; BlobSweepEvery is how often it looks. Tests shorten them.
var (
	BlobGrace      = time.Hour
	BlobSweepEvery = time.Minute
)

// sweepBlobs removes unregistered uploads past BlobGrace until Stop.
func (n *Node) sweepBlobs() {
	defer n.bg.Done()
	t := time.NewTicker(BlobSweepEvery)
	defer t.Stop()
	for {
		select {
		case <-n.stop:
			return
		case <-t.C:
		}
		kv, _, err := n.ABCI.Snapshot()
		if err != nil {
			continue
		}
		removed, err := n.Blobs.Sweep(func(c string) bool { return chain.IsBlobRegistered(kv, c) }, BlobGrace, time.Now())
		if err != nil {
			n.logger().Error("blob sweep", "err", err)
		} else if removed > 0 {
			n.logger().Info("removed unregistered blobs past the grace period", "count", removed, "grace", BlobGrace.String())
		}
	}
}

func (n *Node) logger() cmtlog.Logger {
	if n.log == nil {
		return cmtlog.NewNopLogger()
	}
	return n.log
}

// Start opens the home directory written by InitHome and runs the node until
// Stop. Markets are the domains the chain runs besides its core.
func Start(home string) (*Node, error) { return StartWith(home, StartOptions{}) }

// StartWith is Start with the operator's overrides (see StartOptions).
func StartWith(home string, o StartOptions) (*Node, error) {
	ac, err := LoadAppConfig(home)
	if err != nil {
		return nil, err
	}
	ccfg := cfg.DefaultConfig()
	ccfg.SetRoot(home)
	if err := loadCometConfig(home, ccfg); err != nil {
		return nil, err
	}
	if _, err := o.apply(&ac, ccfg); err != nil {
		return nil, err
	}
	// config.toml's log_level and log_format, unless the command line
	// overrides the level.
	logLevel := ccfg.LogLevel
	if o.LogLevel != "" {
		logLevel = o.LogLevel
	}
	backend, err := checkDBBackend(ccfg)
	if err != nil {
		return nil, err
	}
	tree, err := store.OpenTreeOn(filepath.Join(home, "data", "app"), backend)
	if err != nil {
		return nil, err
	}
	blobs, err := OpenBlobStore(filepath.Join(home, "data", "blobs"))
	if err != nil {
		tree.Close()
		return nil, err
	}
	a := NewABCI(NewApp(ac.ChainID), tree)

	logOut, err := os.OpenFile(filepath.Join(home, "node.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		tree.Close()
		return nil, fmt.Errorf("open node log: %w", err)
	}
	logger, err := logging.New(logOut, logLevel, ccfg.LogFormat)
	if err != nil {
		tree.Close()
		logOut.Close()
		return nil, fmt.Errorf("%s: %w", filepath.Join(home, "config", "config.toml"), err)
	}
	appLog := logger.With("module", "tenun")
	met := metrics.New(func() int { return a.mempoolSize() }, func() map[[2]string]int { return jobCounts(a) })
	a.OnBlock = func(b chain.Block, res chain.BlockResult) {
		met.ObserveBlock(b.Height, res)
		failed := 0
		for _, r := range res.Txs {
			if r.Code != 0 {
				failed++
				appLog.Info("transaction failed in block", "height", b.Height, "type", r.Type, "sender", r.Sender, "code", r.Code, "log", r.Log)
			}
		}
		appLog.Info("applied block", "height", b.Height, "txs", len(res.Txs), "failed", failed, "events", len(res.Events))
	}
	a.OnRefused = func(r chain.TxResult) {
		met.ObserveRefused(r)
		appLog.Debug("refused transaction", "type", r.Type, "sender", r.Sender, "code", r.Code, "log", r.Log)
	}
	// A crash can leave the last committed block unindexed (see replay.go).
	if from, to, err := repairTxIndex(ccfg); err != nil {
		logger.Error("repair of the tx index failed", "err", err)
	} else if from > 0 {
		logger.Info("re-indexed blocks committed but not indexed before the last stop", "from", from, "to", to)
	}

	nodeKey, err := p2p.LoadNodeKey(ccfg.NodeKeyFile())
	if err != nil {
		tree.Close()
		return nil, fmt.Errorf("load node key: %w", err)
	}
	pv := privval.LoadFilePV(ccfg.PrivValidatorKeyFile(), ccfg.PrivValidatorStateFile())
	// The node serves metrics itself (metricsAddr): CometBFT's own server
	// stays off, and its metrics register process-wide once (see
	// cometMetrics), which tests running several nodes need.
	metricsAddr := ""
	if ccfg.Instrumentation.Prometheus {
		metricsAddr = ccfg.Instrumentation.PrometheusListenAddr
	}
	ccfg.Instrumentation.Prometheus = false
	dbs := &openDBs{}
	comet, err := nm.NewNode(ccfg, pv, nodeKey, PreverifyingClients(a, a.PreverifyTx),
		nm.DefaultGenesisDocProviderFunc(ccfg), dbs.provide,
		cometMetrics(ccfg.Instrumentation, metricsAddr != ""), logger)
	if err != nil {
		tree.Close()
		return nil, fmt.Errorf("create CometBFT node: %w", err)
	}
	a.mempool = comet.Mempool()
	if err := comet.Start(); err != nil {
		tree.Close()
		return nil, fmt.Errorf("start CometBFT node: %w", err)
	}
	n := &Node{Home: home, Config: ac, Comet: comet, ABCI: a, Blobs: blobs, RPC: rpclocal.New(comet), tree: tree, logOut: logOut, log: appLog, Metrics: met, dbs: dbs}

	if err := n.startAPI(); err != nil {
		n.Stop()
		return nil, err
	}
	if metricsAddr != "" {
		if err := n.startMetrics(metricsAddr); err != nil {
			n.Stop()
			return nil, err
		}
	}
	n.stop = make(chan struct{})
	n.bg.Add(1)
	go n.sweepBlobs()
	if stop := n.startCeremonyHook(pv, logger); stop != nil {
		n.stopHook = stop
	}
	return n, nil
}

func loadCometConfig(home string, c *cfg.Config) error {
	path := filepath.Join(home, "config", "config.toml")
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("CometBFT config %s: %w", path, err)
	}
	v := newViper()
	v.SetConfigFile(path)
	if err := v.ReadInConfig(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	if err := v.Unmarshal(c); err != nil {
		return fmt.Errorf("parse %s: %w", path, err)
	}
	c.SetRoot(home)
	return c.ValidateBasic()
}

// APIAddr is the address the HTTP API listens on.
func (n *Node) APIAddr() string { return n.apiLn.Addr().String() }

// WaitForHeight blocks until the chain has committed height h.
func (n *Node) WaitForHeight(ctx context.Context, h int64) error {
	for n.ABCI.committed.Load() < h {
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for height %d: %w", h, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// Stop shuts the API and CometBFT down and closes the state.
func (n *Node) Stop() error {
	if n.stopHook != nil {
		n.stopHook()
		n.stopHook = nil
	}
	errs := []error{n.stopServices()}
	if n.stop != nil {
		close(n.stop)
		n.bg.Wait()
		n.stop = nil
	}
	if n.metSrv != nil {
		errs = append(errs, n.metSrv.Close())
	}
	if n.api != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		errs = append(errs, n.api.Shutdown(ctx))
		cancel()
	}
	if n.Comet != nil && n.Comet.IsRunning() {
		errs = append(errs, n.Comet.Stop())
		n.Comet.Wait()
	}
	if n.dbs != nil {
		errs = append(errs, n.dbs.closeAll())
	}
	errs = append(errs, n.tree.Close())
	if n.logOut != nil {
		n.logOut.Close()
	}
	return errors.Join(errs...)
}

// NewApp builds the state machine with every market domain. Adding a market
// means adding its domain here.
func NewApp(chainID string) *chain.App {
	return chain.NewApp(chainID, Markets()...)
}

func newViper() *viper.Viper { return viper.New() }

// LogConfig reads config.toml's log_level and log_format in home, for
// agents that log as the node does; a home without a config.toml gives
// CometBFT's defaults.
func LogConfig(home string) (level, format string, err error) {
	c := cfg.DefaultConfig()
	if _, statErr := os.Stat(filepath.Join(home, "config", "config.toml")); statErr != nil {
		return c.LogLevel, c.LogFormat, nil
	}
	if err := loadCometConfig(home, c); err != nil {
		return "", "", err
	}
	return c.LogLevel, c.LogFormat, nil
}
