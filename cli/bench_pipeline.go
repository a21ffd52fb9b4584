package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/demo"
)

func init() { benchCmd.AddCommand(newBenchPipelineCmd()) }

// benchPipelineResult is what `tenun bench pipeline -o json` prints.
type benchPipelineResult struct {
	Pipeline []demo.StageTime `json:"pipeline"`
	ByHand   []demo.StageTime `json:"by_hand"`
	Total    struct {
		Pipeline demo.StageTime `json:"pipeline"`
		ByHand   demo.StageTime `json:"by_hand"`
	} `json:"total"`
	// Ratio is the pipeline's wall time over by hand's, from the pipeline's
	// creation to the model served (data and setup are the same in both).
	Ratio float64 `json:"ratio"`
	// TeamTxs is how many transactions the team itself signed from the
	// labelling stage on: one with the pipeline, one per step by hand.
	TeamTxsPipeline int `json:"team_txs_pipeline"`
	TeamTxsByHand   int `json:"team_txs_by_hand"`
}

func newBenchPipelineCmd() *cobra.Command {
	var quiet bool
	var rows int
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Blocks, transactions and wall time per stage of the demo's pipeline, beside the same stages driven by hand",
		Long: `Runs the demo's workflow twice on fresh devnets in this process: once as a
pipeline (one transaction escrows the budget and the chain runs the stages),
once with the team driving each stage by hand (posting the labelling job,
closing it, posting the training job, entering the model), with the same
participants and data. Prints each stage's wall time, blocks and transactions
for both, the totals and the ratio pipeline/by hand of the wall time from the
labelling stage to the served model.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := signalContext(cmd.Context())
			defer cancel()
			var out benchPipelineResult
			for _, byHand := range []bool{false, true} {
				o := demo.Options{ByHand: byHand, Rows: rows}
				if !quiet {
					o.Progress = cmd.ErrOrStderr()
				}
				stages, teamTxs, err := runDemoOnce(ctx, o)
				if err != nil {
					return err
				}
				if byHand {
					out.ByHand, out.TeamTxsByHand = stages, teamTxs
				} else {
					out.Pipeline, out.TeamTxsPipeline = stages, teamTxs
				}
			}
			out.Total.Pipeline, out.Total.ByHand = workflowTotal(out.Pipeline), workflowTotal(out.ByHand)
			if out.Total.ByHand.Seconds > 0 {
				out.Ratio = out.Total.Pipeline.Seconds / out.Total.ByHand.Seconds
			}
			return emit(cmd.OutOrStdout(), out, func(w io.Writer) { printBenchPipeline(w, out) })
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress lines on stderr")
	cmd.Flags().IntVar(&rows, "rows", 300, "digits the honest contributors send")
	return cmd
}

func runDemoOnce(ctx context.Context, o demo.Options) ([]demo.StageTime, int, error) {
	run, err := demo.Start(ctx, o)
	defer run.Stop()
	if err != nil {
		return nil, 0, err
	}
	return run.Summary.Stages, run.TeamTxs, nil
}

// workflowTotal sums the stages from labelling on: data and setup are the
// same work in both runs.
func workflowTotal(stages []demo.StageTime) demo.StageTime {
	t := demo.StageTime{Stage: "label to served"}
	for _, s := range stages {
		if s.Stage == "data" || s.Stage == "setup" {
			continue
		}
		t.Seconds += s.Seconds
		t.Blocks += s.Blocks
		t.Txs += s.Txs
	}
	return t
}

func printBenchPipeline(w io.Writer, r benchPipelineResult) {
	fmt.Fprintln(w, "The demo's workflow as a pipeline, and driven by hand (same participants, data and parameters; fresh devnets, 100 ms blocks)")
	fmt.Fprintf(w, "  %-16s %21s   %21s\n", "", "pipeline", "by hand")
	fmt.Fprintf(w, "  %-16s %8s %6s %6s   %8s %6s %6s\n", "stage", "seconds", "blocks", "txs", "seconds", "blocks", "txs")
	byName := map[string]demo.StageTime{}
	for _, s := range r.ByHand {
		byName[s.Stage] = s
	}
	for _, s := range r.Pipeline {
		h := byName[s.Stage]
		fmt.Fprintf(w, "  %-16s %8.1f %6d %6d   %8.1f %6d %6d\n", s.Stage, s.Seconds, s.Blocks, s.Txs, h.Seconds, h.Blocks, h.Txs)
	}
	p, h := r.Total.Pipeline, r.Total.ByHand
	fmt.Fprintf(w, "  %-16s %8.1f %6d %6d   %8.1f %6d %6d\n", p.Stage, p.Seconds, p.Blocks, p.Txs, h.Seconds, h.Blocks, h.Txs)
	fmt.Fprintf(w, "  ratio pipeline/by hand (wall time, label to served): %.2f\n", r.Ratio)
	fmt.Fprintf(w, "  the team's own transactions from labelling on: %d with the pipeline, %d by hand\n", r.TeamTxsPipeline, r.TeamTxsByHand)
}
