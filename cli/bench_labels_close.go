package cli

import (
	"fmt"
	"io"

	"github.com/tenun-chain/tenun/bench/labelclose"
)

type labelCloseResult = labelclose.Result

// benchLabelClose works a job of items items (5 answers each, 200
// workers, 4 classes) and closes it block by block.
func benchLabelClose(items int, progress io.Writer) (*labelCloseResult, error) {
	return labelclose.Run(labelclose.Options{Items: items, PerItem: 5, Workers: 200, Classes: 4, Progress: progress})
}

func printLabelClose(w io.Writer, r *labelCloseResult) {
	fmt.Fprintf(w, "close of a %d-item job (%d answers, %d workers) on a durable IAVL tree, over %d blocks:\n",
		r.Items, r.Answers, r.Workers, r.CloseBlocks)
	fmt.Fprintf(w, "  longest block %.1f ms, mean %.1f ms, all blocks of the close %.1f ms (about what one block would take)\n",
		r.LongestBlockMS, r.MeanBlockMS, r.TotalCloseMS)
	fmt.Fprintf(w, "  empty block on the same tree %.2f ms: longest close block / empty block %.1fx\n", r.EmptyBlockMS, r.LongestOverMean)
	fmt.Fprintf(w, "  accuracy on non-gold items %.2f%%, %d workers slashed; setup %.1f s\n", r.Accuracy, r.Slashed, r.SetupSeconds)
}
