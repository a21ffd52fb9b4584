package cli

import (
	"fmt"
	"io"
)

// labelCloseResult is the close of a large job measured block by block.
type labelCloseResult struct {
	Items int `json:"items"`
}

func benchLabelClose(items int, progress io.Writer) (*labelCloseResult, error) {
	return nil, fmt.Errorf("bench labels: the close bench needs the multi-block close")
}

func printLabelClose(w io.Writer, r *labelCloseResult) {}
