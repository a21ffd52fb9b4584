// Package report is the machinery every `tenun bench` command shares: a
// ratio of a figure over its baseline measured in the same run, the verdict
// against a target, the text table and the JSON encoding. It has no
// dependencies beyond the standard library, so pure benchmark packages
// (yuma/yumabench, bench/txload) and the CLI use the same code.
package report

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"text/tabwriter"
)

// Ratio is value over baseline, both measured in the same run. It is 0 when
// the baseline is not a positive number (nothing was measured), because JSON
// cannot carry the Inf or NaN a division would give, and a 0 ratio reads as
// "no figure" in every bench's output.
func Ratio(value, baseline float64) float64 {
	if !(baseline > 0) || math.IsInf(baseline, 0) || math.IsNaN(value) || math.IsInf(value, 0) {
		return 0
	}
	return value / baseline
}

// Verdict words a comparison with a target: "meets" or "misses".
func Verdict(ok bool) string {
	if ok {
		return "meets"
	}
	return "misses"
}

// Table is the aligned text table every bench prints; Flush it at the end.
func Table(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

// JSON writes v as indented JSON followed by a newline (what `--output
// json` prints). A float that JSON cannot carry (Inf, NaN) is an error that
// names the failure rather than a truncated document.
func JSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("bench report as JSON: %w", err)
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
