package node

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	cfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/types"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/client/keys"
)

// Token amounts used by generated genesis files.
const (
	TNN                = 1_000_000 // utnn per TNN
	DevAccountBalance  = 1_000_000 * TNN
	ValidatorBalance   = 1_000_000 * TNN
	ValidatorSelfStake = 100_000 * TNN
)

// InitOptions shape a generated home directory.
type InitOptions struct {
	ChainID     string
	Moniker     string
	DevAccounts int // fund this many well-known dev keys (alice, bob, ...)
	// BasePort numbers the node's listeners: P2P on BasePort, CometBFT RPC on
	// BasePort+1, the API on BasePort+2, all on 127.0.0.1.
	BasePort int
	// BlockTime is CometBFT's timeout_commit: how long a node waits after a
	// commit before the next height.
	BlockTime time.Duration
	Params    chain.Params
	// DBBackend is config.toml's db_backend: "goleveldb" or "pebbledb"
	// (store.Backends; "" = store.DefaultBackend), for the app state and
	// CometBFT's stores alike.
	DBBackend string
	// ExtraAccounts are funded in genesis besides the dev keys and the
	// validators (benchmarks fund thousands of generated keys this way).
	ExtraAccounts []chain.GenesisAccount
	// BlockMaxBytes is the genesis block.max_bytes (0: CometBFT's default);
	// benchmarks bound it to get blocks of equal transaction counts.
	BlockMaxBytes int64
}

func (o *InitOptions) defaults() {
	if o.ChainID == "" {
		o.ChainID = "tenun-devnet"
	}
	if o.Moniker == "" {
		o.Moniker = "node0"
	}
	if o.BasePort == 0 {
		o.BasePort = 26656
	}
	if o.BlockTime == 0 {
		o.BlockTime = 500 * time.Millisecond
	}
	if o.DBBackend == "" {
		o.DBBackend = store.DefaultBackend
	}
	if o.Params == (chain.Params{}) {
		o.Params = chain.DefaultParams()
	}
}

// InitHome writes a single-validator home: CometBFT config and keys, a
// genesis with the dev accounts funded, and tenun.json.
func InitHome(home string, o InitOptions) error {
	o.defaults()
	_, err := initNetwork([]string{home}, o)
	return err
}

// InitTestnet writes n validator homes under dir (node0 ... node<n-1>) that
// find each other on loopback ports: node i uses BasePort+10*i and up.
func InitTestnet(dir string, n int, o InitOptions) ([]string, error) {
	o.defaults()
	if n < 1 || n > 50 {
		return nil, fmt.Errorf("validators: %d, want 1 to 50", n)
	}
	homes := make([]string, n)
	for i := range homes {
		homes[i] = filepath.Join(dir, fmt.Sprintf("node%d", i))
	}
	return initNetwork(homes, o)
}

func initNetwork(homes []string, o InitOptions) ([]string, error) {
	if err := store.CheckBackend(o.DBBackend); err != nil {
		return nil, err
	}
	type nodeKeys struct {
		cfg  *cfg.Config
		id   p2p.ID
		pv   *privval.FilePV
		port int
	}
	nodes := make([]nodeKeys, len(homes))
	for i, home := range homes {
		if _, err := os.Stat(filepath.Join(home, "config", "genesis.json")); err == nil {
			return nil, fmt.Errorf("%s already holds a chain (use --reset, or remove it)", home)
		}
		c := cfg.DefaultConfig()
		c.SetRoot(home)
		cfg.EnsureRoot(home)
		nk, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile())
		if err != nil {
			return nil, fmt.Errorf("node key: %w", err)
		}
		nodes[i] = nodeKeys{cfg: c, id: nk.ID(), pv: privval.LoadOrGenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile()), port: o.BasePort + 10*i}
	}

	g := chain.Genesis{Params: o.Params}
	for i := 0; i < o.DevAccounts; i++ {
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: chain.AddressFromPubKey(keys.DevPrivKey(i).PubKey().Bytes()), Balance: DevAccountBalance})
	}
	g.Accounts = append(g.Accounts, o.ExtraAccounts...)
	doc := &types.GenesisDoc{
		ChainID:         o.ChainID,
		GenesisTime:     time.Now().UTC().Truncate(time.Second),
		ConsensusParams: types.DefaultConsensusParams(),
	}
	if o.BlockMaxBytes > 0 {
		// Evidence counts against the block: it may take at most a tenth.
		doc.ConsensusParams.Block.MaxBytes = o.BlockMaxBytes
		doc.ConsensusParams.Evidence.MaxBytes = min(doc.ConsensusParams.Evidence.MaxBytes, o.BlockMaxBytes/10)
	}
	for i, nd := range nodes {
		pub, err := nd.pv.GetPubKey()
		if err != nil {
			return nil, err
		}
		addr := chain.AddressFromBytes(pub.Address())
		doc.Validators = append(doc.Validators, types.GenesisValidator{Address: pub.Address(), PubKey: pub, Power: 10, Name: fmt.Sprintf("node%d", i)})
		g.Accounts = append(g.Accounts, chain.GenesisAccount{Address: addr, Balance: ValidatorBalance})
		g.Stakes = append(g.Stakes, chain.GenesisStake{Address: addr, Pool: chain.ValidatorPool, Amount: ValidatorSelfStake})
	}
	appState, err := json.MarshalIndent(g, "", "  ")
	if err != nil {
		return nil, err
	}
	doc.AppState = appState
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}

	for i, nd := range nodes {
		c := nd.cfg
		c.Moniker = fmt.Sprintf("%s-%d", o.Moniker, i)
		if len(homes) == 1 {
			c.Moniker = o.Moniker
		}
		c.P2P.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", nd.port)
		c.RPC.ListenAddress = fmt.Sprintf("tcp://127.0.0.1:%d", nd.port+1)
		c.P2P.AddrBookStrict = false // peers are on loopback
		c.P2P.AllowDuplicateIP = true
		c.P2P.PexReactor = len(homes) > 1
		var peers string
		for j, other := range nodes {
			if j == i {
				continue
			}
			if peers != "" {
				peers += ","
			}
			peers += fmt.Sprintf("%s@127.0.0.1:%d", other.id, other.port)
		}
		c.P2P.PersistentPeers = peers
		c.Consensus.TimeoutCommit = o.BlockTime
		c.Consensus.TimeoutPropose = 2 * time.Second
		c.Mempool.Size = 100_000
		c.Mempool.MaxTxsBytes = 1 << 30
		c.Mempool.CacheSize = 200_000
		// Metrics on by default, on loopback, one port per node.
		c.Instrumentation.Prometheus = true
		c.Instrumentation.PrometheusListenAddr = fmt.Sprintf("127.0.0.1:%d", nd.port+3)
		c.LogLevel = "info"
		c.DBBackend = o.DBBackend
		cfg.WriteConfigFile(filepath.Join(homes[i], "config", "config.toml"), c)
		if err := doc.SaveAs(c.GenesisFile()); err != nil {
			return nil, fmt.Errorf("write genesis: %w", err)
		}
		ac := AppConfig{ChainID: o.ChainID, APIAddr: fmt.Sprintf("127.0.0.1:%d", nd.port+2)}
		b, _ := json.MarshalIndent(ac, "", "  ")
		if err := os.WriteFile(appConfigPath(homes[i]), b, 0o644); err != nil {
			return nil, fmt.Errorf("write node config: %w", err)
		}
	}
	return homes, nil
}
