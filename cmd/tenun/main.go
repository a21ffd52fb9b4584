// Command tenun is the single Tenun binary: node, devnet, client, agents and benchmarks.
package main

import (
	"os"

	"github.com/tenun-chain/tenun/cli"
)

func main() {
	if err := cli.Execute(); err != nil {
		os.Exit(1)
	}
}
