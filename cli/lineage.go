package cli

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tenun-chain/tenun/pipeline"
)

func init() { queryCmd.AddCommand(newLineageCmd()) }

func newLineageCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "lineage REF",
		Short: "The tree behind a model, claim, dataset version or pipeline: every contributor, annotator and provider, and what each was paid",
		Long: `Print the lineage the chain recorded behind REF (pipeline/ID, model/ID, claim/MODEL.SEQ,
dataset/ID@VERSION, label-job/ID, compute-job/ID or blob/CID): the edges, each written by
the transaction that created the relation, back to the raw data; the contributors of
every dataset version reached; the annotators and compute providers with what they were
paid or slashed. Edges asserted by hand (tx data link) are listed apart as unverified.`,
		Example: "  tenun query lineage pipeline/1\n  tenun query lineage model/1 -o json\n  tenun query lineage dataset/2@1",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), 30*time.Second)
			defer cancel()
			var v pipeline.LineageView
			if err := newClient().Query(ctx, "pipeline", "lineage/"+args[0], nil, &v); err != nil {
				return err
			}
			return emit(cmd.OutOrStdout(), v, func(w io.Writer) { printLineage(w, &v) })
		},
	}
}

func printLineage(w io.Writer, v *pipeline.LineageView) {
	fmt.Fprintf(w, "%s\n", v.Ref)
	// Edges are listed child first: print each as "child <- relation - parent".
	for _, e := range v.Edges {
		fmt.Fprintf(w, "  %s <-%s- %s (block %d)\n", e.To, e.Relation, e.From, e.Height)
	}
	if len(v.Contributors) > 0 {
		fmt.Fprintln(w, "contributors:")
		for _, c := range v.Contributors {
			fmt.Fprintf(w, "  %s %s weight %d\n", c.Dataset, c.Address, c.Records)
		}
	}
	if len(v.Annotators) > 0 {
		fmt.Fprintln(w, "annotators:")
		for _, a := range v.Annotators {
			fmt.Fprintf(w, "  %s %s score %d ppm, %d answers, paid %s, slashed %s %s\n", a.Job, a.Address, a.ScorePPM, a.Answers,
				formatAmount(a.Paid), formatAmount(a.Slashed), a.Reason)
		}
	}
	if len(v.Providers) > 0 {
		fmt.Fprintln(w, "compute providers:")
		for _, p := range v.Providers {
			fmt.Fprintf(w, "  %s %s %s, paid %s, slashed %s\n", p.Job, p.Address, p.Verdict, formatAmount(p.Paid), formatAmount(p.Slashed))
		}
	}
	if len(v.Revenue) > 0 {
		fmt.Fprintln(w, "served model's revenue:")
		for _, r := range v.Revenue {
			src := ""
			if r.Source != "" {
				src = " for " + r.Source
			}
			fmt.Fprintf(w, "  %s %s%s: %s\n", r.Role, r.Address, src, formatAmount(r.Amount))
		}
	}
	if p := v.Pipeline; p != nil {
		fmt.Fprintln(w, "stages:")
		for _, st := range p.Stages {
			fmt.Fprintf(w, "  %s %s spent %s\n", st.Stage, st.Ref, formatAmount(st.Spent))
		}
	}
	for _, e := range v.Unverified {
		fmt.Fprintf(w, "unverified claim by %s: %s <-%s- %s\n", e.Actor, e.To, e.Relation, e.From)
	}
}
