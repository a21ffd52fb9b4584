package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/tenun-chain/tenun/bench/labelclose"
	"github.com/tenun-chain/tenun/label"
)

type labelCloseResult = labelclose.Result

// benchLabelClose works a job of items items (5 answers each, 200
// workers, 4 classes) and closes it block by block.
func benchLabelClose(items int, progress io.Writer) (*labelCloseResult, error) {
	return labelclose.Run(labelclose.Options{Items: items, PerItem: 5, Workers: 200, Classes: 4, Progress: progress})
}

// benchTypedClose works a typed job (rating or box) of items items, 3
// answers each from 100 workers, and closes it block by block.
func benchTypedClose(task string, items int, progress io.Writer) (*labelCloseResult, error) {
	return labelclose.Run(labelclose.Options{Task: task, Items: items, PerItem: 3, Workers: 100, Classes: 3, Progress: progress})
}

// closeTasks reads --close-typed: rating, box, both comma-separated, or
// none.
func closeTasks(s string) ([]string, error) {
	if s == "none" || s == "" {
		return nil, nil
	}
	var out []string
	for _, t := range strings.Split(s, ",") {
		if t != label.TaskRating && t != label.TaskBox {
			return nil, fmt.Errorf("--close-typed %q: want rating, box, rating,box or none", s)
		}
		out = append(out, t)
	}
	return out, nil
}

func printLabelClose(w io.Writer, r *labelCloseResult) {
	fmt.Fprintf(w, "close of a %d-item %s job (%d answers, %d workers) on a durable IAVL tree, over %d blocks:\n",
		r.Items, r.Task, r.Answers, r.Workers, r.CloseBlocks)
	fmt.Fprintf(w, "  longest block %.1f ms, mean %.1f ms, all blocks of the close %.1f ms (about what one block would take)\n",
		r.LongestBlockMS, r.MeanBlockMS, r.TotalCloseMS)
	fmt.Fprintf(w, "  empty block on the same tree %.2f ms: longest close block / empty block %.1fx\n", r.EmptyBlockMS, r.LongestOverMean)
	fmt.Fprintf(w, "  accuracy on non-gold items %.2f%%, %d workers slashed; setup %.1f s\n", r.Accuracy, r.Slashed, r.SetupSeconds)
}
