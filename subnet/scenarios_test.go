package subnet_test

// The subnet market's stories, in testdata/*.txt, run by internal/scenario
// (see its package comment for the core commands). Regenerate the expected
// outputs after a deliberate change with
//
//	go test ./subnet -run TestScenarios -rewrite

import (
	"crypto/sha256"
	"strconv"
	"strings"

	"testing"

	"github.com/tenun-chain/tenun/chain"
	"github.com/tenun-chain/tenun/internal/scenario"
	"github.com/tenun-chain/tenun/subnet"
)

func TestScenarios(t *testing.T) {
	scenario.RunFiles(t, "testdata/*.txt", scenario.Options{
		Domains: []chain.Domain{subnet.Domain{}},
		Words: map[string]scenario.MsgWord{
			// create-subnet <dataset CID> <tempo> commit-reveal|direct: a
			// digits subnet with the default Yuma hyperparameters, min stakes
			// of 100 (miners) and 1000 (validators) and 6 uids.
			"create-subnet": func(s *scenario.State, w []string) chain.Msg {
				if len(w) != 3 || (w[2] != "commit-reveal" && w[2] != "direct") {
					s.Fail("create-subnet <dataset> <tempo> commit-reveal|direct: got %v", w)
				}
				hp := subnet.DefaultHyperparams()
				hp.CommitReveal = w[2] == "commit-reveal"
				return &subnet.MsgCreate{Task: "digits", Dataset: s.CID(w[0]), Tempo: s.U64(w[1]), Yuma: &hp,
					RegistrationMinStake: 100, ValidatorMinStake: 1000, MaxUIDs: 6}
			},
			// commit-weights <subnet> <own uid> <uids> <values> <salt word>:
			// the commitment to those weights under the salt named by the word.
			"commit-weights": func(s *scenario.State, w []string) chain.Msg {
				if len(w) != 5 {
					s.Fail("commit-weights <subnet> <own uid> <uids> <values> <salt>: got %v", w)
				}
				id := s.U64(w[0])
				return &subnet.MsgCommitWeights{Subnet: id, Hash: subnet.WeightsHash(id, uint16(s.U64(w[1])), uint16s(s, w[2]), uint16s(s, w[3]), salt(w[4]))}
			},
			// reveal-weights <subnet> <uids> <values> <salt word>
			"reveal-weights": func(s *scenario.State, w []string) chain.Msg {
				if len(w) != 4 {
					s.Fail("reveal-weights <subnet> <uids> <values> <salt>: got %v", w)
				}
				return &subnet.MsgRevealWeights{Subnet: s.U64(w[0]), UIDs: uint16s(s, w[1]), Values: uint16s(s, w[2]), Salt: salt(w[3])}
			},
		},
	})
}

// salt is a 32-byte salt derived from a word, so a story names its salts.
func salt(word string) chain.Hash { return sha256.Sum256([]byte("salt:" + word)) }

// uint16s reads "0,1,2".
func uint16s(s *scenario.State, list string) []uint16 {
	var out []uint16
	for _, f := range strings.Split(list, ",") {
		v, err := strconv.ParseUint(f, 10, 16)
		if err != nil {
			s.Fail("%q in %q is not a uint16", f, list)
		}
		out = append(out, uint16(v))
	}
	return out
}
