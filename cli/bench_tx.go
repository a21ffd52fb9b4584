package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/bench/report"
	"github.com/tenun-chain/tenun/bench/txload"
)

func init() { benchCmd.AddCommand(newBenchTxCmd()) }

// benchTxResult is what `tenun bench tx --output json` prints.
type benchTxResult struct {
	Nodes        *txload.NodesResult `json:"nodes,omitempty"`
	StateMachine *txload.SMResult    `json:"state_machine,omitempty"`
}

func newBenchTxCmd() *cobra.Command {
	var (
		o         txload.Options
		sm        txload.SMOptions
		withSM    bool
		withNodes bool
		quiet     bool
	)
	cmd := &cobra.Command{
		Use:   "tx",
		Short: "Committed transfers/s of a Tenun node against CometBFT's kvstore app, and of the state machine against signature checks",
		Long: `Runs a Tenun network of --validators nodes in-process in a temp dir (on
loopback), drives pre-signed transfers from --accounts funded keys into it
through CometBFT's mempools at saturation (broadcast_tx_sync from --workers
goroutines spread over the nodes), and measures committed transfers per second
on node 0 between two block commits: from the commit of the first block that
carried transactions (warm-up) to the commit of the last (a small remainder
block excluded). Then runs CometBFT's kvstore example app, and kvstore with an
ed25519 check on admission, in networks with the same CometBFT configuration
(homes written by the same tenun testnet options) and the same transactions'
sizes, measured the same way, and prints the ratios.

Blocks are bounded to --block-txs transactions (genesis block.max_bytes, the
same for every app) and each app commits --blocks of them after a warm-up
block, so each is measured over blocks of equal size: left unbounded, kvstore
admits transactions far faster than it commits them and packs its window into
one or two huge blocks, and its figure swings from run to run. --block-txs 0
leaves the bound off and drives --txs transactions. --rounds (3 by default)
repeats the comparison, rotating which app goes first, and shows the median.

Both figures depend on the cores being free: cpu us/tx (the process's CPU time
per transaction) is shown beside them and barely moves under outside load.

With --state-machine (the default) it also applies blocks of 10,000 signed
transfers directly with App.ApplyBlock and commits them to a durable IAVL tree,
beside the cost of only checking the same blocks' signatures.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !quiet {
				o.Progress = cmd.ErrOrStderr()
			}
			ctx, cancel := signalContext(cmd.Context())
			defer cancel()
			var out benchTxResult
			if withNodes {
				r, err := txload.RunNodes(ctx, o)
				if err != nil {
					return err
				}
				out.Nodes = r
			}
			if withSM {
				if o.Progress != nil {
					fmt.Fprintf(o.Progress, "state machine: %d blocks of %d transfers\n", max(sm.Blocks, 1), max(sm.TxsPerBlock, 1))
				}
				r, err := txload.RunStateMachine(sm)
				if err != nil {
					return err
				}
				out.StateMachine = r
			}
			return emit(cmd.OutOrStdout(), out, func(w io.Writer) { printBenchTx(w, out) })
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Txs, "txs", 100_000, "transactions driven into each app when --block-txs is 0")
	f.IntVar(&o.Validators, "validators", 1, "validators of each app's network (in this process, on loopback)")
	f.IntVar(&o.BlockTxs, "block-txs", 2000, "transactions per block (0: CometBFT's 21 MiB block limit)")
	f.IntVar(&o.Blocks, "blocks", 10, "measured blocks of --block-txs each, after a warm-up block")
	timeFlag(f, &o.BlockTime, "block-time", 200*time.Millisecond, "CometBFT timeout_commit of both nodes")
	f.IntVar(&o.Accounts, "accounts", 1000, "funded Tenun sender accounts (generated keys)")
	f.IntVar(&o.Workers, "workers", txload.DefaultWorkers, "load generator goroutines (concurrent submitters)")
	f.IntVar(&o.Rounds, "rounds", 3, "run the comparison this many times, rotating which app goes first, and show the median round")
	f.StringVar(&o.DBBackend, "db", "", "db_backend of every node: goleveldb or pebbledb (default: a new home's)")
	f.BoolVar(&o.Keep, "keep", false, "keep the nodes' temp homes (node.log) and print where")
	f.BoolVar(&withNodes, "nodes", true, "run the node comparison (Tenun vs kvstore)")
	f.BoolVar(&withSM, "state-machine", true, "run the state-machine-only figure")
	f.IntVar(&sm.Blocks, "sm-blocks", 5, "measured blocks of the state-machine figure")
	f.IntVar(&sm.TxsPerBlock, "sm-block-txs", 10_000, "transfers per block of the state-machine figure")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress lines on stderr")
	return cmd
}

func printBenchTx(w io.Writer, r benchTxResult) {
	if n := r.Nodes; n != nil {
		c := n.Config
		fmt.Fprintf(w, "Node throughput: %d transactions per app, %.0f bytes each (%d-%d; kvstore's padded to match), %d Tenun sender accounts\n",
			n.Txs, n.TxBytes, n.TxBytesMin, n.TxBytesMax, n.Accounts)
		bound := ""
		if n.BlockTxs > 0 {
			bound = fmt.Sprintf(" (%d transactions)", n.BlockTxs)
		}
		fmt.Fprintf(w, "  every app: %d validator(s), timeout_commit %s, timeout_propose %s, block max %d bytes%s, %s mempool of %d txs (cache %d, recheck %v),\n",
			c.Validators, c.TimeoutCommit, c.TimeoutPropose, c.BlockMaxBytes, bound, c.MempoolType, c.MempoolSize, c.MempoolCacheSize, c.MempoolRecheck)
		fmt.Fprintf(w, "  tx indexer %s, %s; ABCI: %s\n", c.TxIndexer, c.DBBackend, c.ABCIClient)
		fmt.Fprintf(w, "  load: %d goroutines, %s; GOGC %d for both\n", c.Workers, c.Submit, c.GCPercent)
		fmt.Fprintf(w, "  %-11s %9s %9s %10s %14s %9s %10s  %s\n", "app", "tx/s", "blocks/s", "txs/block", "window", "overall", "cpu us/tx", "committed")
		for _, a := range []txload.AppResult{n.Tenun, n.KVStore, n.SignedKVStore} {
			note := ""
			if !a.Window.WarmupExcluded {
				note = " (one block: warm-up included)"
			}
			if a.FirstError != "" {
				note += " first error: " + a.FirstError
			}
			win := fmt.Sprintf("%d blk %.1fs", a.Window.Blocks, a.Window.Seconds)
			fmt.Fprintf(w, "  %-11s %9.0f %9.2f %10.0f %14s %9.0f %10.1f  %d ok, %d failed, %d rejected%s\n",
				a.App, a.TxPerSec, a.BlocksPerSec, a.MeanBlockTxs, win, a.OverallTxPerSec, a.CPUMicrosPerTx,
				a.Committed, a.CommittedFailed, a.CheckTxRejected, note)
		}
		fmt.Fprintf(w, "  ratio Tenun/kvstore: %.2f\n", n.Ratio)
		fmt.Fprintf(w, "  ratio Tenun/kvstore+sig: %.2f (%s the target %.2f; kvstore+sig: kvstore plus an ed25519 check on admission, outside the ABCI lock, as Tenun's)\n",
			n.RatioSigned, report.Verdict(n.RatioSigned >= n.Target), n.Target)
		if len(n.Rounds) > 1 {
			fmt.Fprintf(w, "  rounds' ratios against kvstore+sig %.2f: the median round is shown\n", n.Rounds)
		}
		fmt.Fprintln(w, "  tx/s: code-0 transactions in the blocks after the first one carrying transactions (warm-up) up to the last")
		fmt.Fprintln(w, "  (a small remainder block excluded), over the time between those commits. overall: every committed")
		fmt.Fprintln(w, "  transaction from the first broadcast to the last commit. cpu us/tx: process CPU time per transaction.")
		fmt.Fprintln(w, "  Tenun's state is an IAVL tree fsync'd each commit; kvstore's app state is goleveldb without fsync;")
		fmt.Fprintln(w, "  CometBFT's stores (and Tenun's tree) use the db_backend shown.")
	}
	if s := r.StateMachine; s != nil {
		if r.Nodes != nil {
			fmt.Fprintln(w)
		}
		fmt.Fprintf(w, "State machine: %d blocks of %d signed transfers from %d accounts, App.ApplyBlock + IAVL commit (fsync) in a temp dir\n", s.Blocks, s.TxsPerBlock, s.Accounts)
		fmt.Fprintf(w, "  %-30s %9.0f tx/s (apply %.2fs, commit %.2fs; %s the target %.0f)\n", "state machine", s.TxPerSec, s.ApplySeconds, s.CommitSeconds, report.Verdict(s.TxPerSec >= s.Target), s.Target)
		fmt.Fprintf(w, "  %-30s %9.0f tx/s\n", "baseline: ed25519 batch verify", s.SigVerifyTxPerSec)
		fmt.Fprintf(w, "  %-30s %9.0f tx/s\n", "ed25519 one by one", s.SigVerifySingleTxPerSec)
		fmt.Fprintf(w, "  ratio state machine / batch verify: %.2f (the same blocks' signatures, checked as ApplyBlock checks them)\n", s.Ratio)
		if s.CPUTxPerSec > 0 {
			fmt.Fprintf(w, "  per CPU-second: state machine %.0f tx, batch verify %.0f tx (steadier when other programs share the cores)\n", s.CPUTxPerSec, s.SigVerifyCPUTxPerSec)
		}
	}
}
