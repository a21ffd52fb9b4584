package data_test

// The data market's stories, in testdata/*.txt, run by internal/scenario
// (see its package comment for the commands). Regenerate the expected
// outputs after a deliberate change with
//
//	go test ./data -run TestScenarios -rewrite

import (
	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/data"
	"github.com/tenun-chain/tenun/internal/scenario"
)

func TestScenarios(t *testing.T) {
	scenario.RunFiles(t, "testdata/*.txt", scenario.Options{Domains: []chain.Domain{data.Domain{}}})
}
