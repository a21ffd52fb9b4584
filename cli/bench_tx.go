package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

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
		Long: `Runs a single-validator Tenun node in-process in a temp dir, drives --txs
pre-signed transfers into it through CometBFT's mempool at saturation, and
measures committed transfers per second between two block commits (warm-up and
drain excluded). Then runs CometBFT's kvstore example app in a node with the
same CometBFT configuration and the same number of transactions of the same
sizes, measured the same way, and prints the ratio Tenun/kvstore.

With --state-machine (the default) it also applies blocks of 10,000 signed
transfers directly with App.ApplyBlock and commits them to a durable tree,
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
	f.IntVar(&o.Txs, "txs", 60_000, "transactions driven into each app")
	f.DurationVar(&o.BlockTime, "block-time", 200*time.Millisecond, "CometBFT timeout_commit of both nodes")
	f.IntVar(&o.Accounts, "accounts", 1000, "funded Tenun sender accounts (generated keys)")
	f.IntVar(&o.Workers, "workers", 4, "load generator goroutines")
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
		fmt.Fprintf(w, "Node throughput: %d transactions of %.0f bytes (%d-%d) per app, %d Tenun sender accounts\n",
			n.Txs, n.TxBytes, n.TxBytesMin, n.TxBytesMax, n.Accounts)
		fmt.Fprintf(w, "  both nodes: 1 validator, timeout_commit %s, %s mempool size %d (cache %d, recheck %v), tx indexer %s, %s,\n",
			c.TimeoutCommit, c.MempoolType, c.MempoolSize, c.MempoolCacheSize, c.MempoolRecheck, c.TxIndexer, c.DBBackend)
		fmt.Fprintf(w, "  block max %d bytes, %s; load: %d workers, %s\n", c.BlockMaxBytes, c.ABCIClient, c.Workers, c.Submit)
		fmt.Fprintf(w, "  %-8s %10s %9s %11s %8s %9s %s\n", "app", "tx/s", "blocks/s", "txs/block", "window", "overall", "committed")
		for _, a := range []txload.AppResult{n.Tenun, n.KVStore} {
			sat := ""
			if !a.Window.WarmupExcluded {
				sat = " (one block: warm-up included)"
			}
			fmt.Fprintf(w, "  %-8s %10.0f %9.2f %11.0f %7.1fs %9.0f %d ok, %d failed, %d rejected%s\n",
				a.App, a.TxPerSec, a.BlocksPerSec, a.MeanBlockTxs, a.Window.Seconds, a.OverallTxPerSec,
				a.Committed, a.CommittedFailed, a.CheckTxRejected, sat)
		}
		verdict := "meets"
		if n.Ratio < n.Target {
			verdict = "misses"
		}
		fmt.Fprintf(w, "  ratio Tenun/kvstore: %.2f (%s the target %.2f)\n", n.Ratio, verdict, n.Target)
		fmt.Fprintln(w, "  tx/s: code-0 transactions committed between two block commits (warm-up and drain excluded) / time between the commits;")
		fmt.Fprintln(w, "  overall: all committed / first broadcast to last commit. Tenun fsyncs its state tree each commit, kvstore does not.")
	}
	if s := r.StateMachine; s != nil {
		if r.Nodes != nil {
			fmt.Fprintln(w)
		}
		verdict := "meets"
		if s.TxPerSec < s.Target {
			verdict = "misses"
		}
		fmt.Fprintf(w, "State machine: %d blocks of %d signed transfers, %d accounts, ApplyBlock + durable IAVL commit\n", s.Blocks, s.TxsPerBlock, s.Accounts)
		fmt.Fprintf(w, "  state machine        %10.0f tx/s (apply %.2fs, commit %.2fs; %s the target %.0f)\n", s.TxPerSec, s.ApplySeconds, s.CommitSeconds, verdict, s.Target)
		fmt.Fprintf(w, "  ed25519 batch verify %10.0f tx/s (baseline: signatures only, as ApplyBlock checks them)\n", s.SigVerifyTxPerSec)
		fmt.Fprintf(w, "  ed25519 one by one   %10.0f tx/s (as CheckTx checks them)\n", s.SigVerifySingleTxPerSec)
		fmt.Fprintf(w, "  ratio state machine / batch verify: %.2f\n", s.Ratio)
	}
}
