package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/chain/store"
	"github.com/tenun-chain/tenun/client/keys"
	"github.com/tenun-chain/tenun/node"
)

func init() {
	rootCmd.AddCommand(newInitCmd(), newStartCmd(), newDevnetCmd(), newTestnetCmd())
}

func newInitCmd() *cobra.Command {
	var o node.InitOptions
	var overwrite bool
	cmd := &cobra.Command{
		Use:   "init [MONIKER]",
		Short: "Create a single-validator node home (config, keys, genesis)",
		Example: `  tenun init mynode --chain-id tenun-1
  tenun init mynode --home ./node0 --base-port 27656
  tenun init mynode --db-backend pebbledb  # Pebble for the app state and CometBFT's stores
  tenun init mynode --overwrite          # replace the home's chain (its state is deleted)`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if cmd.Flags().Changed("moniker") && o.Moniker != args[0] {
					return fmt.Errorf("MONIKER %q and --moniker %q differ", args[0], o.Moniker)
				}
				o.Moniker = args[0]
			}
			if _, err := os.Stat(filepath.Join(homeDir, "config", "genesis.json")); err == nil {
				if !overwrite {
					return fmt.Errorf("%s already holds a chain: pass --overwrite to replace it (its state is deleted; keyrings stay), or choose another --home", homeDir)
				}
				if err := removeChainState(homeDir); err != nil {
					return err
				}
			}
			if err := node.InitHome(homeDir, o); err != nil {
				return err
			}
			c, _ := node.LoadAppConfig(homeDir)
			return emit(cmd.OutOrStdout(), map[string]any{"home": homeDir, "chain_id": c.ChainID, "moniker": o.Moniker, "api_addr": c.APIAddr}, func(w io.Writer) {
				fmt.Fprintf(w, "initialised %s (moniker %s) for chain %s; run: tenun start --home %s\n", homeDir, o.Moniker, c.ChainID, homeDir)
			})
		},
	}
	cmd.Flags().StringVar(&o.ChainID, "chain-id", "tenun-1", "chain id")
	cmd.Flags().StringVar(&o.Moniker, "moniker", "node0", "node name (or give it as MONIKER)")
	cmd.Flags().IntVar(&o.BasePort, "base-port", 26656, "P2P port; CometBFT RPC and the API take the next two")
	timeFlag(cmd.Flags(), &o.BlockTime, "block-time", time.Second, "pause after each commit (CometBFT timeout_commit)")
	cmd.Flags().StringVar(&o.DBBackend, "db-backend", store.DefaultBackend, "database of the app state and CometBFT's stores: goleveldb or pebbledb (config.toml db_backend)")
	cmd.Flags().IntVar(&o.DevAccounts, "dev-accounts", 0, "fund this many well-known dev keys (insecure; for test chains)")
	cmd.Flags().BoolVar(&overwrite, "overwrite", false, "replace a chain already in --home (deletes its config and state; keyrings stay)")
	return cmd
}

// removeChainState deletes a home's chain (config, state, log), keeping
// its keyrings.
func removeChainState(home string) error {
	for _, p := range []string{"config", "data", "node.log"} {
		if err := os.RemoveAll(filepath.Join(home, p)); err != nil {
			return fmt.Errorf("remove %s: %w", p, err)
		}
	}
	return nil
}

// runNode starts the node in home and blocks until interrupted.
func runNode(cmd *cobra.Command, home string, o node.StartOptions, banner func(n *node.Node, w io.Writer)) error {
	n, err := node.StartWith(home, o)
	if err != nil {
		return err
	}
	ctx, cancel := signalContext(cmd.Context())
	defer cancel()
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	err = n.WaitForHeight(wctx, 1)
	wcancel()
	if err != nil {
		n.Stop()
		return err
	}
	info := map[string]any{
		"home": home, "chain_id": n.Config.ChainID, "api_addr": n.APIAddr(), "dashboard_url": "http://" + n.APIAddr() + "/",
		"rpc_addr": n.Comet.Config().RPC.ListenAddress, "log": filepath.Join(home, "node.log"),
	}
	emit(cmd.OutOrStdout(), info, func(w io.Writer) { banner(n, w) })
	<-ctx.Done()
	fmt.Fprintln(cmd.ErrOrStderr(), "stopping node")
	return n.Stop()
}

func newStartCmd() *cobra.Command {
	var o node.StartOptions
	cmd := &cobra.Command{
		Use:   "start",
		Short: "Run the node in --home (CometBFT and the app in one process, plus the HTTP API)",
		Example: `  tenun start --home ~/.tenun
  tenun start --home ./node0 --api-addr 0.0.0.0:26658 --rpc-laddr tcp://127.0.0.1:26657 --log-level debug`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(filepath.Join(homeDir, "config", "genesis.json")); err != nil {
				return fmt.Errorf("%s holds no chain: create one with `tenun init MONIKER --home %s` (or run `tenun devnet`)", homeDir, homeDir)
			}
			return runNode(cmd, homeDir, o, func(n *node.Node, w io.Writer) {
				fmt.Fprintf(w, "node running: chain %s, API http://%s (dashboard at /), CometBFT RPC %s\n", n.Config.ChainID, n.APIAddr(), n.Comet.Config().RPC.ListenAddress)
			})
		},
	}
	cmd.Flags().StringVar(&o.APIAddr, "api-addr", "", "HTTP API listen address, host:port (default: the home's tenun.json)")
	cmd.Flags().StringVar(&o.RPCAddr, "rpc-laddr", "", "CometBFT RPC listen address, tcp://host:port (default: the home's config.toml)")
	cmd.Flags().StringVar(&o.P2PAddr, "p2p-laddr", "", "CometBFT P2P listen address, tcp://host:port (default: the home's config.toml)")
	cmd.Flags().StringVar(&o.LogLevel, "log-level", "info", "node.log level: debug, info, error or none")
	return cmd
}

// DevAccounts is how many dev keys the devnet funds.
const DevAccounts = 5

func newDevnetCmd() *cobra.Command {
	var reset bool
	var blockTime time.Duration
	var basePort int
	cmd := &cobra.Command{
		Use:   "devnet",
		Short: "Run a single-validator development chain in --home with funded dev keys",
		Long: `Run a single-validator development chain. The first run creates it in --home
(default ~/.tenun) with the dev keys alice, bob, carol, dave and eve funded and
imported into an unencrypted test keyring; later runs resume it. --reset starts over.`,
		Example: `  tenun devnet
  tenun devnet --reset --base-port 36656 --block-time 200ms
  TENUN_HOME=/tmp/dev tenun devnet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if reset {
				for _, p := range []string{"config", "data", "keyring-test", "node.log"} {
					if err := os.RemoveAll(filepath.Join(homeDir, p)); err != nil {
						return fmt.Errorf("reset: %w", err)
					}
				}
			}
			if _, err := os.Stat(filepath.Join(homeDir, "config", "genesis.json")); err != nil {
				if err := initDevnet(homeDir, basePort, blockTime); err != nil {
					return err
				}
			} else {
				// A resumed devnet keeps the settings it was created with: a flag
				// that asks for the same is fine, a different one is an error
				// rather than silently ignored.
				c, _ := node.LoadAppConfig(homeDir)
				apiPort, storedBlockTime := resumedDevnetSettings(homeDir, c.APIAddr)
				if cmd.Flags().Changed("base-port") && basePort+2 != apiPort {
					return fmt.Errorf("--base-port %d applies only when the devnet is created; the devnet in %s resumes with its own settings (API %s): pass --reset to start over with the new --base-port", basePort, homeDir, c.APIAddr)
				}
				if cmd.Flags().Changed("block-time") && blockTime != storedBlockTime {
					return fmt.Errorf("--block-time %s applies only when the devnet is created; the devnet in %s resumes with block time %s: pass --reset to start over with the new --block-time", blockTime, homeDir, storedBlockTime)
				}
			}
			return runNode(cmd, homeDir, node.StartOptions{}, func(n *node.Node, w io.Writer) {
				fmt.Fprintf(w, "Tenun devnet %s is running\n", n.Config.ChainID)
				fmt.Fprintf(w, "  dashboard:     http://%s/\n", n.APIAddr())
				fmt.Fprintf(w, "  API:           http://%s\n", n.APIAddr())
				fmt.Fprintf(w, "  CometBFT RPC:  %s\n", n.Comet.Config().RPC.ListenAddress)
				fmt.Fprintf(w, "  home:          %s (log: node.log)\n", homeDir)
				fmt.Fprintf(w, "  dev keys (test keyring, %s each):\n", formatAmount(node.DevAccountBalance))
				for i := 0; i < DevAccounts; i++ {
					fmt.Fprintf(w, "    %-6s %s\n", keys.DevName(i), chain.AddressFromPubKey(keys.DevPrivKey(i).PubKey().Bytes()))
				}
				fmt.Fprintf(w, "  try: tenun tx bank send alice bob 5tnn\n")
			})
		},
	}
	cmd.Flags().BoolVar(&reset, "reset", false, "delete the devnet's state and keys and start over")
	timeFlag(cmd.Flags(), &blockTime, "block-time", 500*time.Millisecond, "pause after each commit")
	cmd.Flags().IntVar(&basePort, "base-port", 26656, "P2P port; CometBFT RPC and the API take the next two")
	return cmd
}

// initDevnet creates a devnet home and its test keyring with the dev keys.
func initDevnet(home string, basePort int, blockTime time.Duration) error {
	if err := node.InitHome(home, node.InitOptions{ChainID: "tenun-devnet", DevAccounts: DevAccounts, BasePort: basePort, BlockTime: blockTime}); err != nil {
		return err
	}
	c, err := node.LoadAppConfig(home)
	if err != nil {
		return err
	}
	c.KeyringBackend = string(keys.BackendTest)
	b, _ := json.MarshalIndent(c, "", "  ")
	if err := os.WriteFile(filepath.Join(home, "config", "tenun.json"), b, 0o644); err != nil {
		return err
	}
	return importDevKeys(filepath.Join(home, "keyring-test"), DevAccounts)
}

func importDevKeys(dir string, n int) error {
	kr, err := keys.Open(dir, keys.BackendTest, nil)
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if _, err := kr.Show(keys.DevName(i)); err == nil {
			continue
		}
		if _, err := kr.Import(keys.DevName(i), keys.DevMnemonic(i)); err != nil {
			return fmt.Errorf("import dev key %s: %w", keys.DevName(i), err)
		}
	}
	return nil
}

func newTestnetCmd() *cobra.Command {
	var n, basePort int
	var out, chainID, dbBackend string
	var blockTime time.Duration
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Write configs for an N-validator network on loopback ports",
		Example: `  tenun testnet --validators 4 --dir ./net
  tenun testnet --validators 3 --dir ./net --base-port 36656 -o json
  tenun testnet --validators 4 --dir ./net --db-backend pebbledb`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := os.Stat(filepath.Join(out, "node0", "config", "genesis.json")); err == nil {
				return fmt.Errorf("%s already holds a testnet: remove it, or pass another --dir", out)
			}
			homes, err := node.InitTestnet(out, n, node.InitOptions{ChainID: chainID, DevAccounts: DevAccounts, BasePort: basePort, BlockTime: blockTime, DBBackend: dbBackend})
			if err != nil {
				return err
			}
			for _, h := range homes {
				if err := importDevKeys(filepath.Join(h, "keyring-test"), DevAccounts); err != nil {
					return err
				}
				c, _ := node.LoadAppConfig(h)
				c.KeyringBackend = string(keys.BackendTest)
				b, _ := json.MarshalIndent(c, "", "  ")
				os.WriteFile(filepath.Join(h, "config", "tenun.json"), b, 0o644)
			}
			return emit(cmd.OutOrStdout(), map[string]any{"homes": homes, "chain_id": chainID}, func(w io.Writer) {
				fmt.Fprintf(w, "wrote %d validator homes for chain %s; start each with:\n", len(homes), chainID)
				for _, h := range homes {
					fmt.Fprintf(w, "  tenun start --home %s\n", h)
				}
			})
		},
	}
	cmd.Flags().IntVar(&n, "validators", 4, "number of validators")
	cmd.Flags().StringVar(&out, "dir", "", "directory to write the homes into (required)")
	cmd.Flags().StringVar(&chainID, "chain-id", "tenun-testnet", "chain id")
	cmd.Flags().IntVar(&basePort, "base-port", 26656, "node i listens on base-port+10*i and the next two ports")
	timeFlag(cmd.Flags(), &blockTime, "block-time", time.Second, "pause after each commit")
	cmd.Flags().StringVar(&dbBackend, "db-backend", store.DefaultBackend, "database of the app state and CometBFT's stores: goleveldb or pebbledb (config.toml db_backend)")
	cmd.MarkFlagRequired("dir")
	return cmd
}

// resumedDevnetSettings reads back what a devnet home was created with: the
// API port (base port + 2) and the block time (CometBFT's timeout_commit).
// Unreadable values come back as zero, which never matches a flag.
func resumedDevnetSettings(home, apiAddr string) (apiPort int, blockTime time.Duration) {
	if _, p, err := net.SplitHostPort(apiAddr); err == nil {
		apiPort, _ = strconv.Atoi(p)
	}
	raw, err := os.ReadFile(filepath.Join(home, "config", "config.toml"))
	if err != nil {
		return apiPort, 0
	}
	if m := regexp.MustCompile(`(?m)^timeout_commit\s*=\s*"([^"]+)"`).FindSubmatch(raw); m != nil {
		blockTime, _ = time.ParseDuration(string(m[1]))
	}
	return apiPort, blockTime
}
