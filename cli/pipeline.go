package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/tenun-chain/tenun/internal/units"
	"github.com/tenun-chain/tenun/pipeline"
)

func init() {
	txCmd.AddCommand(newPipelineTxCmd())
	queryCmd.AddCommand(newPipelineQueryCmd())
}

// readPipelineSpec reads a spec file, YAML or JSON (by extension; .json is
// JSON, anything else YAML, of which JSON is a subset). Unknown fields are
// refused, so a misspelt stage or parameter is an error, not a default.
func readPipelineSpec(path string) (pipeline.Spec, error) {
	var s pipeline.Spec
	b, err := os.ReadFile(path)
	if err != nil {
		return s, fmt.Errorf("read pipeline spec: %w", err)
	}
	if strings.EqualFold(filepath.Ext(path), ".json") {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&s); err != nil {
			return s, fmt.Errorf("pipeline spec %s: %w", path, err)
		}
		return s, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil && err != io.EOF {
		return s, fmt.Errorf("pipeline spec %s: %w", path, err)
	}
	return s, nil
}

func newPipelineTxCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "pipeline", Short: "Pipeline transactions: one escrowed workflow from raw data to a verified model"}
	var f txFlags
	var budget uint64
	create := &cobra.Command{
		Use:   "create SPEC.yaml --budget AMOUNT --from NAME",
		Short: "Declare a pipeline (dataset, labelling, training, accuracy to prove) and escrow its whole budget",
		Long: `Create a pipeline from a spec file (YAML or JSON): the dataset version and the
columns annotators see, the labelling parameters and the labelled dataset's terms, the
training module and its parameters, the accuracy to prove on a registered test set (a claim
counts only under a sealed multi-party ceremony unless prove.allow_single_party is true, as on
a devnet), and optionally serve: the subnet the verified model enters, with its royalty.
The whole budget is escrowed in this one transaction; the chain then runs every stage
itself and refunds what the stages did not spend. Follow it with ` + "`tenun query pipeline ID`" + `.`,
		Example: `  tenun tx pipeline create digits.yaml --budget 50tnn --from alice
  tenun tx pipeline create digits.json --budget 50tnn --from alice -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := readPipelineSpec(args[0])
			if err != nil {
				return err
			}
			return submit(cmd, &f, &pipeline.MsgCreate{Spec: s, Budget: budget})
		},
	}
	units.AmountVar(create.Flags(), &budget, "budget", 0, "the whole budget to escrow (e.g. 50tnn)")
	create.MarkFlagRequired("budget")
	addTxFlags(create, &f)
	cmd.AddCommand(create)
	return cmd
}

func newPipelineQueryCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "pipeline ID",
		Short:   "Show a pipeline: its stage, what each stage spent, its outcome and refund",
		Example: "  tenun query pipeline 1\n  tenun query pipeline 1 -o json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[0])
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			var p pipeline.Pipeline
			if err := newClient().Query(ctx, "pipeline", fmt.Sprintf("pipeline/%d", id), nil, &p); err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), p, func(w io.Writer) { printPipeline(w, &p) })
		},
	}
}

func printPipeline(w io.Writer, p *pipeline.Pipeline) {
	fmt.Fprintf(w, "pipeline %d %q: %s (stage %s), budget %s, refunded %s\n", p.ID, p.Spec.Name, p.Status, p.Stage,
		formatAmount(p.Budget), formatAmount(p.Refunded))
	if p.Reason != "" {
		fmt.Fprintf(w, "  reason: %s\n", p.Reason)
	}
	for _, st := range p.Stages {
		end := "running"
		if st.Ended != 0 {
			end = fmt.Sprintf("ended %d", st.Ended)
		}
		fmt.Fprintf(w, "  %-6s %-28s started %d, %s, budget %s, spent %s\n", st.Stage, st.Ref, st.Started, end, formatAmount(st.Budget), formatAmount(st.Spent))
	}
	if p.Model != 0 {
		fmt.Fprintf(w, "  model %d, claim %d: %d.%02d%% proven on the test set\n", p.Model, p.Claim, p.Accuracy/100, p.Accuracy%100)
	}
	if p.Trust != "" {
		fmt.Fprintf(w, "  trust: %s\n", p.Trust)
	}
	if p.Served != 0 {
		fmt.Fprintf(w, "  served: model %d of subnet %d\n", p.Served, p.Spec.Serve.Subnet)
	}
}
