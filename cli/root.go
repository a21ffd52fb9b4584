// Package cli holds the cobra commands of the tenun binary. Each area adds its
// commands from its own file with an init function, so files do not collide:
//
//	func init() { benchCmd.AddCommand(newBenchLabelsCmd()) }
package cli

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/bench/report"
)

var rootCmd = &cobra.Command{
	Use:           "tenun",
	Short:         "Tenun: a chain where strangers supply AI teams with data, labels, compute and verified models",
	SilenceUsage:  true,
	SilenceErrors: true,
}

// Command groups that several files add to.
var (
	benchCmd = &cobra.Command{Use: "bench", Short: "Benchmarks: each prints its figures beside a baseline measured in the same run"}
	txCmd    = &cobra.Command{Use: "tx", Short: "Sign and submit transactions"}
	queryCmd = &cobra.Command{Use: "query", Aliases: []string{"q"}, Short: "Query chain state"}
)

// outputFormat is the global --output flag: "text" (default) or "json".
var outputFormat string

func init() {
	rootCmd.PersistentFlags().StringVarP(&outputFormat, "output", "o", "text", "output format: text or json")
	rootCmd.AddCommand(benchCmd, txCmd, queryCmd)
	rootCmd.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if outputFormat != "text" && outputFormat != "json" {
			return fmt.Errorf("-o/--output %q: want text or json (files and folders take --out or --dir)", outputFormat)
		}
		if nodeAddr != "" {
			if _, err := normalizeNode(nodeAddr); err != nil {
				return err
			}
		}
		return resolveDurations(cmd)
	}
}

// Execute runs the root command and prints an error a person can read.
func Execute() error {
	applyExamples(rootCmd)
	applyCompletions(rootCmd)
	err := explain(rootCmd.Execute())
	if err != nil {
		fmt.Fprintln(rootCmd.ErrOrStderr(), "Error:", err)
	}
	return err
}

// jsonOutput reports whether the user asked for --output json.
func jsonOutput() bool { return outputFormat == "json" }

// emit prints v as indented JSON with --output json, and otherwise calls human.
func emit(w io.Writer, v any, human func(io.Writer)) error {
	if jsonOutput() {
		return report.JSON(w, v)
	}
	human(w)
	return nil
}
