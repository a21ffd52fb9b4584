package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/tenun-chain/tenun/datasets/digits"
)

// digitsDefault is the --data default of the commands that use the digits:
// the set embedded in the binary, so they work from any folder.
const digitsDefault = "digits"

var (
	digitsOnce sync.Once
	digitsPath string
	digitsErr  error
)

// dataFile resolves a --data value: "digits" (or empty) is the embedded
// digits set, written once to the user's cache; anything else is a path.
func dataFile(p string) (string, error) {
	if p != "" && p != digitsDefault {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("--data %s: %w (leave --data out to use the embedded digits set)", p, err)
		}
		return p, nil
	}
	digitsOnce.Do(func() {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		dir = filepath.Join(dir, "tenun")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			digitsErr = fmt.Errorf("embedded digits: %w", err)
			return
		}
		if b, err := os.ReadFile(filepath.Join(dir, digits.FileName)); err == nil && string(b) == string(digits.Gzip) {
			digitsPath = filepath.Join(dir, digits.FileName)
			return
		}
		digitsPath, digitsErr = digits.WriteFile(dir)
	})
	return digitsPath, digitsErr
}

// findUp looks for rel in dir and its parents, for defaults that name a
// folder beside the checkout (the crowd label sets).
func findUp(rel string) (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		p := filepath.Join(dir, rel)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
