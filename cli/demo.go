package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/demo"
	"github.com/tenun-chain/tenun/internal/logging"
)

func init() { rootCmd.AddCommand(newDemoCmd()) }

func newDemoCmd() *cobra.Command {
	var o demo.Options
	var exit, verbose bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole workflow on a fresh devnet: data, labels, training, a proven model served by a subnet, with cheaters at every step",
		Long: `Starts a devnet in a fresh temporary home (or --home) and runs one pipeline
through every stage with simulated participants of every role, each a real
agent with its own key driving the node's API:

  data      the team curates a dataset of the bundled 8x8 digits; two contributors
            send rows, a third sends duplicates and malformed rows (refused on entry)
  pipeline  the team declares label, train, prove and serve stages and escrows the
            whole budget in one transaction; the chain runs the stages itself
  label     four annotators label the digits: two honest, a spammer, a copier
  train     three compute providers fetch the labelled data through the signed
            gateway under the job's scoped grant and train; one returns a made-up model
  prove     a prover commits to the trained model and proves its accuracy on a public
            test set with a zero-knowledge proof the chain verifies
  serve     the verified model enters a subnet; two miners serve it, two validators
            score them (one copies weights); a royalty flows back to data and labels

It prints a line per step as it happens and the dashboard's URL at the start,
then a summary read back from chain state: who earned what, who was slashed and
why, the proven accuracy and proof times, the lineage. The node (and dashboard)
stays up until Ctrl-C unless --exit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f := cmd.Flag("home"); f != nil && f.Changed {
				o.Home = homeDir // a new directory, kept; default: a temporary one
			}
			if !jsonOutput() {
				o.Progress = cmd.ErrOrStderr()
			}
			if verbose {
				l, err := logging.NewSlog(cmd.ErrOrStderr(), logging.FormatPlain)
				if err != nil {
					return err
				}
				l = l.With("module", "demo")
				o.Logf = func(format string, args ...any) { l.Log(cmd.Context(), slog.LevelInfo, fmt.Sprintf(format, args...)) }
			}
			ctx, cancel := signalContext(cmd.Context())
			defer cancel()
			if timeout > 0 {
				var c2 context.CancelFunc
				ctx, c2 = context.WithTimeout(ctx, timeout)
				defer c2()
			}
			run, err := demo.Start(ctx, o)
			defer run.Stop()
			if err != nil {
				return fmt.Errorf("demo: %w", err)
			}
			if err := emit(cmd.OutOrStdout(), run.Summary, func(w io.Writer) { run.Summary.Print(w) }); err != nil {
				return err
			}
			if exit {
				return nil
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "the node keeps running: dashboard at %s (Ctrl-C to stop)\n", run.Dashboard)
			<-ctx.Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&exit, "exit", false, "stop the node after the summary instead of keeping it up")
	f.BoolVar(&verbose, "verbose", false, "print the agents' own log lines too")
	f.IntVar(&o.Rows, "rows", 300, "digits the honest contributors send")
	f.IntVar(&o.Epochs, "epochs", 4, "subnet epochs the miners serve the model")
	timeFlag(f, &timeout, "timeout", 0, "give up after this long (0: never)")
	return cmd
}
