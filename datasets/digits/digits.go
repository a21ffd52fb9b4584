// Package digits embeds the 8x8 handwritten digits (UCI, CC BY 4.0; see
// README.md) that the demo, the tests and the benchmarks train and prove on,
// so they run from a fresh clone and from any working directory.
package digits

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
)

// Gzip is digits.csv.gz: 1,797 rows of 64 pixels (0..16) and a class (0..9).
//
//go:embed digits.csv.gz
var Gzip []byte

// Rows is the number of rows in the set.
const Rows = 1797

// FileName is the name the set is written under.
const FileName = "digits.csv.gz"

// WriteFile writes the embedded set into dir and returns its path, for
// tools (a WASI module's input folder, a CLI default) that read a file.
func WriteFile(dir string) (string, error) {
	p := filepath.Join(dir, FileName)
	if err := os.WriteFile(p, Gzip, 0o644); err != nil {
		return "", fmt.Errorf("digits: write %s: %w", p, err)
	}
	return p, nil
}
